//! Several server processes on one database, in miniature: two
//! `Application`s in this process on one database (and one application
//! restarted), each with its own writer, pools and memory. What one learns
//! through the database, the other must too: admin sessions, the
//! maintenance switch. (Real OS processes on one PostgreSQL database:
//! `tests/api_postgres/processes.rs`.)

use crate::app::{json_of, spawn_app, TestApp};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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

    let restarted = app.restart().await;
    let (status, session) = json_of(restarted.admin("GET", "/session", &cookie, None, None).await).await;
    assert_eq!(status, 200, "the session outlived the restart: {session}");
    assert_eq!(session["csrfToken"], csrf, "with the same CSRF token");
    assert_eq!(create_project(&restarted, &cookie, &csrf, "after").await, 201);
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_admin_sessions() {
    let one = spawn_app().await;
    let other = one.spawn_beside(|_| {}).await;
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

/// A write's status, `Retry-After` and body.
async fn answer(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json_of(response).await;
    (status, retry_after, body)
}

async fn health_ok(app: &TestApp) -> bool {
    let (_, health) = json_of(app.client.get(app.url("/api/v1/health")).send().await.unwrap()).await;
    health["ok"].as_bool().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_switched_on_one_server_refuses_writes_on_the_other_at_once() {
    let one = spawn_app().await;
    // The other's flag in memory does not follow the database during this
    // test: only the re-check inside its writes can refuse them.
    let other = one
        .spawn_beside(|s| s.maintenance_refresh = Duration::from_secs(60))
        .await;
    let a = other.create_authority("default").await;
    let key = other.access_key("default").await;
    other.entry(&a.token, "u", 10).await;

    one.set_maintenance(true).await;
    assert!(
        health_ok(&other).await,
        "the other's flag was never told (health may lag)"
    );

    let v1_write = json!({ "user_id": "u", "amount": 1, "reason": "x" });
    let v2_write = json!({ "id": "c" });
    let v2_post = |app: &TestApp| {
        app.client
            .post(app.url("/api/v2/customers"))
            .header("Authorization", format!("Bearer {key}"))
            .json(&v2_write)
    };
    let inside = answer(other.post_entry(&a.token, &v1_write).await).await;
    let at_the_edge = answer(one.post_entry(&a.token, &v1_write).await).await;
    assert_eq!(inside.0, 503, "refused inside the write: {:?}", inside.2);
    assert_eq!(inside, at_the_edge, "API v1: the same answer as the edge's");
    assert_eq!(inside.1.as_deref(), Some("60"));
    assert!(inside.2["error"].as_str().unwrap().contains("maintenance"));

    let inside = answer(v2_post(&other).send().await.unwrap()).await;
    let at_the_edge = answer(v2_post(&one).send().await.unwrap()).await;
    assert_eq!(inside.0, 503, "refused inside the write: {:?}", inside.2);
    assert_eq!(inside, at_the_edge, "API v2: the same answer as the edge's");
    assert_eq!(inside.2["status"], "UNKNOWN_ERROR");
    assert_eq!(inside.1.as_deref(), Some("60"));

    assert_eq!(
        other.total(&a.token, "u").await,
        Some(10),
        "reads work; nothing was written"
    );
    let (status, _) = other.v2("GET", "/customers/c", Some(&key), None).await;
    assert_eq!(status, 404, "the refused write created nothing");

    one.set_maintenance(false).await;
    other.entry(&a.token, "u", 1).await;
    assert_eq!(
        other.total(&a.token, "u").await,
        Some(11),
        "writes resume at once"
    );
    other.stop().await;
    one.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_on_another_server_follows_the_switch_within_its_refresh() {
    let one = spawn_app().await;
    let other = one.spawn_beside(|_| {}).await;
    assert!(health_ok(&other).await);
    one.set_maintenance(true).await;
    let switched = Instant::now();
    while health_ok(&other).await {
        // The default refresh is one second; the rest is slack for a busy machine.
        assert!(
            switched.elapsed() < Duration::from_secs(3),
            "health still ok {:?} after the switch",
            switched.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("health followed the switch after {:?}", switched.elapsed());
    let (cookie, _) = other.admin_login().await;
    let (_, shown) = json_of(other.admin("GET", "/maintenance", &cookie, None, None).await).await;
    assert_eq!(shown["enabled"], true, "the other's admin API shows the switch");
    other.stop().await;
    one.stop().await;
}
