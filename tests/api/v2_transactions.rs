//! API v2 transactions: all-or-nothing, in order, exact balances and entries.

use crate::app::v2::{assert_failed, ctx, issue, next_ref, redeem, transfer, Ctx};
use crate::app::{spawn_app, TestApp};
use serde_json::{json, Value};

/// Balances and full entry lists of some wallets, to compare before and after.
async fn snapshot(app: &TestApp, c: &Ctx, wallets: &[&str]) -> Vec<(i64, Vec<Value>)> {
    let mut all = Vec::new();
    for w in wallets {
        all.push((c.balance(app, w).await, c.entries(app, w).await));
    }
    all
}

/// The stored transaction must be the failed one the client was told about.
async fn assert_stored_failed(app: &TestApp, c: &Ctx, case: &str, reply: &Value, error: &str) {
    let id = reply["id"].as_str().expect("id");
    let stored = c.get_ok(app, &format!("/transactions/{id}")).await;
    assert_eq!(stored["id"], id, "{case}: {stored}");
    assert_eq!(stored["status"], "Failed", "{case}: {stored}");
    assert_eq!(stored["error"], error, "{case}: {stored}");
    assert_eq!(stored["referenceId"], reply["referenceId"], "{case}: {stored}");
    assert_eq!(stored["operations"], reply["operations"], "{case}: {stored}");
}

#[tokio::test]
async fn transfer_with_a_fee_is_all_or_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let bob = c.customer_wallet(&app, "bob").await;
    let fees = c.system_wallet(&app, &c.asset).await;
    c.fund(&app, &alice, 100).await;
    let before = snapshot(&app, &c, &[&alice, &bob, &fees]).await;
    let counts = app.check().await;

    // The transfer alone fits; the fee after it does not.
    let ops = vec![transfer(&alice, &bob, 95), transfer(&alice, &fees, 10)];
    let reply = c.tx(&app, &next_ref("fee"), ops).await;
    assert_failed("transfer + fee beyond funds", &reply, 409, "INSUFFICIENT_FUNDS");

    assert_eq!(
        snapshot(&app, &c, &[&alice, &bob, &fees]).await,
        before,
        "nothing applied"
    );
    let after = app.check().await;
    assert_eq!(
        after.entries, counts.entries,
        "no entries from a failed transaction"
    );
    assert_eq!(
        after.transactions,
        counts.transactions + 1,
        "the failed transaction is recorded"
    );
    assert_stored_failed(&app, &c, "fee", &reply.1, "INSUFFICIENT_FUNDS").await;
    let listed = c.get_ok(&app, "/transactions").await;
    assert_eq!(
        listed["items"][0]["id"], reply.1["id"],
        "a failed transaction is listed: {listed}"
    );

    // The success path: exact balances and entries, newest first.
    let done = c
        .tx_ok(
            &app,
            vec![transfer(&alice, &bob, 90), transfer(&alice, &fees, 10)],
        )
        .await;
    let tx = done["id"].as_str().unwrap();
    assert_eq!(c.balance(&app, &alice).await, 0);
    assert_eq!(c.balance(&app, &bob).await, 90);
    assert_eq!(c.balance(&app, &fees).await, 10);
    assert_eq!(
        c.amounts(&app, &alice).await,
        vec![(-10, 0), (-90, 10), (100, 100)]
    );
    assert_eq!(c.amounts(&app, &bob).await, vec![(90, 90)]);
    assert_eq!(c.amounts(&app, &fees).await, vec![(10, 10)]);
    for (wallet, entry) in [(&alice, 0), (&alice, 1), (&bob, 0), (&fees, 0)] {
        let e = &c.entries(&app, wallet).await[entry];
        assert_eq!(e["transactionId"], tx, "{e}");
        assert_eq!(e["walletId"], wallet.as_str(), "{e}");
        assert_eq!(e["type"], "Transfer", "{e}");
        assert!(e["id"].is_string() && e["createdAt"].is_i64(), "{e}");
    }
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_currency_exchange_is_all_or_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let eur = c.asset(&app, "EUR", 100).await;
    let usd = c.asset(&app, "USD", 100).await;
    c.customer(&app, "alice").await;
    c.customer(&app, "bob").await;
    let alice_eur = c.wallet(&app, "alice", &eur).await;
    let bob_usd = c.wallet(&app, "bob", &usd).await;
    c.fund(&app, &alice_eur, 500).await;
    c.set_status(&app, &bob_usd, "Suspended").await;
    let before = snapshot(&app, &c, &[&alice_eur, &bob_usd]).await;

    let exchange = vec![redeem(&alice_eur, 100), issue(&bob_usd, 110)];
    let reply = c.tx(&app, &next_ref("fx"), exchange.clone()).await;
    assert_failed(
        "exchange into a suspended wallet",
        &reply,
        409,
        "WRONG_WALLET_STATUS",
    );
    assert_eq!(
        snapshot(&app, &c, &[&alice_eur, &bob_usd]).await,
        before,
        "nothing applied"
    );
    assert_stored_failed(&app, &c, "fx", &reply.1, "WRONG_WALLET_STATUS").await;

    c.set_status(&app, &bob_usd, "Open").await;
    let done = c.tx_ok(&app, exchange).await;
    assert_eq!(c.balance(&app, &alice_eur).await, 400);
    assert_eq!(c.balance(&app, &bob_usd).await, 110);
    assert_eq!(c.amounts(&app, &alice_eur).await, vec![(-100, 400), (500, 500)]);
    assert_eq!(c.amounts(&app, &bob_usd).await, vec![(110, 110)]);
    let types: Vec<Value> = c
        .entries(&app, &alice_eur)
        .await
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(types, vec!["Redeem", "Issue"]);
    let credit = &c.entries(&app, &bob_usd).await[0];
    assert_eq!(credit["type"], "Issue");
    assert_eq!(credit["transactionId"], done["id"]);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_transfer_across_assets_fails_with_validation_error() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let gold = c.asset(&app, "GOLD", 1).await;
    let alice = c.customer_wallet(&app, "alice").await;
    let alice_gold = c.wallet(&app, "alice", &gold).await;
    c.fund(&app, &alice, 50).await;
    let before = snapshot(&app, &c, &[&alice, &alice_gold]).await;

    let reply = c
        .tx(&app, &next_ref("x"), vec![transfer(&alice, &alice_gold, 5)])
        .await;
    assert_failed("cross-asset transfer", &reply, 400, "VALIDATION_ERROR");
    assert_eq!(
        snapshot(&app, &c, &[&alice, &alice_gold]).await,
        before,
        "nothing applied"
    );
    assert_stored_failed(&app, &c, "cross-asset", &reply.1, "VALIDATION_ERROR").await;
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_balance_passing_i64_fails_the_whole_transaction() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let big = c.customer_wallet(&app, "big").await;
    let other = c.customer_wallet(&app, "other").await;
    c.fund(&app, &big, i64::MAX - 10).await;
    let before = snapshot(&app, &c, &[&big, &other]).await;

    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("issue past the max", vec![issue(&big, 11)]),
        ("issue the max", vec![issue(&big, i64::MAX)]),
        (
            "transfer then overflow",
            vec![transfer(&big, &other, 5), issue(&big, 100)],
        ),
        ("fits then overflow", vec![redeem(&big, 1), issue(&big, 12)]),
    ];
    for (case, ops) in cases {
        let reply = c.tx(&app, &next_ref("ovf"), ops).await;
        assert_failed(case, &reply, 400, "VALIDATION_ERROR");
        assert_eq!(
            snapshot(&app, &c, &[&big, &other]).await,
            before,
            "{case}: nothing applied"
        );
    }
    // Up to the max exactly is fine.
    c.fund(&app, &big, 10).await;
    assert_eq!(c.balance(&app, &big).await, i64::MAX);
    app.assert_invariants().await;
}

