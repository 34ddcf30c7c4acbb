//! The Rust client (`crates/wallet-client`) against the real server: every
//! method once, the event stream resuming after a dropped connection
//! without losing or repeating an event, and a transaction whose answer was
//! lost retried with the same referenceId and applied once.

use crate::app::{spawn_app, spawn_app_with, TestApp};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use wallet_client::wire::{
    BatchBody, CustomerBody, CustomerUpdateBody, HoldStatus, ItemStatus, LotStatus, NewAssetBody, NewKeyBody,
    NewSystemWalletBody, NewWalletBody, NewWebhookBody, TransactionBody, WalletStatus,
};
use wallet_client::{ops, Client, Error, ItemsFilter, Paged, Paging, Posted, Range, RetryPolicy};

/// The client's runnable example, the README's "Rust client (API v2)": its
/// `main` only reads the command line, the walk-through is `quickstart`.
#[allow(dead_code)]
#[path = "../../crates/wallet-client/examples/quickstart.rs"]
mod quickstart;

/// A bound on anything that waits on the server, so a bug fails rather
/// than hangs.
async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish"))
}

async fn access_client(app: &TestApp) -> Client {
    Client::new(&app.address, &app.access_key("default").await).unwrap()
}

fn tx(reference_id: &str, operations: Vec<wallet_client::wire::OperationBody>) -> TransactionBody {
    TransactionBody {
        reference_id: reference_id.to_owned(),
        operations,
        description: None,
    }
}

fn new_wallet(customer: &str, asset: &str) -> NewWalletBody {
    NewWalletBody {
        customer_id: customer.to_owned(),
        asset_id: asset.to_owned(),
        name: None,
        description: None,
    }
}

