//! Storage faults: a full disk or a read-only database file.
//!
//! Promise: writes fail with a clear 503 (API v1 `{"error"}`, API v2
//! `{"status": "UNKNOWN_ERROR"}`) and apply nothing, reads keep working,
//! nothing is corrupted (`check` passes), every write acknowledged before or
//! during the fault is kept, and the server recovers by itself when the
//! space returns, without a restart.
//!
//! The faults are injected by the testkit's `FaultyBackend`, a decorator in
//! front of the server's real SQLite backend: from a chosen write on, every
//! write primitive of a job fails with `StoreError::Unavailable`, what a
//! backend reports for a full disk or a read-only file. The path from there
//! (the job's rollback in the real writer, group commit, error mapping,
//! HTTP) is the real one. SQLite's own reaction to a full disk (it rolls the
//! whole group's transaction back) is tested in `wallet-sqlite`'s writer
//! tests with a capped `max_page_count`. See docs/reliability.md for what
//! this does not cover.
#![allow(clippy::unwrap_used)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tempfile::TempDir;
use wallet_core::text::{ProjectId, Text};
use wallet_core::{Ledger, Store};
use wallet_service::auth::Credentials;
use wallet_service::config::Settings;
use wallet_service::startup::{sqlite_options, Application};
use wallet_sqlite::SqliteBackend;
use wallet_testkit::{Faults, FaultyBackend};

/// Writes that still fit before the simulated disk is full: a few, so the
/// fault lands in the middle of a run of writes, not at its start.
const WRITES_THAT_FIT: u64 = 12;

/// The real application on port 0, with a handle on its store.
struct Served {
    address: String,
    client: reqwest::Client,
    store: Store,
    faults: Faults,
    key: String,
    v1_token: String,
    handle: wallet_service::startup::AppHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: TempDir,
}

async fn serve() -> Served {
    serve_in(tempfile::tempdir().unwrap()).await
}

/// Starts the app on `dir/wallet.db`, with a new access key and authority.
async fn serve_in(dir: TempDir) -> Served {
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        db: dir.path().join("wallet.db").into(),
        workers: 2,
        ..Settings::default()
    };
    let path = dir.path().join("wallet.db");
    let backend = SqliteBackend::open(&sqlite_options(&settings, &path, true)).expect("the database opens");
    let faulty = FaultyBackend::new(Arc::new(backend));
    let faults = faulty.faults();
    let store = Store::new(Arc::new(faulty));
    let app = Application::build_on(&settings, store.clone())
        .await
        .expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let credentials = Credentials::new(store.clone());
    let project = ProjectId::parse("default").unwrap();
    let name = Text::parse("faults", "name", 200).unwrap();
    let key = credentials
        .create_access_key(project.clone(), name.clone())
        .await
        .unwrap()
        .token;
    let authority = credentials
        .create_authority(project, name, &address)
        .await
        .unwrap();
    let v1_token = sign_es256(&authority.config.private_key, &authority.config.authority_id);
    Served {
        address,
        client: reqwest::Client::new(),
        store,
        faults,
        key,
        v1_token,
        handle,
        server,
        dir,
    }
}

impl Served {
    /// Stops the server (letting the writer finish) and starts it again on the same file.
    async fn restart(self) -> Served {
        self.handle.stop(true).await;
        self.server.await.unwrap().unwrap();
        drop(self.store);
        serve_in(self.dir).await
    }
}

fn sign_es256(private_pem: &str, sub: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), &json!({ "sub": sub }), &key).unwrap()
}

impl Served {
    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn v2(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, &format!("/api/v2{path}"), &self.key, body)
            .await
    }

    async fn wallet(&self, customer: &str) -> String {
        let (status, project) = self.v2("GET", "/project", None).await;
        assert_eq!(status, 200, "{project}");
        let (status, body) = self
            .v2("POST", "/customers", Some(json!({ "id": customer })))
            .await;
        assert_eq!(status, 201, "{body}");
        let body = json!({ "customerId": customer, "assetId": project["defaultAssetId"] });
        let (status, wallet) = self.v2("POST", "/wallets", Some(body)).await;
        assert_eq!(status, 201, "{wallet}");
        wallet["id"].as_str().unwrap().to_owned()
    }

    async fn balance(&self, wallet: &str) -> i64 {
        let (status, body) = self.v2("GET", &format!("/wallets/{wallet}"), None).await;
        assert_eq!(status, 200, "reads keep working: {body}");
        body["balance"].as_i64().unwrap()
    }

    /// A transaction that makes the database grow: a 1,000-character description.
    async fn grow(&self, reference: &str, wallet: &str, amount: i64) -> (u16, Value) {
        let body = json!({
            "referenceId": reference,
            "operations": [{ "type": "Issue", "destination": wallet, "amount": amount }],
            "description": format!("{reference}:{}", "d".repeat(990)),
        });
        self.v2("POST", "/transactions", Some(body)).await
    }

    async fn assert_invariants(&self, when: &str) {
        let report = Ledger::new(self.store.clone()).check().await.unwrap();
        assert!(report.is_ok(), "{when}: invariants violated: {report:#?}");
    }
}

