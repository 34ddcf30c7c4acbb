//! Crash test: the real binary, with its default (durable) settings, under
//! concurrent API v2 load, killed with SIGKILL at random moments and
//! restarted on the same file each time.
//!
//! After each restart: every transaction the clients saw acknowledged (201)
//! is there, Completed, under its referenceId, and re-posting that
//! referenceId answers 409 DuplicateReferenceId; replaying every Completed
//! transaction's operations gives exactly every wallet's balance (nothing
//! half-applied), so the sum of balances is issued − redeemed; and
//! `wallet-service check` exits 0. The events feed, read after each restart
//! by a consumer that resumes from the last `seq` it handled, is gapless
//! (each event seen once, in order, never rewritten), and every Completed
//! transaction — every acknowledged one among them — has its
//! `transaction.completed` event: no event is lost between a commit and
//! its reply.
//!
//! Short profile by default (5 kills); `WALLET_CRASH_KILLS=20 cargo test
//! --test crash -- --nocapture` runs the long one (see docs/reliability.md).
//! A second test sends SIGTERM under load: in-flight requests finish, the
//! process exits 0, and nothing was applied without its reply.
#![allow(clippy::unwrap_used)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

mod common;

use common::{run_with_timeout, wallet_service, Server, CLI_TIMEOUT};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 12;
const WALLETS: usize = 8;

/// One client's view of what it sent.
#[derive(Default)]
struct Seen {
    /// referenceId → (transaction id, body) of every 201.
    acknowledged: Vec<(String, String, Value)>,
    /// Requests whose reply never came (the server died under them).
    in_doubt: Vec<String>,
    /// Replies that are neither 201 nor a recorded failure: a bug.
    unexpected: Vec<String>,
}

struct Api {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    fn new(port: u16, key: &str) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}/api/v2"),
            key: key.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(reqwest::Method::GET, path, None).await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await.unwrap()
    }
}

/// A random transaction over the test's wallets; every shape of operation,
/// and multi-operation ones that must apply all or nothing.
fn random_transaction(rng: &mut StdRng, reference: &str, wallets: &[String]) -> Value {
    let mut pick = || wallets[rng.random_range(0..wallets.len())].clone();
    let (a, b) = loop {
        let (a, b) = (pick(), pick());
        if a != b {
            break (a, b);
        }
    };
    let operations = match rng.random_range(0..10) {
        0..=4 => json!([{ "type": "Issue", "destination": a, "amount": rng.random_range(1..1000) }]),
        5..=6 => {
            json!([{ "type": "Transfer", "source": a, "destination": b, "amount": rng.random_range(1..300) }])
        }
        7 => json!([{ "type": "Redeem", "source": a, "amount": rng.random_range(1..100) }]),
        _ => {
            let x = rng.random_range(3..500);
            json!([
                { "type": "Issue", "destination": a, "amount": x },
                { "type": "Transfer", "source": a, "destination": b, "amount": x - 1 },
                { "type": "Redeem", "source": b, "amount": 1 },
            ])
        }
    };
    json!({ "referenceId": reference, "operations": operations })
}

/// Posts transactions until `stop`; records what each reply said.
async fn client(
    api: Arc<Api>,
    wallets: Arc<Vec<String>>,
    prefix: String,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = Seen::default();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let reference = format!("{prefix}-{n}");
        let body = random_transaction(&mut rng, &reference, &wallets);
        match api
            .send(reqwest::Method::POST, "/transactions", Some(&body))
            .await
        {
            Ok((201, reply)) if reply["status"] == "Completed" => {
                let id = reply["id"].as_str().unwrap().to_owned();
                seen.acknowledged.push((reference, id, body));
            }
            // A recorded failure (not enough funds): nothing applied, and not acknowledged.
            Ok((409, reply)) if reply["status"] == "Failed" => {}
            Ok((status, reply)) => seen.unexpected.push(format!("{reference}: {status} {reply}")),
            Err(_) => {
                seen.in_doubt.push(reference);
                // The server is gone; wait for the next one.
                break;
            }
        }
    }
    seen
}

