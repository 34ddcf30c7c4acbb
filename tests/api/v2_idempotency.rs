//! API v2 reference ids: a transaction applies at most once, whatever the
//! retries and the concurrency; concurrent spends never overdraw.

use serde_json::{json, Value};
use std::sync::Arc;
use wallet_testkit::app::v2::{assert_error, assert_failed, ctx, issue, next_ref, raw, redeem, Ctx};
use wallet_testkit::app::{spawn_app, TestApp};

/// Asserts a `DuplicateReferenceId` reply naming the stored transaction `id`.
fn assert_duplicate(case: &str, reply: &(u16, Value), id: &str, status: &str) {
    let (code, body) = reply;
    assert_eq!(*code, 409, "{case}: {body}");
    assert_eq!(body["status"], "DuplicateReferenceId", "{case}: {body}");
    assert!(body["message"].is_string(), "{case}: {body}");
    assert_eq!(body["transaction"]["id"], id, "{case}: {body}");
    assert_eq!(body["transaction"]["status"], status, "{case}: {body}");
}

async fn wallet_with(app: &TestApp, c: &Ctx, customer: &str, amount: i64) -> String {
    let w = c.customer_wallet(app, customer).await;
    if amount > 0 {
        c.fund(app, &w, amount).await;
    }
    w
}

#[tokio::test]
async fn the_same_reference_twice_applies_once() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = wallet_with(&app, &c, "alice", 0).await;

    let first = c.tx(&app, "pay-1", vec![issue(&w, 10)]).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let id = first.1["id"].as_str().unwrap();
    let second = c.tx(&app, "pay-1", vec![issue(&w, 10)]).await;
    assert_duplicate("same body again", &second, id, "Completed");
    assert_eq!(second.1["transaction"]["referenceId"], "pay-1");
    assert_eq!(second.1["transaction"]["operations"], first.1["operations"]);
    assert_eq!(c.balance(&app, &w).await, 10);
    assert_eq!(c.entries(&app, &w).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_with_one_reference_apply_once() {
    let app = Arc::new(spawn_app().await);
    let c = Arc::new(ctx(&app, "default").await);
    let w = wallet_with(&app, &c, "alice", 0).await;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (app, c, w) = (app.clone(), c.clone(), w.clone());
        tasks.spawn(async move { c.tx(&app, "same-ref", vec![issue(&w, 7)]).await });
    }
    let replies = tasks.join_all().await;

    let created: Vec<&Value> = replies.iter().filter(|r| r.0 == 201).map(|r| &r.1).collect();
    assert_eq!(created.len(), 1, "exactly one 201: {replies:?}");
    let id = created[0]["id"].as_str().unwrap();
    for reply in replies.iter().filter(|r| r.0 != 201) {
        assert_duplicate("concurrent duplicate", reply, id, "Completed");
    }
    assert_eq!(c.balance(&app, &w).await, 7, "applied once");
    assert_eq!(c.entries(&app, &w).await.len(), 1);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_different_body_under_a_used_reference_never_applies() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = wallet_with(&app, &c, "alice", 0).await;
    let v = wallet_with(&app, &c, "bob", 0).await;
    let first = c.tx(&app, "order-9", vec![issue(&w, 5)]).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let id = first.1["id"].as_str().unwrap();

    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("other amount", vec![issue(&w, 500)]),
        ("other wallet", vec![issue(&v, 5)]),
        ("other type", vec![redeem(&w, 5)]),
        ("more operations", vec![issue(&w, 5), issue(&v, 5)]),
    ];
    for (case, ops) in cases {
        let reply = c.tx(&app, "order-9", ops).await;
        assert_duplicate(case, &reply, id, "Completed");
        assert_eq!(
            reply.1["transaction"]["operations"],
            json!([issue(&w, 5)]),
            "{case}"
        );
    }
    assert_eq!(c.balance(&app, &w).await, 5);
    assert_eq!(c.balance(&app, &v).await, 0);
}

