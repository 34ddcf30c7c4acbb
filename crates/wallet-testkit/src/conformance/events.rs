//! Events (`spec/events.md`): every committed change writes its events in
//! its own transaction, numbered per project 1, 2, 3, … with no gap and
//! hash-chained; the feed replays to the ledger's balances; a fault writes
//! no event; a customer's stream carries only its own events; webhooks'
//! queues (cursor, lease, compare-and-set deliveries, replay, health); and
//! `events prune` keeps a signed anchor the chain verifies from.

use super::concurrently;
use crate::answers::{completed, denial, failed};
use crate::fixture::{
    capture, customer_id, default_asset, grant, hold, issue, issue_expiring, redeem, request, text, transfer,
    transfer_item, v1, void, Fixture, T0,
};
use crate::harness::TestDb;
use std::collections::BTreeMap;
use std::sync::Arc;
use wallet_core::events::{
    settle, Attempt, DeliveryStatus, Event, EventQuery, EventType, RetrySchedule, Run,
};
use wallet_core::model::{PageRequest, WalletStatus};
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::text::AssetCode;
use wallet_core::{wire, AnchorSigner, Ledger};

/// The types of `events`, in order.
fn kinds(events: &[Event]) -> Vec<EventType> {
    events.iter().map(|e| e.kind).collect()
}

/// An event's data as JSON.
fn data(event: &Event) -> serde_json::Value {
    serde_json::from_str(event.data.get()).expect("events carry JSON")
}

/// What the API serializes of `value`, as JSON.
fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("the API's objects serialize")
}

/// The events after `after`.
fn since(events: &[Event], after: usize) -> &[Event] {
    events.get(after..).unwrap_or_default()
}

/// A signer as the server's (any fixed keyed function does for the ledger).
fn signer(key: &'static str) -> AnchorSigner {
    Arc::new(move |text: &str| wallet_core::events::chain_hash(key, text))
}

/// Asserts `verify` finds every project's chain and ledger in agreement.
async fn assert_verified(ledger: &Ledger, signer: Option<AnchorSigner>) -> u64 {
    let reports = ledger.verify(None, signer).await.expect("verify runs");
    for report in &reports {
        assert_eq!(report.mismatch, None, "{report:?}");
    }
    reports.iter().map(|r| r.events).sum()
}

/// 16 tasks of transfers, issues, holds, captures and API v1 entries on
/// shared wallets: the feed is numbered exactly 1..=N, `verify` finds every
/// hash chained and every balance event agreeing with the entries, and the
/// last `wallet.balance_changed` of each wallet is its balance and held.
pub async fn concurrent_writes_number_events_without_gaps_and_replay_to_the_balances(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    for who in ["u0", "u1", "u2", "u3"] {
        fx.customer(&caller, who).await;
    }
    let mut wallets = Vec::new();
    for who in ["u0", "u1", "u2", "u3"] {
        wallets.push(fx.funded(&caller, Some(who), 1_000).await);
    }
    let wallets = Arc::new(wallets);

    concurrently(16, |task| {
        let (ledger, caller, wallets) = (fx.ledger.clone(), caller.clone(), wallets.clone());
        async move {
            for round in 0..6 {
                let (a, b) = (wallets[task % 4], wallets[(task + 1 + round % 3) % 4]);
                let reference = format!("t{task}-r{round}");
                let operations = match round % 3 {
                    0 => vec![transfer(a, b, 3), issue(b, 2)],
                    1 => vec![hold(&format!("h-{reference}"), a, 4, Some(b), None)],
                    _ => vec![
                        capture(&format!("h-t{task}-r{}", round - 1), Some(1)),
                        redeem(a, 1),
                    ],
                };
                ledger
                    .post_transaction(&caller, request(&reference, operations))
                    .await
                    .expect("answered");
                ledger
                    .post_v1_entry(&caller, v1(&format!("u{}", task % 4), 1))
                    .await
                    .expect("answered");
            }
        }
    })
    .await;

    let feed = fx.feed(&caller).await;
    let seqs: Vec<i64> = feed.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=feed.len() as i64).collect::<Vec<_>>(), "no gap");
    assert_eq!(assert_verified(&fx.ledger, None).await, feed.len() as u64);

    let mut last: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for event in feed.iter().filter(|e| e.kind == EventType::WalletBalanceChanged) {
        let d = data(event);
        let id = d["walletId"].as_str().expect("a wallet id").to_owned();
        last.insert(
            id,
            (
                d["balance"].as_i64().expect("balance"),
                d["held"].as_i64().expect("held"),
            ),
        );
    }
    for wallet in wallets.iter() {
        let row = fx.wallet_row(&caller, *wallet).await;
        assert_eq!(
            last.get(&wallet.to_string()),
            Some(&(row.balance, row.held)),
            "wallet {wallet}"
        );
    }
    fx.assert_check().await;
}

