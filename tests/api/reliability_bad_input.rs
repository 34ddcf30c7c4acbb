//! API v2 bad input not covered by `v2_bad_input`: deeply nested JSON,
//! invalid UTF-8 (body, path, query), huge numbers everywhere a number is
//! read, oversized headers, and balances at the edge of i64 (they never
//! wrap, and a transaction that would pass it applies nothing).

use serde_json::{json, Value};
use wallet_testkit::app::v2::{assert_error, assert_failed, ctx, issue, next_ref, raw, transfer, Ctx};
use wallet_testkit::app::{spawn_app, TestApp};

/// Ledger counts and every given balance: what a refused request must not change.
async fn snapshot(app: &TestApp, c: &Ctx, wallets: &[&str]) -> Vec<i64> {
    let report = app.check().await;
    assert!(report.is_ok(), "invariants: {report:#?}");
    let mut all = vec![report.entries, report.transactions, report.wallets];
    for w in wallets {
        all.push(c.balance(app, w).await);
    }
    all
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let before = snapshot(&app, &c, &[&w]).await;
    let nested = "[".repeat(10_000) + &"]".repeat(10_000);
    let objects = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    let op = format!(r#"{{"type": "Issue", "destination": "{w}", "amount": 1}}"#);
    let cases = [
        (
            "a nested description",
            "/transactions",
            format!(r#"{{"referenceId": "n1", "operations": [{op}], "description": {nested}}}"#),
        ),
        (
            "nested operations",
            "/transactions",
            format!(r#"{{"referenceId": "n2", "operations": {nested}}}"#),
        ),
        (
            "a nested amount",
            "/transactions",
            format!(
                r#"{{"referenceId": "n3", "operations": [{{"type": "Issue", "destination": "{w}", "amount": {objects}}}]}}"#
            ),
        ),
        ("a nested body", "/customers", objects.clone()),
        (
            "a nested batch",
            "/transactions/batch",
            format!(r#"{{"transactions": {nested}}}"#),
        ),
    ];
    for (case, path, body) in cases {
        let reply = raw(&app, "POST", path, &c.key, body).await;
        assert_error(case, &reply, 400, "VALIDATION_ERROR");
    }
    assert_eq!(snapshot(&app, &c, &[&w]).await, before, "nothing changed");
    assert_eq!(c.get(&app, "/project").await.0, 200, "the server still answers");
}

#[tokio::test]
async fn invalid_utf8_is_a_400_anywhere() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer_wallet(&app, "alice").await;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("/customers", b"{\"id\": \"\xff\xfe\"}".to_vec()),
        ("/customers", vec![b'{', 0xc3, 0x28, b'}']),
        (
            "/transactions",
            b"{\"referenceId\": \"\xed\xa0\x80\", \"operations\": []}".to_vec(),
        ),
    ];
    for (path, body) in bodies {
        let response = app
            .client
            .post(app.url(&format!("/api/v2{path}")))
            .bearer_auth(&c.key)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let reply = wallet_testkit::app::json_of(response).await;
        assert_error(&format!("POST {path} {body:?}"), &reply, 400, "VALIDATION_ERROR");
    }
    // Percent-encoded bytes that are not UTF-8, in a path and in a query.
    for path in [
        "/customers/%FF%FE",
        "/customers/alice%C3%28/wallets",
        "/wallets/%80",
    ] {
        let (status, body) = c.get(&app, path).await;
        assert!((400..500).contains(&status), "GET {path}: {status} {body}");
        assert!(
            body["status"].is_string(),
            "GET {path}: a JSON error body: {body}"
        );
    }
    let (status, body) = c.get(&app, "/customers?page=%FF").await;
    assert_error(
        "a query that is not UTF-8",
        &(status, body),
        400,
        "VALIDATION_ERROR",
    );
    assert_eq!(app.check().await.transactions, 0);
}

#[tokio::test]
async fn huge_numbers_are_400s() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let before = snapshot(&app, &c, &[&w]).await;
    for query in [
        "page=99999999999999999999",
        "page=-1",
        "pageSize=4294967296",
        "pageSize=1e3",
        "from=1e400",
        "to=99999999999999999999999",
        "from=-9223372036854775809",
    ] {
        for path in ["/transactions", &format!("/wallets/{w}/entries")] {
            let reply = c.get(&app, &format!("{path}?{query}")).await;
            assert_error(&format!("GET {path}?{query}"), &reply, 400, "VALIDATION_ERROR");
        }
    }
    let bodies = [
        (
            "/assets",
            r#"{"name": "x", "code": "X1", "fractions": 9223372036854775808}"#.to_owned(),
        ),
        (
            "/assets",
            r#"{"name": "x", "code": "X2", "fractions": 1e30}"#.to_owned(),
        ),
        (
            "/assets",
            r#"{"name": "x", "code": "X3", "fractions": -9223372036854775809}"#.to_owned(),
        ),
        ("/customers/alice/keys", r#"{"expiresAt": 1e400}"#.to_owned()),
        (
            "/customers/alice/keys",
            r#"{"expiresAt": 99999999999999999999}"#.to_owned(),
        ),
        (
            "/transactions",
            format!(
                r#"{{"referenceId": "h1", "operations": [{{"type": "Issue", "destination": "{w}", "amount": 1e400}}]}}"#
            ),
        ),
        (
            "/transactions",
            format!(
                r#"{{"referenceId": "h2", "operations": [{{"type": "Issue", "destination": "{w}", "amount": {}}}]}}"#,
                "9".repeat(5000)
            ),
        ),
    ];
    for (path, body) in bodies {
        let (status, reply) = raw(&app, "POST", path, &c.key, body.clone()).await;
        assert_eq!(status, 400, "POST {path} {body:.80}: {reply}");
        assert!(reply["status"].is_string(), "{reply}");
    }
    assert_eq!(snapshot(&app, &c, &[&w]).await, before, "nothing changed");
}

#[tokio::test]
async fn an_oversized_header_is_refused_and_the_server_lives_on() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    for (name, value) in [
        ("Authorization", format!("Bearer {}", "a".repeat(128 * 1024))),
        ("X-Junk", "j".repeat(128 * 1024)),
    ] {
        let response = app
            .client
            .get(app.url("/api/v2/project"))
            .header(name, value)
            .send()
            .await;
        if let Ok(response) = response {
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "a 128 KiB {name} header: {status}");
        }
    }
    assert_eq!(c.get(&app, "/project").await.0, 200, "the server still answers");
}