#[tokio::test]
async fn every_method_works_against_the_real_server() {
    let app = spawn_app_with(|s| s.webhooks_allow_private_networks = true).await;
    let c = access_client(&app).await;
    let project = c.get_project().await.unwrap();
    assert_eq!(project.id, "default");

    // Assets.
    let asset = c
        .create_asset(&NewAssetBody {
            name: "Gold".into(),
            code: "GLD".into(),
            fractions: 100,
        })
        .await
        .unwrap();
    assert_eq!(c.get_asset(&asset.id).await.unwrap().code, "GLD");
    assert_eq!(
        c.rename_asset(&asset.id, "Gold coins").await.unwrap().name,
        "Gold coins"
    );
    let spare = c
        .create_asset(&NewAssetBody {
            name: "Spare".into(),
            code: "SPR".into(),
            fractions: 1,
        })
        .await
        .unwrap();
    c.delete_asset(&spare.id).await.unwrap();
    let assets = c.list_assets(Paging::of(1000)).await.unwrap();
    assert!(assets.items.iter().any(|a| a.id == asset.id));
    assert!(!assets.items.iter().any(|a| a.id == spare.id));
    let missing = c.get_asset(&spare.id).await.unwrap_err();
    assert_eq!(
        (missing.http_status(), missing.code()),
        (Some(404), Some("ASSET_NOT_FOUND")),
        "{missing}"
    );

    // Customers.
    for id in ["alice", "bob"] {
        let made = c
            .create_customer(&CustomerBody {
                id: id.into(),
                name: None,
                description: None,
            })
            .await
            .unwrap();
        assert_eq!(made.id, id);
    }
    let renamed = c
        .put_customer(
            "alice",
            &CustomerUpdateBody {
                name: Some("Alice".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Alice"));
    assert_eq!(
        c.get_customer("alice").await.unwrap().name.as_deref(),
        Some("Alice")
    );
    assert_eq!(c.list_customers(Paging::default()).await.unwrap().total, 2);

    // Wallets.
    let alice = c.create_wallet(&new_wallet("alice", &asset.id)).await.unwrap();
    let bob = c.create_wallet(&new_wallet("bob", &asset.id)).await.unwrap();
    let system = c
        .create_system_wallet(&NewSystemWalletBody {
            asset_id: asset.id.clone(),
            name: Some("treasury".into()),
            description: None,
        })
        .await
        .unwrap();
    assert!(c
        .list_system_wallets(Paging::default())
        .await
        .unwrap()
        .items
        .iter()
        .any(|w| w.id == system.id));
    assert_eq!(
        c.list_customer_wallets("alice", Paging::default())
            .await
            .unwrap()
            .items[0]
            .id,
        alice.id
    );
    assert_eq!(
        c.rename_wallet(&alice.id, "main").await.unwrap().name.as_deref(),
        Some("main")
    );
    assert_eq!(
        c.describe_wallet(&alice.id, "spending")
            .await
            .unwrap()
            .description
            .as_deref(),
        Some("spending")
    );
    assert_eq!(c.set_credit_limit(&bob.id, 50).await.unwrap().credit_limit, 50);

    // Transactions: issue, transfer, a hold and its capture, a lot, items.
    let mut lot = ops::issue(&alice.id, 300);
    lot.expires_at = Some(wallet_core::clock::system_now() + 3_600_000);
    let mut hold = ops::hold(&alice.id, 200);
    hold.hold_id = Some("h-1".into());
    let mut sword = ops::grant_item("sword", Some("alice"), Some(&json!({"damage": 12})));
    sword.item_id = Some("sword-1".into());
    let posted = c
        .post_transaction(&tx(
            "first",
            vec![
                ops::issue(&alice.id, 1_000),
                lot,
                ops::transfer(&alice.id, &bob.id, 100),
                hold,
                sword,
            ],
        ))
        .await
        .unwrap();
    assert!(posted.is_completed(), "{posted:?}");
    assert_eq!(posted.transaction().holds.as_ref().map(Vec::len), Some(1));
    let first = posted.transaction().id.clone();
    let failed = c
        .post_transaction(&tx("overdraw", vec![ops::redeem(&bob.id, 1_000)]))
        .await
        .unwrap();
    assert!(
        matches!(&failed, Posted::Failed(t) if t.error.as_deref() == Some("INSUFFICIENT_FUNDS")),
        "{failed:?}"
    );
    let again = c
        .post_transaction(&tx("first", vec![ops::issue(&alice.id, 1)]))
        .await
        .unwrap();
    assert!(
        matches!(&again, Posted::Duplicate { duplicate, retried: false } if duplicate.transaction.id == first),
        "{again:?}"
    );
    let refused = c
        .post_transaction(&tx("", vec![ops::issue(&alice.id, 1)]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("VALIDATION_ERROR"), "{refused}");

    let batch = c
        .post_batch(&BatchBody {
            transactions: vec![
                tx("b-1", vec![ops::capture("h-1", Some(50), Some(&system.id))]),
                tx("b-2", vec![ops::transfer_item("sword-1", Some("bob"))]),
                tx(
                    "b-3",
                    vec![ops::set_item_properties("sword-1", &json!({"damage": 13}))],
                ),
                tx("b-4", vec![ops::redeem(&bob.id, 10_000)]),
            ],
        })
        .await
        .unwrap();
    assert_eq!(batch.len(), 4);
    assert!(
        batch[..3].iter().all(|r| matches!(r, Ok(p) if p.is_completed())),
        "{batch:?}"
    );
    assert!(matches!(&batch[3], Ok(Posted::Failed(_))), "{batch:?}");
    let voided = c
        .post_transaction(&tx("void", vec![ops::void("h-1")]))
        .await
        .unwrap();
    assert!(voided.is_completed(), "{voided:?}");
    let consumed = c
        .post_transaction(&tx("consume", vec![ops::consume_item("sword-1")]))
        .await
        .unwrap();
    assert!(consumed.is_completed(), "{consumed:?}");

    assert_eq!(
        c.get_transaction(&first).await.unwrap().reference_id.as_deref(),
        Some("first")
    );
    let all = c
        .list_transactions(Range::default(), Paging::of(2))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    assert_eq!(
        all.next_page(),
        Some(Paging {
            page: 1,
            page_size: 2
        })
    );
    let wallet = c.get_wallet(&alice.id).await.unwrap();
    assert_eq!(wallet.balance, 1_000 + 300 - 100 - 50);
    let entries = c
        .list_entries(
            &alice.id,
            Range {
                from: Some(0),
                to: None,
            },
            Paging::default(),
        )
        .await
        .unwrap();
    assert_eq!(entries.total, 4, "{entries:?}");
    assert_eq!(
        c.balance_at(&alice.id, wallet_core::clock::system_now())
            .await
            .unwrap()
            .balance,
        wallet.balance
    );

    // Holds, lots, items.
    assert_eq!(c.get_hold("h-1").await.unwrap().status, HoldStatus::Voided);
    assert_eq!(
        c.list_wallet_holds(&alice.id, Some(HoldStatus::Voided), Paging::default())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        c.list_wallet_lots(&alice.id, Some(LotStatus::Open), Paging::default())
            .await
            .unwrap()
            .total,
        1
    );
    let item = c.get_item("sword-1").await.unwrap();
    assert_eq!(
        (item.status, item.customer_id.as_deref()),
        (ItemStatus::Consumed, Some("bob"))
    );
    assert_eq!(
        item.properties.map(|p| p.as_str().to_owned()).as_deref(),
        Some(r#"{"damage":13}"#)
    );
    assert_eq!(
        c.item_history("sword-1", Paging::default()).await.unwrap().total,
        4
    );
    let filter = ItemsFilter {
        item_type: Some("sword".into()),
        status: None,
    };
    assert_eq!(
        c.list_customer_items("bob", &filter, Paging::default())
            .await
            .unwrap()
            .total,
        1
    );
    let granted = c
        .post_transaction(&tx("stock", vec![ops::grant_item("shield", None, None)]))
        .await
        .unwrap();
    assert!(granted.is_completed(), "{granted:?}");
    assert_eq!(
        c.list_stock_items(&ItemsFilter::default(), Paging::default())
            .await
            .unwrap()
            .total,
        1
    );

    // Customer keys, and a customer's own wallets.
    let key = c.create_key("bob", &NewKeyBody::default()).await.unwrap();
    let token = key.token.clone().unwrap();
    let bob_client = Client::new(&app.address, &token).unwrap();
    assert_eq!(
        bob_client
            .list_own_wallets(Paging::default())
            .await
            .unwrap()
            .items[0]
            .id,
        bob.id
    );
    assert_eq!(
        c.list_keys("bob", Paging::default()).await.unwrap().items[0].id,
        key.id
    );
    c.revoke_key("bob", &key.id).await.unwrap();
    let revoked = bob_client.list_own_wallets(Paging::default()).await.unwrap_err();
    assert_eq!(revoked.http_status(), Some(401), "{revoked}");

    // Suspension, resumption, wallet status, deletion.
    c.suspend_customer("alice").await.unwrap();
    let resumed = c.resume_customer("alice", &[alice.id.as_str()]).await.unwrap();
    assert_eq!(resumed.id, "alice");
    assert_eq!(
        c.set_wallet_status(&alice.id, WalletStatus::Suspended)
            .await
            .unwrap()
            .status,
        WalletStatus::Suspended
    );
    c.create_customer(&CustomerBody {
        id: "carol".into(),
        name: None,
        description: None,
    })
    .await
    .unwrap();
    c.delete_customer("carol").await.unwrap();

    // Events: the feed, and webhooks.
    let feed = c.events(0, 1000, &[], 0).await.unwrap();
    assert!(!feed.events.is_empty());
    assert_eq!(feed.next, feed.events.last().unwrap().seq);
    let completed = c.events(0, 1000, &["transaction.completed"], 0).await.unwrap();
    assert!(completed.events.iter().all(|e| e.kind == "transaction.completed"));
    let hook = c
        .create_webhook(&NewWebhookBody {
            url: "http://127.0.0.1:9/hook".into(),
            types: Some(vec!["transaction.completed".into()]),
            description: None,
        })
        .await
        .unwrap();
    assert!(hook.secret.starts_with("whsec_"));
    assert_eq!(c.get_webhook(&hook.id).await.unwrap().url, hook.url);
    assert_eq!(c.list_webhooks().await.unwrap().items.len(), 1);
    c.replay_webhook(&hook.id, 0).await.unwrap();
    let deliveries = c
        .list_deliveries(&hook.id, None, Paging::default())
        .await
        .unwrap();
    assert!(deliveries.total >= 0);
    c.delete_webhook(&hook.id).await.unwrap();
    assert_eq!(
        c.get_webhook(&hook.id).await.unwrap_err().http_status(),
        Some(404)
    );
}

/// A 127.0.0.1 TCP proxy in front of the app that counts its connections,
/// can cut every open one, and can drop the first connection's answer after
/// the server wrote it (so the request was applied but its answer is lost).
struct Proxy {
    url: String,
    connections: Arc<AtomicUsize>,
    cut: tokio::sync::watch::Sender<u32>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut.send_modify(|g| *g += 1);
    }
}

async fn proxy(app: &TestApp, drop_first_answer: bool) -> Proxy {
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let (cut, cut_rx) = tokio::sync::watch::channel(0u32);
    let count = Arc::clone(&connections);
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let upstream = upstream.clone();
            let mut cut = cut_rx.clone();
            // Only a cut from now on ends this connection.
            cut.borrow_and_update();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                if drop_first_answer && n == 0 {
                    let (mut from_client, _to_client) = client.split();
                    let (mut from_server, mut to_server) = server.split();
                    let mut first = [0u8; 1];
                    // Forward the request; once the answer starts, drop both.
                    tokio::select! {
                        _ = tokio::io::copy(&mut from_client, &mut to_server) => {}
                        _ = from_server.read(&mut first) => {}
                    }
                    return;
                }
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = cut.changed() => {}
                }
            });
        }
    });
    Proxy {
        url,
        connections,
        cut,
        task,
    }
}

