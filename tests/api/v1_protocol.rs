//! API v1 as the SDK uses it: shapes, filters, items.

use serde_json::{json, Value};
use wallet_testkit::app::{json_of, spawn_app};

#[tokio::test]
async fn health_needs_no_auth_and_reports_a_compatible_version() {
    let app = spawn_app().await;
    let (status, body) = json_of(app.client.get(app.url("/api/v1/health")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "ok": true, "version": "1.1.0" }));
}

#[tokio::test]
async fn an_entry_has_the_shape_the_sdk_validates() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let response = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "bob", "amount": 100, "reason": "returned cans", "item": null }),
        )
        .await;
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let entry = &body["entry"];
    assert!(entry["entry_id"].is_string());
    assert_eq!(entry["authority_id"], a.id.as_str());
    assert_eq!(entry["user_id"], "bob");
    assert_eq!(entry["amount"], 100);
    assert_eq!(entry["reason"], "returned cans");
    assert!(
        entry.get("item").is_none(),
        "no item key when there is no item: {text}"
    );
    // The SDK checks `isinstance(created_on, float)`: the JSON must have a fraction.
    assert!(
        entry["created_on"].is_f64(),
        "created_on must be a JSON float: {text}"
    );
    let raw = text.split("\"created_on\":").nth(1).unwrap();
    let number: String = raw
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    assert!(number.contains('.'), "created_on {number} has no fractional part");
}

#[tokio::test]
async fn spending_to_exactly_zero_is_allowed_and_one_more_is_402() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "bob", 50).await;
    app.entry(&a.token, "bob", -50).await;
    assert_eq!(app.total(&a.token, "bob").await, Some(0));
    let response = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "bob", "amount": -1, "reason": "x" }),
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 402);
    assert!(body["error"].is_string());
    assert_eq!(app.total(&a.token, "bob").await, Some(0));
}

#[tokio::test]
async fn a_user_with_no_entries_gets_402_and_is_not_created() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let response = app
        .post_entry(
            &a.token,
            &json!({ "user_id": "ghost", "amount": -1, "reason": "x" }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 402);
    assert_eq!(app.total(&a.token, "ghost").await, None);
    let report = app.check().await;
    assert_eq!(
        report.wallets, 0,
        "the failed spend must not leave a wallet behind"
    );
}

#[tokio::test]
async fn wallet_totals_filter_by_user_and_by_authority() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let b = app.create_authority("default").await;
    app.entry(&a.token, "u1", 100).await;
    app.entry(&b.token, "u1", 5).await;
    app.entry(&b.token, "u2", 7).await;
    app.entry(&a.token, "u3", 1).await;

    let cases: Vec<(String, Value)> = vec![
        (
            "user_ids=&authority_ids=".into(),
            json!([{"user_id":"u1","total":105},{"user_id":"u2","total":7},{"user_id":"u3","total":1}]),
        ),
        (
            "user_ids=u1,u2&authority_ids=".into(),
            json!([{"user_id":"u1","total":105},{"user_id":"u2","total":7}]),
        ),
        (
            format!("user_ids=&authority_ids={}", b.id),
            json!([{"user_id":"u1","total":5},{"user_id":"u2","total":7}]),
        ),
        (
            format!("user_ids=u1,u3&authority_ids={}", a.id),
            json!([{"user_id":"u1","total":100},{"user_id":"u3","total":1}]),
        ),
        (format!("user_ids=u3&authority_ids={}", b.id), json!([])),
        ("user_ids=nobody".into(), json!([])),
        ("authority_ids=au_nobody".into(), json!([])),
        (
            String::new(),
            json!([{"user_id":"u1","total":105},{"user_id":"u2","total":7},{"user_id":"u3","total":1}]),
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = json_of(app.get(&a.token, &format!("/api/v1/wallet?{query}")).await).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(body["wallets"], expected, "GET /wallet?{query}");
    }
}

