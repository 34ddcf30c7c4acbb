//! Items over HTTP (`spec/items.md`): GrantItem, TransferItem, ConsumeItem
//! and SetItemProperties in `POST /transactions` and the batch, the `items`
//! of the reply (duplicates too), the four reads, and properties kept byte
//! for byte. The spec's other promises are in `v2_items_trade` (a trade is
//! all-or-nothing; 32 racing sales), `v2_items_access` (customer keys),
//! `v2_items_v1` (API v1 and v2 agree) and `v2_items_errors` (every error
//! code, malformed bodies). The helpers below are theirs too.

use crate::app::v2::{ctx, issue, next_ref, Ctx};
use crate::app::{spawn_app, TestApp};
use serde_json::{json, Value};

/// A GrantItem with the caller's id (`customer` `None`: the stock).
pub fn grant(item_type: &str, customer: Option<&str>, id: &str) -> Value {
    json!({ "type": "GrantItem", "itemType": item_type, "customerId": customer, "itemId": id })
}

/// A TransferItem to `to` (`None`: the stock), with no owner check.
pub fn move_to(item: &str, to: Option<&str>) -> Value {
    json!({ "type": "TransferItem", "item": item, "to": to })
}

/// A TransferItem that requires the item's owner to be `from` now.
pub fn move_from(item: &str, from: Option<&str>, to: Option<&str>) -> Value {
    json!({ "type": "TransferItem", "item": item, "to": to, "from": from })
}

pub fn consume(item: &str) -> Value {
    json!({ "type": "ConsumeItem", "item": item })
}

pub fn consume_from(item: &str, from: Option<&str>) -> Value {
    json!({ "type": "ConsumeItem", "item": item, "from": from })
}

pub fn set_properties(item: &str, properties: Value) -> Value {
    json!({ "type": "SetItemProperties", "item": item, "properties": properties })
}

/// `GET /items/{id}`, which must answer 200.
pub async fn item_of(app: &TestApp, c: &Ctx, id: &str) -> Value {
    c.get_ok(app, &format!("/items/{id}")).await
}

/// The ids of the items a list answered, in order.
pub fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().expect("string id").to_owned())
        .collect()
}

/// The ids of a customer's items (one page of up to 1000).
pub async fn owned_by(app: &TestApp, c: &Ctx, customer: &str) -> Vec<String> {
    ids_of(
        &c.get_ok(app, &format!("/customers/{customer}/items?pageSize=1000"))
            .await,
    )
}

/// The ids of the project's stock (one page of up to 1000).
pub async fn stock(app: &TestApp, c: &Ctx) -> Vec<String> {
    ids_of(&c.get_ok(app, "/items?owner=stock&pageSize=1000").await)
}

/// An item's whole history, oldest first.
pub async fn history_of(app: &TestApp, c: &Ctx, id: &str) -> Vec<Value> {
    let page = c.get_ok(app, &format!("/items/{id}/history?pageSize=1000")).await;
    page["items"].as_array().expect("items").clone()
}

/// A GET answered as text, to see numbers exactly as sent.
pub async fn get_text(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(app.url(&format!("/api/v2{path}")))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The one item of `reply["items"]` with this id.
fn touched<'a>(reply: &'a Value, id: &str) -> &'a Value {
    reply["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {reply}"))
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("item {id} in {reply}"))
}

/// A history step without its time: `(transaction, type, from, to, properties)`.
fn step(s: &Value) -> (Value, Value, Value, Value, Value) {
    assert!(s["createdAt"].is_i64(), "{s}");
    let keys: Vec<&str> = s
        .as_object()
        .expect("a step")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["createdAt", "from", "properties", "to", "transactionId", "type"],
        "every field of a step, always: {s}"
    );
    (
        s["transactionId"].clone(),
        s["type"].clone(),
        s["from"].clone(),
        s["to"].clone(),
        s["properties"].clone(),
    )
}