#[tokio::test]
async fn a_transaction_whose_answer_was_lost_is_retried_with_its_reference_id_and_applies_once() {
    let app = spawn_app().await;
    let direct = access_client(&app).await;
    let project = direct.get_project().await.unwrap();
    direct
        .create_customer(&CustomerBody {
            id: "alice".into(),
            name: None,
            description: None,
        })
        .await
        .unwrap();
    let wallet = direct
        .create_wallet(&new_wallet("alice", &project.default_asset_id))
        .await
        .unwrap();
    let key = app.access_key("default").await;
    let body = tx("lost-answer", vec![ops::issue(&wallet.id, 700)]);

    // With retries: the first answer is lost, the retry (same body, same
    // referenceId) hears DuplicateReferenceId with the first attempt's
    // transaction, and the value was issued once.
    let lossy = proxy(&app, true).await;
    let client = Client::new(&lossy.url, &key).unwrap();
    let posted = bounded("the post", client.post_transaction(&body)).await.unwrap();
    let Posted::Duplicate { duplicate, retried } = &posted else {
        panic!("the retry hears the stored transaction: {posted:?}");
    };
    assert!(*retried);
    assert_eq!(duplicate.transaction.reference_id.as_deref(), Some("lost-answer"));
    assert_eq!(lossy.connections.load(Ordering::SeqCst), 2, "one retry");
    assert_eq!(
        direct.get_wallet(&wallet.id).await.unwrap().balance,
        700,
        "applied once"
    );
    let transactions = direct
        .list_transactions(Range::default(), Paging::of(1000))
        .await
        .unwrap();
    assert_eq!(
        transactions
            .items
            .iter()
            .filter(|t| t.reference_id.as_deref() == Some("lost-answer"))
            .count(),
        1
    );

    // Without retries the lost answer is an error (and the value is there).
    let lossy = proxy(&app, true).await;
    let once = Client::builder(&lossy.url, &key)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let lost = bounded(
        "the post",
        once.post_transaction(&tx("lost-2", vec![ops::issue(&wallet.id, 1)])),
    )
    .await
    .unwrap_err();
    assert!(matches!(lost, Error::Transport(_)), "{lost}");
    assert_eq!(direct.get_wallet(&wallet.id).await.unwrap().balance, 701);

    // A request that is not idempotent is not sent again: one asset made.
    let lossy = proxy(&app, true).await;
    let client = Client::new(&lossy.url, &key).unwrap();
    let made = bounded(
        "the asset",
        client.create_asset(&NewAssetBody {
            name: "Once".into(),
            code: "ONE".into(),
            fractions: 1,
        }),
    )
    .await
    .unwrap_err();
    assert!(matches!(made, Error::Transport(_)), "{made}");
    assert_eq!(lossy.connections.load(Ordering::SeqCst), 1, "not retried");
    let assets = direct.list_assets(Paging::of(1000)).await.unwrap();
    assert_eq!(assets.items.iter().filter(|a| a.code == "ONE").count(), 1);
}