#[tokio::test]
async fn inventory_filters_and_use_item() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let b = app.create_authority("default").await;
    app.entry(&a.token, "u1", 100).await;
    let post_item = |token: String, user: &'static str, amount: i64, item: Value| {
        let app = &app;
        async move {
            let response = app
                .post_entry(
                    &token,
                    &json!({ "user_id": user, "amount": amount, "reason": "buy", "item": item }),
                )
                .await;
            let (status, body) = json_of(response).await;
            assert_eq!(status, 200, "{body}");
            body["entry"]["entry_id"].as_str().unwrap().to_owned()
        }
    };
    let shades = post_item(
        a.token.clone(),
        "u1",
        -10,
        json!({"name": "Cool Shades", "data": {"id": "001122"}}),
    )
    .await;
    let soda = post_item(b.token.clone(), "u2", 0, json!({"name": "Soda", "data": "cola"})).await;
    let plain = post_item(a.token.clone(), "u1", 0, json!({"name": "Sticker"})).await;

    let ids = |body: &Value| -> Vec<String> {
        body["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["entry_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let query = |q: String| {
        let app = &app;
        let token = a.token.clone();
        async move {
            let (status, body) =
                json_of(app.get(&token, &format!("/api/v1/entry/inventory?{q}")).await).await;
            assert_eq!(status, 200, "{q}: {body}");
            body
        }
    };
    let all = query("entry_ids=&user_ids=&authority_ids=&used=false".into()).await;
    assert_eq!(ids(&all), vec![shades.clone(), soda.clone(), plain.clone()]);
    assert_eq!(
        all["inventory"][0]["item"],
        json!({"name": "Cool Shades", "used": false, "data": {"id": "001122"}})
    );
    assert_eq!(all["inventory"][1]["item"]["data"], "cola");
    assert!(all["inventory"][2]["item"].get("data").is_none());
    assert_eq!(all["inventory"][1]["authority_id"], b.id.as_str());
    assert_eq!(all["inventory"][1]["user_id"], "u2");

    assert_eq!(
        ids(&query(format!("entry_ids={soda},{plain}")).await),
        vec![soda.clone(), plain.clone()]
    );
    assert_eq!(
        ids(&query("entry_ids=not-an-id".into()).await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&query("user_ids=u1".into()).await),
        vec![shades.clone(), plain.clone()]
    );
    assert_eq!(
        ids(&query(format!("authority_ids={}", b.id)).await),
        vec![soda.clone()]
    );
    assert_eq!(ids(&query("used=true".into()).await), Vec::<String>::new());

    let (status, used) = json_of(
        app.client
            .post(app.url(&format!("/api/v1/entry/{shades}/inventory/use")))
            .header("Authorization", &b.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status, 200,
        "any authority of the project may use an item: {used}"
    );
    assert_eq!(used["entry"]["item"]["used"], true);
    assert_eq!(used["entry"]["entry_id"], shades.as_str());
    assert_eq!(used["entry"]["amount"], -10);

    assert_eq!(ids(&query("used=true".into()).await), vec![shades.clone()]);
    assert_eq!(
        ids(&query("used=false".into()).await),
        vec![soda.clone(), plain.clone()]
    );
    assert_eq!(
        ids(&query("used=".into()).await).len(),
        3,
        "empty used = no filter"
    );
    assert_eq!(
        ids(&query(String::new()).await).len(),
        3,
        "absent used = no filter"
    );

    let use_item = |id: String| {
        let app = &app;
        let token = a.token.clone();
        async move {
            json_of(
                app.client
                    .post(app.url(&format!("/api/v1/entry/{id}/inventory/use")))
                    .header("Authorization", token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = use_item(shades.clone()).await;
    assert_eq!(status, 409, "using twice: {body}");
    assert!(body["error"].is_string());
    let first_entry = app.entry(&a.token, "u9", 1).await["entry_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(use_item(first_entry).await.0, 404, "an entry without an item");
    assert_eq!(use_item("999999".into()).await.0, 404, "an unknown entry");
    assert_eq!(use_item("abc".into()).await.0, 404, "an id that is not ours");
    app.assert_invariants().await;
}

#[tokio::test]
async fn an_authority_sees_nothing_of_another_project() {
    let app = spawn_app().await;
    app.create_project("other").await;
    let mine = app.create_authority("default").await;
    let theirs = app.create_authority("other").await;
    app.entry(&mine.token, "shared-name", 10).await;
    let item_entry = {
        let response = app
            .post_entry(
                &mine.token,
                &json!({ "user_id": "shared-name", "amount": 0, "reason": "x", "item": {"name": "Hat"} }),
            )
            .await;
        json_of(response).await.1["entry"]["entry_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    assert_eq!(app.total(&theirs.token, "shared-name").await, None);
    let (_, inventory) = json_of(app.get(&theirs.token, "/api/v1/entry/inventory").await).await;
    assert_eq!(inventory["inventory"], json!([]));
    let response = app
        .client
        .post(app.url(&format!("/api/v1/entry/{item_entry}/inventory/use")))
        .header("Authorization", &theirs.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        404,
        "another project's item is not found"
    );
    // The same user id in the other project is another customer with its own wallet.
    let response = app
        .post_entry(
            &theirs.token,
            &json!({ "user_id": "shared-name", "amount": -1, "reason": "x" }),
        )
        .await;
    assert_eq!(response.status().as_u16(), 402);
    assert_eq!(app.total(&mine.token, "shared-name").await, Some(10));
}

#[tokio::test]
async fn item_data_may_be_any_json_value() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    for data in [
        json!("text"),
        json!(42),
        json!([1, {"a": null}]),
        json!({"deep": {"er": [true]}}),
        json!(false),
    ] {
        let response = app
            .post_entry(
                &a.token,
                &json!({ "user_id": "u", "amount": 0, "reason": "gift", "item": {"name": "Thing", "data": data} }),
            )
            .await;
        let (status, body) = json_of(response).await;
        assert_eq!(status, 200, "{data}: {body}");
        assert_eq!(body["entry"]["item"]["data"], data);
    }
}