#[tokio::test]
async fn an_item_is_granted_moved_changed_and_consumed_and_every_read_agrees() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    c.customer(&app, "bob").await;

    // A grant to a customer with the caller's id and properties, and one to
    // the stock with neither.
    let mut sword = grant("sword", Some("alice"), "sword-1");
    sword["properties"] = json!({ "damage": 7, "tags": ["sharp"] });
    let potion = json!({ "type": "GrantItem", "itemType": "potion" });
    let granted = c.tx_ok(&app, vec![sword, potion]).await;
    assert_eq!(granted["holds"], json!([]), "{granted}");
    assert_eq!(granted["items"].as_array().map(Vec::len), Some(2), "{granted}");
    let s = touched(&granted, "sword-1").clone();
    let keys: Vec<&String> = s.as_object().expect("an item").keys().collect();
    assert_eq!(
        keys.len(),
        8,
        "every field of an item, always: {s} (id, itemType, properties, customerId, status, createdAt, updatedAt, v1EntryId)"
    );
    assert_eq!(
        (
            &s["itemType"],
            &s["properties"],
            &s["customerId"],
            &s["status"],
            &s["v1EntryId"]
        ),
        (
            &json!("sword"),
            &json!({ "damage": 7, "tags": ["sharp"] }),
            &json!("alice"),
            &json!("Active"),
            &Value::Null
        ),
        "{s}"
    );
    assert!(s["createdAt"].is_i64() && s["createdAt"] == s["updatedAt"], "{s}");
    let p = granted["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["itemType"] == "potion")
        .unwrap_or_else(|| panic!("the potion in {granted}"))
        .clone();
    let potion_id = p["id"].as_str().unwrap().to_owned();
    assert!(
        potion_id.starts_with("it_") && potion_id.len() <= 64,
        "a server-made id: {potion_id}"
    );
    assert_eq!(
        (&p["customerId"], &p["properties"], &p["status"]),
        (&Value::Null, &Value::Null, &json!("Active")),
        "a stock item without properties: {p}"
    );
    assert_eq!(p.as_object().map(serde_json::Map::len), Some(8), "{p}");

    // Every read shows the same object.
    assert_eq!(item_of(&app, &c, "sword-1").await, s);
    assert_eq!(item_of(&app, &c, &potion_id).await, p);
    assert_eq!(
        c.get_ok(&app, "/customers/alice/items").await["items"],
        json!([s])
    );
    assert_eq!(c.get_ok(&app, "/items?owner=stock").await["items"], json!([p]));
    assert_eq!(owned_by(&app, &c, "bob").await, Vec::<String>::new());

    // The stored transaction shows the operations as posted (the server-made
    // id included).
    let t1 = granted["id"].as_str().unwrap().to_owned();
    let stored = c.get_ok(&app, &format!("/transactions/{t1}")).await;
    assert_eq!(
        stored["operations"],
        json!([
            {"type": "GrantItem", "itemType": "sword", "customerId": "alice",
             "properties": {"damage": 7, "tags": ["sharp"]}, "itemId": "sword-1"},
            {"type": "GrantItem", "itemType": "potion", "customerId": null, "itemId": potion_id},
        ]),
        "{stored}"
    );

    // Moves (one checked against its owner, one out of the stock with
    // `from: null`) and new properties, in one transaction.
    let moved = c
        .tx_ok(
            &app,
            vec![
                move_from("sword-1", Some("alice"), Some("bob")),
                set_properties("sword-1", json!({ "damage": 8 })),
                move_from(&potion_id, None, Some("alice")),
            ],
        )
        .await;
    let t2 = moved["id"].as_str().unwrap().to_owned();
    let s2 = touched(&moved, "sword-1");
    assert_eq!(
        (&s2["customerId"], &s2["properties"], &s2["status"]),
        (&json!("bob"), &json!({ "damage": 8 }), &json!("Active")),
        "{moved}"
    );
    assert!(
        s2["updatedAt"].as_i64() >= s2["createdAt"].as_i64() && s2["createdAt"] == s["createdAt"],
        "{s2}"
    );
    assert_eq!(touched(&moved, &potion_id)["customerId"], "alice");
    let stored = c.get_ok(&app, &format!("/transactions/{t2}")).await;
    assert_eq!(
        stored["operations"],
        json!([
            {"type": "TransferItem", "item": "sword-1", "to": "bob", "from": "alice"},
            {"type": "SetItemProperties", "item": "sword-1", "properties": {"damage": 8}},
            {"type": "TransferItem", "item": potion_id, "to": "alice", "from": null},
        ]),
        "absent `from` and `from: null` stay apart: {stored}"
    );
    assert_eq!(owned_by(&app, &c, "alice").await, vec![potion_id.clone()]);
    assert_eq!(owned_by(&app, &c, "bob").await, vec!["sword-1".to_owned()]);
    assert_eq!(stock(&app, &c).await, Vec::<String>::new());

    // Consumed, it keeps its owner and is final.
    let used = c.tx_ok(&app, vec![consume_from("sword-1", Some("bob"))]).await;
    let t3 = used["id"].as_str().unwrap().to_owned();
    let s3 = touched(&used, "sword-1").clone();
    assert_eq!(
        (&s3["status"], &s3["customerId"]),
        (&json!("Consumed"), &json!("bob"))
    );
    assert_eq!(item_of(&app, &c, "sword-1").await, s3);

    // The history replays it, oldest first.
    let steps: Vec<_> = history_of(&app, &c, "sword-1").await.iter().map(step).collect();
    let (seven, eight) = (json!({ "damage": 7, "tags": ["sharp"] }), json!({ "damage": 8 }));
    assert_eq!(
        steps,
        vec![
            (
                json!(t1),
                json!("GrantItem"),
                Value::Null,
                json!("alice"),
                seven.clone()
            ),
            (
                json!(t2),
                json!("TransferItem"),
                json!("alice"),
                json!("bob"),
                seven
            ),
            (
                json!(t2),
                json!("SetItemProperties"),
                json!("bob"),
                json!("bob"),
                eight.clone()
            ),
            (json!(t3), json!("ConsumeItem"), json!("bob"), json!("bob"), eight),
        ]
    );
    let second = c.get_ok(&app, "/items/sword-1/history?page=1&pageSize=3").await;
    assert_eq!(
        (&second["total"], &second["page"], &second["pageSize"]),
        (&json!(4), &json!(1), &json!(3)),
        "{second}"
    );
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["items"][0]["type"], "ConsumeItem");

    // Filters and pages of a customer's items, oldest first.
    for n in 0..3 {
        c.tx_ok(&app, vec![grant("arrow", Some("bob"), &format!("arrow-{n}"))])
            .await;
    }
    let bob = |query: &str| format!("/customers/bob/items?{query}");
    let cases = [
        ("", vec!["sword-1", "arrow-0", "arrow-1", "arrow-2"]),
        ("status=Active", vec!["arrow-0", "arrow-1", "arrow-2"]),
        ("status=Consumed", vec!["sword-1"]),
        ("itemType=arrow&pageSize=2", vec!["arrow-0", "arrow-1"]),
        ("itemType=arrow&pageSize=2&page=1", vec!["arrow-2"]),
        ("itemType=sword&status=Active", vec![]),
        ("itemType=shield", vec![]),
    ];
    for (query, expected) in cases {
        let page = c.get_ok(&app, &bob(query)).await;
        assert_eq!(ids_of(&page), expected, "GET {}: {page}", bob(query));
    }
    let page = c.get_ok(&app, &bob("itemType=arrow&pageSize=2")).await;
    assert_eq!(
        (&page["total"], &page["pageSize"]),
        (&json!(3), &json!(2)),
        "{page}"
    );

    // A transaction without items lists none; a duplicate lists the stored
    // transaction's items as they are now.
    let wallet = c.wallet(&app, "alice", &c.asset).await;
    assert_eq!(c.tx_ok(&app, vec![issue(&wallet, 1)]).await["items"], json!([]));
    let reference = next_ref("dup");
    let first = c
        .tx(&app, &reference, vec![grant("gem", Some("alice"), "gem-1")])
        .await;
    assert_eq!(first.0, 201, "{first:?}");
    c.tx_ok(&app, vec![move_to("gem-1", None)]).await;
    let (status, again) = c
        .tx(&app, &reference, vec![grant("gem", Some("alice"), "gem-1")])
        .await;
    assert_eq!(
        (status, &again["status"]),
        (409, &json!("DuplicateReferenceId")),
        "{again}"
    );
    let now = &again["transaction"]["items"];
    assert_eq!(now.as_array().map(Vec::len), Some(1), "{again}");
    assert_eq!(now[0]["id"], "gem-1");
    assert_eq!(now[0]["customerId"], Value::Null, "as it is now: in the stock");
    assert_eq!(stock(&app, &c).await, vec!["gem-1".to_owned()]);

    // Granted and moved in one transaction: operations run in order.
    let both = c
        .tx_ok(
            &app,
            vec![grant("key", None, "key-1"), move_from("key-1", None, Some("bob"))],
        )
        .await;
    assert_eq!(touched(&both, "key-1")["customerId"], "bob");
    let steps: Vec<_> = history_of(&app, &c, "key-1").await.iter().map(step).collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(
        (&steps[0].3, &steps[1].2, &steps[1].3),
        (&Value::Null, &Value::Null, &json!("bob"))
    );
    app.assert_invariants().await;
}