/// A transaction with Issue, Transfer, Hold, GrantItem and TransferItem,
/// then one with Capture and Void: each records `transaction.completed`
/// (the Transaction), one `wallet.balance_changed` per wallet it changed
/// (in wallet order), then its holds' (in hold id order) and items'
/// events, each with the
/// object as the API shows it after the transaction.
pub async fn a_transaction_records_its_events_in_order_with_their_data(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "alice").await;
    fx.customer(&caller, "bob").await;
    let alice = fx.wallet(&caller, Some("alice")).await;
    let bob = fx.wallet(&caller, Some("bob")).await;
    let before = fx.feed(&caller).await.len();

    let first = completed(
        fx.post(
            &caller,
            vec![
                issue(alice, 100),
                transfer(alice, bob, 30),
                hold("paid", alice, 20, Some(bob), None),
                hold("gone", bob, 5, None, None),
                grant("sword", "sword", Some("alice"), Some(r#"{"level":1}"#)),
                transfer_item("sword", Some("bob"), None),
            ],
        )
        .await,
    );
    let feed = fx.feed(&caller).await;
    let events = since(&feed, before);
    assert_eq!(
        kinds(events),
        vec![
            EventType::TransactionCompleted,
            EventType::WalletBalanceChanged,
            EventType::WalletBalanceChanged,
            EventType::HoldCreated,
            EventType::HoldCreated,
            EventType::ItemGranted,
            EventType::ItemTransferred,
        ]
    );
    let stored = fx.ledger.transaction(&caller, first.id).await.expect("stored");
    assert_eq!(data(&events[0]), json(&wire::Transaction::from(stored)));
    let (low, high) = if alice < bob { (alice, bob) } else { (bob, alice) };
    for (event, wallet) in events[1..3].iter().zip([low, high]) {
        let row = fx.wallet_row(&caller, wallet).await;
        let d = data(event);
        assert_eq!(d["walletId"], json(&wallet.to_string()));
        assert_eq!(d["transactionId"], json(&first.id.to_string()));
        assert_eq!(
            (d["balance"].as_i64(), d["held"].as_i64()),
            (Some(row.balance), Some(row.held))
        );
        assert_eq!(d["available"].as_i64(), Some(row.balance - row.held));
        assert_eq!(d["assetId"], json(&default_asset(&caller).to_string()));
    }
    for event in &events[3..5] {
        let id = data(event)["id"].as_str().expect("a hold id").to_owned();
        assert_eq!(data(event), json(&wire::Hold::from(fx.hold(&caller, &id).await)));
    }
    let sword = json(&wire::Item::from(fx.item(&caller, "sword").await));
    assert_eq!((data(&events[5]), data(&events[6])), (sword.clone(), sword));

    let before = feed.len();
    let second = completed(
        fx.post(&caller, vec![capture("paid", Some(8)), void("gone")])
            .await,
    );
    let feed = fx.feed(&caller).await;
    let events = since(&feed, before);
    assert_eq!(
        kinds(events),
        vec![
            EventType::TransactionCompleted,
            EventType::WalletBalanceChanged,
            EventType::WalletBalanceChanged,
            // Holds in id order: "gone", then "paid".
            EventType::HoldVoided,
            EventType::HoldCaptured,
        ]
    );
    assert_eq!(data(&events[0])["id"], json(&second.id.to_string()));
    assert_eq!(
        data(&events[3]),
        json(&wire::Hold::from(fx.hold(&caller, "gone").await))
    );
    assert_eq!(
        data(&events[4]),
        json(&wire::Hold::from(fx.hold(&caller, "paid").await))
    );
    assert_verified(&fx.ledger, None).await;
}

/// A Failed transaction records `transaction.failed` (the Transaction) and
/// no balance event; a duplicate `referenceId` records nothing.
pub async fn a_failed_transaction_records_only_its_failure_and_a_duplicate_nothing(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 10).await;
    let before = fx.feed(&caller).await.len();

    let outcome = fx
        .ledger
        .post_transaction(&caller, request("too-much", vec![redeem(wallet, 11)]))
        .await
        .expect("answered");
    let (transaction, _) = failed(outcome, FailCode::InsufficientFunds);
    let feed = fx.feed(&caller).await;
    let events = since(&feed, before);
    assert_eq!(kinds(events), vec![EventType::TransactionFailed]);
    let stored = fx
        .ledger
        .transaction(&caller, transaction.id)
        .await
        .expect("stored");
    assert_eq!(data(&events[0]), json(&wire::Transaction::from(stored)));

    for _ in 0..2 {
        fx.ledger
            .post_transaction(&caller, request("once", vec![issue(wallet, 1)]))
            .await
            .expect("answered");
    }
    let after = fx.feed(&caller).await;
    assert_eq!(
        kinds(since(&after, feed.len())),
        vec![EventType::TransactionCompleted, EventType::WalletBalanceChanged],
        "the duplicate recorded nothing"
    );
    assert_eq!(fx.balance(&caller, wallet).await, 11);
    assert_verified(&fx.ledger, None).await;
}

