//! `POST /api/v2/transactions/batch`: independent transactions, each atomic,
//! one commit for all.

use serde_json::{json, Value};
use wallet_testkit::app::spawn_app;

async fn wallet(app: &wallet_testkit::app::TestApp, key: &str, customer: &str) -> String {
    app.v2("POST", "/customers", Some(key), Some(&json!({ "id": customer })))
        .await;
    let (status, wallet) = app
        .v2(
            "POST",
            "/wallets",
            Some(key),
            Some(&json!({ "customerId": customer, "assetId": "1" })),
        )
        .await;
    assert_eq!(status, 201, "{wallet}");
    wallet["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_transaction_of_a_batch_has_its_own_result_in_order_and_one_commit() {
    let app = spawn_app().await;
    let key = app.access_key("default").await;
    let (a, b) = (wallet(&app, &key, "a").await, wallet(&app, &key, "b").await);
    let issue = |reference: &str, wallet: &str, amount: Value| json!({"referenceId": reference, "operations": [{"type": "Issue", "destination": wallet, "amount": amount}]});
    let batch = json!({ "transactions": [
        issue("b1", &a, json!(100)),
        {"referenceId": "b2", "operations": [{"type": "Transfer", "source": a, "destination": b, "amount": 30}]},
        {"referenceId": "b3", "operations": [{"type": "Redeem", "source": b, "amount": 31}]},
        issue("b1", &a, json!(100)),
        issue("b5", &a, json!(0)),
        issue("b6", &a, json!(1.5)),
        issue("b7", "999999", json!(1)),
        issue("b8", &b, json!(1)),
    ]});
    let commits_before = app.writer_stats().commits;
    let (status, body) = app
        .v2("POST", "/transactions/batch", Some(&key), Some(&batch))
        .await;
    let commits = app.writer_stats().commits - commits_before;
    assert_eq!(status, 200, "{body}");
    assert_eq!(commits, 1, "the whole batch is one commit (one fsync)");

    let results = body["results"].as_array().unwrap();
    let expected: &[(u16, &str, &str)] = &[
        (201, "status", "Completed"),
        (201, "status", "Completed"),
        (409, "error", "INSUFFICIENT_FUNDS"),
        (409, "status", "DuplicateReferenceId"),
        (400, "status", "VALIDATION_ERROR"),
        (400, "status", "FRACTION_IN_AMOUNT_NOT_VALID"),
        (404, "status", "WALLET_NOT_FOUND"),
        (201, "status", "Completed"),
    ];
    assert_eq!(results.len(), expected.len());
    for (i, (result, (http, field, value))) in results.iter().zip(expected).enumerate() {
        assert_eq!(result["httpStatus"], *http, "result {i}: {result}");
        assert_eq!(result["body"][field], *value, "result {i}: {result}");
    }
    assert_eq!(
        results[3]["body"]["transaction"]["id"], results[0]["body"]["id"],
        "the duplicate names b1"
    );

    let balance = |id: String| {
        let (app, key) = (&app, key.clone());
        async move { app.v2("GET", &format!("/wallets/{id}"), Some(&key), None).await.1["balance"].as_i64() }
    };
    assert_eq!(balance(a.clone()).await, Some(70));
    assert_eq!(
        balance(b.clone()).await,
        Some(31),
        "the failed redeem left b untouched"
    );
    // Refused items left their referenceId free; the failed one spent it.
    let (status, _) = app
        .v2(
            "POST",
            "/transactions",
            Some(&key),
            Some(&issue("b5", &a, json!(5))),
        )
        .await;
    assert_eq!(status, 201, "b5 was refused before anything was attempted");
    let (status, _) = app
        .v2(
            "POST",
            "/transactions",
            Some(&key),
            Some(&issue("b3", &a, json!(5))),
        )
        .await;
    assert_eq!(status, 409, "b3 was recorded as Failed");
    app.assert_invariants().await;
}

#[tokio::test]
async fn malformed_or_oversized_batches_apply_nothing() {
    let app = spawn_app().await;
    let key = app.access_key("default").await;
    let a = wallet(&app, &key, "a").await;
    let one = json!({"referenceId": "x", "operations": [{"type": "Issue", "destination": a, "amount": 1}]});
    let too_many: Vec<Value> = (0..8001)
        .map(|i| json!({"referenceId": format!("r{i}"), "operations": [{"type": "Issue", "destination": a, "amount": 1}]}))
        .collect();
    let cases = [
        ("empty", json!({ "transactions": [] })),
        ("8001 transactions", json!({ "transactions": too_many })),
        ("not a list", json!({ "transactions": one })),
        ("unknown field", json!({ "transactions": [one], "extra": 1 })),
        (
            "an item of the wrong shape",
            json!({ "transactions": [one, {"referenceId": "y"}] }),
        ),
    ];
    for (case, body) in cases {
        let (status, reply) = app
            .v2("POST", "/transactions/batch", Some(&key), Some(&body))
            .await;
        assert_eq!(status, 400, "{case}: {reply}");
        assert_eq!(reply["status"], "VALIDATION_ERROR", "{case}");
    }
    let (_, wallet) = app.v2("GET", &format!("/wallets/{a}"), Some(&key), None).await;
    assert_eq!(wallet["balance"], 0, "nothing applied");
    let customer_key = {
        let (_, created) = app
            .v2("POST", "/customers/a/keys", Some(&key), Some(&json!({})))
            .await;
        created["token"].as_str().unwrap().to_owned()
    };
    let (status, reply) = app
        .v2(
            "POST",
            "/transactions/batch",
            Some(&customer_key),
            Some(&json!({ "transactions": [one] })),
        )
        .await;
    assert_eq!(
        (status, reply["status"].as_str()),
        (403, Some("ACCESS_DENIED")),
        "customer keys never write"
    );
}
