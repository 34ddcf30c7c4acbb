//! A credential is checked again inside the write: a request authenticated
//! before a revocation (its head arrived, its body had not) commits nothing
//! after it, and under load the revocation commits at once and no write of
//! the revoked authority is dated after it.

use crate::app::v2::{ctx, issue, next_ref};
use crate::app::{sign_es256, spawn_app, TestApp};
use crate::recheck_under_load::UNDER_LOAD;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wallet_core::dump::{DumpCounts, DumpRecord};

/// Long enough for the server to read a head and authenticate it.
const HEAD_SETTLES: Duration = Duration::from_millis(400);

/// A request whose head (with `Content-Length` and the credential) was sent,
/// and whose body was not yet.
struct Primed {
    what: String,
    stream: TcpStream,
    body: Vec<u8>,
}

async fn prime(app: &TestApp, what: &str, method: &str, path: &str, token: &str, body: &Value) -> Primed {
    let body = body.to_string().into_bytes();
    let host = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).await.expect("connects");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.flush().await.expect("flushed");
    Primed {
        what: what.to_owned(),
        stream,
        body,
    }
}

impl Primed {
    /// Sends the body; returns the reply's status and JSON body.
    async fn finish(mut self) -> (String, u16, Value) {
        self.stream.write_all(&self.body).await.expect("body sent");
        let mut reply = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), self.stream.read_to_end(&mut reply))
            .await
            .expect("a reply in time")
            .expect("reply read");
        let reply = String::from_utf8_lossy(&reply).into_owned();
        let status = reply
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{}: no status line in {reply:?}", self.what));
        let body = reply.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let body = serde_json::from_str(body).unwrap_or(Value::Null);
        (self.what, status, body)
    }
}

/// How many rows of each kind the project holds, read through the port (an
/// export of the project, on either backend): every kind a write can make.
async fn row_counts(app: &TestApp) -> DumpCounts {
    let mut counts = DumpCounts::default();
    for record in app.dump("default").await {
        counts.add(&record);
    }
    counts
}