fn create_key(db: &Path) -> String {
    let created = run_with_timeout(
        wallet_service(db).args(["key", "create", "--project", "default"]),
        CLI_TIMEOUT,
    );
    assert!(created.ok(), "`key create` failed:\n{}", created.describe());
    created.stdout.trim().to_owned()
}

async fn setup_wallets(api: &Api) -> Vec<String> {
    let asset = api.get("/project").await["defaultAssetId"].clone();
    let mut wallets = Vec::new();
    for n in 0..WALLETS {
        let customer = format!("c{n}");
        let (status, body) = api.post("/customers", &json!({ "id": customer })).await;
        assert_eq!(status, 201, "{body}");
        let (status, wallet) = api
            .post("/wallets", &json!({ "customerId": customer, "assetId": asset }))
            .await;
        assert_eq!(status, 201, "{wallet}");
        wallets.push(wallet["id"].as_str().unwrap().to_owned());
    }
    wallets
}

/// Every transaction on the server, by id.
async fn all_transactions(api: &Api) -> HashMap<String, Value> {
    let mut all = HashMap::new();
    for page in 0.. {
        let body = api.get(&format!("/transactions?pageSize=1000&page={page}")).await;
        let items = body["items"].as_array().unwrap();
        for t in items {
            all.insert(t["id"].as_str().unwrap().to_owned(), t.clone());
        }
        if items.is_empty() || all.len() as i64 >= body["total"].as_i64().unwrap() {
            break;
        }
    }
    all
}

struct Verified {
    transactions: usize,
    in_doubt_applied: usize,
}

/// A feed consumer that stores the last `seq` it handled and resumes
/// after it: what it has seen, in order.
#[derive(Default)]
struct Consumer {
    last: i64,
    events: Vec<Value>,
    /// Transactions with a `transaction.completed` event.
    completed: HashSet<String>,
}

impl Consumer {
    /// Reads every event after `last`: each is the next `seq`, once; and
    /// the feed from the start is still what was seen (nothing rewritten).
    async fn catch_up(&mut self, api: &Api) {
        loop {
            let page = api.get(&format!("/events?after={}&limit=1000", self.last)).await;
            let events = page["events"].as_array().unwrap();
            if events.is_empty() {
                assert_eq!(page["next"], json!(self.last));
                break;
            }
            for event in events {
                let seq = event["seq"].as_i64().unwrap();
                assert_eq!(seq, self.last + 1, "the feed skips or repeats: {event}");
                self.last = seq;
                if event["type"] == "transaction.completed" {
                    let id = event["data"]["id"].as_str().unwrap().to_owned();
                    assert!(
                        self.completed.insert(id),
                        "two completions of one transaction: {event}"
                    );
                }
                self.events.push(event.clone());
            }
        }
        let mut again = Vec::new();
        let mut after = 0;
        while after < self.last {
            let page = api.get(&format!("/events?after={after}&limit=1000")).await;
            again.extend(page["events"].as_array().unwrap().iter().cloned());
            after = page["next"].as_i64().unwrap();
        }
        assert!(
            again == self.events,
            "the feed read again from 0 differs from what was seen"
        );
    }
}

