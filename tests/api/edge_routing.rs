//! Decisions taken on the route, not on how the client spelled the path:
//! actix routes on the percent-decoded path (`/%61pi/v2` is `/api/v2`), so
//! the maintenance switch and the choice of error body must be made inside
//! the API's scope, where the route is known (issue 9, item 2).

use serde_json::{json, Value};
use wallet_testkit::app::v2::{ctx, Failures};
use wallet_testkit::app::{json_of, spawn_app, TestApp};

/// Every spelling of one route the router accepts: as is, and with one or
/// more unreserved characters percent-encoded.
fn spellings(path: &str) -> Vec<String> {
    let rest = |prefix: &str| path.strip_prefix(prefix).map(str::to_owned);
    let mut out = vec![path.to_owned()];
    if let Some(tail) = rest("/api/v2") {
        out.push(format!("/%61pi/v2{tail}"));
        out.push(format!("/%61%70%69/%76%32{tail}"));
        out.push(format!("/api/v%32{tail}"));
    }
    if let Some(tail) = rest("/api/v1") {
        out.push(format!("/%61pi/v1{tail}"));
        out.push(format!("/api/%761{tail}"));
    }
    // An escaped letter after the API prefix too.
    if let Some(i) = path.rfind('/') {
        let (head, last) = path.split_at(i + 1);
        if let Some(c) = last.chars().next().filter(char::is_ascii_lowercase) {
            out.push(format!("{head}%{:02X}{}", c as u32, &last[1..]));
        }
    }
    out
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    json_of(request.send().await.unwrap()).await
}

fn is_v1_error(body: &Value) -> bool {
    body.as_object()
        .is_some_and(|o| o.len() == 1 && o.get("error").is_some_and(Value::is_string))
}

fn is_v2_error(body: &Value, status: &str) -> bool {
    body.as_object().is_some_and(|o| {
        o.len() == 2
            && o.get("status") == Some(&json!(status))
            && o.get("message").is_some_and(Value::is_string)
    })
}

#[tokio::test]
async fn maintenance_refuses_every_write_however_the_path_is_spelled() {
    let app = spawn_app().await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "holder").await;
    let (cookie, csrf) = app.admin_login().await;
    let maintenance = |on: bool| {
        let (app, cookie, csrf) = (&app, cookie.clone(), csrf.clone());
        async move {
            let body = json!({ "enabled": on });
            let reply = app
                .admin("PUT", "/maintenance", &cookie, Some(&csrf), Some(&body))
                .await;
            assert_eq!(reply.status().as_u16(), 200, "maintenance {on}");
        }
    };
    maintenance(true).await;
    let before = app.check().await;

    let writes: Vec<(&str, String, Value)> = vec![
        ("POST", "/api/v2/customers".into(), json!({ "id": "sneaky" })),
        ("PUT", "/api/v2/customers/sneaky2".into(), json!({ "name": "x" })),
        (
            "POST",
            "/api/v2/assets".into(),
            json!({ "name": "G", "code": "GLD", "fractions": 1 }),
        ),
        (
            "POST",
            "/api/v2/transactions".into(),
            json!({ "referenceId": "sneaky", "operations": [{ "type": "Issue", "destination": wallet, "amount": 5 }] }),
        ),
        (
            "PUT",
            format!("/api/v2/wallets/{wallet}/name"),
            json!({ "name": "renamed" }),
        ),
        (
            "POST",
            "/api/v1/entry".into(),
            json!({ "user_id": "holder", "amount": 5, "reason": "x" }),
        ),
    ];
    let mut failures = Failures::default();
    for (method, path, body) in &writes {
        for spelled in spellings(path) {
            let token = if path.starts_with("/api/v1") {
                authority.token.as_str()
            } else {
                c.key.as_str()
            };
            let (status, reply) = send(&app, method, &spelled, Some(token), Some(body)).await;
            let shape_ok = if path.starts_with("/api/v1") {
                is_v1_error(&reply)
            } else {
                is_v2_error(&reply, "UNKNOWN_ERROR")
            };
            failures.check(
                status == 503 && shape_ok,
                &format!("{method} {spelled}"),
                format!("expected 503 in the API's error shape, got {status} {reply}"),
            );
        }
    }
    failures.assert_none();
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets),
        "no refused write changed anything"
    );
    let (status, _) = send(&app, "GET", "/api/v2/customers/sneaky", Some(&c.key), None).await;
    assert_eq!(status, 404, "no customer was created");
    let (status, renamed) = send(
        &app,
        "GET",
        &format!("/api/v2/wallets/{wallet}"),
        Some(&c.key),
        None,
    )
    .await;
    assert_eq!((status, &renamed["name"]), (200, &json!("holder's")), "{renamed}");

    // Reads, the admin API and /metrics keep working in maintenance.
    for spelled in spellings("/api/v2/project") {
        let (status, reply) = send(&app, "GET", &spelled, Some(&c.key), None).await;
        assert_eq!(status, 200, "GET {spelled}: {reply}");
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status().as_u16(), 200, "/metrics in maintenance");
    maintenance(false).await;
    let (status, reply) = send(
        &app,
        "POST",
        "/%61pi/v2/customers",
        Some(&c.key),
        Some(&json!({ "id": "later" })),
    )
    .await;
    assert_eq!(status, 201, "writes work again: {reply}");
}

#[tokio::test]
async fn the_error_body_follows_the_route_not_the_spelling() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    // (method, path, HTTP status, v2 status or None for the `{"error"}` shape)
    let cases: &[(&str, &str, u16, Option<&str>)] = &[
        ("GET", "/api/v2/no-such-endpoint", 404, Some("NOT_FOUND")),
        ("DELETE", "/api/v2/project", 405, Some("METHOD_NOT_ALLOWED")),
        ("PATCH", "/api/v2/customers", 405, Some("METHOD_NOT_ALLOWED")),
        ("GET", "/api/v1/no-such-endpoint", 404, None),
        // API v1 answers a wrong method as no such endpoint.
        ("DELETE", "/api/v1/health", 404, None),
    ];
    let mut failures = Failures::default();
    for (method, path, http, v2_status) in cases {
        for spelled in spellings(path) {
            let (status, reply) = send(&app, method, &spelled, Some(&c.key), None).await;
            let shape_ok = match v2_status {
                Some(s) => is_v2_error(&reply, s),
                None => is_v1_error(&reply),
            };
            failures.check(
                status == *http && shape_ok,
                &format!("{method} {spelled}"),
                format!("expected {http} {v2_status:?}, got {status} {reply}"),
            );
        }
    }
    // Outside every API: the plain `{"error"}` shape.
    for path in ["/no-such-page", "/api/v3/x", "/api%2Fv2/project"] {
        let (status, reply) = send(&app, "GET", path, None, None).await;
        failures.check(
            status == 404 && is_v1_error(&reply),
            &format!("GET {path}"),
            format!("expected 404 {{error}}, got {status} {reply}"),
        );
    }
    failures.assert_none();
}
