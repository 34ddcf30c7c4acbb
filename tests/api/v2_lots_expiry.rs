//! Lots expire by themselves (`spec/lots.md`, "Expiry"), with a real clock:
//! nothing is spent of a lot from its `expiresAt` on; what is left of it
//! (not earmarked) expires within a second, as a transaction of its own with
//! an `Expire` entry, in every wallet value carried its expiry to; a Void or
//! Capture of a hold whose lot lapsed meanwhile expires the part at once;
//! what expired while the server was down expires at start; expiry goes on
//! in maintenance mode; two server processes on one database expire each
//! lot once.

use crate::app::v2::{
    assert_failed, capture, ctx, hold, issue, next_ref, now_ms, redeem, transfer, void, Ctx,
};
use crate::app::{spawn_app, TestApp};
use crate::v2_lots::{issue_until, lot_rows, lots_of};
use serde_json::{json, Value};
use std::time::Duration;

/// Sleeps until the wall clock has passed `at` (epoch ms).
async fn sleep_until(at: i64) {
    let wait = at - now_ms() + 1;
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
    }
}

/// Waits (up to 5 s) until the wallet's lot formed by `transaction` passes
/// `done`; returns it.
async fn lot_until(
    app: &TestApp,
    c: &Ctx,
    wallet: &str,
    transaction: &Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = now_ms() + 5_000;
    loop {
        let lots = lots_of(app, c, wallet).await;
        let lot = lots
            .iter()
            .find(|l| l["transactionId"] == *transaction)
            .unwrap_or_else(|| panic!("no lot of transaction {transaction} in {lots:?}"))
            .clone();
        if done(&lot) {
            return lot;
        }
        assert!(now_ms() < deadline, "the lot never got there: {lot}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_expired(lot: &Value) -> bool {
    lot["status"] == "Expired"
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

/// The one expiry transaction of a lot; checks its shape.
async fn expiry_of(app: &TestApp, c: &Ctx, wallet: &str, lot: &Value) -> Value {
    let id = lot["id"].as_str().expect("lot id");
    let expiries = with_description(app, c, &format!("lot {id} expired")).await;
    assert_eq!(expiries.len(), 1, "one expiry transaction: {expiries:?}");
    let expiry = expiries[0].clone();
    assert_eq!(expiry["referenceId"], Value::Null, "{expiry}");
    assert_eq!(expiry["status"], "Completed", "{expiry}");
    assert_eq!(
        expiry["operations"],
        json!([{"type": "ExpireLot", "wallet": wallet, "lot": id}]),
        "{expiry}"
    );
    expiry
}

/// The wallet's entries of one transaction, as `(type, amount, balanceAfter)`.
async fn entries_of(app: &TestApp, c: &Ctx, wallet: &str, transaction: &Value) -> Vec<(String, i64, i64)> {
    c.entries(app, wallet)
        .await
        .iter()
        .filter(|e| e["transactionId"] == *transaction)
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["amount"].as_i64().unwrap(),
                e["balanceAfter"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_expires_within_a_second_nothing_is_spent_of_it_after_and_moved_value_expires_too() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let later = now_ms() + 3_600_000;
    c.tx_ok(&app, vec![issue_until(&a, 50, later)]).await;
    let at = now_ms() + 2_000;
    let formed = c.tx_ok(&app, vec![issue_until(&a, 20, at), issue(&a, 10)]).await;
    // Spent and moved before its time, from the soonest lot.
    c.tx_ok(&app, vec![redeem(&a, 5)]).await;
    let moved = c.tx_ok(&app, vec![transfer(&a, &b, 4)]).await;
    assert_eq!(
        lot_rows(&app, &c, &b).await[0].3,
        at,
        "moved value keeps its expiry"
    );
    assert!(now_ms() < at, "set up before the lot's time (a slow machine?)");

    // From expiresAt on, nothing is taken of it, expiry recorded or not:
    // the later lot and plain value go first.
    sleep_until(at).await;
    c.tx_ok(&app, vec![redeem(&a, 3)]).await;
    let late = c.tx(&app, &next_ref("late"), vec![redeem(&b, 1)]).await;
    assert_failed("a Redeem of lapsed lot value", &late, 409, "INSUFFICIENT_FUNDS");
    let late = c.tx(&app, &next_ref("late"), vec![hold(&b, 1, "late")]).await;
    assert_failed("a Hold of lapsed lot value", &late, 409, "INSUFFICIENT_FUNDS");

    let lot = lot_until(&app, &c, &a, &formed["id"], is_expired).await;
    assert_eq!(
        (&lot["amount"], &lot["remaining"], &lot["earmarked"]),
        (&json!(20), &json!(0), &json!(0)),
        "{lot}"
    );
    let expiry = expiry_of(&app, &c, &a, &lot).await;
    let recorded = expiry["createdAt"].as_i64().unwrap();
    assert!(
        (at..=at + 1_000).contains(&recorded),
        "expired {} ms after expiresAt (promised: within a second)",
        recorded - at
    );
    let entries = entries_of(&app, &c, &a, &expiry["id"]).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        (entries[0].0.as_str(), entries[0].1),
        ("Expire", -11),
        "what was left of it"
    );
    assert_eq!(
        c.funds(&app, &a).await,
        (50 + 10 - 3, 0, 57, 0),
        "the plain value and the later lot stay"
    );
    assert_eq!(
        lot_rows(&app, &c, &a).await[1],
        (50, 47, 0, later, "Open".to_owned()),
        "the Redeem after expiresAt took the later lot"
    );

    // The part moved to b expired there too, in a transaction of its own.
    let there = lot_until(&app, &c, &b, &moved["id"], is_expired).await;
    let expiry = expiry_of(&app, &c, &b, &there).await;
    assert_eq!(
        entries_of(&app, &c, &b, &expiry["id"]).await,
        vec![("Expire".to_owned(), -4, 0)]
    );
    assert_eq!(c.balance(&app, &b).await, 0);
    assert_eq!(
        crate::v2_lots::expiring_of(&c.wallet_of(&app, &a).await),
        vec![(later, 47)]
    );

    // Still exactly one each, passes later.
    tokio::time::sleep(Duration::from_millis(600)).await;
    expiry_of(&app, &c, &a, &lot).await;
    expiry_of(&app, &c, &b, &there).await;
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earmarked_parts_outlive_their_lot_until_the_void_or_capture_expires_them() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let at = now_ms() + 2_000;
    let formed = c
        .tx_ok(
            &app,
            vec![
                issue_until(&a, 20, at),
                issue(&a, 5),
                hold(&a, 8, "voided"),
                hold(&a, 6, "captured"),
            ],
        )
        .await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![(20, 20, 14, at, "Open".to_owned())],
        "both holds earmarked the lot"
    );

    // The free part expires; the earmarked parts do not while the holds
    // are Open.
    let lot = lot_until(&app, &c, &a, &formed["id"], |l| l["remaining"] == 14).await;
    assert_eq!(
        (&lot["earmarked"], &lot["status"]),
        (&json!(14), &json!("Open")),
        "{lot}"
    );
    assert_eq!(c.funds(&app, &a).await, (19, 14, 5, 0));

    // A Void gives its part back to a lot past its time: it expires at once,
    // in the Void's transaction.
    let voided = c.tx_ok(&app, vec![void("voided")]).await;
    assert_eq!(
        c.funds(&app, &a).await,
        (11, 6, 5, 0),
        "right after the Void, the part is gone"
    );
    assert_eq!(
        entries_of(&app, &c, &a, &voided["id"]).await,
        vec![("Expire".to_owned(), -8, 11)]
    );
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![(20, 6, 6, at, "Open".to_owned())]
    );

    // A Capture moves an earmarked part of a lapsed lot; it keeps its expiry
    // and expires at once in the destination.
    let mut take = capture("captured", None);
    take["destination"] = json!(b);
    let captured = c.tx_ok(&app, vec![take]).await;
    assert_eq!(c.funds(&app, &a).await, (5, 0, 5, 0));
    assert_eq!(c.balance(&app, &b).await, 0);
    let mut lines = entries_of(&app, &c, &b, &captured["id"]).await;
    lines.sort();
    assert_eq!(
        lines,
        vec![("Capture".to_owned(), 6, 6), ("Expire".to_owned(), -6, 0)]
    );
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![(20, 0, 0, at, "Expired".to_owned())]
    );
    assert_eq!(
        lot_rows(&app, &c, &b).await,
        vec![(6, 0, 0, at, "Expired".to_owned())]
    );
    // The holds' own transactions were the expiries: the worker wrote none.
    let id = lot["id"].as_str().unwrap();
    let expiries = with_description(&app, &c, &format!("lot {id} expired")).await;
    assert_eq!(expiries.len(), 1, "only the free part's: {expiries:?}");
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_that_expired_while_the_server_was_down_are_expired_at_start() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let at = now_ms() + 1_500;
    let later = now_ms() + 3_600_000;
    let formed = c
        .tx_ok(
            &app,
            vec![issue_until(&a, 30, at), issue_until(&a, 20, later), issue(&a, 7)],
        )
        .await;
    c.tx_ok(&app, vec![redeem(&a, 10)]).await;
    let database = app.stop().await.expect("the app owns its database");
    assert!(now_ms() < at, "the server stopped before the lot expired");
    sleep_until(at + 200).await;

    let restarted_at = now_ms();
    let app = TestApp::spawn_on(database, |_| {}).await;
    let lot = lot_until(&app, &c, &a, &formed["id"], |l| {
        l["expiresAt"] == at && is_expired(l)
    })
    .await;
    let expiry = expiry_of(&app, &c, &a, &lot).await;
    let recorded = expiry["createdAt"].as_i64().unwrap();
    assert!(
        recorded >= restarted_at,
        "expired by the restarted server: {expiry}"
    );
    assert_eq!(
        entries_of(&app, &c, &a, &expiry["id"]).await,
        vec![("Expire".to_owned(), -20, 27)]
    );
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            (30, 0, 0, at, "Expired".to_owned()),
            (20, 20, 0, later, "Open".to_owned())
        ]
    );
    app.assert_invariants().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_expire_in_maintenance_mode_too() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let at = now_ms() + 500;
    let formed = c.tx_ok(&app, vec![issue_until(&a, 10, at), issue(&a, 2)]).await;
    app.set_maintenance(true).await;

    let refused = c.tx(&app, &next_ref("in-maintenance"), vec![issue(&a, 1)]).await;
    assert_eq!(refused.0, 503, "client writes are refused: {}", refused.1);
    let lot = lot_until(&app, &c, &a, &formed["id"], is_expired).await;
    expiry_of(&app, &c, &a, &lot).await;
    assert_eq!(c.balance(&app, &a).await, 2);
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_expire_each_lot_once() {
    let one = spawn_app().await;
    let other = one.spawn_beside(|_| {}).await;
    let c = ctx(&one, "default").await;
    let a = c.customer_wallet(&one, "a").await;
    let b = c.customer_wallet(&one, "b").await;
    let at = now_ms() + 500;
    // 32 lots (one per Issue) in two wallets, all due at once.
    let mut ops: Vec<Value> = (0..16).map(|_| issue_until(&a, 1, at)).collect();
    ops.extend((0..16).map(|_| issue_until(&b, 2, at)));
    ops.push(issue(&a, 5));
    let formed = c.tx_ok(&one, ops).await;

    for w in [&a, &b] {
        let deadline = now_ms() + 5_000;
        while lots_of(&other, &c, w).await.iter().any(|l| !is_expired(l)) {
            assert!(now_ms() < deadline, "wallet {w}'s lots never all expired");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Give the slower worker time for a pass of its own after the last one.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let page = c.get_ok(&one, "/transactions?pageSize=1000").await;
    let expiries = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description"].as_str().is_some_and(|d| d.ends_with(" expired")))
        .count();
    assert_eq!(expiries, 32, "each lot expired exactly once");
    let expire_entries = |entries: Vec<Value>| entries.iter().filter(|e| e["type"] == "Expire").count();
    assert_eq!(expire_entries(c.entries(&one, &a).await), 16);
    assert_eq!(expire_entries(c.entries(&one, &b).await), 16);
    assert_eq!((c.balance(&other, &a).await, c.balance(&other, &b).await), (5, 0));
    assert!(lots_of(&one, &c, &a)
        .await
        .iter()
        .all(|l| l["transactionId"] == formed["id"]));
    one.assert_invariants().await;
    other.stop().await;
    one.stop().await;
}