/// An API v1 entry for a user never seen: `customer.created`,
/// `transaction.completed`, `wallet.balance_changed`.
pub async fn a_v1_entry_for_a_new_user_records_the_same_events(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let before = fx.feed(&caller).await.len();
    fx.ledger
        .post_v1_entry(&caller, v1("newbie", 7))
        .await
        .expect("posted");
    let feed = fx.feed(&caller).await;
    let events = since(&feed, before);
    assert_eq!(
        kinds(events),
        vec![
            EventType::CustomerCreated,
            EventType::TransactionCompleted,
            EventType::WalletBalanceChanged,
        ]
    );
    let customer = fx
        .ledger
        .customer(&caller, customer_id("newbie"))
        .await
        .expect("created");
    assert_eq!(data(&events[0]), json(&wire::Customer::from(customer)));
    assert_eq!(data(&events[2])["balance"].as_i64(), Some(7));
    assert_eq!(data(&events[2])["customerId"], json(&"newbie"));
    assert_verified(&fx.ledger, None).await;
}

/// The catalog's writes: asset create and delete, customer create, update
/// (one that changes nothing is no event), suspend (with each wallet it
/// suspended), resume, delete, and a wallet's status.
pub async fn catalog_changes_record_their_events(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let mut seen = fx.feed(&caller).await.len();
    let feed_since = |seen: &mut usize| {
        let (fx, caller) = (&fx, &caller);
        let start = *seen;
        async move {
            let feed = fx.feed(caller).await;
            let events = since(&feed, start).to_vec();
            (feed.len(), events)
        }
    };

    let gems = fx
        .ledger
        .create_asset(&caller, AssetCode::parse("GEM").expect("a code"), text("Gems"), 1)
        .await
        .expect("created");
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(kinds(&events), vec![EventType::AssetCreated]);
    assert_eq!(data(&events[0]), json(&wire::Asset::from(gems.clone())));
    fx.ledger.delete_asset(&caller, gems.id).await.expect("deleted");
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(kinds(&events), vec![EventType::AssetDeleted]);
    assert_eq!(data(&events[0])["id"], json(&gems.id.to_string()));

    fx.customer(&caller, "carol").await;
    let upsert = |name: &'static str| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .upsert_customer(&caller, customer_id("carol"), Some(text(name)), None)
                .await
                .expect("upserted")
                .0
        }
    };
    let renamed = upsert("Carol").await;
    upsert("Carol").await;
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(
        kinds(&events),
        vec![EventType::CustomerCreated, EventType::CustomerUpdated]
    );
    assert_eq!(data(&events[1]), json(&wire::Customer::from(renamed)));

    let w1 = fx.wallet(&caller, Some("carol")).await;
    let w2 = fx.wallet(&caller, Some("carol")).await;
    fx.ledger
        .suspend_customer(&caller, customer_id("carol"))
        .await
        .expect("suspended");
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(
        kinds(&events),
        vec![
            EventType::CustomerStatusChanged,
            EventType::WalletStatusChanged,
            EventType::WalletStatusChanged,
        ]
    );
    assert_eq!(data(&events[0])["status"], json(&"Suspended"));
    for event in &events[1..] {
        assert_eq!(data(event)["status"], json(&"Suspended"));
    }
    fx.ledger
        .resume_customer(&caller, customer_id("carol"), vec![w1])
        .await
        .expect("resumed");
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(
        kinds(&events),
        vec![EventType::CustomerStatusChanged, EventType::WalletStatusChanged]
    );
    assert_eq!(data(&events[1])["id"], json(&w1.to_string()));
    assert_eq!(data(&events[1])["status"], json(&"Open"));

    for wallet in [w1, w2] {
        fx.ledger
            .set_wallet_status(&caller, wallet, WalletStatus::Closed)
            .await
            .expect("closed");
    }
    let (n, events) = feed_since(&mut seen).await;
    seen = n;
    assert_eq!(
        kinds(&events),
        vec![EventType::WalletStatusChanged, EventType::WalletStatusChanged]
    );
    assert_eq!(data(&events[1])["status"], json(&"Closed"));
    fx.ledger
        .delete_customer(&caller, customer_id("carol"))
        .await
        .expect("deleted");
    let (_, events) = feed_since(&mut seen).await;
    assert_eq!(kinds(&events), vec![EventType::CustomerStatusChanged]);
    assert_eq!(data(&events[0])["status"], json(&"Deleted"));
    assert_verified(&fx.ledger, None).await;
}

