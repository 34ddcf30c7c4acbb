//! The OpenAPI document states the constraints the server enforces (issue
//! 17): page bounds and the real integer type of `page`, and text patterns
//! that accept exactly the characters the server's parsers accept.
//! schemathesis' `positive_data_acceptance` (tests/schemathesis.rs) holds
//! the document to the same promise by generating data from it.

use crate::app::spawn_app;
use serde_json::{json, Value};
use wallet_core::text::{CustomerId, ItemType, ReferenceId, Text};

async fn document() -> Value {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_page_parameter_states_its_bounds() {
    let doc = document().await;
    let mut pages = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let schema = &parameter["schema"];
                let (min, max) = (&schema["minimum"], &schema["maximum"]);
                match parameter["name"].as_str().unwrap() {
                    "pageSize" | "limit" => {
                        assert_eq!(
                            (min, max),
                            (&json!(1), &json!(1000)),
                            "{method} {path} {parameter}"
                        );
                    }
                    // Read as a u32: 2^32 - 1 is the last page, so int64.
                    "page" => {
                        pages += 1;
                        assert_eq!(
                            (min, max, &schema["format"]),
                            (&json!(0), &json!(u32::MAX), &json!("int64")),
                            "{method} {path} {parameter}"
                        );
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!(pages, 14, "the operations that take a page");
}

/// The schema at `pointer` in the document, as a validator of one value
/// (its `type` a plain string).
fn property(doc: &Value, pointer: &str) -> jsonschema::Validator {
    let mut schema = doc.pointer(pointer).cloned().unwrap_or_default();
    assert!(
        schema["pattern"].is_string(),
        "{pointer} states no pattern: {schema}"
    );
    schema["type"] = json!("string");
    jsonschema::validator_for(&schema).unwrap()
}

#[tokio::test]
async fn text_patterns_accept_exactly_what_the_parsers_accept() {
    let doc = document().await;
    // Spelled out for consumers without `\p{..}` (schemathesis' Python re).
    assert!(
        !doc.to_string().contains(r"\\p{"),
        "a pattern in the served document still says \\p{{..}}"
    );
    type Parser = fn(&str) -> bool;
    let schemas = "/components/schemas";
    let grant_item = "TransactionBody/properties/operations/items/oneOf/6";
    let cases: [(String, Parser); 4] = [
        (format!("{schemas}/CustomerBody/properties/id"), |s| {
            CustomerId::parse(s).is_ok()
        }),
        (format!("{schemas}/TransactionBody/properties/referenceId"), |s| {
            ReferenceId::parse(s).is_ok()
        }),
        (format!("{schemas}/NewAssetBody/properties/name"), |s| {
            Text::parse(s, "name", 200).is_ok()
        }),
        (format!("{schemas}/{grant_item}/properties/itemType"), |s| {
            ItemType::parse(s).is_ok()
        }),
    ];
    assert_eq!(
        doc.pointer(&format!("{schemas}/{grant_item}/title")),
        Some(&json!("GrantItem"))
    );
    for (pointer, parse) in cases {
        let schema = property(&doc, &pointer);
        // Every character, between two that are always valid.
        let differ: Vec<String> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .filter(|text| schema.is_valid(&json!(text)) != parse(text))
            .map(|text| format!("{text:?}"))
            .take(10)
            .collect();
        assert!(
            differ.is_empty(),
            "{pointer}: the document and the server disagree on {differ:?}"
        );
    }
}

/// A value for each operation field, valid by its schema.
fn sample(field: &str) -> Value {
    match field {
        "source" => json!("1"),
        "destination" => json!("2"),
        "amount" => json!(1),
        "hold" | "holdId" => json!("h-1"),
        "item" | "itemId" => json!("i-1"),
        "itemType" => json!("sword"),
        "customerId" | "to" | "from" => json!("alice"),
        "properties" => json!({"level": 1}),
        "expiresAt" => json!(4_102_444_800_000_i64),
        other => panic!("no sample for {other}"),
    }
}

#[tokio::test]
async fn each_operation_schema_takes_what_the_server_takes_and_no_more() {
    let app = spawn_app().await;
    let doc = document().await;
    let key = app.access_key("default").await;
    let variants = doc
        .pointer("/components/schemas/TransactionBody/properties/operations/items/oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap();
    let all = [
        "source",
        "destination",
        "amount",
        "hold",
        "holdId",
        "expiresAt",
        "itemType",
        "customerId",
        "properties",
        "itemId",
        "item",
        "to",
        "from",
    ];
    let mut n = 0;
    for variant in &variants {
        let kind = variant["title"].as_str().unwrap();
        let properties = variant["properties"].as_object().unwrap();
        // Every field the schema takes as a value (not only as null).
        let takes: Vec<&str> = all
            .into_iter()
            .filter(|f| properties.get(*f).is_some_and(|s| s["type"] != json!("null")))
            .collect();
        let mut operation = json!({"type": kind});
        for field in &takes {
            operation[*field] = sample(field);
        }
        n += 1;
        let body = json!({"referenceId": format!("schema-{n}"), "operations": [operation]});
        let (status, reply) = app.v2("POST", "/transactions", Some(&key), Some(&body)).await;
        assert_ne!(
            status, 400,
            "{kind} with every field its schema takes: {body} -> {reply}"
        );
        for field in all.into_iter().filter(|f| !takes.contains(f)) {
            let mut operation = operation.clone();
            operation[field] = sample(field);
            n += 1;
            let body = json!({"referenceId": format!("schema-{n}"), "operations": [operation]});
            let (status, reply) = app.v2("POST", "/transactions", Some(&key), Some(&body)).await;
            assert_eq!(
                status, 400,
                "{kind} does not take {field} by its schema: {body} -> {reply}"
            );
        }
    }
    assert_eq!(variants.len(), 10, "one schema per operation type");
}