/// Every wallet's name and description, to see that no label changed.
async fn labels(app: &TestApp) -> Vec<(i64, Option<String>, Option<String>)> {
    app.dump("default")
        .await
        .into_iter()
        .filter_map(|record| match record {
            DumpRecord::Wallet(w) => Some((w.id, w.name, w.description)),
            _ => None,
        })
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Asserts each reply is a 401 in its API's shape.
fn assert_refused(replies: &[(String, u16, Value)]) {
    let wrong: Vec<String> = replies
        .iter()
        .filter(|(what, status, body)| {
            let shaped = if what.starts_with("v1") {
                body.as_object()
                    .is_some_and(|o| o.len() == 1 && o.get("error").is_some_and(Value::is_string))
            } else {
                body["status"].is_string() && body["message"].is_string()
            };
            *status != 401 || !shaped
        })
        .map(|(what, status, body)| format!("{what}: {status} {body}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "every primed request is refused with 401 after its credential lapsed:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_primed_before_an_authority_is_revoked_commit_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &wallet, 1_000).await;
    let jwt = app.create_authority("default").await;
    let key = app.access_key("default").await;
    let key_id = key.rsplit_once('_').expect("key id").0.to_owned();
    let bearer_jwt = format!("Bearer {}", jwt.token);
    let bearer_key = format!("Bearer {key}");
    let entry = json!({ "user_id": "bob", "amount": 5, "reason": "primed" });

    let mut primed = Vec::new();
    for n in 0..4 {
        primed.push(prime(&app, "v1 entry", "POST", "/api/v1/entry", &jwt.token, &entry).await);
        for (who, token) in [("jwt", &bearer_jwt), ("key", &bearer_key)] {
            let tx = json!({ "referenceId": next_ref("primed"), "operations": [issue(&wallet, 1)] });
            let batch = json!({ "transactions": [
                { "referenceId": next_ref("primed"), "operations": [issue(&wallet, 1)] },
                { "referenceId": next_ref("primed"), "operations": [issue(&wallet, 2)] },
            ]});
            let cases = [
                ("transaction", "POST", "/api/v2/transactions".to_owned(), tx),
                ("batch", "POST", "/api/v2/transactions/batch".to_owned(), batch),
                (
                    "customer",
                    "POST",
                    "/api/v2/customers".to_owned(),
                    json!({ "id": format!("new-{who}-{n}") }),
                ),
                (
                    "wallet",
                    "POST",
                    "/api/v2/wallets".to_owned(),
                    json!({ "customerId": "alice", "assetId": c.asset }),
                ),
                (
                    "asset",
                    "POST",
                    "/api/v2/assets".to_owned(),
                    json!({ "code": format!("X{who}{n}").to_uppercase(), "name": "x", "fractions": 1 }),
                ),
                (
                    "wallet name",
                    "PUT",
                    format!("/api/v2/wallets/{wallet}/name"),
                    json!({ "name": "renamed" }),
                ),
                (
                    "customer key",
                    "POST",
                    "/api/v2/customers/alice/keys".to_owned(),
                    json!({}),
                ),
            ];
            for (what, method, path, body) in cases {
                let what = format!("v2 {what} ({who})");
                primed.push(prime(&app, &what, method, &path, token, &body).await);
            }
        }
    }
    tokio::time::sleep(HEAD_SETTLES).await;
    let before = (row_counts(&app).await, labels(&app).await);

    app.revoke(&jwt).await;
    let key_authority = crate::app::TestAuthority {
        id: key_id,
        private_pem: String::new(),
        token: String::new(),
    };
    app.revoke(&key_authority).await;
    let mut replies = Vec::new();
    for request in primed {
        replies.push(request.finish().await);
    }

    assert_refused(&replies);
    assert_eq!(
        (row_counts(&app).await, labels(&app).await),
        before,
        "nothing was written"
    );
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_label_write_primed_before_its_customer_key_lapses_changes_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let authority = app.create_authority("default").await;
    let mut wallets = Vec::new();
    for customer in ["revoked", "expiring", "deleted", "jwt-deleted"] {
        wallets.push(c.customer_wallet(&app, customer).await);
    }
    let mint = |customer: &str, body: Value| {
        let path = format!("/customers/{customer}/keys");
        let c = &c;
        let app = &app;
        async move {
            let key = c.call(app, "POST", &path, body, 201).await;
            (
                key["id"].as_str().expect("key id").to_owned(),
                key["token"].as_str().expect("token").to_owned(),
            )
        }
    };
    let (revoked_id, revoked) = mint("revoked", json!({})).await;
    let expires_at = now_ms() + 1_500;
    let (_, expiring) = mint("expiring", json!({ "expiresAt": expires_at })).await;
    let (_, deleted) = mint("deleted", json!({})).await;
    let exp = (now_ms() / 1000) + 3600;
    let customer_jwt = sign_es256(
        &authority.private_pem,
        &json!({ "sub": authority.id, "aud": "customer:jwt-deleted", "exp": exp }),
    );
    let rename = json!({ "name": "renamed" });
    let mut primed = Vec::new();
    for (what, token, wallet) in [
        ("v2 label (revoked key)", &revoked, &wallets[0]),
        ("v2 label (expired key)", &expiring, &wallets[1]),
        ("v2 label (deleted customer's key)", &deleted, &wallets[2]),
        ("v2 label (deleted customer's JWT)", &customer_jwt, &wallets[3]),
    ] {
        let path = format!("/api/v2/wallets/{wallet}/name");
        let bearer = format!("Bearer {token}");
        for _ in 0..3 {
            primed.push(prime(&app, what, "PUT", &path, &bearer, &rename).await);
        }
    }
    tokio::time::sleep(HEAD_SETTLES).await;
    let before = labels(&app).await;

    let path = format!("/customers/revoked/keys/{revoked_id}");
    assert_eq!(app.v2("DELETE", &path, Some(&c.key), None).await.0, 204);
    for (customer, wallet) in [("deleted", &wallets[2]), ("jwt-deleted", &wallets[3])] {
        c.set_status(&app, wallet, "Closed").await;
        let path = format!("/customers/{customer}");
        assert_eq!(app.v2("DELETE", &path, Some(&c.key), None).await.0, 200);
    }
    let after_writes = labels(&app).await;
    tokio::time::sleep(Duration::from_millis((expires_at - now_ms()).max(0) as u64 + 100)).await;
    let mut replies = Vec::new();
    for request in primed {
        replies.push(request.finish().await);
    }

    assert_refused(&replies);
    assert_eq!(before, after_writes, "closing and deleting renamed nothing");
    assert_eq!(labels(&app).await, before, "no label changed");
    let expired: Vec<&(String, u16, Value)> = replies.iter().filter(|r| r.0.contains("expired")).collect();
    assert!(
        expired.iter().all(|r| r.2["status"] == "EXPIRED"),
        "an expired key is refused as EXPIRED: {expired:?}"
    );
}

/// What one request of the load saw.
struct Sent {
    started: Instant,
    status: u16,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_load_no_write_of_a_revoked_authority_is_dated_after_its_revocation() {
    let app = Arc::new(spawn_app().await);
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "load").await;
    let authority = app.create_authority("default").await;
    let token = Arc::new(authority.token.clone());
    let revoked = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..16 {
        let (app, token, wallet, revoked) = (
            Arc::clone(&app),
            Arc::clone(&token),
            wallet.clone(),
            Arc::clone(&revoked),
        );
        clients.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            // Bounded: stops a few requests after the revocation, or after 3000.
            let mut after = 0;
            for n in 0..3000 {
                let started = Instant::now();
                let status = if (client + n) % 2 == 0 {
                    let body = json!({ "user_id": "load", "amount": 1, "reason": "load" });
                    app.post_entry(&token, &body).await.status().as_u16()
                } else {
                    let body = json!({ "referenceId": next_ref("load"), "operations": [issue(&wallet, 1)] });
                    app.v2("POST", "/transactions", Some(token.as_str()), Some(&body))
                        .await
                        .0
                };
                sent.push(Sent { started, status });
                if revoked.load(Ordering::SeqCst) {
                    after += 1;
                    if after > 20 {
                        break;
                    }
                }
            }
            sent
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Under the load, not after it (see `recheck_under_load`).
    let revoking = Instant::now();
    tokio::time::timeout(UNDER_LOAD, app.revoke(&authority))
        .await
        .unwrap_or_else(|_| panic!("the revocation did not commit within {UNDER_LOAD:?} under load"));
    println!("revoked under load in {:?}", revoking.elapsed());
    let revoked_when = Instant::now();
    revoked.store(true, Ordering::SeqCst);
    let mut sent = Vec::new();
    for client in clients {
        sent.extend(client.await.expect("client"));
    }

    let ok_before = sent.iter().filter(|s| s.status < 300).count();
    assert!(ok_before > 0, "some writes went through before the revocation");
    let late: Vec<u16> = sent
        .iter()
        .filter(|s| s.started > revoked_when && s.status != 401)
        .map(|s| s.status)
        .collect();
    assert!(
        late.is_empty(),
        "requests sent after the revocation are refused: {late:?}"
    );
    assert!(
        sent.iter().all(|s| s.status < 300 || s.status == 401),
        "only successes and 401s"
    );
    let records = app.dump("default").await;
    let (rowid, revoked_at) = records
        .iter()
        .find_map(|record| match record {
            DumpRecord::Authority(a) if a.id == authority.id => Some((a.rowid, a.revoked_at)),
            _ => None,
        })
        .expect("the authority");
    let revoked_at = revoked_at.expect("the authority is revoked");
    let late: Vec<&DumpRecord> = records
        .iter()
        .filter(|record| match record {
            DumpRecord::Transaction(t) => t.authority == rowid && t.created_at > revoked_at,
            DumpRecord::Entry(e) => e.authority == rowid && e.created_at > revoked_at,
            _ => false,
        })
        .collect();
    assert!(
        late.is_empty(),
        "writes of the authority dated after its revocation: {late:?}"
    );
    app.assert_invariants().await;
}

/// Every write of the core, posted with a caller authenticated before its
/// authority was revoked: each is refused, and the database is unchanged.
/// (The HTTP tests above prime requests that have a body; this one also
/// reaches the writes that have none, such as using an item.)
#[tokio::test]
async fn every_write_of_the_core_rechecks_its_credential() {
    use wallet_core::ids::{AssetId, EntryId, WalletId};
    use wallet_core::model::WalletStatus;
    use wallet_core::operation::{Operation, Quantity, TransactionRequest};
    use wallet_core::text::{CustomerId, ReferenceId, Text};
    use wallet_core::V1EntryRequest;

    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "alice").await;
    let authority = app.create_authority("default").await;
    let entry = app.entry(&authority.token, "bob", 0).await;
    let with_item = json!({ "user_id": "bob", "amount": 0, "reason": "r", "item": { "name": "Hat" } });
    let (status, item) = crate::app::json_of(app.post_entry(&authority.token, &with_item).await).await;
    assert_eq!(status, 200, "{item}");
    let item = EntryId::parse(item["entry"]["entry_id"].as_str().unwrap()).unwrap();
    assert!(entry["entry_id"].is_string());
    let caller = app
        .credentials()
        .authenticate_authority(Some(&authority.token))
        .await
        .expect("authenticates");
    app.revoke(&authority).await;
    let before = (row_counts(&app).await, labels(&app).await);

    let (ledger, credentials) = (app.ledger(), app.credentials());
    let wallet = WalletId::parse(&wallet).unwrap();
    let alice = || CustomerId::parse("alice").unwrap();
    let text = |s: &str| Text::parse(s, "name", 200).unwrap();
    let amount = Quantity::new(1).unwrap();
    let tx = || {
        let reference = ReferenceId::parse(&next_ref("stale")).unwrap();
        TransactionRequest::new(
            reference,
            vec![Operation::Issue {
                destination: wallet,
                amount,
                expires_at: None,
            }],
            None,
        )
        .unwrap()
    };
    let entry = V1EntryRequest {
        user: alice(),
        amount: wallet_core::amount::Amount::parse(1).unwrap(),
        reason: text("r"),
        item: None,
    };
    let p = &caller;
    let outcomes: Vec<(&str, Result<(), String>)> = vec![
        (
            "v1 entry",
            ledger
                .post_v1_entry(p, entry)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "v1 use item",
            ledger
                .use_v1_item(p, item)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "transaction",
            ledger
                .post_transaction(p, tx())
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "batch",
            ledger
                .post_batch(p, vec![tx(), tx()])
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "create asset",
            ledger
                .create_asset(
                    p,
                    wallet_core::text::AssetCode::parse("NEW").unwrap(),
                    text("n"),
                    1,
                )
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "rename asset",
            ledger
                .rename_asset(p, AssetId::new(1), text("n"))
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "customer",
            ledger
                .upsert_customer(p, alice(), Some(text("n")), None)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "suspend",
            ledger
                .suspend_customer(p, alice())
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "resume",
            ledger
                .resume_customer(p, alice(), vec![])
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "delete customer",
            ledger
                .delete_customer(p, alice())
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "wallet",
            ledger
                .create_wallet(p, Some(alice()), AssetId::new(1), None, None)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "label",
            ledger
                .label_wallet(&caller, wallet, Some(text("n")), None)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "wallet status",
            ledger
                .set_wallet_status(p, wallet, WalletStatus::Suspended)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
        (
            "customer key",
            credentials
                .create_customer_key(p, alice(), None)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        ),
    ];
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|(_, outcome)| outcome.as_ref().err().map(String::as_str) != Some("unknown or revoked key"))
        .map(|(what, outcome)| format!("{what}: {outcome:?}"))
        .collect();
    assert!(wrong.is_empty(), "refused as revoked:\n{}", wrong.join("\n"));
    assert_eq!(
        (row_counts(&app).await, labels(&app).await),
        before,
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_primed_with_a_jwt_that_expires_before_its_body_is_refused() {
    let app = spawn_app().await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "alice").await;
    // Whole seconds: the token lapses within two seconds from now.
    let exp = now_ms() / 1000 + 2;
    let token = sign_es256(
        &authority.private_pem,
        &json!({ "sub": authority.id, "exp": exp }),
    );
    let entry = json!({ "user_id": "bob", "amount": 5, "reason": "late" });
    let tx = json!({ "referenceId": next_ref("late"), "operations": [issue(&wallet, 1)] });
    let primed = vec![
        prime(&app, "v1 entry", "POST", "/api/v1/entry", &token, &entry).await,
        prime(
            &app,
            "v2 transaction",
            "POST",
            "/api/v2/transactions",
            &format!("Bearer {token}"),
            &tx,
        )
        .await,
    ];
    tokio::time::sleep(HEAD_SETTLES).await;
    let before = row_counts(&app).await;
    tokio::time::sleep(Duration::from_millis((exp * 1000 - now_ms()).max(0) as u64 + 100)).await;
    let mut replies = Vec::new();
    for request in primed {
        replies.push(request.finish().await);
    }

    assert_refused(&replies);
    assert_eq!(replies[0].2["error"], "the token has expired", "{replies:?}");
    assert_eq!(replies[1].2["status"], "EXPIRED", "{replies:?}");
    assert_eq!(row_counts(&app).await, before, "nothing was written");
}
