//! Shared setup for the API v2 tests: a project's access key and default
//! asset, customers, wallets, funds, and assertions on error bodies.

use super::TestApp;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// A caller of one project: its access key and its default asset.
pub struct Ctx {
    pub key: String,
    pub asset: String,
}

/// An access key of `project` (which must exist) and the project's default asset.
pub async fn ctx(app: &TestApp, project: &str) -> Ctx {
    let key = app.access_key(project).await;
    let (status, body) = app.v2("GET", "/project", Some(&key), None).await;
    assert_eq!(status, 200, "GET /project: {body}");
    let asset = body["defaultAssetId"]
        .as_str()
        .expect("defaultAssetId")
        .to_owned();
    Ctx { key, asset }
}

/// A fresh reference id, unique within the test binary.
pub fn next_ref(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An id shaped like `real` (same prefix and length) that no row can have:
/// `0` is not in the id alphabet.
pub fn missing_like(real: &str) -> String {
    let keep = real.len().saturating_sub(8);
    format!("{}00000000", &real[..keep])
}

pub fn issue(wallet: &str, amount: i64) -> Value {
    json!({ "type": "Issue", "destination": wallet, "amount": amount })
}

pub fn redeem(wallet: &str, amount: i64) -> Value {
    json!({ "type": "Redeem", "source": wallet, "amount": amount })
}

pub fn transfer(source: &str, destination: &str, amount: i64) -> Value {
    json!({ "type": "Transfer", "source": source, "destination": destination, "amount": amount })
}

impl Ctx {
    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, Value) {
        app.v2("GET", path, Some(&self.key), None).await
    }

    /// A GET that must answer 200.
    pub async fn get_ok(&self, app: &TestApp, path: &str) -> Value {
        let (status, body) = self.get(app, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A call that must answer `expected`; returns the body.
    pub async fn call(&self, app: &TestApp, method: &str, path: &str, body: Value, expected: u16) -> Value {
        let (status, reply) = app.v2(method, path, Some(&self.key), Some(&body)).await;
        assert_eq!(status, expected, "{method} {path} {body}: {reply}");
        reply
    }

    pub async fn asset(&self, app: &TestApp, code: &str, fractions: i64) -> String {
        let body = json!({ "name": format!("{code} asset"), "code": code, "fractions": fractions });
        let asset = self.call(app, "POST", "/assets", body, 201).await;
        asset["id"].as_str().expect("asset id").to_owned()
    }

    /// Creates (or updates) a customer.
    pub async fn customer(&self, app: &TestApp, id: &str) {
        let (status, body) = app
            .v2(
                "POST",
                "/customers",
                Some(&self.key),
                Some(&json!({ "id": id, "name": id })),
            )
            .await;
        assert!(
            status == 201 || status == 200,
            "POST /customers {id}: {status} {body}"
        );
    }

    /// Opens a wallet of `customer` in `asset` and returns its id.
    pub async fn wallet(&self, app: &TestApp, customer: &str, asset: &str) -> String {
        let body = json!({ "customerId": customer, "assetId": asset, "name": format!("{customer}'s") });
        let wallet = self.call(app, "POST", "/wallets", body, 201).await;
        wallet["id"].as_str().expect("wallet id").to_owned()
    }

    /// Creates customer `customer` and a wallet of it in the default asset.
    pub async fn customer_wallet(&self, app: &TestApp, customer: &str) -> String {
        self.customer(app, customer).await;
        self.wallet(app, customer, &self.asset).await
    }

    pub async fn system_wallet(&self, app: &TestApp, asset: &str) -> String {
        let body = json!({ "assetId": asset, "name": "system" });
        let wallet = self.call(app, "POST", "/system-wallets", body, 201).await;
        wallet["id"].as_str().expect("wallet id").to_owned()
    }

    /// Posts a transaction; returns the HTTP status and the body.
    pub async fn tx(&self, app: &TestApp, reference: &str, operations: Vec<Value>) -> (u16, Value) {
        let body = json!({ "referenceId": reference, "operations": operations });
        app.v2("POST", "/transactions", Some(&self.key), Some(&body))
            .await
    }

    /// Posts a transaction that must complete; returns it.
    pub async fn tx_ok(&self, app: &TestApp, operations: Vec<Value>) -> Value {
        let (status, body) = self.tx(app, &next_ref("ok"), operations.clone()).await;
        assert_eq!(status, 201, "transaction {operations:?}: {body}");
        assert_eq!(body["status"], "Completed", "{body}");
        body
    }

    pub async fn fund(&self, app: &TestApp, wallet: &str, amount: i64) {
        self.tx_ok(app, vec![issue(wallet, amount)]).await;
    }

    pub async fn wallet_of(&self, app: &TestApp, wallet: &str) -> Value {
        self.get_ok(app, &format!("/wallets/{wallet}")).await
    }

    pub async fn balance(&self, app: &TestApp, wallet: &str) -> i64 {
        let body = self.wallet_of(app, wallet).await;
        body["balance"].as_i64().expect("integer balance")
    }

    /// All entries of a wallet (one page of up to 1000), newest first.
    pub async fn entries(&self, app: &TestApp, wallet: &str) -> Vec<Value> {
        let body = self
            .get_ok(app, &format!("/wallets/{wallet}/entries?pageSize=1000"))
            .await;
        body["items"].as_array().expect("items").clone()
    }

    /// The entries of a wallet as `(amount, balanceAfter)` pairs, newest first.
    pub async fn amounts(&self, app: &TestApp, wallet: &str) -> Vec<(i64, i64)> {
        self.entries(app, wallet)
            .await
            .iter()
            .map(|e| {
                let amount = e["amount"].as_i64().expect("integer amount");
                (amount, e["balanceAfter"].as_i64().expect("integer balanceAfter"))
            })
            .collect()
    }

    pub async fn set_status(&self, app: &TestApp, wallet: &str, status: &str) {
        let path = format!("/wallets/{wallet}/status");
        self.call(app, "PUT", &path, json!({ "status": status }), 200)
            .await;
    }
}

/// Asserts an error reply: the HTTP status, and a body that is exactly
/// `{"status": expected, "message": <string>}`.
pub fn assert_error(case: &str, reply: &(u16, Value), http: u16, status: &str) {
    if let Some(why) = error_mismatch(reply, http, Some(status)) {
        panic!("{case}: {why}");
    }
}

/// Asserts that a body is `{"status": <string>, "message": <string>}` and nothing else.
pub fn assert_error_body(case: &str, body: &Value) {
    assert!(
        is_error_body(body),
        "{case}: not a {{status, message}} error body: {body}"
    );
}

fn is_error_body(body: &Value) -> bool {
    body.as_object().is_some_and(|o| {
        o.len() == 2
            && o.get("status").is_some_and(Value::is_string)
            && o.get("message").is_some_and(Value::is_string)
    })
}

/// Why a reply is not the expected error (`status` `None`: any status), if it is not.
pub fn error_mismatch(reply: &(u16, Value), http: u16, status: Option<&str>) -> Option<String> {
    let (code, body) = reply;
    let ok = *code == http && is_error_body(body) && status.is_none_or(|s| body["status"] == s);
    (!ok).then(|| format!("expected HTTP {http} {status:?}, got {code} {body}"))
}

/// The failed cases of a table, reported all at once.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    /// Records `case` unless `reply` is the expected error.
    pub fn error(&mut self, case: &str, reply: &(u16, Value), http: u16, status: &str) {
        if let Some(why) = error_mismatch(reply, http, Some(status)) {
            self.0.push(format!("{case}: {why}"));
        }
    }

    /// Records `case` with `why` unless `ok`.
    pub fn check(&mut self, ok: bool, case: &str, why: impl std::fmt::Display) {
        if !ok {
            self.0.push(format!("{case}: {why}"));
        }
    }

    pub fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} failing case(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Asserts a Failed transaction reply.
pub fn assert_failed(case: &str, reply: &(u16, Value), http: u16, error: &str) {
    let (code, body) = reply;
    assert_eq!(*code, http, "{case}: HTTP status (body {body})");
    assert_eq!(body["status"], "Failed", "{case}: {body}");
    assert_eq!(body["error"], error, "{case}: {body}");
    assert!(
        body["id"].is_string(),
        "{case}: a failed transaction has an id: {body}"
    );
    assert!(
        body["message"].is_string(),
        "{case}: a failed transaction has a message: {body}"
    );
}

/// One raw request: a body sent as is with `Content-Type: application/json`.
pub async fn raw(app: &TestApp, method: &str, path: &str, token: &str, body: String) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let response = app
        .client
        .request(method, app.url(&format!("/api/v2{path}")))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    super::json_of(response).await
}

/// The `id`s of a page's items, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("string id").to_owned())
        .collect()
}

