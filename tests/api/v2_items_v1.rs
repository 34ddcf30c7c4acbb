//! API v1's items are API v2's items (`spec/items.md`, "API v1 is the same
//! ledger"): an entry's item shows in v2 with its `v1EntryId`; consumed in
//! either API it is used in both; moved through v2, v1's inventory names its
//! new owner (and no longer lists it once it is in the stock); items granted
//! through v2 never show in v1.

use crate::app::v2::{assert_failed, ctx, next_ref, Ctx};
use crate::app::{json_of, spawn_app, TestApp};
use crate::v2_items::{consume, get_text, grant, history_of, item_of, move_from, move_to};
use serde_json::{json, Value};

/// Posts a v1 entry of 0 that carries `item` (raw JSON text); returns the
/// entry.
async fn v1_item(app: &TestApp, token: &str, user: &str, item: &str) -> Value {
    let body = format!(r#"{{"user_id": "{user}", "amount": 0, "reason": "loot", "item": {item}}}"#);
    let response = app
        .client
        .post(app.url("/api/v1/entry"))
        .header("Authorization", token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    let (status, body) = json_of(response).await;
    assert_eq!(status, 200, "create_entry: {body}");
    body["entry"].clone()
}

/// The v1 inventory lines of these filters (`used` absent: all).
async fn inventory(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (status, body) = json_of(app.get(token, &format!("/api/v1/entry/inventory?{query}")).await).await;
    assert_eq!(status, 200, "inventory?{query}: {body}");
    body["inventory"].as_array().expect("inventory").clone()
}

async fn use_item(app: &TestApp, token: &str, entry: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/entry/{entry}/inventory/use")))
        .header("Authorization", token)
        .send()
        .await
        .expect("sent");
    json_of(response).await
}

/// The v2 item an entry granted: the one of its owner's items with this
/// `v1EntryId`.
async fn item_of_entry(app: &TestApp, c: &Ctx, owner: &str, entry: &str) -> Value {
    let page = c
        .get_ok(app, &format!("/customers/{owner}/items?pageSize=1000"))
        .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["v1EntryId"] == entry)
        .unwrap_or_else(|| panic!("no item of entry {entry} among {owner}'s: {page}"))
        .clone()
}

#[tokio::test]
async fn v1_and_v2_see_the_same_items() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;

    // Granted in v1: v2 shows it, its data exactly as its properties.
    let data = r#"{"hp": 123456789012345678901234567890, "x": 1.50}"#;
    let potion = v1_item(
        &app,
        &a.token,
        "alice",
        &format!(r#"{{"name": "Potion", "data": {data}}}"#),
    )
    .await;
    let entry = potion["entry_id"].as_str().unwrap().to_owned();
    let item = item_of_entry(&app, &c, "alice", &entry).await;
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            &item["itemType"],
            &item["customerId"],
            &item["status"],
            &item["v1EntryId"]
        ),
        (&json!("Potion"), &json!("alice"), &json!("Active"), &json!(entry)),
        "{item}"
    );
    let (_, text) = get_text(&app, &c.key, &format!("/items/{id}")).await;
    assert!(text.contains(&format!(r#""properties":{data}"#)), "{text}");
    let steps = history_of(&app, &c, &id).await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(
        (&steps[0]["type"], &steps[0]["to"]),
        (&json!("GrantItem"), &json!("alice"))
    );
    assert!(
        steps[0]["transactionId"].is_string(),
        "the entry's transaction: {steps:?}"
    );

    // Consumed in v2: v1 shows it used, and will not use it again.
    c.tx_ok(&app, vec![consume(&id)]).await;
    let lines = inventory(
        &app,
        &a.token,
        &format!("entry_ids={entry}&user_ids=&authority_ids="),
    )
    .await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["item"]["used"], true, "{lines:?}");
    assert_eq!(lines[0]["user_id"], "alice");
    let used = inventory(&app, &a.token, &format!("entry_ids={entry}&used=true")).await;
    assert_eq!(used.len(), 1, "used=true lists it: {used:?}");
    assert!(
        inventory(&app, &a.token, &format!("entry_ids={entry}&used=false"))
            .await
            .is_empty()
    );
    let (status, body) = use_item(&app, &a.token, &entry).await;
    assert_eq!(
        status, 409,
        "used through v2, it cannot be used through v1: {body}"
    );

    // Used in v1: v2 shows it Consumed, with the step in its history, and
    // refuses to consume it again.
    let shield = v1_item(&app, &a.token, "alice", r#"{"name": "Shield"}"#).await;
    let entry = shield["entry_id"].as_str().unwrap().to_owned();
    let id = item_of_entry(&app, &c, "alice", &entry).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        item_of(&app, &c, &id).await["properties"],
        Value::Null,
        "no data: null"
    );
    let (status, body) = use_item(&app, &a.token, &entry).await;
    assert_eq!(
        (status, &body["entry"]["item"]["used"]),
        (200, &json!(true)),
        "{body}"
    );
    let item = item_of(&app, &c, &id).await;
    assert_eq!(
        (&item["status"], &item["customerId"]),
        (&json!("Consumed"), &json!("alice"))
    );
    let steps = history_of(&app, &c, &id).await;
    let kinds: Vec<&Value> = steps.iter().map(|s| &s["type"]).collect();
    assert_eq!(kinds, [&json!("GrantItem"), &json!("ConsumeItem")], "{steps:?}");
    assert!(
        steps[1]["transactionId"].is_string(),
        "use_item is a transaction: {steps:?}"
    );
    let reply = c.tx(&app, &next_ref("v1"), vec![consume(&id)]).await;
    assert_failed("consume what v1 used", &reply, 409, "WRONG_ITEM_STATUS");

    // Moved through v2: v1's inventory names the new owner; v1 can still use
    // it (any authority of the project may), and v2 sees that.
    c.customer(&app, "bob").await;
    let ring = v1_item(&app, &a.token, "alice", r#"{"name": "Ring", "data": "gold"}"#).await;
    let entry = ring["entry_id"].as_str().unwrap().to_owned();
    let id = item_of_entry(&app, &c, "alice", &entry).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.tx_ok(&app, vec![move_from(&id, Some("alice"), Some("bob"))])
        .await;
    let lines = inventory(&app, &a.token, &format!("entry_ids={entry}")).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["user_id"], "bob", "the current owner: {lines:?}");
    assert_eq!(
        lines[0]["item"],
        json!({ "name": "Ring", "used": false, "data": "gold" })
    );
    let of = |user: &str| format!("user_ids={user}&entry_ids={entry}");
    assert_eq!(
        inventory(&app, &a.token, &of("bob")).await.len(),
        1,
        "listed under bob"
    );
    assert!(
        inventory(&app, &a.token, &of("alice")).await.is_empty(),
        "no longer alice's"
    );
    let b = app.create_authority("default").await;
    let (status, body) = use_item(&app, &b.token, &entry).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["entry"]["user_id"], "alice",
        "the entry's user stays the entry's: {body}"
    );
    let item = item_of(&app, &c, &id).await;
    assert_eq!(
        (&item["status"], &item["customerId"]),
        (&json!("Consumed"), &json!("bob"))
    );

    // In the stock, a v1 item is not in v1's inventory (v1 knows only users).
    let hat = v1_item(&app, &a.token, "alice", r#"{"name": "Hat"}"#).await;
    let entry = hat["entry_id"].as_str().unwrap().to_owned();
    let id = item_of_entry(&app, &c, "alice", &entry).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.tx_ok(&app, vec![move_to(&id, None)]).await;
    assert!(inventory(&app, &a.token, &format!("entry_ids={entry}"))
        .await
        .is_empty());

    // Granted through v2: v2 shows it, v1 never does.
    c.tx_ok(&app, vec![grant("Potion", Some("alice"), "v2-potion")])
        .await;
    let all = inventory(&app, &a.token, "user_ids=alice").await;
    assert!(
        all.iter()
            .all(|l| l["entry_id"].as_str().is_some_and(|e| !e.is_empty())),
        "{all:?}"
    );
    assert_eq!(
        all.len(),
        2,
        "alice's v1 items only (the potion and the shield): {all:?}"
    );
    assert_eq!(item_of(&app, &c, "v2-potion").await["v1EntryId"], Value::Null);
    app.assert_invariants().await;
}
