//! Every item error over HTTP, as `spec/items.md` and `docs/api-v2.md`
//! ("Items") answer it, and each changes nothing: an unknown item or
//! customer is refused before anything is recorded (404); a recorded
//! failure is a Failed transaction (409); a malformed body is a 400.

use crate::app::v2::{assert_error, ctx, issue, next_ref, Ctx, Failures};
use crate::app::{spawn_app, TestApp};
use crate::v2_items::{consume, consume_from, grant, item_of, move_from, move_to, set_properties, stock};
use serde_json::{json, Value};

/// What a refused request must leave as it was: these items, the stock, a
/// wallet's balance and the number of transactions.
async fn state(app: &TestApp, c: &Ctx, items: &[&str], wallet: &str) -> (Vec<Value>, Vec<String>, i64, i64) {
    let mut all = Vec::new();
    for id in items {
        all.push(item_of(app, c, id).await);
    }
    let balance = c.balance(app, wallet).await;
    (all, stock(app, c).await, balance, c.transaction_total(app).await)
}

#[tokio::test]
async fn every_item_error_is_answered_as_the_spec_says_and_changes_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    for customer in ["bob", "sus", "gone"] {
        c.customer(&app, customer).await;
    }
    let wallet = c.customer_wallet(&app, "alice").await;
    c.tx_ok(
        &app,
        vec![
            grant("sword", Some("alice"), "mine"),
            grant("potion", Some("alice"), "done"),
            consume("done"),
            grant("crate", None, "shelf"),
            grant("cloak", Some("sus"), "sus-item"),
        ],
    )
    .await;
    c.call(&app, "POST", "/customers/sus/suspend", Value::Null, 200)
        .await;
    c.call(&app, "DELETE", "/customers/gone", Value::Null, 200).await;
    let watched = ["mine", "done", "shelf", "sus-item"];
    let long = "x".repeat(65);

    // (case, operations, HTTP, recorded as Failed with this error | refused with this status)
    let cases: Vec<(&str, Vec<Value>, u16, bool, &str)> = vec![
        (
            "move an unknown item",
            vec![move_to("nope", Some("bob"))],
            404,
            false,
            "ITEM_NOT_FOUND",
        ),
        (
            "consume an unknown item",
            vec![consume("nope")],
            404,
            false,
            "ITEM_NOT_FOUND",
        ),
        (
            "change an unknown item",
            vec![set_properties("nope", json!(1))],
            404,
            false,
            "ITEM_NOT_FOUND",
        ),
        (
            "an item id that cannot exist",
            vec![move_to(&long, None)],
            404,
            false,
            "ITEM_NOT_FOUND",
        ),
        (
            "an empty item id",
            vec![consume("")],
            404,
            false,
            "ITEM_NOT_FOUND",
        ),
        (
            "grant to an unknown customer",
            vec![grant("s", Some("nobody"), "n1")],
            404,
            false,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "grant to an id that cannot exist",
            vec![grant("s", Some(&long), "n1")],
            404,
            false,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "move to an unknown customer",
            vec![move_to("mine", Some("nobody"))],
            404,
            false,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "from an unknown customer",
            vec![move_from("mine", Some("nobody"), None)],
            404,
            false,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "consume from an unknown customer",
            vec![consume_from("mine", Some("nobody"))],
            404,
            false,
            "CUSTOMER_NOT_FOUND",
        ),
        (
            "from another owner",
            vec![move_from("mine", Some("bob"), None)],
            409,
            true,
            "WRONG_ITEM_OWNER",
        ),
        (
            "from the stock, owned by a customer",
            vec![move_from("mine", None, Some("bob"))],
            409,
            true,
            "WRONG_ITEM_OWNER",
        ),
        (
            "from a customer, in the stock",
            vec![move_from("shelf", Some("alice"), Some("bob"))],
            409,
            true,
            "WRONG_ITEM_OWNER",
        ),
        (
            "consume from another owner",
            vec![consume_from("mine", Some("bob"))],
            409,
            true,
            "WRONG_ITEM_OWNER",
        ),
        (
            "move a consumed item",
            vec![move_to("done", Some("bob"))],
            409,
            true,
            "WRONG_ITEM_STATUS",
        ),
        (
            "consume a consumed item",
            vec![consume("done")],
            409,
            true,
            "WRONG_ITEM_STATUS",
        ),
        (
            "change a consumed item",
            vec![set_properties("done", json!({}))],
            409,
            true,
            "WRONG_ITEM_STATUS",
        ),
        (
            "grant to a suspended customer",
            vec![grant("s", Some("sus"), "n2")],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "grant to a deleted customer",
            vec![grant("s", Some("gone"), "n3")],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "move to a suspended customer",
            vec![move_to("mine", Some("sus"))],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "move to a deleted customer",
            vec![move_to("shelf", Some("gone"))],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "move from a suspended owner",
            vec![move_to("sus-item", Some("alice"))],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "consume from a suspended owner",
            vec![consume("sus-item")],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "an itemId taken",
            vec![grant("s", Some("bob"), "mine")],
            409,
            true,
            "CONFLICT",
        ),
        (
            "the itemId of a consumed item",
            vec![grant("s", None, "done")],
            409,
            true,
            "CONFLICT",
        ),
        (
            "granted, then moved to a suspended customer: the grant is undone too",
            vec![grant("s", Some("alice"), "fresh"), move_to("fresh", Some("sus"))],
            409,
            true,
            "WRONG_CUSTOMER_STATUS",
        ),
        (
            "value and an item: the Issue is undone too",
            vec![issue(&wallet, 5), consume("done")],
            409,
            true,
            "WRONG_ITEM_STATUS",
        ),
        (
            "one itemId granted twice in a transaction",
            vec![grant("s", None, "twice"), grant("s", None, "twice")],
            400,
            false,
            "VALIDATION_ERROR",
        ),
    ];
    let mut failures = Failures::default();
    for (case, operations, http, recorded, status) in cases {
        let (items, shelf, balance, total) = state(&app, &c, &watched, &wallet).await;
        let reply = c.tx(&app, &next_ref("err"), operations).await;
        if recorded {
            let body = &reply.1;
            failures.check(
                reply.0 == http
                    && body["status"] == "Failed"
                    && body["error"] == status
                    && body["message"].is_string()
                    && body["items"] == json!([])
                    && body["holds"] == json!([]),
                case,
                format!(
                    "expected a Failed {http} {status} with no items: {} {body}",
                    reply.0
                ),
            );
        } else {
            failures.error(case, &reply, http, status);
        }
        let after = state(&app, &c, &watched, &wallet).await;
        let expected_total = total + i64::from(recorded);
        failures.check(
            after.0 == items && after.1 == shelf && after.2 == balance && after.3 == expected_total,
            case,
            format!("changed something: {after:?}"),
        );
    }
    for id in ["n1", "n2", "n3", "fresh", "twice"] {
        let (status, _) = c.get(&app, &format!("/items/{id}")).await;
        failures.check(status == 404, id, format!("was granted ({status})"));
    }

    // The reads' own not-founds (an access key hears them; a customer key
    // hears 403, see `v2_items_access`).
    let reads = [
        ("/items/nope", "ITEM_NOT_FOUND"),
        ("/items/nope/history", "ITEM_NOT_FOUND"),
        (&*format!("/items/{long}"), "ITEM_NOT_FOUND"),
        ("/customers/nobody/items", "CUSTOMER_NOT_FOUND"),
    ];
    for (path, status) in reads {
        failures.error(path, &c.get(&app, path).await, 404, status);
    }
    failures.assert_none();
    app.assert_invariants().await;
}

