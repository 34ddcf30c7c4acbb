//! Two real `wallet-service serve` processes (the binary) on one PostgreSQL
//! database, as two servers behind a load balancer: each has its own
//! writers, read pool, verified-token cache and maintenance flag in
//! memory; only the database is shared. Every invariant must hold across
//! them: a spend storm split across both never overdraws and the count is
//! exact; one referenceId sent to both applies once; a revocation, the
//! maintenance switch and an admin session are seen by both at once; and
//! `wallet-service check` is green after the load.
//!
//! Both processes start at the same moment on an empty database, so they
//! also race to create the schema (one applies it; the other waits on the
//! migration lock and finds it applied).

use crate::app::{json_of, sign_es256, TestBackend, TestDatabase};
use crate::common::{run_with_timeout, wallet_service, Finished, Server, CLI_TIMEOUT};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// Given to the first start (`WALLET_ADMIN_PASSWORD`): a fresh PostgreSQL
/// database has no folder to write a generated one to.
const ADMIN_PASSWORD: &str = "two processes, one password";
/// Concurrent spends of the storm, split evenly across the processes.
const STORM: usize = 48;
/// How many times each process is sent the one referenceId.
const SAME_REFERENCE_PER_PROCESS: usize = 16;

/// The two server processes and their database.
pub struct Pair {
    // Field order is drop order: the servers are killed before the
    // database is dropped.
    servers: Vec<Server>,
    urls: Vec<String>,
    client: reqwest::Client,
    database: TestDatabase,
}

impl Pair {
    /// Both processes on a fresh database, started at once; `second_config`
    /// is TOML for the second one's config file.
    pub fn start(second_config: &str) -> Pair {
        let database = TestBackend::Postgres.fresh_database();
        let config = database.dir().join("second.toml");
        std::fs::write(&config, second_config).expect("config written");
        let config = config.to_str().expect("a UTF-8 temp path").to_owned();
        let db = database.arg();
        let servers: Vec<Server> = std::thread::scope(|scope| {
            let first =
                scope.spawn(|| Server::start_with_env(&db, &[("WALLET_ADMIN_PASSWORD", ADMIN_PASSWORD)]));
            let second = scope.spawn(|| {
                Server::start_with_env(
                    &db,
                    &[
                        ("WALLET_ADMIN_PASSWORD", ADMIN_PASSWORD),
                        ("WALLET_CONFIG", config.as_str()),
                    ],
                )
            });
            [first, second]
                .into_iter()
                .map(|started| started.join().expect("a server started"))
                .collect()
        });
        let urls = servers
            .iter()
            .map(|s| format!("http://127.0.0.1:{}", s.port))
            .collect();
        Pair {
            servers,
            urls,
            client: reqwest::Client::new(),
            database,
        }
    }

    /// `wallet-service --db <this database> ARGS…`, which must succeed.
    pub fn cli(&self, args: &[&str]) -> Finished {
        let run = run_with_timeout(wallet_service(self.database.arg()).args(args), CLI_TIMEOUT);
        assert!(run.ok(), "wallet-service {}:\n{}", args.join(" "), run.describe());
        run
    }

    /// An API v2 access key of the default project, made by the CLI.
    pub fn access_key(&self) -> String {
        self.cli(&["key", "create", "--name", "pair"])
            .stdout
            .trim()
            .to_owned()
    }

