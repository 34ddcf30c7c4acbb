//! Several server processes on one database, in miniature: two
//! `Application`s on one SQLite file (and one application restarted). What
//! one process learns through the database, the other must too: admin
//! sessions, the maintenance switch.

use crate::helpers::{json_of, spawn_app, spawn_app_at, TestApp};
use serde_json::json;

async fn session_status(app: &TestApp, cookie: &str) -> u16 {
    app.admin("GET", "/session", cookie, None, None)
        .await
        .status()
        .as_u16()
}

/// Creates a project through the admin API: a write that needs the session
/// and its CSRF token.
async fn create_project(app: &TestApp, cookie: &str, csrf: &str, id: &str) -> u16 {
    app.admin(
        "POST",
        "/projects",
        cookie,
        Some(csrf),
        Some(&json!({ "id": id, "name": id })),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_session_survives_a_restart_of_the_server() {
    let app = spawn_app().await;
    let (cookie, csrf) = app.admin_login().await;
    let db = app.db.clone();
    let dir = app.stop().await;

    let restarted = spawn_app_at(&db).await;
    let (status, session) = json_of(restarted.admin("GET", "/session", &cookie, None, None).await).await;
    assert_eq!(status, 200, "the session outlived the restart: {session}");
    assert_eq!(session["csrfToken"], csrf, "with the same CSRF token");
    assert_eq!(create_project(&restarted, &cookie, &csrf, "after").await, 201);
    restarted.stop().await;
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_admin_sessions() {
    let one = spawn_app().await;
    let other = spawn_app_at(&one.db).await;
    let (cookie, csrf) = one.admin_login().await;

    let (status, session) = json_of(other.admin("GET", "/session", &cookie, None, None).await).await;
    assert_eq!(
        status, 200,
        "a session opened on one is live on the other: {session}"
    );
    assert_eq!(
        session["csrfToken"], csrf,
        "the other computes the same CSRF token"
    );
    assert_eq!(
        create_project(&other, &cookie, &csrf, "shop").await,
        201,
        "a write on the other with the token from the first"
    );
    let forged = other
        .admin(
            "POST",
            "/projects",
            &cookie,
            Some("guess"),
            Some(&json!({ "id": "x", "name": "x" })),
        )
        .await;
    assert_eq!(
        forged.status().as_u16(),
        403,
        "a wrong CSRF token is still refused"
    );

    // Logging out on the other ends the session on both.
    let logout = other.admin("POST", "/logout", &cookie, Some(&csrf), None).await;
    assert_eq!(logout.status().as_u16(), 204);
    assert_eq!(session_status(&one, &cookie).await, 401, "logged out everywhere");
    assert_eq!(session_status(&other, &cookie).await, 401);
    other.stop().await;
    one.stop().await;
}