/// On the fixture's clock, a hold's expiry records `hold.expired` and a
/// lot's `lot.expired` (with their transactions and balance events).
pub async fn expiries_record_hold_expired_and_lot_expired(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "alice").await;
    let wallet = fx.funded(&caller, Some("alice"), 50).await;
    completed(
        fx.post(
            &caller,
            vec![
                hold("brief", wallet, 10, None, Some(T0 + 1_000)),
                issue_expiring(wallet, 5, T0 + 2_000),
            ],
        )
        .await,
    );
    let seen = fx.feed(&caller).await.len();
    fx.clock.set(T0 + 1_000);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("expires"), 1);
    let feed = fx.feed(&caller).await;
    let events = since(&feed, seen);
    assert_eq!(
        events.last().map(|e| e.kind),
        Some(EventType::HoldExpired),
        "{:?}",
        kinds(events)
    );
    assert_eq!(
        data(events.last().expect("an event")),
        json(&wire::Hold::from(fx.hold(&caller, "brief").await))
    );

    fx.clock.set(T0 + 2_000);
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);
    let after = fx.feed(&caller).await;
    let events = since(&after, feed.len());
    let lots = fx.lots(&caller, wallet, None).await;
    let expired = events
        .iter()
        .find(|e| e.kind == EventType::LotExpired)
        .unwrap_or_else(|| panic!("no lot.expired in {:?}", kinds(events)));
    assert_eq!(data(expired), json(&wire::Lot::from(lots[0].clone())));
    assert!(kinds(events).contains(&EventType::WalletBalanceChanged));
    assert_eq!(fx.balance(&caller, wallet).await, 50);
    assert_verified(&fx.ledger, None).await;
}

/// A transfer cut at each of its write primitives (the head's lock and the
/// events' append among them) and at its commit: no event, the head where
/// it was; once the fault lifts the same request records its events.
pub async fn a_storage_fault_at_any_write_records_no_event(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let payer = fx.funded(&caller, None, 100).await;
    let payee = fx.wallet(&caller, None).await;
    let pay = |reference: &str| request(reference, vec![transfer(payer, payee, 10)]);
    let before = faults.write_primitives();
    completed(
        fx.ledger
            .post_transaction(&caller, pay("measure"))
            .await
            .expect("answered"),
    );
    let writes = faults.write_primitives() - before;
    let feed = fx.feed(&caller).await;
    let head = fx.ledger.event_head(&caller).await.expect("the head");
    assert_eq!(head, feed.len() as i64);

    for cut in 1..=writes {
        faults.fail_from_write(cut);
        assert!(
            fx.ledger.post_transaction(&caller, pay("cut")).await.is_err(),
            "cut {cut}"
        );
        faults.lift();
        assert_eq!(fx.feed(&caller).await, feed, "cut at write {cut} of {writes}");
        assert_eq!(fx.ledger.event_head(&caller).await.expect("the head"), head);
    }
    faults.fail_commits();
    assert!(fx.ledger.post_transaction(&caller, pay("cut")).await.is_err());
    faults.lift();
    assert_eq!(fx.feed(&caller).await, feed, "a refused commit");

    completed(
        fx.ledger
            .post_transaction(&caller, pay("cut"))
            .await
            .expect("answered"),
    );
    let after = fx.feed(&caller).await;
    assert_eq!(after.first().map(|e| e.seq), Some(1));
    assert_eq!(after.len(), feed.len() + 3, "{:?}", kinds(&after));
    assert_verified(&fx.ledger, None).await;
}