    /// One API v2 call to process `n` (0 or 1).
    pub async fn v2(
        &self,
        n: usize,
        method: &str,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}/api/v2{path}", self.urls[n]))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(body);
        }
        json_of(request.send().await.expect("request sent")).await
    }

    /// A v2 call that must answer `expected`; returns the body.
    pub async fn v2_ok(
        &self,
        n: usize,
        method: &str,
        path: &str,
        key: &str,
        body: Value,
        expected: u16,
    ) -> Value {
        let (status, reply) = self.v2(n, method, path, key, Some(&body)).await;
        assert_eq!(status, expected, "process {n}: {method} {path} {body}: {reply}");
        reply
    }

    /// A customer's wallet in the default asset, opened through process 0.
    pub async fn customer_wallet(&self, key: &str, customer: &str) -> String {
        self.v2_ok(0, "POST", "/customers", key, json!({ "id": customer }), 201)
            .await;
        let asset = self.default_asset(key).await;
        let body = json!({ "customerId": customer, "assetId": asset });
        let wallet = self.v2_ok(0, "POST", "/wallets", key, body, 201).await;
        wallet["id"].as_str().expect("wallet id").to_owned()
    }

    pub async fn default_asset(&self, key: &str) -> String {
        let (status, project) = self.v2(0, "GET", "/project", key, None).await;
        assert_eq!(status, 200, "{project}");
        project["defaultAssetId"].as_str().expect("asset").to_owned()
    }

    /// A wallet's balance as process `n` answers it.
    pub async fn balance(&self, n: usize, key: &str, wallet: &str) -> i64 {
        let (status, body) = self.v2(n, "GET", &format!("/wallets/{wallet}"), key, None).await;
        assert_eq!(status, 200, "process {n}: {body}");
        body["balance"].as_i64().expect("integer balance")
    }

    /// Logs in as admin on process `n`: the session cookie and CSRF token.
    pub async fn admin_login(&self, n: usize) -> (String, String) {
        let response = self
            .client
            .post(format!("{}/admin/api/login", self.urls[n]))
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
            .await
            .expect("login sent");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let (status, body) = json_of(response).await;
        assert_eq!(status, 200, "admin login on process {n}: {body}");
        let csrf = body["csrfToken"].as_str().expect("csrf token").to_owned();
        (cookie.expect("a session cookie"), csrf)
    }

    /// One admin API call on process `n` with the session (and CSRF token).
    pub async fn admin(
        &self,
        n: usize,
        method: &str,
        path: &str,
        session: &(String, String),
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}/admin/api{path}", self.urls[n]))
            .header("Cookie", &session.0)
            .header("X-CSRF-Token", &session.1);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `wallet-service check` on the database: exit 0, every invariant holds.
    pub fn assert_check(&self) {
        let check = self.cli(&["check"]);
        assert!(check.stderr.contains("ok:"), "{}", check.describe());
    }

    /// Stops both with SIGTERM: each finishes what it has and exits 0.
    pub fn stop(mut self) {
        for (n, server) in self.servers.iter_mut().enumerate() {
            let status = server.terminate(Duration::from_secs(30));
            let logs = server.stop_and_collect_logs();
            assert!(
                status.is_some_and(|s| s.success()),
                "process {n} exits 0 on SIGTERM ({status:?}):\n{logs}"
            );
        }
    }
}