/// Balances, entry counts and the transaction count, read over HTTP.
async fn ledger_state(app: &TestApp, c: &Ctx, wallets: &[&str]) -> Vec<i64> {
    let mut all = vec![c.get_ok(app, "/transactions?pageSize=1").await["total"]
        .as_i64()
        .unwrap()];
    for w in wallets {
        all.push(c.balance(app, w).await);
        let entries = c.get_ok(app, &format!("/wallets/{w}/entries?pageSize=1")).await;
        all.push(entries["total"].as_i64().unwrap());
    }
    all
}

#[tokio::test]
async fn balances_never_wrap_and_an_overflowing_transaction_applies_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let full = c.customer_wallet(&app, "full").await;
    let other = c.customer_wallet(&app, "other").await;
    c.fund(&app, &full, i64::MAX).await;
    c.fund(&app, &other, 10).await;
    let before = ledger_state(&app, &c, &[&full, &other]).await;
    let cases = [
        ("Issue 1 into a full wallet", vec![issue(&full, 1)]),
        ("Transfer into a full wallet", vec![transfer(&other, &full, 1)]),
        ("Issue i64::MAX on top of 10", vec![issue(&other, i64::MAX)]),
        (
            "a second operation overflows: the first is not applied",
            vec![issue(&other, 5), issue(&full, 1)],
        ),
        (
            "overflow through two credits in one transaction",
            vec![issue(&other, i64::MAX - 10), issue(&other, 1)],
        ),
    ];
    for (case, operations) in &cases {
        let reply = c.tx(&app, &next_ref("wrap"), operations.clone()).await;
        assert_failed(case, &reply, 400, "VALIDATION_ERROR");
    }
    let mut expected = before.clone();
    expected[0] += cases.len() as i64; // recorded as Failed, with no entry
    assert_eq!(
        ledger_state(&app, &c, &[&full, &other]).await,
        expected,
        "no balance moved, no entry"
    );
    // Spending from the top works, exactly.
    c.tx_ok(&app, vec![transfer(&full, &other, i64::MAX - 10)]).await;
    assert_eq!(
        (c.balance(&app, &full).await, c.balance(&app, &other).await),
        (10, i64::MAX)
    );
    for w in [&full, &other] {
        let entries = c.amounts(&app, w).await;
        let sum = entries
            .iter()
            .map(|(amount, _)| i128::from(*amount))
            .sum::<i128>();
        assert_eq!(
            sum,
            i128::from(c.balance(&app, w).await),
            "wallet {w}: entries {entries:?}"
        );
    }
}

/// Two wallets of one asset may each hold up to i64::MAX, so the asset's
/// total can pass i64: `check` must still be able to verify that ledger
/// (it once failed with SQLite's `integer overflow`).
#[tokio::test]
async fn check_verifies_an_asset_whose_total_passes_i64() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, i64::MAX).await;
    c.fund(&app, &b, i64::MAX).await;
    app.assert_invariants().await;
}

/// The body of every write is a JSON object; an array is not one, even when
/// its items line up with the fields (serde's derived structs read both).
#[tokio::test]
async fn an_array_in_place_of_an_object_body_is_a_400() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let before = snapshot(&app, &c, &[&w]).await;
    let cases: Vec<(&str, &str, Value)> = vec![
        ("POST", "/assets", json!(["Gold", "GOLD", 100])),
        ("POST", "/customers", json!(["bob", null, null])),
        ("PUT", "/customers/carol", json!([null, null])),
        (
            "POST",
            "/transactions",
            json!(["arr-1", [["Issue", null, w, 5]], null]),
        ),
    ];
    for (method, path, body) in cases {
        let reply = app.v2(method, path, Some(&c.key), Some(&body)).await;
        assert_error(
            &format!("{method} {path} {body}"),
            &reply,
            400,
            "VALIDATION_ERROR",
        );
    }
    assert_eq!(snapshot(&app, &c, &[&w]).await, before, "nothing changed");
}