/// A customer key's stream carries the events that reach its customer (a
/// transfer between two customers reaches both, `asset.*` every one) and
/// no other; its `next` moves past what it may not see; the feed refuses it.
pub async fn a_customer_stream_carries_only_its_own_events(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    for who in ["alice", "bob", "eve"] {
        fx.customer(&caller, who).await;
    }
    let alice = fx.funded(&caller, Some("alice"), 50).await;
    let bob = fx.wallet(&caller, Some("bob")).await;
    let eve = fx.funded(&caller, Some("eve"), 50).await;
    completed(fx.post(&caller, vec![transfer(alice, bob, 5)]).await);
    completed(fx.post(&caller, vec![redeem(eve, 5)]).await);
    fx.ledger
        .create_asset(&caller, AssetCode::parse("GEM").expect("a code"), text("Gems"), 1)
        .await
        .expect("created");

    let bob_key = fx.customer_key(&caller, "bob", None).await;
    let Caller::Customer(ref bob_caller) = bob_key else {
        panic!("a customer caller")
    };
    let query = EventQuery {
        after: 0,
        limit: EventQuery::MAX_LIMIT,
        types: Vec::new(),
    };
    let page = fx
        .ledger
        .stream_events(&bob_key, query.clone())
        .await
        .expect("streams");
    let feed = fx.feed(&caller).await;
    assert_eq!(
        page.next,
        feed.last().map_or(0, |e| e.seq),
        "past what it may not see"
    );
    let expected: Vec<Event> = feed
        .iter()
        .filter(|e| e.reaches(bob_caller.customer))
        .cloned()
        .collect();
    assert_eq!(page.events, expected);
    assert_eq!(
        kinds(&page.events),
        vec![
            EventType::CustomerCreated,
            EventType::TransactionCompleted,
            EventType::WalletBalanceChanged,
            EventType::AssetCreated,
        ],
        "bob's own creation, the transfer to him (not alice's side), the asset"
    );
    assert_eq!(data(&page.events[2])["walletId"], json(&bob.to_string()));
    let alice_key = fx.customer_key(&caller, "alice", None).await;
    let alice_page = fx
        .ledger
        .stream_events(&alice_key, query.clone())
        .await
        .expect("streams");
    let transfer_seq = page.events[1].seq;
    assert!(
        alice_page.events.iter().any(|e| e.seq == transfer_seq),
        "the transfer is alice's too"
    );
    assert!(alice_page.events.iter().all(|e| data(e)["walletId"]
        .as_str()
        .is_none_or(|w| w == alice.to_string())));

    let refused = fx.ledger.events(&bob_key, query).await.expect_err("refused");
    assert!(denial(&refused).is_some(), "{refused:?}");
}

/// Each project numbers its own events from 1.
pub async fn event_seqs_are_per_project(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let a = fx.authority("pa").await;
    let b = fx.authority("pb").await;
    fx.funded(&a, None, 5).await;
    fx.funded(&b, None, 5).await;
    fx.funded(&a, None, 5).await;
    for caller in [&a, &b] {
        let feed = fx.feed(caller).await;
        assert!(!feed.is_empty());
        let seqs: Vec<i64> = feed.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=feed.len() as i64).collect::<Vec<_>>());
        assert!(feed.iter().all(|e| e.project_id == caller.project_id()));
        assert_eq!(feed[0].id(), format!("{}:1", caller.project_id()));
    }
    assert_verified(&fx.ledger, None).await;
}