#[tokio::test]
async fn malformed_item_operations_and_queries_are_400s_and_change_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    c.tx_ok(&app, vec![grant("sword", Some("alice"), "mine")]).await;
    let long = "x".repeat(65);
    // A JSON string of exactly `bytes` bytes of text, quotes included.
    let text_of = |bytes: usize| json!("a".repeat(bytes - 2));
    // Arrays in arrays, `levels` deep.
    let nested = |levels: usize| {
        serde_json::from_str::<Value>(&format!("{}{}", "[".repeat(levels), "]".repeat(levels))).unwrap()
    };
    let with = |mut op: Value, field: &str, value: Value| {
        op[field] = value;
        op
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "TransferItem without to",
            json!({ "type": "TransferItem", "item": "mine" }),
        ),
        (
            "TransferItem without item",
            json!({ "type": "TransferItem", "to": "alice" }),
        ),
        (
            "GrantItem with from",
            with(grant("s", None, "n"), "from", Value::Null),
        ),
        (
            "GrantItem with to",
            with(grant("s", None, "n"), "to", json!("alice")),
        ),
        (
            "GrantItem with item",
            with(grant("s", None, "n"), "item", json!("mine")),
        ),
        (
            "GrantItem without itemType",
            json!({ "type": "GrantItem", "itemId": "n" }),
        ),
        (
            "TransferItem with properties",
            with(move_to("mine", None), "properties", json!({})),
        ),
        (
            "TransferItem with customerId",
            with(move_to("mine", None), "customerId", Value::Null),
        ),
        ("ConsumeItem with to", with(consume("mine"), "to", Value::Null)),
        (
            "SetItemProperties without properties",
            json!({ "type": "SetItemProperties", "item": "mine" }),
        ),
        (
            "SetItemProperties with from",
            with(set_properties("mine", json!(1)), "from", Value::Null),
        ),
        ("Issue with itemType", with(issue("1", 1), "itemType", json!("s"))),
        ("itemType of 65 characters", grant(&long, None, "n")),
        ("an empty itemType", grant("", None, "n")),
        ("itemType with a control character", grant("a\u{7}b", None, "n")),
        ("itemId of 65 characters", grant("s", None, &long)),
        ("an empty itemId", grant("s", None, "")),
        (
            "itemId with an invisible character",
            grant("s", None, "a\u{200B}b"),
        ),
        (
            "properties of 16 KiB + 1",
            with(grant("s", None, "n"), "properties", text_of(16 * 1024 + 1)),
        ),
        (
            "changed to 16 KiB + 1",
            set_properties("mine", text_of(16 * 1024 + 1)),
        ),
        (
            "properties nested 65 deep",
            with(grant("s", None, "n"), "properties", nested(65)),
        ),
        (
            "changed to 65 deep",
            set_properties("mine", json!({ "a": nested(64) })),
        ),
        ("an unknown field", with(consume("mine"), "owner", json!("alice"))),
        ("an unknown type", json!({ "type": "BurnItem", "item": "mine" })),
    ];
    let mut failures = Failures::default();
    let before = (item_of(&app, &c, "mine").await, c.transaction_total(&app).await);
    for (case, op) in cases {
        // Beside a valid grant, which must not happen either.
        let reply = c
            .tx(
                &app,
                &next_ref("bad"),
                vec![grant("canary", Some("alice"), "canary"), op],
            )
            .await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
    }
    let after = (item_of(&app, &c, "mine").await, c.transaction_total(&app).await);
    failures.check(
        after == before,
        "nothing changed",
        format!("{before:?} -> {after:?}"),
    );
    let (status, _) = c.get(&app, "/items/canary").await;
    failures.check(status == 404, "canary", format!("was granted ({status})"));

    // The limits themselves are accepted.
    let at_limits = vec![
        with(
            grant(&"t".repeat(64), None, &"i".repeat(64)),
            "properties",
            text_of(16 * 1024),
        ),
        set_properties("mine", nested(64)),
    ];
    c.tx_ok(&app, at_limits).await;

    for query in [
        "/items",
        "/items?owner=alice",
        "/items?owner=STOCK",
        "/items?owner=",
        "/items?owner=stock&status=Used",
        "/items?owner=stock&pageSize=0",
        "/items?owner=stock&pageSize=1001",
        "/items?owner=stock&colour=red",
        &*format!("/items?owner=stock&itemType={}", "t".repeat(201)),
        "/customers/alice/items?status=active",
        "/customers/alice/items?itemType=",
        "/customers/alice/items?page=-1",
        "/items/mine/history?pageSize=0",
    ] {
        let reply = c.get(&app, query).await;
        failures.error(query, &reply, 400, "VALIDATION_ERROR");
    }
    // A v1 item's type may be 200 characters long: the filter takes it.
    let (status, body) = c
        .get(
            &app,
            &format!("/customers/alice/items?itemType={}", "t".repeat(200)),
        )
        .await;
    failures.check(
        status == 200,
        "itemType filter of 200",
        format!("{status} {body}"),
    );
    failures.assert_none();
    let reply = c.get(&app, "/items?owner=stock&itemType=").await;
    assert_error("an empty itemType filter", &reply, 400, "VALIDATION_ERROR");
    app.assert_invariants().await;
}