/// Sends `n` transactions at once, every other one to each process; each
/// reply with the process that gave it.
async fn storm(
    pair: &Arc<Pair>,
    key: &str,
    n: usize,
    transaction: impl Fn(usize) -> Value,
) -> Vec<(usize, u16, Value)> {
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (pair, barrier, key, body) = (pair.clone(), barrier.clone(), key.to_owned(), transaction(i));
        tasks.spawn(async move {
            let process = i % 2;
            barrier.wait().await;
            let (status, reply) = pair.v2(process, "POST", "/transactions", &key, Some(&body)).await;
            (process, status, reply)
        });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spend_storm_split_across_two_processes_never_overdraws_and_the_count_is_exact() {
    let pair = Arc::new(Pair::start(""));
    let key = pair.access_key();
    let hot = pair.customer_wallet(&key, "spender").await;
    let sink = pair.customer_wallet(&key, "shop").await;
    let asset = pair.default_asset(&key).await;
    let fees = pair
        .v2_ok(
            0,
            "POST",
            "/system-wallets",
            &key,
            json!({ "assetId": asset, "name": "fees" }),
            201,
        )
        .await["id"]
        .as_str()
        .expect("wallet id")
        .to_owned();
    let fund = json!({ "referenceId": "fund", "operations": [{ "type": "Issue", "destination": hot, "amount": 250 }] });
    pair.v2_ok(1, "POST", "/transactions", &key, fund, 201).await;

    // 25 spends of 10 (9 to the shop, 1 to the fee wallet that every one
    // credits) fit in 250; 48 race for them, half through each process.
    let replies = storm(&pair, &key, STORM, |i| {
        json!({ "referenceId": format!("spend-{i}"), "operations": [
            { "type": "Transfer", "source": hot, "destination": sink, "amount": 9 },
            { "type": "Transfer", "source": hot, "destination": fees, "amount": 1 },
        ]})
    })
    .await;
    let mut completed = [0usize; 2];
    for (process, status, body) in &replies {
        match (status, body["status"].as_str(), body["error"].as_str()) {
            (201, Some("Completed"), _) => completed[*process] += 1,
            (409, Some("Failed"), Some("INSUFFICIENT_FUNDS")) => {}
            _ => panic!("process {process}: a spend either completes or finds no funds: {status} {body}"),
        }
    }
    println!("completed per process: {completed:?}");
    assert_eq!(
        completed[0] + completed[1],
        25,
        "exactly the spends that fit: {completed:?}"
    );
    for n in 0..2 {
        assert_eq!(
            pair.balance(n, &key, &hot).await,
            0,
            "process {n}: never below zero"
        );
        assert_eq!(pair.balance(n, &key, &sink).await, 225);
        assert_eq!(
            pair.balance(n, &key, &fees).await,
            25,
            "the fee wallet, credited by each"
        );
    }
    pair.assert_check();
    Arc::into_inner(pair).expect("the storm is over").stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reference_id_sent_to_both_processes_applies_once() {
    let pair = Arc::new(Pair::start(""));
    let key = pair.access_key();
    let wallet = pair.customer_wallet(&key, "alice").await;

    let same = json!({ "referenceId": "once", "operations": [{ "type": "Issue", "destination": wallet, "amount": 7 }] });
    let replies = storm(&pair, &key, 2 * SAME_REFERENCE_PER_PROCESS, |_| same.clone()).await;
    for n in 0..2 {
        let sent = replies.iter().filter(|r| r.0 == n).count();
        assert_eq!(sent, SAME_REFERENCE_PER_PROCESS, "answers from process {n}");
    }
    let created: Vec<&(usize, u16, Value)> = replies.iter().filter(|r| r.1 == 201).collect();
    assert_eq!(created.len(), 1, "exactly one 201: {replies:?}");
    let id = created[0].2["id"].as_str().expect("transaction id");
    for (process, status, body) in &replies {
        let answered = if *status == 201 {
            &body["id"]
        } else {
            assert_eq!(
                (*status, body["status"].as_str()),
                (409, Some("DuplicateReferenceId")),
                "process {process}: {body}"
            );
            &body["transaction"]["id"]
        };
        assert_eq!(
            answered, id,
            "process {process} names the one transaction: {body}"
        );
    }
    for n in 0..2 {
        assert_eq!(
            pair.balance(n, &key, &wallet).await,
            7,
            "process {n}: applied once"
        );
    }
    pair.assert_check();
    Arc::into_inner(pair).expect("the storm is over").stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_credential_is_refused_by_both_processes_at_once() {
    let pair = Pair::start("");
    let key = pair.access_key();
    let config = pair.database.dir().join("authority.json");
    let config_arg = config.to_str().expect("a UTF-8 temp path");
    pair.cli(&[
        "authority",
        "create",
        "game",
        "--api-base-url",
        &pair.urls[0],
        "--out",
        config_arg,
    ]);
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config")).expect("json");
    let authority = config["authority_id"].as_str().expect("authority id").to_owned();
    let jwt = sign_es256(
        config["private_key"].as_str().expect("private key"),
        &json!({ "sub": authority }),
    );
    let v1_write = json!({ "user_id": "u", "amount": 1, "reason": "x" });
    let v1 = |n: usize| {
        pair.client
            .post(format!("{}/api/v1/entry", pair.urls[n]))
            .header("Authorization", &jwt)
            .json(&v1_write)
    };
    let v2_write = |n: usize| json!({ "id": format!("c{n}-{}", rand::random::<u32>()) });
    let wallet = format!("/wallets/{}", pair.customer_wallet(&key, "ann").await);
    // Both processes have seen (and cached) both credentials working.
    for n in 0..2 {
        assert_eq!(
            pair.v2(n, "GET", "/project", &key, None).await.0,
            200,
            "process {n}"
        );
        assert_eq!(pair.v2(n, "GET", &wallet, &key, None).await.0, 200, "process {n}");
        pair.v2_ok(n, "POST", "/customers", &key, v2_write(n), 201).await;
        assert_eq!(json_of(v1(n).send().await.unwrap()).await.0, 200, "process {n}");
    }

    // The access key, revoked by the CLI (a third process).
    let key_id = key.rsplit_once('_').expect("key id").0;
    pair.cli(&["key", "revoke", key_id]);
    for n in 0..2 {
        let read = pair.v2(n, "GET", &wallet, &key, None).await;
        assert_eq!(
            read.0, 401,
            "process {n}: the very next wallet read is refused: {}",
            read.1
        );
        let read = pair.v2(n, "GET", "/project", &key, None).await;
        assert_eq!(
            read.0, 401,
            "process {n}: the very next read is refused: {}",
            read.1
        );
        let write = pair.v2(n, "POST", "/customers", &key, Some(&v2_write(n))).await;
        assert_eq!(write.0, 401, "process {n}: and a write: {}", write.1);
    }

    // The authority, revoked through process 0's admin API.
    let session = pair.admin_login(0).await;
    let revoked = pair
        .admin(
            0,
            "POST",
            &format!("/authorities/{authority}/revoke"),
            &session,
            None,
        )
        .await;
    assert_eq!(revoked.0, 200, "{}", revoked.1);
    for n in [1, 0] {
        let (status, body) = json_of(v1(n).send().await.unwrap()).await;
        assert_eq!(
            status, 401,
            "process {n}: the very next request is refused: {body}"
        );
    }
    let listed = pair.cli(&["authority", "list"]);
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.starts_with(&authority) && l.contains("revoked")),
        "{}",
        listed.describe()
    );
    pair.assert_check();
    pair.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_switched_on_one_process_refuses_writes_on_the_other() {
    // The second's flag in memory is refreshed only every minute: during
    // this test only the re-check inside its writes can refuse them.
    let pair = Pair::start("maintenance_refresh_seconds = 60\n");
    let key = pair.access_key();
    let wallet = pair.customer_wallet(&key, "alice").await;
    let issue = |reference: &str| json!({ "referenceId": reference, "operations": [{ "type": "Issue", "destination": wallet, "amount": 5 }] });
    pair.v2_ok(1, "POST", "/transactions", &key, issue("before"), 201)
        .await;

    let session = pair.admin_login(0).await;
    let on = pair
        .admin(
            0,
            "PUT",
            "/maintenance",
            &session,
            Some(&json!({ "enabled": true })),
        )
        .await;
    assert_eq!((on.0, on.1["enabled"].as_bool()), (200, Some(true)), "{}", on.1);
    let (_, health) = json_of(
        pair.client
            .get(format!("{}/api/v1/health", pair.urls[1]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        health["ok"], true,
        "the second's flag was not told (health may lag)"
    );

    let refused = pair
        .v2(1, "POST", "/transactions", &key, Some(&issue("during")))
        .await;
    assert_eq!(refused.0, 503, "refused inside the write: {}", refused.1);
    assert_eq!(refused.1["status"], "UNKNOWN_ERROR", "{}", refused.1);
    let customer = pair
        .v2(1, "POST", "/customers", &key, Some(&json!({ "id": "c" })))
        .await;
    assert_eq!(customer.0, 503, "{}", customer.1);
    assert_eq!(
        pair.balance(1, &key, &wallet).await,
        5,
        "reads go on; nothing was written"
    );
    assert_eq!(pair.v2(1, "GET", "/customers/c", &key, None).await.0, 404);

    let off = pair
        .admin(
            0,
            "PUT",
            "/maintenance",
            &session,
            Some(&json!({ "enabled": false })),
        )
        .await;
    assert_eq!(off.0, 200, "{}", off.1);
    pair.v2_ok(1, "POST", "/transactions", &key, issue("after"), 201)
        .await;
    assert_eq!(pair.balance(1, &key, &wallet).await, 10, "writes resume at once");
    pair.assert_check();
    pair.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_session_opened_on_one_process_works_on_the_other() {
    let pair = Pair::start("");
    let session = pair.admin_login(0).await;
    let (status, seen) = pair.admin(1, "GET", "/session", &session, None).await;
    assert_eq!(status, 200, "the session is live on the other: {seen}");
    assert_eq!(seen["csrfToken"], session.1, "with the same CSRF token");
    let created = pair
        .admin(
            1,
            "POST",
            "/projects",
            &session,
            Some(&json!({ "id": "shop", "name": "Shop" })),
        )
        .await;
    assert_eq!(
        created.0, 201,
        "a write on the other with the first's token: {}",
        created.1
    );
    let forged = (session.0.clone(), "guess".to_owned());
    let refused = pair
        .admin(
            1,
            "POST",
            "/projects",
            &forged,
            Some(&json!({ "id": "x", "name": "x" })),
        )
        .await;
    assert_eq!(refused.0, 403, "a wrong CSRF token is still refused");
    let listed = pair.cli(&["project", "list"]);
    assert!(listed.stdout.contains("shop"), "{}", listed.describe());

    let logout = pair.admin(1, "POST", "/logout", &session, None).await;
    assert_eq!(logout.0, 204);
    for n in 0..2 {
        let (status, _) = pair.admin(n, "GET", "/session", &session, None).await;
        assert_eq!(status, 401, "process {n}: logged out everywhere");
    }
    pair.stop();
}