/// A webhook through the ledger: its queue starts at the head (older events
/// are not queued), follows its types, is leased by one owner at a time,
/// moves only by `record_delivery` of the lease's owner at the expected
/// cursor, goes back (never forward) on replay; deliveries list newest
/// first after the synthesized Pending one, by status; health counts; a
/// delete takes the deliveries with it.
pub async fn webhooks_queue_lease_deliver_and_replay(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 100).await;
    let head = fx.ledger.event_head(&caller).await.expect("the head");
    assert!(head > 0);
    let url = "http://127.0.0.1:9/hook".to_owned();
    let hook = fx
        .ledger
        .create_webhook(
            &caller,
            url.clone(),
            Some(vec![EventType::TransactionCompleted]),
            None,
        )
        .await
        .expect("created");
    let every = fx
        .ledger
        .create_webhook(&caller, url, None, None)
        .await
        .expect("created");
    assert_eq!(hook.progress.cursor, head, "older events are not queued");
    assert_eq!(fx.ledger.next_webhook_event(&hook).await.expect("reads"), None);
    let listed = fx.ledger.webhooks(&caller).await.expect("lists");
    assert_eq!(listed, vec![hook.clone(), every.clone()], "oldest first");

    completed(fx.post(&caller, vec![issue(wallet, 1)]).await);
    completed(fx.post(&caller, vec![issue(wallet, 2)]).await);
    let next = fx
        .ledger
        .next_webhook_event(&hook)
        .await
        .expect("reads")
        .expect("queued");
    assert_eq!((next.seq, next.kind), (head + 1, EventType::TransactionCompleted));
    let due = fx.ledger.due_webhooks(10).await.expect("reads");
    assert_eq!(due.len(), 2);

    // One owner at a time, until its lease runs out.
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w1", 10_000)
        .await
        .expect("leases"));
    assert!(!fx
        .ledger
        .lease_webhook(&hook.id, "w2", 10_000)
        .await
        .expect("leases"));
    fx.clock.set(T0 + 10_000);
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w2", 10_000)
        .await
        .expect("leases"));
    assert!(!fx
        .ledger
        .lease_webhook(&hook.id, "w1", 10_000)
        .await
        .expect("leases"));

    let schedule = RetrySchedule::standard();
    let now = fx.ledger.now();
    let failure = Attempt::Failed {
        http_status: Some(500),
        error: "HTTP 500".to_owned(),
    };
    let failed_once = settle(&hook, next.seq, failure.clone(), now, &schedule, 0.0);
    // A foreign owner, or a stale cursor, records nothing.
    assert!(!fx
        .ledger
        .record_delivery("w1", head, failed_once.clone())
        .await
        .expect("answers"));
    assert!(!fx
        .ledger
        .record_delivery("w2", head - 1, failed_once.clone())
        .await
        .expect("answers"));
    assert!(fx
        .ledger
        .record_delivery("w2", head, failed_once.clone())
        .await
        .expect("answers"));
    let hook_now = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(hook_now.progress, failed_once.progress);
    assert_eq!(hook_now.progress.failures, 1);
    assert!(
        fx.ledger
            .due_webhooks(10)
            .await
            .expect("reads")
            .iter()
            .all(|w| w.id != hook.id),
        "not due yet"
    );

    fx.clock.set(hook_now.progress.next_attempt_at);
    let now = fx.ledger.now();
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w2", 10_000)
        .await
        .expect("leases"));
    let delivered = settle(
        &hook_now,
        next.seq,
        Attempt::Delivered { http_status: 204 },
        now,
        &schedule,
        0.0,
    );
    assert!(fx
        .ledger
        .record_delivery("w2", head, delivered.clone())
        .await
        .expect("answers"));
    let hook_now = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(hook_now.progress.cursor, next.seq);
    let second = fx
        .ledger
        .next_webhook_event(&hook_now)
        .await
        .expect("reads")
        .expect("queued");
    assert!(
        second.seq > next.seq + 1,
        "the balance event between is not its type"
    );
    assert_eq!(second.kind, EventType::TransactionCompleted);

    // Newest first, after the attempt due next (Pending, not stored).
    let all = fx
        .ledger
        .deliveries(&caller, hook.id.clone(), None, PageRequest::ALL)
        .await
        .expect("lists");
    let rows: Vec<(DeliveryStatus, i64, u32)> = all
        .items
        .iter()
        .map(|d| (d.status, d.event_seq, d.attempt))
        .collect();
    assert_eq!(
        rows,
        vec![
            (DeliveryStatus::Pending, second.seq, 1),
            (DeliveryStatus::Delivered, next.seq, 2),
            (DeliveryStatus::Failed, next.seq, 1),
        ]
    );
    assert_eq!(all.total, 3);
    let only_failed = fx
        .ledger
        .deliveries(
            &caller,
            hook.id.clone(),
            Some(DeliveryStatus::Failed),
            PageRequest::ALL,
        )
        .await
        .expect("lists");
    assert_eq!(only_failed.items, vec![failed_once.delivery.clone()]);
    let health = fx
        .ledger
        .webhook_health(&caller, hook.id.clone())
        .await
        .expect("reads");
    assert_eq!(health.last_delivered_at, Some(now));
    assert_eq!(health.last_attempt_at, Some(now));
    assert_eq!((health.failing, health.dead), (0, 0));

    // A Dead attempt once the schedule gave up.
    let mut giving_up = hook_now.clone();
    giving_up.progress.failures = 3;
    giving_up.progress.first_failure_at = Some(now - schedule.give_up_after);
    let dead = settle(&giving_up, second.seq, failure, now, &schedule, 0.0);
    assert_eq!(dead.delivery.status, DeliveryStatus::Dead);
    assert!(fx
        .ledger
        .record_delivery("w2", next.seq, dead)
        .await
        .expect("answers"));
    let health = fx
        .ledger
        .webhook_health(&caller, hook.id.clone())
        .await
        .expect("reads");
    assert_eq!(health.dead, 1);

    // Replay moves back, never forward, and makes the queue ready now.
    fx.ledger
        .replay_webhook(&caller, hook.id.clone(), 0)
        .await
        .expect("replays");
    let replayed = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(replayed.progress.cursor, 0);
    assert_eq!(
        (replayed.progress.failures, replayed.progress.next_attempt_at),
        (0, now)
    );
    let first = fx
        .ledger
        .next_webhook_event(&replayed)
        .await
        .expect("reads")
        .expect("queued");
    assert_eq!(first.kind, EventType::TransactionCompleted);
    assert!(first.seq <= head);
    fx.ledger
        .replay_webhook(&caller, hook.id.clone(), head + 100)
        .await
        .expect("replays");
    let kept = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(kept.progress.cursor, 0, "never forward");

    fx.ledger
        .delete_webhook(&caller, hook.id.clone())
        .await
        .expect("deleted");
    assert!(fx.ledger.webhook(&caller, hook.id.clone()).await.is_err());
    assert!(fx
        .ledger
        .deliveries(&caller, hook.id.clone(), None, PageRequest::ALL)
        .await
        .is_err());
    assert!(fx.ledger.delete_webhook(&caller, hook.id.clone()).await.is_err());
    assert_eq!(fx.ledger.webhooks(&caller).await.expect("lists"), vec![every]);
    fx.assert_check().await;
}