/// The checks after a restart; panics with the server's logs on a failure.
async fn verify(
    api: &Api,
    db: &Path,
    wallets: &[String],
    acknowledged: &[(String, String, Value)],
    recent: &[(String, String, Value)],
    in_doubt: &[String],
    consumer: &mut Consumer,
) -> Verified {
    let stored = all_transactions(api).await;
    consumer.catch_up(api).await;
    for (id, t) in &stored {
        if t["status"] == "Completed" {
            assert!(
                consumer.completed.contains(id),
                "transaction {id} is Completed but has no transaction.completed event"
            );
        }
    }
    for (reference, id, _) in acknowledged {
        let t = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged transaction {id} ({reference}) is lost"));
        assert_eq!(
            (&t["referenceId"], &t["status"]),
            (&json!(reference), &json!("Completed")),
            "{t}"
        );
    }
    // Replaying the operations of every Completed transaction must give every balance.
    let mut expected: BTreeMap<&str, i64> = wallets.iter().map(|w| (w.as_str(), 0)).collect();
    let (mut issued, mut redeemed) = (0i64, 0i64);
    for t in stored.values().filter(|t| t["status"] == "Completed") {
        for op in t["operations"].as_array().unwrap() {
            let amount = op["amount"].as_i64().unwrap();
            let side = |key: &str| op[key].as_str().map(std::borrow::ToOwned::to_owned);
            if let Some(w) = side("source") {
                *expected.get_mut(w.as_str()).unwrap() -= amount;
            }
            if let Some(w) = side("destination") {
                *expected.get_mut(w.as_str()).unwrap() += amount;
            }
            match op["type"].as_str() {
                Some("Issue") => issued += amount,
                Some("Redeem") => redeemed += amount,
                _ => {}
            }
        }
    }
    let mut sum = 0;
    for (wallet, want) in &expected {
        let balance = api.get(&format!("/wallets/{wallet}")).await["balance"]
            .as_i64()
            .unwrap();
        assert_eq!(
            balance, *want,
            "wallet {wallet}: balance vs replay of its Completed transactions"
        );
        assert!(balance >= 0, "wallet {wallet} is negative");
        sum += balance;
    }
    assert_eq!(sum, issued - redeemed, "sum of balances == issued - redeemed");
    // The last acknowledged ones, the closest to the kill: read back and retried.
    for (reference, id, body) in recent {
        let t = api.get(&format!("/transactions/{id}")).await;
        assert_eq!(t["status"], "Completed", "{t}");
        let (status, reply) = api.post("/transactions", body).await;
        assert_eq!(
            (status, &reply["status"]),
            (409, &json!("DuplicateReferenceId")),
            "{reference}: {reply}"
        );
        assert_eq!(reply["transaction"]["id"], json!(id), "{reference}: {reply}");
    }
    let by_reference: HashMap<&str, &Value> = stored
        .values()
        .map(|t| (t["referenceId"].as_str().unwrap_or_default(), t))
        .collect();
    let in_doubt_applied = in_doubt
        .iter()
        .filter(|r| by_reference.contains_key(r.as_str()))
        .count();
    let check = run_with_timeout(wallet_service(db).arg("check"), CLI_TIMEOUT);
    assert!(
        check.ok(),
        "`wallet-service check` failed after a crash:\n{}",
        check.describe()
    );
    Verified {
        transactions: stored.len(),
        in_doubt_applied,
    }
}

/// Runs the clients against `port` until `until` returns, then stops them.
async fn load<F: std::future::Future<Output = ()>>(
    api: Arc<Api>,
    wallets: &Arc<Vec<String>>,
    round: usize,
    seed: u64,
    until: F,
) -> Seen {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let prefix = format!("r{round}c{c}");
            tokio::spawn(client(
                api.clone(),
                wallets.clone(),
                prefix,
                seed ^ ((round * CLIENTS + c) as u64),
                stop.clone(),
            ))
        })
        .collect();
    until.await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Seen::default();
    for task in tasks {
        let seen = task.await.unwrap();
        all.acknowledged.extend(seen.acknowledged);
        all.in_doubt.extend(seen.in_doubt);
        all.unexpected.extend(seen.unexpected);
    }
    all
}

