//! API v2 bad input: every malformed, invalid or oversized request gets the
//! right 4xx and a `{status, message}` body, and changes nothing.

use serde_json::{json, Value};
use wallet_testkit::app::v2::{ctx, error_mismatch, missing_like, raw, Ctx, Failures};
use wallet_testkit::app::{spawn_app, TestApp};

/// What must not change: ledger counts, balances, catalog sizes.
async fn state(app: &TestApp, c: &Ctx, wallets: &[&str]) -> Vec<i64> {
    let report = app.check().await;
    let mut all = vec![report.entries, report.transactions, report.wallets];
    for w in wallets {
        all.push(c.balance(app, w).await);
    }
    for list in ["/assets", "/customers", "/system-wallets"] {
        all.push(c.get_ok(app, list).await["total"].as_i64().unwrap());
    }
    all
}

fn tx_body(operations: &str) -> String {
    format!(
        r#"{{"referenceId": "{}", "operations": [{operations}]}}"#,
        wallet_testkit::app::v2::next_ref("bad")
    )
}

#[tokio::test]
async fn amounts_must_be_positive_integers_within_i64() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let v = c.customer_wallet(&app, "bob").await;
    c.fund(&app, &w, 100).await;
    let before = state(&app, &c, &[&w, &v]).await;
    let cases = [
        ("1.5", Some("FRACTION_IN_AMOUNT_NOT_VALID")),
        ("1.0", Some("FRACTION_IN_AMOUNT_NOT_VALID")),
        ("0", Some("VALIDATION_ERROR")),
        ("-5", Some("VALIDATION_ERROR")),
        ("9223372036854775808", Some("VALIDATION_ERROR")),
        ("-9223372036854775809", Some("VALIDATION_ERROR")),
        ("99999999999999999999999", Some("VALIDATION_ERROR")),
        ("null", Some("VALIDATION_ERROR")),
        (r#""5""#, None),
    ];
    let mut failures = Failures::default();
    for (amount, status) in cases {
        let ops = [
            (
                "Issue",
                format!(r#"{{"type": "Issue", "destination": "{w}", "amount": {amount}}}"#),
            ),
            (
                "Redeem",
                format!(r#"{{"type": "Redeem", "source": "{w}", "amount": {amount}}}"#),
            ),
            (
                "Transfer",
                format!(
                    r#"{{"type": "Transfer", "source": "{w}", "destination": "{v}", "amount": {amount}}}"#
                ),
            ),
        ];
        for (kind, op) in ops {
            let case = format!("{kind} amount {amount}");
            let reply = raw(&app, "POST", "/transactions", &c.key, tx_body(&op)).await;
            if let Some(why) = error_mismatch(&reply, 400, status) {
                failures.check(false, &case, why);
            }
        }
    }
    failures.assert_none();
    assert_eq!(state(&app, &c, &[&w, &v]).await, before, "nothing changed");
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let tx = c.tx_ok(&app, vec![wallet_testkit::app::v2::issue(&w, 1)]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (asset, wallet, tx, key) = (
        missing_like(&c.asset),
        missing_like(&w),
        missing_like(&tx),
        missing_like(&key),
    );
    let before = state(&app, &c, &[&w]).await;
    let issue = json!([{"type": "Issue", "destination": wallet, "amount": 1}]);
    let cases: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", format!("/assets/{asset}"), None, "ASSET_NOT_FOUND"),
        (
            "PUT",
            format!("/assets/{asset}/name"),
            Some(json!({"name": "x"})),
            "ASSET_NOT_FOUND",
        ),
        ("DELETE", format!("/assets/{asset}"), None, "ASSET_NOT_FOUND"),
        ("GET", "/customers/nobody".into(), None, "CUSTOMER_NOT_FOUND"),
        (
            "POST",
            "/customers/nobody/suspend".into(),
            Some(json!({})),
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "POST",
            "/customers/nobody/resume".into(),
            Some(json!({"walletIds": []})),
            "CUSTOMER_NOT_FOUND",
        ),
        ("DELETE", "/customers/nobody".into(), None, "CUSTOMER_NOT_FOUND"),
        (
            "GET",
            "/customers/nobody/wallets".into(),
            None,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "POST",
            "/customers/nobody/keys".into(),
            Some(json!({})),
            "CUSTOMER_NOT_FOUND",
        ),
        ("GET", "/customers/nobody/keys".into(), None, "CUSTOMER_NOT_FOUND"),
        (
            "DELETE",
            format!("/customers/alice/keys/{key}"),
            None,
            "KEY_NOT_FOUND",
        ),
        (
            "POST",
            "/wallets".into(),
            Some(json!({"customerId": "nobody", "assetId": c.asset})),
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "POST",
            "/wallets".into(),
            Some(json!({"customerId": "alice", "assetId": asset})),
            "ASSET_NOT_FOUND",
        ),
        (
            "POST",
            "/system-wallets".into(),
            Some(json!({"assetId": asset})),
            "ASSET_NOT_FOUND",
        ),
        ("GET", format!("/wallets/{wallet}"), None, "WALLET_NOT_FOUND"),
        ("GET", "/wallets/nope".into(), None, "WALLET_NOT_FOUND"),
        (
            "PUT",
            format!("/wallets/{wallet}/name"),
            Some(json!({"name": "x"})),
            "WALLET_NOT_FOUND",
        ),
        (
            "PUT",
            format!("/wallets/{wallet}/description"),
            Some(json!({"description": "x"})),
            "WALLET_NOT_FOUND",
        ),
        (
            "PUT",
            format!("/wallets/{wallet}/status"),
            Some(json!("Suspended")),
            "WALLET_NOT_FOUND",
        ),
        (
            "GET",
            format!("/wallets/{wallet}/entries"),
            None,
            "WALLET_NOT_FOUND",
        ),
        (
            "POST",
            "/customers/alice/resume".into(),
            Some(json!({"walletIds": [wallet]})),
            "WALLET_NOT_FOUND",
        ),
        (
            "POST",
            "/transactions".into(),
            Some(json!({"referenceId": "nf", "operations": issue})),
            "WALLET_NOT_FOUND",
        ),
        (
            "GET",
            format!("/transactions/{tx}"),
            None,
            "TRANSACTION_NOT_FOUND",
        ),
        ("GET", "/transactions/nope".into(), None, "TRANSACTION_NOT_FOUND"),
    ];
    let mut failures = Failures::default();
    for (method, path, body, status) in cases {
        let reply = app.v2(method, &path, Some(&c.key), body.as_ref()).await;
        failures.error(&format!("{method} {path}"), &reply, 404, status);
    }
    failures.assert_none();
    assert_eq!(state(&app, &c, &[&w]).await, before, "nothing changed");
}

#[tokio::test]
async fn malformed_transactions_are_validation_errors() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 100).await;
    let before = state(&app, &c, &[&w]).await;
    let op = format!(r#"{{"type": "Issue", "destination": "{w}", "amount": 1}}"#);
    let ops = |n: usize| vec![op.clone(); n].join(",");
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "{not json".into()),
        ("empty body", String::new()),
        ("an array", "[]".into()),
        ("a string", r#""Issue""#.into()),
        (
            "unknown top-level field",
            format!(r#"{{"referenceId": "m1", "operations": [{op}], "extra": 1}}"#),
        ),
        (
            "unknown operation field",
            format!(
                r#"{{"referenceId": "m2", "operations": [{}]}}"#,
                op.replace("}", r#", "memo": "x"}"#)
            ),
        ),
        ("missing referenceId", format!(r#"{{"operations": [{op}]}}"#)),
        ("missing operations", r#"{"referenceId": "m3"}"#.into()),
        (
            "operations not a list",
            format!(r#"{{"referenceId": "m4", "operations": {op}}}"#),
        ),
        (
            "missing amount",
            format!(r#"{{"referenceId": "m5", "operations": [{{"type": "Issue", "destination": "{w}"}}]}}"#),
        ),
        (
            "Issue without destination",
            r#"{"referenceId": "m6", "operations": [{"type": "Issue", "amount": 1}]}"#.into(),
        ),
        (
            "Issue with a source",
            format!(
                r#"{{"referenceId": "m7", "operations": [{{"type": "Issue", "source": "{w}", "amount": 1}}]}}"#
            ),
        ),
        (
            "unknown type",
            format!(
                r#"{{"referenceId": "m8", "operations": [{}]}}"#,
                op.replace("Issue", "Mint")
            ),
        ),
        (
            "referenceId of 31",
            format!(r#"{{"referenceId": "{}", "operations": [{op}]}}"#, "r".repeat(31)),
        ),
        (
            "empty referenceId",
            format!(r#"{{"referenceId": "", "operations": [{op}]}}"#),
        ),
        (
            "control character",
            format!(r#"{{"referenceId": "a\u0001b", "operations": [{op}]}}"#),
        ),
        (
            "referenceId a number",
            format!(r#"{{"referenceId": 12, "operations": [{op}]}}"#),
        ),
        (
            "0 operations",
            r#"{"referenceId": "m9", "operations": []}"#.into(),
        ),
        (
            "101 operations",
            format!(r#"{{"referenceId": "m10", "operations": [{}]}}"#, ops(101)),
        ),
        (
            "transfer to itself",
            format!(
                r#"{{"referenceId": "m11", "operations": [{{"type": "Transfer", "source": "{w}", "destination": "{w}", "amount": 1}}]}}"#
            ),
        ),
        (
            "description not text",
            format!(r#"{{"referenceId": "m12", "operations": [{op}], "description": 5}}"#),
        ),
    ];
    let mut failures = Failures::default();
    for (case, body) in cases {
        let reply = raw(&app, "POST", "/transactions", &c.key, body).await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
    }
    failures.assert_none();
    assert_eq!(state(&app, &c, &[&w]).await, before, "nothing changed");
    // 100 operations and a 30-character referenceId are fine.
    let body = format!(
        r#"{{"referenceId": "{}", "operations": [{}]}}"#,
        "r".repeat(30),
        ops(100)
    );
    let (status, reply) = raw(&app, "POST", "/transactions", &c.key, body).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(c.balance(&app, &w).await, 200);
}

#[tokio::test]
async fn malformed_catalog_requests_are_validation_errors() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let before = state(&app, &c, &[&w]).await;
    let asset = &c.asset;
    let cases: Vec<(&str, String, Value)> = vec![
        ("POST", "/assets".into(), json!({"name": "x", "fractions": 1})),
        (
            "POST",
            "/assets".into(),
            json!({"name": "x", "code": "X", "fractions": 0}),
        ),
        (
            "POST",
            "/assets".into(),
            json!({"name": "x", "code": "X", "fractions": 1.5}),
        ),
        (
            "POST",
            "/assets".into(),
            json!({"name": "x", "code": "ABCDEFGHIJKLMNOPQ", "fractions": 1}),
        ),
        (
            "POST",
            "/assets".into(),
            json!({"name": "x", "code": "E U R", "fractions": 1}),
        ),
        (
            "POST",
            "/assets".into(),
            json!({"name": "x", "code": "X", "fractions": 1, "color": "red"}),
        ),
        (
            "PUT",
            format!("/assets/{asset}/name"),
            json!({"name": "n".repeat(201)}),
        ),
        ("POST", "/customers".into(), json!({"name": "no id"})),
        // Customer ids are API v1 user ids: 1-64 characters (UUIDs fit), no control characters.
        ("POST", "/customers".into(), json!({"id": "c".repeat(65)})),
        ("POST", "/customers".into(), json!({"id": ""})),
        ("POST", "/customers".into(), json!({"id": "bad\u{1}id"})),
        ("POST", "/customers".into(), json!({"id": "zed", "vip": true})),
        ("POST", "/wallets".into(), json!({"customerId": "alice"})),
        (
            "POST",
            "/wallets".into(),
            json!({"customerId": "alice", "assetId": asset, "limit": 5}),
        ),
        ("POST", "/system-wallets".into(), json!({})),
        ("PUT", format!("/wallets/{w}/name"), json!({"name": 5})),
        ("PUT", format!("/wallets/{w}/status"), json!(["Open"])),
        ("POST", "/customers/alice/resume".into(), json!({"walletIds": w})),
        (
            "POST",
            "/customers/alice/keys".into(),
            json!({"expiresAt": "tomorrow"}),
        ),
        // Bodies are JSON objects: a list of the field values is not one.
        ("POST", "/customers".into(), json!(["zed"])),
        ("POST", "/assets".into(), json!(["x", "X", 1])),
        ("PUT", format!("/wallets/{w}/name"), json!(["renamed"])),
    ];
    let mut failures = Failures::default();
    for (method, path, body) in cases {
        let reply = app.v2(method, &path, Some(&c.key), Some(&body)).await;
        failures.error(
            &format!("{method} {path} {body}"),
            &reply,
            400,
            "VALIDATION_ERROR",
        );
    }
    failures.assert_none();
    assert_eq!(state(&app, &c, &[&w]).await, before, "nothing changed");
    assert_eq!(c.wallet_of(&app, &w).await["status"], "Open");
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let before = state(&app, &c, &[&w]).await;
    let big = "x".repeat(70 * 1024);
    let op = format!(r#"{{"type": "Issue", "destination": "{w}", "amount": 1}}"#);
    let cases = [
        (
            "POST",
            "/transactions",
            format!(r#"{{"referenceId": "big", "operations": [{op}], "description": "{big}"}}"#),
        ),
        (
            "POST",
            "/customers",
            format!(r#"{{"id": "big", "description": "{big}"}}"#),
        ),
        (
            "POST",
            "/assets",
            format!(r#"{{"name": "{big}", "code": "BIG", "fractions": 1}}"#),
        ),
    ];
    let mut failures = Failures::default();
    for (method, path, body) in cases {
        let reply = raw(&app, method, path, &c.key, body).await;
        failures.error(&format!("{method} {path}"), &reply, 413, "VALIDATION_ERROR");
    }
    failures.assert_none();
    assert_eq!(state(&app, &c, &[&w]).await, before, "nothing changed");
    // The referenceId of the refused transaction is still free.
    let (status, reply) = c
        .tx(&app, "big", vec![wallet_testkit::app::v2::issue(&w, 1)])
        .await;
    assert_eq!(status, 201, "{reply}");
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_v2_error_body() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    // A wrong method may be 405 or 404; either way the body is the v2 error body.
    let cases = [
        ("GET", "/nope", [404, 404]),
        ("GET", "/wallets/1/nope", [404, 404]),
        ("DELETE", "/project", [404, 405]),
        ("PATCH", "/transactions", [404, 405]),
    ];
    let mut failures = Failures::default();
    for (method, path, allowed) in cases {
        let reply = app.v2(method, path, Some(&c.key), None).await;
        let case = format!("{method} {path}");
        let misses: Vec<String> = allowed
            .iter()
            .filter_map(|http| error_mismatch(&reply, *http, None))
            .collect();
        failures.check(misses.len() < allowed.len(), &case, misses.join("; "));
    }
    failures.assert_none();
}
