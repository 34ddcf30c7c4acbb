//! What was acknowledged survives a restart of the server.

use serde_json::json;
use wallet_testkit::app::{json_of, spawn_app_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wallet.db");
    let app = spawn_app_at(&db).await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "keeper", 70).await;
    let item = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "keeper", "amount": -20, "reason": "x", "item": {"name": "Cap"} }),
        )
        .await;
    assert_eq!(item.status().as_u16(), 200);
    app.stop().await;

    let app = spawn_app_at(&db).await;
    assert_eq!(
        app.total(&a.token, "keeper").await,
        Some(50),
        "the same authority and balance after restart"
    );
    let (status, inventory) =
        json_of(app.get(&a.token, "/api/v1/entry/inventory?user_ids=keeper").await).await;
    assert_eq!(status, 200);
    assert_eq!(inventory["inventory"][0]["item"]["name"], "Cap");
    app.assert_invariants().await;
    app.stop().await;
}
