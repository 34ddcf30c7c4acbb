//! Every malformed, oversized or absurd request gets a 4xx with a JSON error
//! and changes nothing.

use serde_json::json;
use wallet_testkit::app::{json_of, spawn_app};

#[tokio::test]
async fn malformed_entries_are_4xx_json_and_change_nothing() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "bob", 10).await;
    let nested = "[".repeat(5000) + &"]".repeat(5000);
    let cases: Vec<(&str, String, u16)> = vec![
        ("not JSON", "{not json".into(), 400),
        ("empty body", String::new(), 400),
        ("array", "[]".into(), 400),
        ("missing user_id", r#"{"amount": 1, "reason": "x"}"#.into(), 400),
        (
            "missing amount",
            r#"{"user_id": "bob", "reason": "x"}"#.into(),
            400,
        ),
        (
            "amount as string",
            r#"{"user_id": "bob", "amount": "5", "reason": "x"}"#.into(),
            400,
        ),
        (
            "fractional amount",
            r#"{"user_id": "bob", "amount": 1.5, "reason": "x"}"#.into(),
            400,
        ),
        (
            "float-looking integer",
            r#"{"user_id": "bob", "amount": 1.0, "reason": "x"}"#.into(),
            400,
        ),
        (
            "exponent amount",
            r#"{"user_id": "bob", "amount": 1e3, "reason": "x"}"#.into(),
            400,
        ),
        (
            "amount above i64",
            r#"{"user_id": "bob", "amount": 9223372036854775808, "reason": "x"}"#.into(),
            400,
        ),
        (
            "amount i64::MIN",
            r#"{"user_id": "bob", "amount": -9223372036854775808, "reason": "x"}"#.into(),
            400,
        ),
        (
            "huge negative",
            r#"{"user_id": "bob", "amount": -99999999999999999999999, "reason": "x"}"#.into(),
            400,
        ),
        (
            "null amount",
            r#"{"user_id": "bob", "amount": null, "reason": "x"}"#.into(),
            400,
        ),
        (
            "unknown field",
            r#"{"user_id": "bob", "amount": 1, "reason": "x", "extra": 1}"#.into(),
            400,
        ),
        (
            "unknown item field",
            r#"{"user_id": "bob", "amount": 1, "reason": "x", "item": {"name": "a", "used": true}}"#.into(),
            400,
        ),
        (
            "item without name",
            r#"{"user_id": "bob", "amount": 1, "reason": "x", "item": {"data": 1}}"#.into(),
            400,
        ),
        (
            "empty item name",
            r#"{"user_id": "bob", "amount": 1, "reason": "x", "item": {"name": ""}}"#.into(),
            400,
        ),
        (
            "empty user id",
            r#"{"user_id": "", "amount": 1, "reason": "x"}"#.into(),
            400,
        ),
        (
            "control char in user id",
            r#"{"user_id": "a\u0000b", "amount": 1, "reason": "x"}"#.into(),
            400,
        ),
        (
            "user id too long",
            format!(
                r#"{{"user_id": "{}", "amount": 1, "reason": "x"}}"#,
                "u".repeat(65)
            ),
            400,
        ),
        (
            "reason too long",
            format!(
                r#"{{"user_id": "bob", "amount": 1, "reason": "{}"}}"#,
                "r".repeat(1001)
            ),
            400,
        ),
        (
            "deeply nested data",
            format!(
                r#"{{"user_id": "bob", "amount": 1, "reason": "x", "item": {{"name": "a", "data": {nested}}}}}"#
            ),
            400,
        ),
        (
            "body over the limit",
            format!(
                r#"{{"user_id": "bob", "amount": 1, "reason": "{}"}}"#,
                "r".repeat(70_000)
            ),
            413,
        ),
    ];
    let before = app.check().await;
    for (case, body, expected) in cases {
        let response = app
            .client
            .post(app.url("/api/v1/entry"))
            .header("Authorization", &a.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(status, expected, "{case}: {body}");
        assert!(
            body["error"].is_string(),
            "{case}: error body must be {{\"error\": ...}}: {body}"
        );
    }
    let invalid_utf8 = app
        .client
        .post(app.url("/api/v1/entry"))
        .header("Authorization", &a.token)
        .header("Content-Type", "application/json")
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_utf8.status().as_u16(), 400, "invalid UTF-8");
    let no_content_type = app
        .client
        .post(app.url("/api/v1/entry"))
        .header("Authorization", &a.token)
        .body(r#"{"user_id": "bob", "amount": 1, "reason": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_content_type.status().as_u16(),
        400,
        "a body that is not declared JSON"
    );

    let after = app.check().await;
    assert_eq!(before.entries, after.entries, "no bad request may write");
    assert_eq!(app.total(&a.token, "bob").await, Some(10));
}

#[tokio::test]
async fn balances_never_wrap() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "rich", i64::MAX).await;
    let response = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "rich", "amount": 1, "reason": "x" }),
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.total(&a.token, "rich").await, Some(i64::MAX));
    app.assert_invariants().await;
}

#[tokio::test]
async fn absurd_queries_are_400_json() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let many = vec!["u"; 1001].join(",");
    let cases = [
        "/api/v1/wallet?user_ids=a&user_ids=b".to_owned(),
        "/api/v1/wallet?unknown=1".to_owned(),
        format!("/api/v1/wallet?user_ids={many}"),
        format!("/api/v1/wallet?user_ids={}", "x".repeat(65)),
        "/api/v1/entry/inventory?used=maybe".to_owned(),
        "/api/v1/entry/inventory?used=true&used=false".to_owned(),
        format!("/api/v1/entry/inventory?entry_ids={many}"),
    ];
    for path in cases {
        let (status, body) = json_of(app.get(&a.token, &path).await).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::GET, "/nope"),
        (reqwest::Method::GET, "/api/v1/entry"),
        (reqwest::Method::DELETE, "/api/v1/health"),
        (reqwest::Method::PUT, "/api/v1/entry/1/inventory/use"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
}