fn assert_unavailable_v2(case: &str, reply: &(u16, Value)) {
    let (status, body) = reply;
    assert_eq!(*status, 503, "{case}: {body}");
    assert_eq!(body["status"], "UNKNOWN_ERROR", "{case}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("nothing was changed"),
        "{case}: a clear message: {body}"
    );
    assert!(
        !message.contains("SQLITE") && !message.contains("database"),
        "{case}: no internals: {body}"
    );
}

/// Writes until one is refused; returns the acknowledged amounts and the
/// reference ids refused with 503.
async fn write_until_refused(app: &Served, wallet: &str, prefix: &str) -> (i64, Vec<String>) {
    let (mut acknowledged, mut refused) = (0, Vec::new());
    for n in 0..2000 {
        let reference = format!("{prefix}-{n}");
        let reply = app.grow(&reference, wallet, 1).await;
        match reply.0 {
            201 => acknowledged += 1,
            _ => {
                assert_unavailable_v2(&format!("write {reference}"), &reply);
                refused.push(reference);
                if refused.len() == 5 {
                    break;
                }
            }
        }
    }
    assert!(!refused.is_empty(), "a full disk must refuse writes");
    (acknowledged, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_keeps_reads_and_recovers_by_itself() {
    let app = serve().await;
    let wallet = app.wallet("alice").await;
    assert_eq!(app.grow("before", &wallet, 1000).await.0, 201);
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/entry",
            &app.v1_token,
            Some(json!({"user_id": "bob", "amount": 5, "reason": "x"})),
        )
        .await;
    assert_eq!(status, 200);

    app.faults.fail_from_write(WRITES_THAT_FIT);
    let (acknowledged, refused) = write_until_refused(&app, &wallet, "full").await;
    println!(
        "disk full: {acknowledged} writes fitted in the last free pages, then {} refused",
        refused.len()
    );

    // API v1 answers a full disk with its own error body.
    let mut v1_refused = false;
    for n in 0..500 {
        let body = json!({"user_id": format!("user-{n}"), "amount": 1, "reason": "r".repeat(900)});
        let (status, body) = app.call("POST", "/api/v1/entry", &app.v1_token, Some(body)).await;
        if status == 503 {
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|m| m.contains("nothing was changed")),
                "{body}"
            );
            v1_refused = true;
            break;
        }
        assert_eq!(status, 200, "{body}");
    }
    assert!(v1_refused, "API v1 writes must be refused on a full disk");

    // Reads keep working, and nothing is corrupted.
    assert_eq!(app.balance(&wallet).await, 1000 + acknowledged);
    let (status, list) = app.v2("GET", "/transactions?pageSize=5", None).await;
    assert_eq!(status, 200, "{list}");
    let (status, totals) = app
        .call("GET", "/api/v1/wallet?user_ids=bob", &app.v1_token, None)
        .await;
    assert_eq!(
        (status, &totals["wallets"][0]["total"]),
        (200, &json!(5)),
        "{totals}"
    );
    app.assert_invariants("during the fault").await;

    // Space returns: the next write succeeds without a restart, and every
    // refused reference id is still free (nothing of it was applied).
    app.faults.lift();
    for reference in &refused {
        let (status, body) = app.grow(reference, &wallet, 1).await;
        assert_eq!(
            status, 201,
            "{reference} was refused, so it must still be free: {body}"
        );
    }
    assert_eq!(
        app.balance(&wallet).await,
        1000 + acknowledged + refused.len() as i64
    );
    app.assert_invariants("after recovery").await;
    app.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_refuses_every_write_with_503_and_recovers() {
    let app = serve().await;
    let wallet = app.wallet("alice").await;
    assert_eq!(app.grow("before", &wallet, 10).await.0, 201);

    app.faults.fail_every_write();
    let writes: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/transactions".into(),
            json!({"referenceId": "ro-1", "operations": [{"type": "Issue", "destination": wallet, "amount": 1}]}),
        ),
        ("POST", "/customers".into(), json!({"id": "carol"})),
        (
            "POST",
            "/assets".into(),
            json!({"name": "Gold", "code": "GOLD", "fractions": 100}),
        ),
        (
            "PUT",
            format!("/wallets/{wallet}/name"),
            json!({"name": "renamed"}),
        ),
    ];
    for (method, path, body) in writes {
        let reply = app.v2(method, &path, Some(body)).await;
        assert_unavailable_v2(&format!("{method} {path} on a read-only database"), &reply);
    }
    let body = json!({"user_id": "bob", "amount": 1, "reason": "x"});
    let (status, reply) = app.call("POST", "/api/v1/entry", &app.v1_token, Some(body)).await;
    assert_eq!(status, 503, "{reply}");
    assert!(reply["error"].is_string(), "{reply}");

    assert_eq!(app.balance(&wallet).await, 10, "reads keep working");
    let (status, customers) = app.v2("GET", "/customers", None).await;
    assert_eq!((status, &customers["total"]), (200, &json!(1)), "{customers}");
    app.assert_invariants("read-only").await;

    // The file is writable again: the server restarts on the same file
    // (without the fault).
    let app = app.restart().await;
    let body =
        json!({"referenceId": "ro-1", "operations": [{"type": "Issue", "destination": wallet, "amount": 1}]});
    let (status, body) = app.v2("POST", "/transactions", Some(body)).await;
    assert_eq!(status, 201, "ro-1 was refused, so it is still free: {body}");
    assert_eq!(app.balance(&wallet).await, 11);
    app.assert_invariants("after the restart").await;
    app.handle.stop(true).await;
}

