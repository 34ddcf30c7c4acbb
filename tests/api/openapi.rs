//! The served OpenAPI document of API v2: it parses, lists every endpoint,
//! and real responses match the schemas it declares.

use crate::app::{spawn_app, spawn_app_with, TestApp};
use serde_json::{json, Value};

/// Every operation of API v2 (docs/api-v2.md).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/api/v2/project"),
    ("post", "/api/v2/assets"),
    ("get", "/api/v2/assets"),
    ("get", "/api/v2/assets/{assetId}"),
    ("put", "/api/v2/assets/{assetId}/name"),
    ("delete", "/api/v2/assets/{assetId}"),
    ("post", "/api/v2/customers"),
    ("get", "/api/v2/customers"),
    ("get", "/api/v2/customers/{customerId}"),
    ("put", "/api/v2/customers/{customerId}"),
    ("delete", "/api/v2/customers/{customerId}"),
    ("post", "/api/v2/customers/{customerId}/suspend"),
    ("post", "/api/v2/customers/{customerId}/resume"),
    ("post", "/api/v2/customers/{customerId}/keys"),
    ("get", "/api/v2/customers/{customerId}/keys"),
    ("delete", "/api/v2/customers/{customerId}/keys/{keyId}"),
    ("get", "/api/v2/customers/{customerId}/wallets"),
    ("post", "/api/v2/wallets"),
    ("get", "/api/v2/wallets"),
    ("post", "/api/v2/system-wallets"),
    ("get", "/api/v2/system-wallets"),
    ("get", "/api/v2/wallets/{walletId}"),
    ("put", "/api/v2/wallets/{walletId}/name"),
    ("put", "/api/v2/wallets/{walletId}/description"),
    ("put", "/api/v2/wallets/{walletId}/status"),
    ("get", "/api/v2/wallets/{walletId}/entries"),
    ("get", "/api/v2/wallets/{walletId}/holds"),
    ("get", "/api/v2/wallets/{walletId}/lots"),
    ("get", "/api/v2/wallets/{walletId}/balance"),
    ("put", "/api/v2/wallets/{walletId}/credit-limit"),
    ("get", "/api/v2/holds/{holdId}"),
    ("get", "/api/v2/items/{itemId}"),
    ("get", "/api/v2/items/{itemId}/history"),
    ("get", "/api/v2/items"),
    ("get", "/api/v2/customers/{customerId}/items"),
    ("post", "/api/v2/transactions"),
    ("post", "/api/v2/transactions/batch"),
    ("get", "/api/v2/transactions"),
    ("get", "/api/v2/transactions/{txId}"),
    ("get", "/api/v2/events"),
    ("get", "/api/v2/events/stream"),
    ("post", "/api/v2/webhooks"),
    ("get", "/api/v2/webhooks"),
    ("get", "/api/v2/webhooks/{webhookId}"),
    ("delete", "/api/v2/webhooks/{webhookId}"),
    ("get", "/api/v2/webhooks/{webhookId}/deliveries"),
    ("post", "/api/v2/webhooks/{webhookId}/replay"),
];

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "the document needs no key");
    response.json().await.expect("the document is JSON")
}

#[tokio::test]
async fn the_document_parses_and_lists_every_endpoint() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1: {}",
        doc["openapi"]
    );
    for (method, path) in OPERATIONS {
        assert!(
            doc["paths"][path][method].is_object(),
            "the document lacks {method} {path}"
        );
    }
    let listed: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        listed,
        OPERATIONS.len(),
        "the document lists an operation the test does not know"
    );
}

/// Validates `body` against the schema the document declares for this
/// operation and status (or its `4XX` entry).
fn assert_matches(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let responses = &doc["paths"][path][method]["responses"];
    let response = match &responses[status.to_string()] {
        Value::Null => &responses[format!("{}XX", status / 100)],
        exact => exact,
    };
    assert!(
        response.is_object(),
        "{method} {path} declares no response {status}"
    );
    let content = &response["content"]["application/json"]["schema"];
    if content.is_null() {
        assert!(
            body.is_null(),
            "{method} {path} {status} declares no body but got {body}"
        );
        return;
    }
    let mut schema = content.clone();
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).expect("the declared schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {body}\ndoes not match {content}:\n{errors:#?}"
    );
}

