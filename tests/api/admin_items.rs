//! The admin API and items (issue 13): a customer's items, the project's
//! stock, and one item with its history, behind the session — the same
//! Item and history objects API v2 shows, properties exactly as sent.

use crate::app::v2::{ctx, next_ref, Ctx};
use crate::app::{json_of, spawn_app, TestApp};
use serde_json::{json, Value};

struct Setup {
    app: TestApp,
    c: Ctx,
    cookie: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    for customer in ["alice", "bob"] {
        c.customer_wallet(&app, customer).await;
    }
    let (cookie, _csrf) = app.admin_login().await;
    Setup { app, c, cookie }
}

impl Setup {
    async fn get(&self, path: &str) -> (u16, Value) {
        json_of(self.app.admin("GET", path, &self.cookie, None, None).await).await
    }

    /// Posts one API v2 transaction of these operations (JSON text, sent as
    /// written: a `Value` would round big numbers); it must complete.
    async fn post(&self, operations: &str) {
        let body = format!(
            r#"{{"referenceId":"{}","operations":{operations}}}"#,
            next_ref("admin-items")
        );
        let response = self
            .app
            .client
            .post(self.app.url("/api/v2/transactions"))
            .header("Authorization", format!("Bearer {}", self.c.key))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let (status, reply) = json_of(response).await;
        assert_eq!(status, 201, "{reply}");
    }

    /// The raw text of an admin reply, to compare numbers digit by digit.
    async fn text(&self, path: &str) -> String {
        let response = self.app.admin("GET", path, &self.cookie, None, None).await;
        assert_eq!(response.status(), 200);
        response.text().await.expect("a body")
    }
}

const PROPERTIES: &str = r#"{"atk":123456789012345678901234567890,"crit":1.50}"#;

#[tokio::test]
async fn the_operator_sees_a_customers_items_the_stock_and_an_items_history() {
    let s = setup().await;
    s.post(&format!(
        r#"[{{"type":"GrantItem","itemType":"sword","customerId":"alice","itemId":"sword/1","properties":{PROPERTIES}}},
            {{"type":"GrantItem","itemType":"ticket","itemId":"ticket-1"}}]"#
    ))
    .await;
    s.post(r#"[{"type":"TransferItem","item":"sword/1","from":"alice","to":"bob"}]"#)
        .await;
    s.post(r#"[{"type":"TransferItem","item":"sword/1","to":"alice"}]"#)
        .await;

    let (status, page) = s.get("/projects/default/customers/alice/items").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["id"], "sword/1");
    assert_eq!(page["items"][0]["customerId"], "alice");
    let (_, bobs) = s.get("/projects/default/customers/bob/items").await;
    assert_eq!(bobs["total"], 0, "bob sold it back: {bobs}");
    let (_, consumed) = s
        .get("/projects/default/customers/alice/items?status=Consumed")
        .await;
    assert_eq!(consumed["total"], 0, "{consumed}");

    let (status, stock) = s.get("/projects/default/stock").await;
    assert_eq!(status, 200, "{stock}");
    assert_eq!(stock["items"][0]["id"], "ticket-1", "{stock}");
    assert_eq!(stock["items"][0]["customerId"], Value::Null);

    // An id with a `/` travels in the query, not the path.
    let path = "/projects/default/item?id=sword%2F1";
    let (status, shown) = s.get(path).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["item"]["id"], "sword/1");
    let steps: Vec<(&str, &Value, &Value)> = shown["history"]["items"]
        .as_array()
        .expect("a page of steps")
        .iter()
        .map(|step| {
            (
                step["type"].as_str().unwrap_or_default(),
                &step["from"],
                &step["to"],
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("GrantItem", &Value::Null, &json!("alice")),
            ("TransferItem", &json!("alice"), &json!("bob")),
            ("TransferItem", &json!("bob"), &json!("alice")),
        ]
    );
    let text = s.text(path).await;
    assert!(text.contains(PROPERTIES), "properties not byte-exact: {text}");
    let (_, second) = s
        .get("/projects/default/item?id=sword%2F1&page=1&pageSize=2")
        .await;
    assert_eq!(
        second["history"]["items"].as_array().map(Vec::len),
        Some(1),
        "{second}"
    );
    s.app.assert_invariants().await;
}

#[tokio::test]
async fn item_reads_need_a_session_and_answer_json_errors() {
    let s = setup().await;
    for path in [
        "/projects/default/customers/alice/items",
        "/projects/default/stock",
        "/projects/default/item?id=x",
    ] {
        let response = s.app.admin("GET", path, "", None, None).await;
        assert_eq!(response.status(), 401, "{path} without a session");
    }
    let cases = [
        ("/projects/default/item?id=no-such-item", 404),
        ("/projects/default/item", 400),
        ("/projects/default/item?id=", 404),
        ("/projects/default/item?id=x&extra=1", 400),
        ("/projects/default/customers/nobody/items", 404),
        ("/projects/nowhere/stock", 404),
        ("/projects/default/stock?status=Lost", 400),
        ("/projects/default/stock?pageSize=1001", 400),
    ];
    for (path, expected) in cases {
        let (status, body) = s.get(path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(
            body["error"].is_string(),
            "{path}: not an admin error body: {body}"
        );
    }
}