/// A Hold of `amount` on `source` with the id `id` (no destination, no expiry).
pub fn hold(source: &str, amount: i64, id: &str) -> Value {
    json!({ "type": "Hold", "source": source, "amount": amount, "holdId": id })
}

/// A Hold whose Captures go to `destination`.
pub fn hold_to(source: &str, destination: &str, amount: i64, id: &str) -> Value {
    json!({ "type": "Hold", "source": source, "destination": destination, "amount": amount, "holdId": id })
}

/// A Capture of `hold`: all that remains, or `amount`.
pub fn capture(hold: &str, amount: Option<i64>) -> Value {
    match amount {
        Some(amount) => json!({ "type": "Capture", "hold": hold, "amount": amount }),
        None => json!({ "type": "Capture", "hold": hold }),
    }
}

pub fn void(hold: &str) -> Value {
    json!({ "type": "Void", "hold": hold })
}

/// The wall clock in epoch milliseconds (the server's clock, on this machine).
pub fn now_ms() -> i64 {
    wallet_core::clock::system_now()
}

impl Ctx {
    /// A hold as `GET /holds/{id}` shows it.
    pub async fn hold_of(&self, app: &TestApp, id: &str) -> Value {
        self.get_ok(app, &format!("/holds/{id}")).await
    }

    /// `(balance, held, available, creditLimit)` of a wallet.
    pub async fn funds(&self, app: &TestApp, wallet: &str) -> (i64, i64, i64, i64) {
        let w = self.wallet_of(app, wallet).await;
        let field = |name: &str| w[name].as_i64().unwrap_or_else(|| panic!("integer {name}: {w}"));
        (
            field("balance"),
            field("held"),
            field("available"),
            field("creditLimit"),
        )
    }

    /// How many transactions the project has recorded.
    pub async fn transaction_total(&self, app: &TestApp) -> i64 {
        self.get_ok(app, "/transactions?pageSize=1").await["total"]
            .as_i64()
            .expect("integer total")
    }
}