/// A run of attempts (the worker's unit) through the ledger: one read
/// gives a page of the queue with the head, one write job records every
/// attempt of the run and moves the queue; an attempt failing in the
/// middle leaves the queue on that event (nothing after it skipped), the
/// next page starts there; another owner's or a stale cursor's record
/// changes nothing; an endpoint whose types never occur has its cursor
/// moved past what was looked at, and is no longer due.
pub async fn a_webhook_run_of_attempts_is_recorded_in_one_write(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 100).await;
    let url = "http://127.0.0.1:9/hook".to_owned();
    let hook = fx
        .ledger
        .create_webhook(&caller, url.clone(), None, None)
        .await
        .expect("created");
    let rare = fx
        .ledger
        .create_webhook(&caller, url, Some(vec![EventType::LotExpired]), None)
        .await
        .expect("created");
    for n in 1..=8 {
        completed(fx.post(&caller, vec![issue(wallet, n)]).await);
    }
    let head = fx.ledger.event_head(&caller).await.expect("the head");
    let page = fx.ledger.webhook_page(&hook, 100).await.expect("reads");
    assert_eq!(page.head, head);
    assert!(!page.full);
    let seqs: Vec<i64> = page.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, ((hook.progress.cursor + 1)..=head).collect::<Vec<_>>());
    assert!(seqs.len() >= 16, "{seqs:?}");
    let small = fx.ledger.webhook_page(&hook, 3).await.expect("reads");
    assert!(small.full);
    assert_eq!(small.looked_at(), seqs[2], "a full page: no further than its end");

    // The receiver fails at the sixth event: the run stops there.
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w1", 10_000)
        .await
        .expect("leases"));
    let schedule = RetrySchedule::standard();
    let now = fx.ledger.now();
    let mut run = Run::new(&hook);
    for (n, event) in page.events.iter().enumerate() {
        let outcome = if n == 5 {
            Attempt::Failed {
                http_status: Some(503),
                error: "answered 503".to_owned(),
            }
        } else {
            Attempt::Delivered { http_status: 204 }
        };
        if run.settle(&hook, event.seq, outcome, now, &schedule, 0.0) == DeliveryStatus::Failed {
            break;
        }
    }
    run.pass_over_to(page.looked_at());
    assert_eq!(run.deliveries.len(), 6);
    assert_eq!(run.progress.cursor, seqs[4], "a failure keeps its event queued");

    // Another owner, or a stale cursor, records nothing.
    assert!(!fx
        .ledger
        .record_run("w2", run.clone(), 10_000)
        .await
        .expect("answers"));
    let mut stale = run.clone();
    stale.from_cursor -= 1;
    assert!(!fx.ledger.record_run("w1", stale, 10_000).await.expect("answers"));
    let unmoved = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(unmoved.progress, hook.progress);
    let none = fx
        .ledger
        .deliveries(
            &caller,
            hook.id.clone(),
            Some(DeliveryStatus::Delivered),
            PageRequest::ALL,
        )
        .await
        .expect("lists");
    assert_eq!(none.total, 0);

    // The owner's: one write job for the whole run.
    let jobs = fx.ledger.stats().jobs;
    assert!(fx
        .ledger
        .record_run("w1", run.clone(), 10_000)
        .await
        .expect("answers"));
    assert_eq!(fx.ledger.stats().jobs - jobs, 1, "one write for six attempts");
    let moved = fx.ledger.webhook(&caller, hook.id.clone()).await.expect("found");
    assert_eq!(moved.progress, run.progress);
    assert_eq!((moved.progress.failures, moved.progress.cursor), (1, seqs[4]));
    // Every attempt listed, newest first, after the retry due next.
    let all = fx
        .ledger
        .deliveries(&caller, hook.id.clone(), None, PageRequest::ALL)
        .await
        .expect("lists");
    let rows: Vec<(DeliveryStatus, i64, u32)> = all
        .items
        .iter()
        .map(|d| (d.status, d.event_seq, d.attempt))
        .collect();
    let mut expected = vec![
        (DeliveryStatus::Pending, seqs[5], 2),
        (DeliveryStatus::Failed, seqs[5], 1),
    ];
    expected.extend(seqs[..5].iter().rev().map(|&s| (DeliveryStatus::Delivered, s, 1)));
    assert_eq!(rows, expected);
    let failed = &all.items[1];
    assert_eq!(
        (failed.http_status, failed.error.as_deref()),
        (Some(503), Some("answered 503"))
    );
    assert_eq!(failed.next_attempt_at, Some(moved.progress.next_attempt_at));
    assert_eq!(all.items[2].http_status, Some(204));
    // The next run starts at the failed event: nothing skipped, in order.
    let again = fx.ledger.webhook_page(&moved, 100).await.expect("reads");
    let next: Vec<i64> = again.events.iter().map(|e| e.seq).collect();
    assert_eq!(next, seqs[5..].to_vec());
    // A lease that ran out and was taken over: the late run records nothing.
    fx.clock.set(moved.progress.next_attempt_at + 10_000);
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w2", 10_000)
        .await
        .expect("leases"));
    let mut late = Run::new(&moved);
    late.settle(
        &moved,
        seqs[5],
        Attempt::Delivered { http_status: 200 },
        fx.ledger.now(),
        &schedule,
        0.0,
    );
    assert!(!fx
        .ledger
        .record_run("w1", late.clone(), 10_000)
        .await
        .expect("answers"));
    assert_eq!(
        fx.ledger
            .webhook(&caller, hook.id.clone())
            .await
            .expect("found")
            .progress,
        moved.progress
    );
    assert!(fx.ledger.record_run("w2", late, 10_000).await.expect("answers"));

    // Types that never occur: nothing to send, the cursor passes over
    // what was looked at, and the endpoint is no longer due.
    assert!(fx.ledger.webhook_has_work(&rare, 1).await.expect("reads"));
    assert!(!fx.ledger.webhook_has_work(&rare, 1000).await.expect("reads"));
    let page = fx.ledger.webhook_page(&rare, 100).await.expect("reads");
    assert!(page.events.is_empty());
    assert!(fx
        .ledger
        .lease_webhook(&rare.id, "w1", 10_000)
        .await
        .expect("leases"));
    let mut pass = Run::new(&rare);
    pass.pass_over_to(page.looked_at());
    assert!(fx.ledger.record_run("w1", pass, 10_000).await.expect("answers"));
    let rare_now = fx.ledger.webhook(&caller, rare.id.clone()).await.expect("found");
    assert_eq!(rare_now.progress.cursor, head);
    assert!(fx
        .ledger
        .due_webhooks(10)
        .await
        .expect("reads")
        .iter()
        .all(|w| w.id != rare.id));
    let listed = fx
        .ledger
        .deliveries(&caller, rare.id.clone(), None, PageRequest::ALL)
        .await
        .expect("lists");
    assert_eq!(listed.total, 0, "passing over records no attempt");
    fx.assert_check().await;
}

