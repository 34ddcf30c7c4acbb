//! The admin API: login, sessions, CSRF, credentials, maintenance, metrics.

use serde_json::{json, Value};
use wallet_testkit::app::{json_of, spawn_app};

#[tokio::test]
async fn the_generated_password_is_in_a_private_file_and_logs_in() {
    let app = spawn_app().await;
    let file = app.db.parent().unwrap().join("admin-password.txt");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(app.admin_password().len() >= 20, "a strong generated password");
    let (cookie, _) = app.admin_login().await;
    let (status, session) = json_of(app.admin("GET", "/session", &cookie, None, None).await).await;
    assert_eq!(status, 200, "{session}");
    assert!(session["csrfToken"].is_string());
}

#[tokio::test]
async fn wrong_credentials_get_one_answer_and_failures_are_rate_limited() {
    let app = spawn_app().await;
    let login = |user: &'static str, password: String| {
        let app = &app;
        async move {
            json_of(
                app.client
                    .post(app.url("/admin/api/login"))
                    .json(&json!({ "username": user, "password": password }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let wrong_password = login("admin", "not-the-password".into()).await;
    let unknown_user = login("root", app.admin_password()).await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(
        wrong_password, unknown_user,
        "the same answer for a wrong password and an unknown user"
    );
    // The lockout is per address and user name: `root`'s failure is not `admin`'s.
    for _ in 0..4 {
        assert_eq!(login("admin", "again-wrong".into()).await.0, 401);
    }
    let limited = login("admin", app.admin_password()).await;
    assert_eq!(
        limited.0, 429,
        "after 5 failures even the right password waits: {}",
        limited.1
    );
}

#[tokio::test]
async fn the_admin_api_needs_a_session_and_writes_need_the_csrf_token() {
    let app = spawn_app().await;
    for path in [
        "/projects",
        "/session",
        "/maintenance",
        "/projects/default/customers",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/admin/api{path}")))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(status, 401, "{path} without a session: {body}");
        assert!(body["error"].is_string());
    }
    let (cookie, csrf) = app.admin_login().await;
    let forged = app
        .admin(
            "POST",
            "/projects",
            &cookie,
            None,
            Some(&json!({ "id": "evil", "name": "x" })),
        )
        .await;
    assert_eq!(
        forged.status().as_u16(),
        403,
        "a cookie-authenticated POST without the CSRF token"
    );
    let wrong = app
        .admin(
            "POST",
            "/projects",
            &cookie,
            Some("guess"),
            Some(&json!({ "id": "evil", "name": "x" })),
        )
        .await;
    assert_eq!(wrong.status().as_u16(), 403, "a wrong CSRF token");
    let (status, list) = json_of(app.admin("GET", "/projects", &cookie, None, None).await).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1, "the refused writes created nothing: {list}");
    let created = app
        .admin(
            "POST",
            "/projects",
            &cookie,
            Some(&csrf),
            Some(&json!({ "id": "shop", "name": "Shop" })),
        )
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let logout = app.admin("POST", "/logout", &cookie, Some(&csrf), None).await;
    assert_eq!(logout.status().as_u16(), 204);
    assert_eq!(
        app.admin("GET", "/projects", &cookie, None, None)
            .await
            .status()
            .as_u16(),
        401,
        "logged out"
    );
}

#[tokio::test]
async fn an_authority_created_by_the_admin_works_leaves_no_private_key_on_disk_and_revokes_at_once() {
    let app = spawn_app().await;
    let (cookie, csrf) = app.admin_login().await;
    let response = app
        .admin(
            "POST",
            "/projects/default/authorities",
            &cookie,
            Some(&csrf),
            Some(&json!({ "name": "game", "apiBaseUrl": app.address })),
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let disposition = response
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let config: Value = response.json().await.unwrap();
    let private_key = config["private_key"].as_str().unwrap().to_owned();
    let id = config["authority_id"].as_str().unwrap().to_owned();
    let token = wallet_testkit::app::sign_es256(&private_key, &json!({ "sub": id }));
    app.entry(&token, "player", 5).await;

    // The private key is nowhere in the database files (the WAL included).
    let body: String = private_key.lines().filter(|l| !l.starts_with("-----")).collect();
    let der_prefix = &body[..40];
    for suffix in ["", "-wal", "-shm"] {
        let mut path = app.db.as_os_str().to_owned();
        path.push(suffix);
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(der_prefix), "the private key is in {path:?}");
            assert!(!text.contains("PRIVATE KEY"), "a private key is in {path:?}");
        }
    }

    let revoked = app
        .admin(
            "POST",
            &format!("/authorities/{id}/revoke"),
            &cookie,
            Some(&csrf),
            None,
        )
        .await;
    let (status, info) = json_of(revoked).await;
    assert_eq!(status, 200);
    assert!(info["revokedAt"].is_i64(), "{info}");
    let locked_out = app
        .post_entry(
            &token,
            &json!({ "user_id": "player", "amount": 1, "reason": "x" }),
        )
        .await;
    assert_eq!(
        locked_out.status().as_u16(),
        401,
        "revocation takes effect at once"
    );
}

#[tokio::test]
async fn the_maintenance_switch_stops_writes_and_health_but_not_reads() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let key = app.access_key("default").await;
    app.entry(&a.token, "u", 10).await;
    let (cookie, csrf) = app.admin_login().await;
    let set = |on: bool| {
        let (app, cookie, csrf) = (&app, cookie.clone(), csrf.clone());
        async move {
            let (status, body) = json_of(
                app.admin(
                    "PUT",
                    "/maintenance",
                    &cookie,
                    Some(&csrf),
                    Some(&json!({ "enabled": on })),
                )
                .await,
            )
            .await;
            assert_eq!((status, body["enabled"].as_bool()), (200, Some(on)));
        }
    };
    set(true).await;
    let (_, health) = json_of(app.client.get(app.url("/api/v1/health")).send().await.unwrap()).await;
    assert_eq!(health["ok"], false, "health is not ok in maintenance");
    let (status, body) = json_of(
        app.post_entry(&a.token, &json!({ "user_id": "u", "amount": 1, "reason": "x" }))
            .await,
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].is_string());
    let (status, body) = app
        .v2("POST", "/customers", Some(&key), Some(&json!({ "id": "c" })))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("UNKNOWN_ERROR")),
        "{body}"
    );
    assert_eq!(app.total(&a.token, "u").await, Some(10), "reads keep working");
    let (status, _) = app.v2("GET", "/customers/c", Some(&key), None).await;
    assert_eq!(status, 404, "the refused write created nothing");
    set(false).await;
    app.entry(&a.token, "u", 1).await;
    assert_eq!(app.total(&a.token, "u").await, Some(11));
}

#[tokio::test]
async fn admin_pages_carry_strict_security_headers() {
    let app = spawn_app().await;
    for path in ["/admin/", "/admin/app.js", "/admin/app.css", "/admin/api/session"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let csp = header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
    let page = app
        .client
        .get(app.url("/admin/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("<script>") && !page.contains(" onclick="),
        "no inline script in the page"
    );
}

#[tokio::test]
async fn metrics_need_an_admin_session() {
    let app = spawn_app().await;
    app.client.get(app.url("/api/v1/health")).send().await.unwrap();
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let (cookie, _) = app.admin_login().await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    for metric in [
        "wallet_http_requests_total{class=\"2xx\"}",
        "wallet_http_request_duration_seconds_bucket{le=\"+Inf\"}",
        "wallet_writer_commits_total",
        "wallet_read_pool_connections",
    ] {
        assert!(text.contains(metric), "{metric} missing:\n{text}");
    }
}