#[tokio::test]
async fn real_responses_match_the_declared_schemas() {
    let app = spawn_app_with(|s| s.webhooks_allow_private_networks = true).await;
    let doc = document(&app).await;
    let key = app.access_key("default").await;
    let k = Some(key.as_str());
    let mut seen = std::collections::BTreeSet::new();
    // Each call: (method, path template, concrete path, body, expected status).
    let mut call = |method: &'static str, template: &'static str, path: String, body: Option<Value>| {
        seen.insert((method, template));
        let (app, doc, k) = (&app, &doc, k);
        async move {
            let (status, response) = app.v2(&method.to_uppercase(), &path, k, body.as_ref()).await;
            assert_matches(doc, method, template, status, &response);
            (status, response)
        }
    };

    let (s, asset) = call(
        "post",
        "/api/v2/assets",
        "/assets".into(),
        Some(json!({"name": "Gold", "code": "GOLD", "fractions": 100})),
    )
    .await;
    assert_eq!(s, 201);
    let gold = asset["id"].as_str().unwrap().to_owned();
    let (s, spare) = call(
        "post",
        "/api/v2/assets",
        "/assets".into(),
        Some(json!({"name": "Spare", "code": "SPARE", "fractions": 1})),
    )
    .await;
    assert_eq!(s, 201);
    let spare = spare["id"].as_str().unwrap().to_owned();
    call("get", "/api/v2/project", "/project".into(), None).await;
    call("get", "/api/v2/assets", "/assets?page=0&pageSize=5".into(), None).await;
    call("get", "/api/v2/assets/{assetId}", format!("/assets/{gold}"), None).await;
    call(
        "put",
        "/api/v2/assets/{assetId}/name",
        format!("/assets/{gold}/name"),
        Some(json!({"name": "Gold coins"})),
    )
    .await;
    assert_eq!(
        call(
            "delete",
            "/api/v2/assets/{assetId}",
            format!("/assets/{spare}"),
            None
        )
        .await
        .0,
        204
    );
    call(
        "post",
        "/api/v2/customers",
        "/customers".into(),
        Some(json!({"id": "alice", "name": "Alice"})),
    )
    .await;
    call(
        "put",
        "/api/v2/customers/{customerId}",
        "/customers/bob".into(),
        Some(json!({"description": "Bob"})),
    )
    .await;
    call("get", "/api/v2/customers", "/customers".into(), None).await;
    call(
        "get",
        "/api/v2/customers/{customerId}",
        "/customers/alice".into(),
        None,
    )
    .await;
    let (_, wallet) = call(
        "post",
        "/api/v2/wallets",
        "/wallets".into(),
        Some(json!({"customerId": "alice", "assetId": gold})),
    )
    .await;
    let alice = wallet["id"].as_str().unwrap().to_owned();
    let (_, wallet) = call(
        "post",
        "/api/v2/system-wallets",
        "/system-wallets".into(),
        Some(json!({"assetId": gold, "name": "fees"})),
    )
    .await;
    let fees = wallet["id"].as_str().unwrap().to_owned();
    call("get", "/api/v2/system-wallets", "/system-wallets".into(), None).await;
    call(
        "get",
        "/api/v2/customers/{customerId}/wallets",
        "/customers/alice/wallets".into(),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/wallets/{walletId}",
        format!("/wallets/{alice}"),
        None,
    )
    .await;
    call(
        "put",
        "/api/v2/wallets/{walletId}/name",
        format!("/wallets/{alice}/name"),
        Some(json!({"name": "Main"})),
    )
    .await;
    call(
        "put",
        "/api/v2/wallets/{walletId}/description",
        format!("/wallets/{alice}/description"),
        Some(json!({"description": "Everyday"})),
    )
    .await;
    let tx = json!({"referenceId": "t1", "operations": [
        {"type": "Issue", "destination": alice, "amount": 1000},
        {"type": "Transfer", "source": alice, "destination": fees, "amount": 150},
        {"type": "Redeem", "source": alice, "amount": 50}]});
    let (s, completed) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(tx.clone()),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call("post", "/api/v2/transactions", "/transactions".into(), Some(tx)).await;
    assert_eq!(s, 409, "duplicate");
    // Holds: placed with a Transfer, captured in part, voided; the replies list them.
    let (s, placed) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "h1", "operations": [
            {"type": "Hold", "source": alice, "destination": fees, "amount": 100, "holdId": "order",
             "expiresAt": 4_102_444_800_000_i64},
            {"type": "Hold", "source": alice, "amount": 10},
            {"type": "Transfer", "source": alice, "destination": fees, "amount": 1}]})),
    )
    .await;
    assert_eq!(s, 201, "{placed}");
    let unnamed = placed["holds"][1]["id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "h2", "operations": [
            {"type": "Capture", "hold": "order", "amount": 40},
            {"type": "Void", "hold": unnamed}]})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "h3", "operations": [{"type": "Capture", "hold": unnamed}]})),
    )
    .await;
    assert_eq!(s, 409, "a voided hold");
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "h1", "operations": [{"type": "Void", "hold": "order"}]})),
    )
    .await;
    assert_eq!(s, 409, "duplicate, with the holds it placed");
    call("get", "/api/v2/holds/{holdId}", "/holds/order".into(), None).await;
    call(
        "get",
        "/api/v2/wallets/{walletId}/holds",
        format!("/wallets/{alice}/holds?status=Open&pageSize=5"),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/wallets/{walletId}/balance",
        format!("/wallets/{alice}/balance?at=4102444800000"),
        None,
    )
    .await;
    call(
        "put",
        "/api/v2/wallets/{walletId}/credit-limit",
        format!("/wallets/{fees}/credit-limit"),
        Some(json!({"creditLimit": 25})),
    )
    .await;
    let (s, _) = call("get", "/api/v2/holds/{holdId}", "/holds/nope".into(), None).await;
    assert_eq!(s, 404);
    let failing =
        json!({"referenceId": "t2", "operations": [{"type": "Redeem", "source": alice, "amount": 999999}]});
    let (s, failed) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(failing),
    )
    .await;
    assert_eq!((s, failed["status"].as_str()), (409, Some("Failed")));
    // Lots: one far away, one the server expires in a moment (an ExpireLot
    // transaction and an Expire entry, read below).
    let soon = crate::app::v2::now_ms() + 300;
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "l1", "operations": [
            {"type": "Issue", "destination": alice, "amount": 30, "expiresAt": 4_102_444_800_000_i64},
            {"type": "Issue", "destination": alice, "amount": 5, "expiresAt": soon}]})),
    )
    .await;
    assert_eq!(s, 201);
    let deadline = crate::app::v2::now_ms() + 5_000;
    loop {
        let (_, page) = call(
            "get",
            "/api/v2/wallets/{walletId}/lots",
            format!("/wallets/{alice}/lots?status=Expired&pageSize=5"),
            None,
        )
        .await;
        if page["total"] == 1 {
            break;
        }
        assert!(
            crate::app::v2::now_ms() < deadline,
            "the lot never expired: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    call(
        "get",
        "/api/v2/wallets/{walletId}/lots",
        format!("/wallets/{alice}/lots"),
        None,
    )
    .await;
    let (_, shown) = call(
        "get",
        "/api/v2/wallets/{walletId}",
        format!("/wallets/{alice}"),
        None,
    )
    .await;
    assert_eq!(shown["expiring"][0]["amount"], 30, "{shown}");
    let (s, _) = call(
        "get",
        "/api/v2/wallets/{walletId}/lots",
        format!("/wallets/{alice}/lots?status=Gone"),
        None,
    )
    .await;
    assert_eq!(s, 400);
    call(
        "get",
        "/api/v2/transactions/{txId}",
        format!("/transactions/{}", completed["id"].as_str().unwrap()),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/transactions",
        "/transactions?from=0&pageSize=10".into(),
        None,
    )
    .await;
    let batch = json!({"transactions": [
        {"referenceId": "t3", "operations": [{"type": "Issue", "destination": alice, "amount": 5}]},
        {"referenceId": "t3", "operations": [{"type": "Issue", "destination": alice, "amount": 5}]},
        {"referenceId": "t4", "operations": [{"type": "Issue", "destination": alice, "amount": 0}]}]});
    let (s, _) = call(
        "post",
        "/api/v2/transactions/batch",
        "/transactions/batch".into(),
        Some(batch),
    )
    .await;
    assert_eq!(s, 200);
    call(
        "get",
        "/api/v2/wallets/{walletId}/entries",
        format!("/wallets/{alice}/entries?from=0"),
        None,
    )
    .await;
    // Items: granted, moved, changed and consumed; the replies list them,
    // a duplicate and a failure too; every read of them.
    let (s, granted) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "i1", "operations": [
            {"type": "GrantItem", "itemType": "sword", "customerId": "alice", "itemId": "sword",
             "properties": {"damage": 7}},
            {"type": "GrantItem", "itemType": "crate"},
            {"type": "TransferItem", "item": "sword", "to": null, "from": "alice"},
            {"type": "SetItemProperties", "item": "sword", "properties": [1, "two", null]},
            {"type": "TransferItem", "item": "sword", "to": "alice"}]})),
    )
    .await;
    assert_eq!(s, 201, "{granted}");
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "i1", "operations": [{"type": "ConsumeItem", "item": "sword"}]})),
    )
    .await;
    assert_eq!(s, 409, "duplicate, with the items it touched");
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "i2", "operations": [
            {"type": "ConsumeItem", "item": "sword", "from": null}]})),
    )
    .await;
    assert_eq!(s, 409, "a wrong owner is a Failed transaction");
    let (s, _) = call(
        "post",
        "/api/v2/transactions",
        "/transactions".into(),
        Some(json!({"referenceId": "i3", "operations": [
            {"type": "ConsumeItem", "item": "sword", "from": "alice"}]})),
    )
    .await;
    assert_eq!(s, 201);
    call("get", "/api/v2/items/{itemId}", "/items/sword".into(), None).await;
    call(
        "get",
        "/api/v2/items/{itemId}/history",
        "/items/sword/history?pageSize=3".into(),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/items",
        "/items?owner=stock&itemType=crate&status=Active".into(),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/customers/{customerId}/items",
        "/customers/alice/items?status=Consumed".into(),
        None,
    )
    .await;
    call(
        "get",
        "/api/v2/transactions/{txId}",
        format!("/transactions/{}", granted["id"].as_str().unwrap()),
        None,
    )
    .await;
    let (s, _) = call("get", "/api/v2/items/{itemId}", "/items/nope".into(), None).await;
    assert_eq!(s, 404);
    let (s, _) = call("get", "/api/v2/items", "/items?owner=someone".into(), None).await;
    assert_eq!(s, 400);
    let (s, created_key) = call(
        "post",
        "/api/v2/customers/{customerId}/keys",
        "/customers/alice/keys".into(),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 201);
    let key_id = created_key["id"].as_str().unwrap().to_owned();
    call(
        "get",
        "/api/v2/customers/{customerId}/keys",
        "/customers/alice/keys".into(),
        None,
    )
    .await;
    assert_eq!(
        call(
            "delete",
            "/api/v2/customers/{customerId}/keys/{keyId}",
            format!("/customers/alice/keys/{key_id}"),
            None
        )
        .await
        .0,
        204
    );
    call(
        "post",
        "/api/v2/customers/{customerId}/suspend",
        "/customers/bob/suspend".into(),
        None,
    )
    .await;
    call(
        "post",
        "/api/v2/customers/{customerId}/resume",
        "/customers/bob/resume".into(),
        Some(json!({"walletIds": []})),
    )
    .await;
    call(
        "put",
        "/api/v2/wallets/{walletId}/status",
        format!("/wallets/{alice}/status"),
        Some(json!("Suspended")),
    )
    .await;
    call(
        "delete",
        "/api/v2/customers/{customerId}",
        "/customers/bob".into(),
        None,
    )
    .await;
    // Events and webhooks (a receiver on 127.0.0.1 that is not there: its
    // deliveries fail, locally).
    let (s, feed) = call("get", "/api/v2/events", "/events?limit=5".into(), None).await;
    assert_eq!(s, 200);
    assert_eq!(feed["events"].as_array().unwrap().len(), 5);
    // The stream's 200 is text/event-stream (tests/api/events_feed.rs reads
    // it); its refusals are this API's errors.
    let (s, _) = call(
        "get",
        "/api/v2/events/stream",
        "/events/stream?types=nope".into(),
        None,
    )
    .await;
    assert_eq!(s, 400);
    let stream_200 = &doc["paths"]["/api/v2/events/stream"]["get"]["responses"]["200"]["content"];
    assert!(stream_200["text/event-stream"].is_object(), "{stream_200}");
    let (s, hook) = call(
        "post",
        "/api/v2/webhooks",
        "/webhooks".into(),
        Some(json!({"url": "http://127.0.0.1:9/hook", "types": ["customer.created"]})),
    )
    .await;
    assert_eq!(s, 201);
    let hook = hook["id"].as_str().unwrap().to_owned();
    call("get", "/api/v2/webhooks", "/webhooks".into(), None).await;
    call(
        "get",
        "/api/v2/webhooks/{webhookId}",
        format!("/webhooks/{hook}"),
        None,
    )
    .await;
    call(
        "post",
        "/api/v2/customers",
        "/customers".into(),
        Some(json!({"id": "hooked"})),
    )
    .await;
    let (s, rows) = call(
        "get",
        "/api/v2/webhooks/{webhookId}/deliveries",
        format!("/webhooks/{hook}/deliveries"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(!rows["items"].as_array().unwrap().is_empty(), "{rows}");
    let (s, _) = call(
        "post",
        "/api/v2/webhooks/{webhookId}/replay",
        format!("/webhooks/{hook}/replay"),
        Some(json!({"after": 0})),
    )
    .await;
    assert_eq!(s, 202);
    let (s, _) = call(
        "delete",
        "/api/v2/webhooks/{webhookId}",
        format!("/webhooks/{hook}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    // Errors match the declared error schema too.
    let (s, _) = call(
        "get",
        "/api/v2/wallets/{walletId}",
        "/wallets/999999".into(),
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = call("get", "/api/v2/wallets", "/wallets".into(), None).await;
    assert_eq!(s, 403, "GET /wallets is for customer keys");

    let all: std::collections::BTreeSet<_> = OPERATIONS.iter().copied().collect();
    let missed: Vec<_> = all.difference(&seen).collect();
    assert!(missed.is_empty(), "operations not exercised: {missed:?}");
    app.assert_invariants().await;
}