/// `events prune`: events older than the cutoff go, a signed anchor stays,
/// `verify` passes from it (and fails at the anchor under another key);
/// pruning every event keeps the head, and the next event follows it.
pub async fn pruning_keeps_a_signed_anchor_the_chain_verifies_from(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 10).await;
    completed(fx.post(&caller, vec![issue(wallet, 1)]).await);
    let old = fx.feed(&caller).await;
    fx.clock.set(T0 + 60_000);
    completed(fx.post(&caller, vec![issue(wallet, 2)]).await);
    let all = fx.feed(&caller).await;

    let key = signer("server key");
    let dropped = fx
        .ledger
        .prune_events("pa".to_owned(), T0 + 1, key.clone())
        .await
        .expect("prunes");
    assert_eq!(dropped, old.len() as u64);
    let kept = fx.feed(&caller).await;
    assert_eq!(kept, all[old.len()..].to_vec());
    assert_eq!(
        assert_verified(&fx.ledger, Some(key.clone())).await,
        kept.len() as u64
    );
    let reports = fx
        .ledger
        .verify(Some("pa".to_owned()), Some(signer("another key")))
        .await
        .expect("runs");
    let last_old = old.last().expect("events").seq;
    assert_eq!(reports[0].mismatch.as_ref().map(|m| m.seq), Some(last_old));
    assert_eq!(reports[0].from_seq, last_old);

    let head = fx.ledger.event_head(&caller).await.expect("the head");
    fx.ledger
        .prune_events("pa".to_owned(), T0 + 120_000, key.clone())
        .await
        .expect("prunes");
    assert!(fx.feed(&caller).await.is_empty());
    assert_eq!(
        fx.ledger.event_head(&caller).await.expect("the head"),
        head,
        "the head stays"
    );
    assert_verified(&fx.ledger, Some(key.clone())).await;
    completed(fx.post(&caller, vec![issue(wallet, 3)]).await);
    assert_eq!(fx.feed(&caller).await.first().map(|e| e.seq), Some(head + 1));
    assert_verified(&fx.ledger, Some(key)).await;
    fx.assert_check().await;
}