#[tokio::test]
async fn operations_apply_in_the_order_given() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let v = c.customer_wallet(&app, "bob").await;

    c.tx_ok(&app, vec![issue(&w, 10), redeem(&w, 10)]).await;
    assert_eq!(c.amounts(&app, &w).await, vec![(-10, 0), (10, 10)]);

    let reply = c
        .tx(&app, &next_ref("rev"), vec![redeem(&w, 10), issue(&w, 10)])
        .await;
    assert_failed("redeem before issue", &reply, 409, "INSUFFICIENT_FUNDS");
    assert_eq!(
        c.amounts(&app, &w).await,
        vec![(-10, 0), (10, 10)],
        "nothing applied"
    );

    // A chain through two wallets works only in order.
    c.tx_ok(&app, vec![issue(&w, 7), transfer(&w, &v, 7), redeem(&v, 7)])
        .await;
    let reply = c
        .tx(
            &app,
            &next_ref("rev"),
            vec![redeem(&v, 7), transfer(&w, &v, 7), issue(&w, 7)],
        )
        .await;
    assert_failed("chain reversed", &reply, 409, "INSUFFICIENT_FUNDS");
    assert_eq!(c.balance(&app, &w).await, 0);
    assert_eq!(c.balance(&app, &v).await, 0);
    assert_eq!(c.amounts(&app, &v).await, vec![(-7, 0), (7, 7)]);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_completed_transaction_is_returned_stored_and_listed_alike() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let v = c.customer_wallet(&app, "bob").await;
    let operations = json!([issue(&w, 5), transfer(&w, &v, 2)]);
    let body = json!({"referenceId": "payday-1", "operations": operations, "description": "payday"});
    let (status, reply) = app.v2("POST", "/transactions", Some(&c.key), Some(&body)).await;
    assert_eq!(status, 201, "{reply}");
    let expected = json!({"referenceId": "payday-1", "status": "Completed", "operations": operations,
        "description": "payday"});
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&reply[field], value, "{field}: {reply}");
    }
    assert!(reply["id"].is_string() && reply["createdAt"].is_i64(), "{reply}");
    assert!(
        reply.get("error").is_none(),
        "no error on a Completed transaction: {reply}"
    );

    // Only the reply of the POST lists the holds and items the transaction
    // touched (read them with GET /holds/{id}, GET /items/{id}); otherwise
    // stored as returned.
    let mut reply = reply;
    let holds = reply.as_object_mut().unwrap().remove("holds");
    assert_eq!(holds, Some(json!([])), "a reply lists its holds, none here");
    let items = reply.as_object_mut().unwrap().remove("items");
    assert_eq!(items, Some(json!([])), "a reply lists its items, none here");
    let id = reply["id"].as_str().unwrap();
    assert_eq!(
        c.get_ok(&app, &format!("/transactions/{id}")).await,
        reply,
        "stored as returned"
    );
    let listed = c.get_ok(&app, "/transactions").await;
    assert_eq!(listed["items"][0], reply, "listed as returned");
    let credit = &c.entries(&app, &v).await[0];
    let expected =
        json!({"walletId": v, "transactionId": id, "type": "Transfer", "amount": 2, "balanceAfter": 2});
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&credit[field], value, "{field}: {credit}");
    }
}
