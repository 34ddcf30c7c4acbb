//! Request-rate limits per credential (`rate_limit_per_second`): over the
//! limit a request is a 429 — `LIMIT_EXCEEDED` on API v2, `{"error"}` on API
//! v1 — and does nothing; other credentials are not affected; the bucket
//! refills; off by default.

use crate::helpers::{json_of, sign_es256};
use serde_json::{json, Value};
use std::time::Duration;
use wallet_service::auth::Credentials;
use wallet_service::config::{Overrides, Settings};
use wallet_service::domain::{ProjectId, Text};
use wallet_service::startup::Application;

struct Limited {
    address: String,
    client: reqwest::Client,
    credentials: Credentials,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

async fn serve(rate_limit_per_second: Option<u32>) -> Limited {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        db: dir.path().join("wallet.db"),
        workers: 2,
        rate_limit_per_second,
        ..Settings::default()
    };
    let app = Application::build(&settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let credentials = Credentials::new(app.store().clone());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    Limited {
        address,
        client: reqwest::Client::new(),
        credentials,
        handle,
        _dir: dir,
    }
}

impl Limited {
    async fn key(&self) -> String {
        let name = Text::parse("limited", "name", 200).unwrap();
        let project = ProjectId::parse("default").unwrap();
        self.credentials
            .create_access_key(project, name)
            .await
            .unwrap()
            .token
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value, Option<String>) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.unwrap();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, body) = json_of(response).await;
        (status, body, retry_after)
    }

    /// Sends `n` requests as fast as it can; returns how many were let through.
    async fn burst(&self, n: usize, path: &str, token: &str, refused: impl Fn(&Value)) -> usize {
        let mut through = 0;
        for _ in 0..n {
            let (status, body, retry_after) = self.get(path, Some(token)).await;
            match status {
                429 => {
                    refused(&body);
                    assert_eq!(retry_after.as_deref(), Some("1"), "a 429 says when to retry");
                }
                200 => through += 1,
                other => panic!("GET {path}: {other} {body}"),
            }
        }
        through
    }
}

fn assert_v2_limit(body: &Value) {
    assert_eq!(body["status"], "LIMIT_EXCEEDED", "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
}

fn assert_v1_limit(body: &Value) {
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_credential_is_limited_on_its_own_and_refills() {
    let app = serve(Some(5)).await;
    let (a, b) = (app.key().await, app.key().await);
    let through = app.burst(30, "/api/v2/project", &a, assert_v2_limit).await;
    assert!(
        (5..=7).contains(&through),
        "5 per second with a burst of 5: {through} of 30 let through"
    );
    let (status, body, _) = app.get("/api/v2/project", Some(&b)).await;
    assert_eq!(status, 200, "another credential has its own budget: {body}");

    let name = Text::parse("v1", "name", 200).unwrap();
    let project = ProjectId::parse("default").unwrap();
    let authority = app
        .credentials
        .create_authority(project, name, &app.address)
        .await
        .unwrap();
    let jwt = sign_es256(
        &authority.config.private_key,
        &json!({ "sub": authority.config.authority_id }),
    );
    let through = app.burst(30, "/api/v1/wallet", &jwt, assert_v1_limit).await;
    assert!((5..=7).contains(&through), "API v1 too: {through} of 30");

    for _ in 0..50 {
        let (status, _, _) = app.get("/api/v1/health", None).await;
        assert_eq!(status, 200, "requests without a credential are not limited");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body, _) = app.get("/api/v2/project", Some(&a)).await;
    assert_eq!(status, 200, "the bucket refilled: {body}");
    app.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_write_does_nothing() {
    let app = serve(Some(3)).await;
    let key = app.key().await;
    let mut created = 0;
    for n in 0..12 {
        let response = app
            .client
            .post(format!("{}/api/v2/customers", app.address))
            .bearer_auth(&key)
            .json(&json!({ "id": format!("c{n}") }))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        match status {
            201 => created += 1,
            429 => assert_v2_limit(&body),
            other => panic!("POST /customers: {other} {body}"),
        }
    }
    assert!(created < 12, "some writes were limited");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, list, _) = app.get("/api/v2/customers?pageSize=100", Some(&key)).await;
    assert_eq!(
        (status, list["total"].as_i64()),
        (200, Some(created)),
        "exactly the 201s exist: {list}"
    );
    app.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_by_default() {
    assert_eq!(Settings::default().rate_limit_per_second, None);
    let app = serve(None).await;
    let key = app.key().await;
    let through = app
        .burst(200, "/api/v2/project", &key, |b| panic!("limited while off: {b}"))
        .await;
    assert_eq!(through, 200);
    app.handle.stop(true).await;
}

#[test]
fn the_config_file_sets_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load(&Overrides {
            config: Some(path),
            ..Overrides::default()
        })
        .unwrap()
        .rate_limit_per_second
    };
    assert_eq!(load("rate_limit_per_second = 50\n"), Some(50));
    assert_eq!(load("rate_limit_per_second = 0\n"), None, "0 means off");
    assert_eq!(load("listen = \"127.0.0.1:1\"\n"), None, "off unless set");
}