#[tokio::test]
async fn a_failed_transaction_spends_its_reference() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = wallet_with(&app, &c, "alice", 0).await;
    let failed = c.tx(&app, "spend-1", vec![redeem(&w, 10)]).await;
    assert_failed("redeem from empty", &failed, 409, "INSUFFICIENT_FUNDS");
    let id = failed.1["id"].as_str().unwrap();

    // Now the same request could succeed, but the reference is spent.
    c.fund(&app, &w, 100).await;
    let retry = c.tx(&app, "spend-1", vec![redeem(&w, 10)]).await;
    assert_duplicate("retry after failure", &retry, id, "Failed");
    assert_eq!(retry.1["transaction"]["error"], "INSUFFICIENT_FUNDS");
    assert_eq!(c.balance(&app, &w).await, 100);
}

#[tokio::test]
async fn a_request_refused_before_it_starts_leaves_the_reference_free() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = wallet_with(&app, &c, "alice", 0).await;
    let ghost = wallet_testkit::app::v2::missing_like(&w);
    let body = |reference: &str, amount: &str, wallet: &str| {
        format!(
            r#"{{"referenceId": "{reference}", "operations": [{{"type": "Issue", "destination": "{wallet}", "amount": {amount}}}]}}"#
        )
    };
    let cases = [
        (
            "unknown wallet",
            "free-1",
            body("free-1", "3", &ghost),
            404,
            "WALLET_NOT_FOUND",
        ),
        (
            "fractional amount",
            "free-2",
            body("free-2", "1.5", &w),
            400,
            "FRACTION_IN_AMOUNT_NOT_VALID",
        ),
        (
            "zero amount",
            "free-3",
            body("free-3", "0", &w),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (case, reference, bad, http, status) in cases {
        let before = app.check().await;
        let reply = raw(&app, "POST", "/transactions", &c.key, bad).await;
        assert_error(case, &reply, http, status);
        let after = app.check().await;
        assert_eq!(
            after.transactions, before.transactions,
            "{case}: nothing recorded"
        );
        assert_eq!(after.entries, before.entries, "{case}: nothing applied");

        let good = raw(&app, "POST", "/transactions", &c.key, body(reference, "3", &w)).await;
        assert_eq!(good.0, 201, "{case}: the corrected retry succeeds: {}", good.1);
        assert_eq!(good.1["referenceId"], reference, "{case}");
    }
    assert_eq!(c.balance(&app, &w).await, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redeems_never_overdraw() {
    let app = Arc::new(spawn_app().await);
    let c = Arc::new(ctx(&app, "default").await);
    let w = wallet_with(&app, &c, "alice", 250).await;

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..48 {
        let (app, c, w) = (app.clone(), c.clone(), w.clone());
        tasks.spawn(async move { c.tx(&app, &next_ref("drain"), vec![redeem(&w, 10)]).await });
    }
    let replies = tasks.join_all().await;

    let completed = replies.iter().filter(|r| r.0 == 201).count();
    for reply in replies.iter().filter(|r| r.0 != 201) {
        assert_failed("a redeem that does not fit", reply, 409, "INSUFFICIENT_FUNDS");
    }
    for reply in replies.iter().filter(|r| r.0 == 201) {
        assert_eq!(reply.1["status"], "Completed", "{}", reply.1);
    }
    assert_eq!(completed, 25, "exactly 250 / 10 redeems fit");
    assert_eq!(c.balance(&app, &w).await, 0);
    let amounts = c.amounts(&app, &w).await;
    assert_eq!(amounts.len(), 26, "one issue and 25 redeems");
    for (i, (amount, after)) in amounts.iter().enumerate().take(25) {
        assert_eq!(
            (*amount, *after),
            (-10, 10 * i as i64),
            "entry {i} (newest first)"
        );
    }
    app.assert_invariants().await;
}
