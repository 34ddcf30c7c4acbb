//! Customer keys stop working when their customer is deleted.

use serde_json::json;
use wallet_testkit::app::spawn_app;

#[tokio::test]
async fn a_deleted_customers_keys_open_nothing() {
    let app = spawn_app().await;
    let key = app.access_key("default").await;
    app.v2("POST", "/customers", Some(&key), Some(&json!({ "id": "leaver" })))
        .await;
    let (_, wallet) = app
        .v2(
            "POST",
            "/wallets",
            Some(&key),
            Some(&json!({ "customerId": "leaver", "assetId": "1" })),
        )
        .await;
    let wallet = wallet["id"].as_str().unwrap().to_owned();
    let (_, minted) = app
        .v2("POST", "/customers/leaver/keys", Some(&key), Some(&json!({})))
        .await;
    let customer_key = minted["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.v2("GET", "/wallets", Some(&customer_key), None).await.0,
        200,
        "the key works"
    );

    let (status, _) = app
        .v2(
            "PUT",
            &format!("/wallets/{wallet}/status"),
            Some(&key),
            Some(&json!("Closed")),
        )
        .await;
    assert_eq!(status, 200);
    let (status, deleted) = app.v2("DELETE", "/customers/leaver", Some(&key), None).await;
    assert_eq!((status, deleted["status"].as_str()), (200, Some("Deleted")));

    let (status, body) = app.v2("GET", "/wallets", Some(&customer_key), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (401, Some("ILLEGAL_TOKEN")),
        "{body}"
    );
}
