//! Holds expire by themselves (`spec/holds.md`, "Expiry"), with a real
//! clock: within a second of `expiresAt`, as a transaction of their own;
//! never captured from `expiresAt` on; after a restart for what expired
//! while the server was down; in maintenance mode; once with two server
//! processes on one database.

use crate::app::v2::{capture, ctx, hold, hold_to, now_ms, Ctx};
use crate::app::{spawn_app, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

/// Sleeps until the wall clock has passed `at` (epoch ms).
async fn sleep_until(at: i64) {
    let wait = at - now_ms() + 1;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
    }
}

/// Waits (up to 5 s) until the hold shows `Expired`; returns it.
async fn expired(app: &TestApp, c: &Ctx, id: &str) -> Value {
    let deadline = now_ms() + 5_000;
    loop {
        let hold = c.hold_of(app, id).await;
        if hold["status"] == "Expired" {
            return hold;
        }
        assert!(now_ms() < deadline, "hold {id} never expired: {hold}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The transactions with this description.
async fn with_description(app: &TestApp, c: &Ctx, description: &str) -> Vec<Value> {
    let page = c.get_ok(app, "/transactions?pageSize=1000").await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|t| t["description"] == description)
        .cloned()
        .collect()
}

/// A hold with `expiresAt`.
fn expiring(source: &str, amount: i64, id: &str, at: i64) -> Value {
    let mut op = hold(source, amount, id);
    op["expiresAt"] = json!(at);
    op
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_expires_by_itself_within_a_second_as_a_listed_transaction() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, 100).await;
    let at = now_ms() + 300;
    let mut soon = hold_to(&a, &b, 40, "soon");
    soon["expiresAt"] = json!(at);
    c.tx_ok(&app, vec![soon, expiring(&a, 10, "later", now_ms() + 3_600_000)])
        .await;

    // From expiresAt on, nothing is captured, recorded expiry or not.
    sleep_until(at).await;
    let late = c.tx(&app, "late-capture", vec![capture("soon", Some(1))]).await;
    crate::app::v2::assert_failed("a Capture after expiresAt", &late, 409, "WRONG_HOLD_STATUS");

    let hold = expired(&app, &c, "soon").await;
    assert_eq!(
        (&hold["captured"], &hold["remaining"]),
        (&json!(0), &json!(0)),
        "{hold}"
    );
    assert_eq!(
        c.funds(&app, &a).await,
        (100, 10, 90, 0),
        "what it reserved is released"
    );
    assert_eq!(c.balance(&app, &b).await, 0);
    assert_eq!(c.hold_of(&app, "later").await["status"], "Open");

    let expiries = with_description(&app, &c, "hold soon expired").await;
    assert_eq!(expiries.len(), 1, "one expiry transaction: {expiries:?}");
    let expiry = &expiries[0];
    assert_eq!(expiry["referenceId"], Value::Null, "{expiry}");
    assert_eq!(expiry["status"], "Completed", "{expiry}");
    assert_eq!(
        expiry["operations"],
        json!([{"type": "ExpireHold", "hold": "soon"}]),
        "{expiry}"
    );
    let recorded = expiry["createdAt"].as_i64().unwrap();
    assert!(
        (at..=at + 1_000).contains(&recorded),
        "expired {} ms after expiresAt (promised: within a second)",
        recorded - at
    );
    assert_eq!(hold["updatedAt"], recorded, "the hold changed with its expiry");
    let id = expiry["id"].as_str().unwrap();
    assert_eq!(
        c.get_ok(&app, &format!("/transactions/{id}")).await["description"],
        "hold soon expired"
    );

    // Still exactly one, passes later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(with_description(&app, &c, "hold soon expired").await.len(), 1);
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_that_expired_while_the_server_was_down_are_expired_at_start() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    c.fund(&app, &a, 100).await;
    let at = now_ms() + 1_500;
    c.tx_ok(
        &app,
        vec![
            expiring(&a, 30, "while-down", at),
            expiring(&a, 20, "after-restart", now_ms() + 3_600_000),
        ],
    )
    .await;
    let database = app.stop().await.expect("the app owns its database");
    assert!(now_ms() < at, "the server stopped before the hold expired");
    sleep_until(at + 200).await;

    let restarted_at = now_ms();
    let app = TestApp::spawn_on(database, |_| {}).await;
    let hold = expired(&app, &c, "while-down").await;
    let expiries = with_description(&app, &c, "hold while-down expired").await;
    assert_eq!(expiries.len(), 1, "{expiries:?}");
    let recorded = expiries[0]["createdAt"].as_i64().unwrap();
    assert!(
        recorded >= restarted_at,
        "expired by the restarted server: {hold}"
    );
    assert_eq!(c.hold_of(&app, "after-restart").await["status"], "Open");
    assert_eq!(c.funds(&app, &a).await, (100, 20, 80, 0));
    app.assert_invariants().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_expire_in_maintenance_mode_too() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    c.fund(&app, &a, 10).await;
    let at = now_ms() + 300;
    c.tx_ok(&app, vec![expiring(&a, 10, "m", at)]).await;
    app.set_maintenance(true).await;

    let refused = c
        .tx(&app, "in-maintenance", vec![crate::app::v2::issue(&a, 1)])
        .await;
    assert_eq!(refused.0, 503, "client writes are refused: {}", refused.1);
    expired(&app, &c, "m").await;
    assert_eq!(c.funds(&app, &a).await, (10, 0, 10, 0));
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_expire_each_hold_once() {
    let one = spawn_app().await;
    let other = one.spawn_beside(|_| {}).await;
    let c = ctx(&one, "default").await;
    let a = c.customer_wallet(&one, "a").await;
    c.fund(&one, &a, 100).await;
    let at = now_ms() + 400;
    let holds: Vec<Value> = (0..32).map(|k| expiring(&a, 1, &format!("x{k}"), at)).collect();
    c.tx_ok(&one, holds).await;

    for k in 0..32 {
        expired(&other, &c, &format!("x{k}")).await;
    }
    // Give the slower worker time for a pass of its own after the last one.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let page = c.get_ok(&one, "/transactions?pageSize=1000").await;
    let expiries: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description"].as_str().is_some_and(|d| d.ends_with(" expired")))
        .collect();
    assert_eq!(expiries.len(), 32, "each hold expired exactly once");
    assert_eq!(c.funds(&other, &a).await, (100, 0, 100, 0));
    one.assert_invariants().await;
    other.stop().await;
    one.stop().await;
}
