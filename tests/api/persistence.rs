//! What was acknowledged survives a restart of the server.

use crate::app::{json_of, spawn_app};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_restart() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "keeper", 70).await;
    let item = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "keeper", "amount": -20, "reason": "x", "item": {"name": "Cap"} }),
        )
        .await;
    assert_eq!(item.status().as_u16(), 200);

    let app = app.restart().await;
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
