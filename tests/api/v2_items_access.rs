//! Customer keys read only the items their customer owns now, and write
//! none (`spec/items.md`, "Tests must show"): another customer's item, a
//! stock item and a missing one are the same 403, body and all, as for
//! wallets (`v2_customer_privacy.rs`); the stock list is refused; posting
//! an item operation is refused and changes nothing.

use crate::app::spawn_app;
use crate::app::v2::{ctx, next_ref, Failures};
use crate::v2_items::{consume, grant, item_of, move_to};
use serde_json::{json, Value};

#[tokio::test]
async fn a_customer_key_reads_only_its_own_items_and_writes_none() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    c.customer(&app, "bob").await;
    c.tx_ok(
        &app,
        vec![
            grant("sword", Some("alice"), "mine"),
            grant("shield", Some("bob"), "theirs"),
            grant("potion", None, "shelf"),
        ],
    )
    .await;
    app.create_project("elsewhere").await;
    let e = ctx(&app, "elsewhere").await;
    e.customer(&app, "carol").await;
    e.tx_ok(&app, vec![grant("ring", Some("carol"), "far")]).await;
    let minted = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await;
    let ck = minted["token"].as_str().unwrap().to_owned();
    let mut failures = Failures::default();

    // Its own are readable: the 403s below are not a broken key.
    for path in ["/items/mine", "/items/mine/history", "/customers/alice/items"] {
        let (status, body) = app.v2("GET", path, Some(&ck), None).await;
        failures.check(status == 200, path, format!("own: {status} {body}"));
    }
    let (_, own) = app.v2("GET", "/customers/alice/items", Some(&ck), None).await;
    failures.check(
        own["items"].as_array().map(Vec::len) == Some(1) && own["items"][0]["id"] == "mine",
        "own list",
        &own,
    );

    // Another customer's, the stock's, another project's, missing ones and
    // ids that cannot exist: one identical 403.
    let mut denials: Vec<(String, Value)> = Vec::new();
    let items = ["theirs", "shelf", "far", "nope", &"x".repeat(65), "a%0Ab"];
    for item in items {
        for path in [format!("/items/{item}"), format!("/items/{item}/history")] {
            let reply = app.v2("GET", &path, Some(&ck), None).await;
            failures.error(&path, &reply, 403, "ACCESS_DENIED");
            denials.push((path, reply.1));
        }
    }
    for customer in ["bob", "carol", "nobody", &"x".repeat(65)] {
        let path = format!("/customers/{customer}/items");
        let reply = app.v2("GET", &path, Some(&ck), None).await;
        failures.error(&path, &reply, 403, "ACCESS_DENIED");
        denials.push((path, reply.1));
    }
    let first = denials[0].1.clone();
    for (path, body) in &denials {
        failures.check(*body == first, path, format!("{body} differs from {first}"));
    }
    let reply = app.v2("GET", "/items?owner=stock", Some(&ck), None).await;
    failures.error("the stock list", &reply, 403, "ACCESS_DENIED");

    // Writes: every item operation, alone and in a batch, is refused.
    let before = c.transaction_total(&app).await;
    let attempts = [
        grant("sword", Some("alice"), "forged"),
        move_to("theirs", Some("alice")),
        move_to("mine", Some("bob")),
        consume("mine"),
        json!({ "type": "SetItemProperties", "item": "mine", "properties": { "damage": 999 } }),
    ];
    for op in &attempts {
        let body = json!({ "referenceId": next_ref("ck"), "operations": [op] });
        let reply = app.v2("POST", "/transactions", Some(&ck), Some(&body)).await;
        failures.error(&format!("POST {op}"), &reply, 403, "ACCESS_DENIED");
        let batch = json!({ "transactions": [body] });
        let reply = app
            .v2("POST", "/transactions/batch", Some(&ck), Some(&batch))
            .await;
        failures.error(&format!("batch {op}"), &reply, 403, "ACCESS_DENIED");
    }
    failures.assert_none();
    assert_eq!(c.transaction_total(&app).await, before, "nothing was recorded");
    let mine = item_of(&app, &c, "mine").await;
    assert_eq!(
        (&mine["customerId"], &mine["status"], &mine["properties"]),
        (&json!("alice"), &json!("Active"), &Value::Null),
        "{mine}"
    );
    let (status, _) = c.get(&app, "/items/forged").await;
    assert_eq!(status, 404, "nothing was granted");

    // Reading follows the current owner: moved to bob, alice's key no longer
    // reads it, nor its history.
    c.tx_ok(&app, vec![move_to("mine", Some("bob"))]).await;
    for path in ["/items/mine", "/items/mine/history"] {
        let reply = app.v2("GET", path, Some(&ck), None).await;
        assert_eq!(reply, (403, first.clone()), "{path} after the move");
    }
    let (_, own) = app.v2("GET", "/customers/alice/items", Some(&ck), None).await;
    assert_eq!(own["items"], json!([]), "{own}");
    app.assert_invariants().await;
}