#[tokio::test]
async fn the_event_stream_resumes_after_a_dropped_connection_without_losing_or_repeating_an_event() {
    let app = spawn_app().await;
    let direct = access_client(&app).await;
    let project = direct.get_project().await.unwrap();
    direct
        .create_customer(&CustomerBody {
            id: "alice".into(),
            name: None,
            description: None,
        })
        .await
        .unwrap();
    let wallet = direct
        .create_wallet(&new_wallet("alice", &project.default_asset_id))
        .await
        .unwrap();
    let issue = |n: usize| tx(&format!("s-{n}"), vec![ops::issue(&wallet.id, 1)]);
    for n in 0..3 {
        assert!(direct.post_transaction(&issue(n)).await.unwrap().is_completed());
    }
    let last = |c: Client| async move { c.events(0, 1000, &[], 0).await.unwrap().next };

    let through = proxy(&app, false).await;
    let client = Client::new(&through.url, &app.access_key("default").await).unwrap();
    let mut stream = client.events_stream(Some(0), &[]);
    let mut seen = Vec::new();
    let before = last(direct.clone()).await;
    while seen.last() != Some(&before) {
        let event = bounded("an event", stream.next()).await.unwrap().unwrap();
        seen.push(event.seq);
    }
    // Cut the connection; what is committed meanwhile arrives after the
    // reconnection, once.
    through.cut.send_modify(|g| *g += 1);
    for n in 3..6 {
        assert!(direct.post_transaction(&issue(n)).await.unwrap().is_completed());
    }
    let after = last(direct.clone()).await;
    while seen.last() != Some(&after) {
        let event = bounded("an event", stream.next()).await.unwrap().unwrap();
        seen.push(event.seq);
    }
    assert_eq!(
        seen,
        (1..=after).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert!(through.connections.load(Ordering::SeqCst) >= 2, "it reconnected");
}

#[tokio::test]
async fn the_readme_example_runs_against_the_real_server() {
    let app = spawn_app().await;
    let key = app.access_key("default").await;
    let balance = bounded("the quickstart", quickstart::quickstart(&app.address, &key))
        .await
        .unwrap_or_else(|e| panic!("the quickstart failed: {e}"));
    assert_eq!(balance, 1_000, "10.00 in cents");
    // It makes its own names: a second run on the same server works too.
    let again = bounded("the quickstart again", quickstart::quickstart(&app.address, &key)).await;
    assert_eq!(again.map_err(|e| e.to_string()), Ok(1_000));
}