/// Many clients at once fill the writer's groups: when a write of a group
/// hits the full disk, every other job of that group must be answered as it
/// really ended — 201 only if it is kept, 503 only if nothing of it stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_a_full_disk_are_answered_as_they_ended() {
    let app = std::sync::Arc::new(serve().await);
    let wallet = app.wallet("alice").await;
    app.faults.fail_from_write(WRITES_THAT_FIT * 5);
    let mut tasks = Vec::new();
    for client in 0..16 {
        let (app, wallet) = (app.clone(), wallet.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for n in 0..25 {
                let reference = format!("c{client}-{n}");
                let (status, body) = app.grow(&reference, &wallet, 1).await;
                assert!(status == 201 || status == 503, "{reference}: {status} {body}");
                outcomes.push((reference, status));
            }
            outcomes
        }));
    }
    let mut outcomes = BTreeMap::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let acknowledged = outcomes.values().filter(|s| **s == 201).count() as i64;
    let refused = outcomes.len() as i64 - acknowledged;
    println!("concurrent writes on a full disk: {acknowledged} acknowledged, {refused} refused");
    assert!(refused > 0, "the disk was full");
    assert_eq!(
        app.balance(&wallet).await,
        acknowledged,
        "exactly the acknowledged writes are kept"
    );

    app.faults.lift();
    for (reference, status) in &outcomes {
        let (again, body) = app.grow(reference, &wallet, 1).await;
        let expected = if *status == 201 { 409 } else { 201 };
        assert_eq!(
            again, expected,
            "{reference} was answered {status}; re-posting it: {body}"
        );
    }
    app.assert_invariants("after recovery").await;
    app.handle.stop(true).await;
}

/// A batch is one writer job holding many transactions: when one of them
/// hits the full disk, the reply must still tell exactly what was applied.
/// (SQLite rolls the whole write transaction back on `SQLITE_FULL`; the rest
/// of the batch once went on in autocommit mode, committed one by one, while
/// the reply said 503 "nothing was changed".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_on_a_full_disk_is_answered_as_it_ended() {
    let app = serve().await;
    let wallet = app.wallet("alice").await;
    app.faults.fail_from_write(WRITES_THAT_FIT * 4);
    let references: Vec<String> = (0..60).map(|n| format!("batch-{n}")).collect();
    let transactions: Vec<Value> = references
        .iter()
        .map(|r| {
            json!({
                "referenceId": r,
                "operations": [{ "type": "Issue", "destination": wallet, "amount": 1 }],
                "description": format!("{r}:{}", "d".repeat(990)),
            })
        })
        .collect();
    let (status, reply) = app
        .v2(
            "POST",
            "/transactions/batch",
            Some(json!({ "transactions": transactions })),
        )
        .await;
    let answered: Vec<u16> = match status {
        200 => reply["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["httpStatus"].as_u64().unwrap() as u16)
            .collect(),
        503 => vec![503; references.len()],
        other => panic!("a batch on a full disk: {other} {reply}"),
    };
    let acknowledged = answered.iter().filter(|s| **s == 201).count() as i64;
    println!(
        "batch on a full disk: HTTP {status}, {acknowledged} of {} acknowledged",
        references.len()
    );
    assert!(answered.iter().all(|s| *s == 201 || *s == 503), "{reply}");
    let balance = app.balance(&wallet).await;

    app.faults.lift();
    let mut lies = Vec::new();
    for (reference, status) in references.iter().zip(&answered) {
        let (again, _) = app.grow(reference, &wallet, 1).await;
        let expected = if *status == 201 { 409 } else { 201 };
        if again != expected {
            lies.push(format!(
                "{reference}: answered {status}, re-posting gives {again}"
            ));
        }
    }
    assert!(
        lies.is_empty() && balance == acknowledged,
        "the batch reply must match what was applied (balance {balance}, acknowledged {acknowledged}):\n{}",
        lies.join("\n")
    );
    app.assert_invariants("after recovery").await;
    app.handle.stop(true).await;
}
