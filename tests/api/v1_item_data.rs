//! API v1 item `data` is kept and returned exactly as sent: the raw JSON
//! text, whatever a JSON library would make of it (integers beyond u64,
//! number spellings, `null`), and absent stays absent.

use wallet_testkit::app::{spawn_app, TestApp};

/// Posts raw JSON text; returns the status and the body as text.
async fn post_raw(app: &TestApp, token: &str, body: String) -> (u16, String) {
    let response = app
        .client
        .post(app.url("/api/v1/entry"))
        .header("Authorization", token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn text_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn item_data_comes_back_exactly_as_sent() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    // (what, data as sent, the item as every reply must show it)
    let cases: Vec<(&str, Option<&str>, String)> = vec![
        (
            "null",
            Some("null"),
            r#""item":{"name":"I","used":false,"data":null}"#.into(),
        ),
        ("absent", None, r#""item":{"name":"I","used":false}"#.into()),
        (
            "an integer beyond u64",
            Some("123456789012345678901234567890"),
            r#""data":123456789012345678901234567890"#.into(),
        ),
        (
            "big integers inside",
            Some(r#"{"n":18446744073709551616,"m":[-9223372036854775809]}"#),
            r#""data":{"n":18446744073709551616,"m":[-9223372036854775809]}"#.into(),
        ),
        ("a float spelled 1.0", Some("1.0"), r#""data":1.0"#.into()),
        ("an exponent", Some("1e3"), r#""data":1e3"#.into()),
        ("trailing zeros", Some("0.10"), r#""data":0.10"#.into()),
        ("minus zero", Some("-0"), r#""data":-0"#.into()),
        (
            "a long decimal",
            Some("3.14159265358979323846264338327950288"),
            r#""data":3.14159265358979323846264338327950288"#.into(),
        ),
        ("escapes", Some(r#""\u00e9\n""#), r#""data":"\u00e9\n""#.into()),
    ];
    let mut wrong = Vec::new();
    for (n, (what, data, expected)) in cases.iter().enumerate() {
        let user = format!("u{n}");
        let item = match data {
            Some(data) => format!(r#"{{"name": "I", "data": {data}}}"#),
            None => r#"{"name": "I"}"#.to_owned(),
        };
        let body = format!(r#"{{"user_id": "{user}", "amount": 0, "reason": "r", "item": {item}}}"#);
        let (status, created) = post_raw(&app, &a.token, body).await;
        if status != 200 || !created.contains(expected.as_str()) {
            wrong.push(format!("{what}: create_entry {status} {created}"));
            continue;
        }
        let inventory = text_of(
            app.get(&a.token, &format!("/api/v1/entry/inventory?user_ids={user}"))
                .await,
        )
        .await;
        if inventory.0 != 200 || !inventory.1.contains(expected.as_str()) {
            wrong.push(format!("{what}: inventory {} {}", inventory.0, inventory.1));
        }
        let entry: serde_json::Value = serde_json::from_str(&created).expect("json");
        let id = entry["entry"]["entry_id"].as_str().expect("entry id").to_owned();
        let used = text_of(
            app.client
                .post(app.url(&format!("/api/v1/entry/{id}/inventory/use")))
                .header("Authorization", &a.token)
                .send()
                .await
                .expect("sent"),
        )
        .await;
        let expected_used = expected.replace(r#""used":false"#, r#""used":true"#);
        if used.0 != 200 || !used.1.contains(expected_used.as_str()) {
            wrong.push(format!("{what}: use_item {} {}", used.0, used.1));
        }
    }
    assert!(wrong.is_empty(), "item data as sent:\n{}", wrong.join("\n"));
}