#[tokio::test]
async fn properties_come_back_byte_for_byte_from_every_read() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    // Integers beyond every machine type, a trailing zero, an exponent, an
    // escape, and spacing: none of it may be respelled.
    let sent = r#"{"serial": 123456789012345678901234567890, "neg": -98765432109876543210987654321, "price": 1.50, "e": 1E+3, "name": "\u00e9p\u00e9e"}"#;
    let changed = r#"[18446744073709551616, 0.10, -0]"#;
    let body = format!(
        r#"{{"referenceId": "{}", "operations": [
            {{"type": "GrantItem", "itemType": "relic", "customerId": "alice", "itemId": "relic-1", "properties": {sent}}},
            {{"type": "GrantItem", "itemType": "relic", "itemId": "relic-2", "properties": {sent}}}]}}"#,
        next_ref("exact")
    );
    let response = app
        .client
        .post(app.url("/api/v2/transactions"))
        .header("Authorization", format!("Bearer {}", c.key))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 201);
    let reply = response.text().await.expect("body");
    let exact = format!(r#""properties":{sent}"#);
    assert_eq!(
        reply.matches(&exact).count(),
        4,
        "the reply, in its operations and its items: {reply}"
    );
    let t1 = serde_json::from_str::<Value>(&reply).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let set = format!(
        r#"{{"referenceId": "{}", "operations": [{{"type": "SetItemProperties", "item": "relic-1", "properties": {changed}}}]}}"#,
        next_ref("exact")
    );
    let response = app
        .client
        .post(app.url("/api/v2/transactions"))
        .header("Authorization", format!("Bearer {}", c.key))
        .header("Content-Type", "application/json")
        .body(set)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 201);
    let t2 = serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = format!(r#""properties":{changed}"#);

    // (read, text that must appear, times)
    let reads = [
        ("/items/relic-1".to_owned(), &now, 1),
        ("/items/relic-2".to_owned(), &exact, 1),
        ("/customers/alice/items".to_owned(), &now, 1),
        ("/items?owner=stock".to_owned(), &exact, 1),
        ("/items/relic-1/history".to_owned(), &exact, 1),
        ("/items/relic-1/history".to_owned(), &now, 1),
        (format!("/transactions/{t1}"), &exact, 2),
        (format!("/transactions/{t2}"), &now, 1),
    ];
    for (path, text, times) in reads {
        let (status, body) = get_text(&app, &c.key, &path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        assert_eq!(
            body.matches(text.as_str()).count(),
            times,
            "GET {path} keeps {text}: {body}"
        );
    }
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_batch_carries_item_operations_each_with_its_own_result() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    c.customer(&app, "bob").await;
    let wallet = c.wallet(&app, "bob", &c.asset).await;
    let tx = |reference: String, operations: Vec<Value>| json!({ "referenceId": reference, "operations": operations });
    let batch = json!({ "transactions": [
        tx(next_ref("b"), vec![grant("ticket", Some("alice"), "seat-1")]),
        tx(next_ref("b"), vec![grant("ticket", Some("bob"), "seat-1")]),
        tx(next_ref("b"), vec![move_to("no-such-seat", Some("bob"))]),
        tx(next_ref("b"), vec![json!({ "type": "TransferItem", "item": "seat-1" })]),
        tx(next_ref("b"), vec![issue(&wallet, 5), move_from("seat-1", Some("alice"), Some("bob"))]),
    ]});
    let reply = c.call(&app, "POST", "/transactions/batch", batch, 200).await;
    let results = reply["results"].as_array().expect("results");
    let statuses: Vec<&Value> = results.iter().map(|r| &r["httpStatus"]).collect();
    assert_eq!(
        statuses,
        [&json!(201), &json!(409), &json!(404), &json!(400), &json!(201)],
        "{reply}"
    );
    assert_eq!(results[0]["body"]["items"][0]["customerId"], "alice", "{reply}");
    assert_eq!(
        (
            &results[1]["body"]["status"],
            &results[1]["body"]["error"],
            &results[1]["body"]["items"]
        ),
        (&json!("Failed"), &json!("CONFLICT"), &json!([])),
        "{reply}"
    );
    assert_eq!(results[2]["body"]["status"], "ITEM_NOT_FOUND", "{reply}");
    assert_eq!(results[3]["body"]["status"], "VALIDATION_ERROR", "{reply}");
    let last = &results[4]["body"];
    assert_eq!(
        (&last["items"][0]["id"], &last["items"][0]["customerId"]),
        (&json!("seat-1"), &json!("bob"))
    );
    assert_eq!(c.balance(&app, &wallet).await, 5);
    assert_eq!(history_of(&app, &c, "seat-1").await.len(), 2);
    assert_eq!(owned_by(&app, &c, "alice").await, Vec::<String>::new());
    app.assert_invariants().await;
}