fn kills() -> usize {
    std::env::var("WALLET_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_transactions_survive_sigkill() {
    let started = Instant::now();
    let seed: u64 = std::env::var("WALLET_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("crash test: {} kills, seed {seed} (WALLET_CRASH_SEED)", kills());
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let key = create_key(&db);
    let wallets = Arc::new(setup_wallets(&Api::new(server.port, &key)).await);
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut acknowledged, mut in_doubt, mut in_doubt_applied) = (Vec::new(), 0, 0);
    let mut consumer = Consumer::default();
    for round in 0..kills() {
        let api = Arc::new(Api::new(server.port, &key));
        let pid = server.pid();
        let after = Duration::from_millis(rng.random_range(200..1500));
        let seen = load(api, &wallets, round, seed, async move {
            tokio::time::sleep(after).await;
            let killed = run_with_timeout(
                Command::new("kill").args(["-KILL", &pid.to_string()]),
                CLI_TIMEOUT,
            );
            assert!(killed.ok(), "kill -KILL {pid}:\n{}", killed.describe());
        })
        .await;
        let logs = server.stop_and_collect_logs();
        assert!(
            seen.unexpected.is_empty(),
            "unexpected replies before the kill:\n{}\n{logs}",
            seen.unexpected.join("\n")
        );
        let recent: Vec<_> = seen.acknowledged.iter().rev().take(40).cloned().collect();
        acknowledged.extend(seen.acknowledged);
        in_doubt += seen.in_doubt.len();

        server = Server::start(&db);
        let api = Api::new(server.port, &key);
        let verified = verify(
            &api,
            &db,
            &wallets,
            &acknowledged,
            &recent,
            &seen.in_doubt,
            &mut consumer,
        )
        .await;
        in_doubt_applied += verified.in_doubt_applied;
        println!(
            "kill {}: after {after:?} of load; {} acknowledged so far, all present; {} transactions stored; \
             {} in flight at the kill, {} of them applied whole; {} events, gapless",
            round + 1,
            acknowledged.len(),
            verified.transactions,
            seen.in_doubt.len(),
            verified.in_doubt_applied,
            consumer.last
        );
    }
    assert!(
        acknowledged.len() >= 10 * kills(),
        "the load must get transactions through"
    );
    println!(
        "crash test: {} SIGKILLs survived, {} acknowledged transactions verified after every restart, \
         {in_doubt} in flight at kills ({in_doubt_applied} applied whole, the rest not at all), \
         check passed every time; {:.1?}",
        kills(),
        acknowledged.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let key = create_key(&db);
    let api = Arc::new(Api::new(server.port, &key));
    let wallets = Arc::new(setup_wallets(&api).await);
    let (exit, seen) = {
        let mut terminated = None;
        let seen = load(api, &wallets, 0, 7, async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            terminated = Some(tokio::task::block_in_place(|| {
                server.terminate(Duration::from_secs(60))
            }));
        })
        .await;
        (terminated.flatten(), seen)
    };
    let Some(status) = exit else {
        panic!(
            "the server did not exit within 60 s of SIGTERM:\n{}",
            server.stop_and_collect_logs()
        );
    };
    let logs = server.stop_and_collect_logs();
    assert!(status.success(), "exit status after SIGTERM: {status}\n{logs}");
    assert!(seen.unexpected.is_empty(), "{}", seen.unexpected.join("\n"));
    assert!(!seen.acknowledged.is_empty(), "the load got transactions through");

    let server = Server::start(&db);
    let api = Api::new(server.port, &key);
    let mut consumer = Consumer::default();
    let verified = verify(
        &api,
        &db,
        &wallets,
        &seen.acknowledged,
        &[],
        &seen.in_doubt,
        &mut consumer,
    )
    .await;
    assert_eq!(
        verified.in_doubt_applied,
        0,
        "a graceful stop answers every request it applied ({} of {} unanswered were applied)",
        verified.in_doubt_applied,
        seen.in_doubt.len()
    );
    println!(
        "SIGTERM under load: exit 0; {} acknowledged, all present; {} requests refused at the stop, none applied",
        seen.acknowledged.len(),
        seen.in_doubt.len()
    );
}
