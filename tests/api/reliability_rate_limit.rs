//! Request-rate limits per credential (`rate_limit_per_second`): over the
//! limit a request is a 429 — `LIMIT_EXCEEDED` on API v2, `{"error"}` on API
//! v1, chosen by the route and not by how the path is spelled — and does
//! nothing; other credentials are not affected; the bucket refills; off by
//! default. A bucket belongs to the credential's identity (authority, customer
//! key, authority + customer), never to the token's bytes: re-signed tokens
//! and flipped signatures share it. Refused credentials and `/health` touch
//! no bucket.

use crate::app::{flip_s, foreign_private_pem, json_of, sign_es256, spawn_app_with, TestApp};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wallet_core::text::{ProjectId, Text};
use wallet_service::auth::Credentials;
use wallet_service::config::{Overrides, Settings};

struct Limited {
    address: String,
    client: reqwest::Client,
    credentials: Credentials,
    app: TestApp,
}

async fn serve(rate_limit_per_second: Option<u32>) -> Limited {
    let app = spawn_app_with(|s| s.rate_limit_per_second = rate_limit_per_second).await;
    Limited {
        address: app.address.clone(),
        client: app.client.clone(),
        credentials: app.credentials().clone(),
        app,
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
    assert_eq!(body.as_object().map(serde_json::Map::len), Some(2), "{body}");
}

fn assert_v1_limit(body: &Value) {
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body.as_object().map(serde_json::Map::len), Some(1), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_credential_is_limited_on_its_own_and_refills() {
    let app = serve(Some(5)).await;
    let (a, b) = (app.key().await, app.key().await);
    app.assert_limited(
        5,
        30,
        "/api/v2/project",
        &a,
        assert_v2_limit,
        "5 per second with a burst of 5",
    )
    .await;
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
    app.assert_limited(5, 30, "/api/v1/wallet", &jwt, assert_v1_limit, "API v1 too")
        .await;

    for _ in 0..50 {
        let (status, _, _) = app.get("/api/v1/health", None).await;
        assert_eq!(status, 200, "requests without a credential are not limited");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body, _) = app.get("/api/v2/project", Some(&a)).await;
    assert_eq!(status, 200, "the bucket refilled: {body}");
    app.app.stop().await;
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
    app.app.stop().await;
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
    app.app.stop().await;
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

/// The most requests a bucket of `rate` lets through in `elapsed`: its burst,
/// what refills meanwhile, and one for rounding.
fn at_most(rate: u32, elapsed: Duration) -> usize {
    let rate = f64::from(rate);
    (rate + (elapsed.as_secs_f64() * rate).ceil() + 1.0) as usize
}

impl Limited {
    async fn authority(&self) -> wallet_service::auth::NewAuthority {
        let name = Text::parse("limited", "name", 200).unwrap();
        let project = ProjectId::parse("default").unwrap();
        self.credentials
            .create_authority(project, name, &self.address)
            .await
            .unwrap()
    }

    /// A burst of `n` requests, of which `rate` (the bucket) and what refills
    /// meanwhile may go through, and no fewer than `rate`.
    async fn assert_limited(
        &self,
        rate: u32,
        n: usize,
        path: &str,
        token: &str,
        refused: fn(&Value),
        what: &str,
    ) {
        let started = Instant::now();
        let through = self.burst(n, path, token, refused).await;
        let elapsed = started.elapsed();
        assert!(
            (rate as usize..=at_most(rate, elapsed)).contains(&through),
            "{what}: {through} of {n} let through in {elapsed:?} at {rate} per second"
        );
    }

    /// Sends every request at once; returns the statuses, checking each
    /// refusal's body with `refused`.
    async fn all_at_once(&self, requests: Vec<reqwest::RequestBuilder>, refused: fn(&Value)) -> Vec<u16> {
        let mut set = tokio::task::JoinSet::new();
        for request in requests {
            set.spawn(async move { json_of(request.send().await.unwrap()).await });
        }
        let mut statuses = Vec::new();
        while let Some(joined) = set.join_next().await {
            let (status, body) = joined.unwrap();
            if status == 429 {
                refused(&body);
            }
            statuses.push(status);
        }
        statuses
    }
}

/// Item 8 of issue 9: many distinct valid tokens of one authority (re-signed
/// with other claims, and each one's twin with the other `s`), fired
/// concurrently as writes, share the authority's one bucket; exactly the
/// writes let through are in the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn re_signed_and_flipped_tokens_share_the_authoritys_bucket() {
    let app = serve(Some(5)).await;
    let authority = app.authority().await;
    let (id, pem) = (&authority.config.authority_id, &authority.config.private_key);
    let mut tokens = Vec::new();
    for n in 0..30 {
        let token = sign_es256(pem, &json!({ "sub": id, "jti": n }));
        tokens.push(flip_s(&token));
        tokens.push(token);
    }
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    assert_eq!(distinct.len(), 60, "60 different byte strings");
    let requests = tokens
        .iter()
        .map(|token| {
            app.client
                .post(format!("{}/api/v1/entry", app.address))
                .header("Authorization", token)
                .json(&json!({ "user_id": "u", "amount": 1, "reason": "burst" }))
        })
        .collect();
    let started = Instant::now();
    let statuses = app.all_at_once(requests, assert_v1_limit).await;
    let elapsed = started.elapsed();
    let through = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "only 200 or 429: {statuses:?}"
    );
    assert!(
        (5..=at_most(5, elapsed)).contains(&through),
        "one bucket of 5 per second: {through} of 60 let through in {elapsed:?}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, wallets, _) = app
        .get("/api/v1/wallet?user_ids=u&authority_ids=", Some(&tokens[0]))
        .await;
    assert_eq!(status, 200, "{wallets}");
    assert_eq!(
        wallets["wallets"][0]["total"].as_u64(),
        Some(through as u64),
        "exactly the 200s were written: {wallets}"
    );
    app.app.stop().await;
}

/// A customer key has its own bucket (keyed by its id); offline customer
/// JWTs share the bucket of their authority and customer however many are
/// signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_credentials_are_limited_by_key_or_by_authority_and_customer() {
    let app = serve(Some(5)).await;
    let key = app.key().await;
    let authority = app.authority().await;
    for customer in ["alice", "bob"] {
        let response = app
            .client
            .post(format!("{}/api/v2/customers", app.address))
            .bearer_auth(&key)
            .json(&json!({ "id": customer }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
    }
    let mut customer_keys = Vec::new();
    for _ in 0..2 {
        let response = app
            .client
            .post(format!("{}/api/v2/customers/alice/keys", app.address))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(status, 201, "{body}");
        customer_keys.push(body["token"].as_str().unwrap().to_owned());
    }
    app.assert_limited(
        5,
        20,
        "/api/v2/wallets",
        &customer_keys[0],
        assert_v2_limit,
        "a customer key",
    )
    .await;
    let (status, body, _) = app.get("/api/v2/wallets", Some(&customer_keys[1])).await;
    assert_eq!(
        status, 200,
        "another key of the same customer has its own: {body}"
    );

    let (id, pem) = (&authority.config.authority_id, &authority.config.private_key);
    let exp = wallet_core::clock::system_now() / 1000 + 600;
    let jwt = |customer: &str, n: i64| {
        sign_es256(
            pem,
            &json!({ "sub": id, "aud": format!("customer:{customer}"), "exp": exp + n }),
        )
    };
    let requests = (0..30)
        .flat_map(|n| {
            let token = jwt("alice", n);
            [flip_s(&token), token]
        })
        .map(|token| {
            app.client
                .get(format!("{}/api/v2/wallets", app.address))
                .bearer_auth(token)
        })
        .collect();
    let started = Instant::now();
    let statuses = app.all_at_once(requests, assert_v2_limit).await;
    let elapsed = started.elapsed();
    let through = statuses.iter().filter(|s| **s == 200).count();
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    assert!(
        (5..=at_most(5, elapsed)).contains(&through),
        "alice's offline JWTs share one bucket: {through} of 60 in {elapsed:?}"
    );
    let (status, body, _) = app.get("/api/v2/wallets", Some(&jwt("bob", 0))).await;
    assert_eq!(status, 200, "bob's JWTs have their own: {body}");
    app.app.stop().await;
}

/// The 429 body is the API's that serves the route, however the path is
/// spelled (`%61` is `a`: the router decodes it, a prefix test does not).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_429_body_follows_the_route_not_the_spelling() {
    let app = serve(Some(2)).await;
    let key = app.key().await;
    let authority = app.authority().await;
    let jwt = sign_es256(
        &authority.config.private_key,
        &json!({ "sub": authority.config.authority_id }),
    );
    let v1: fn(&Value) = assert_v1_limit;
    let v2: fn(&Value) = assert_v2_limit;
    let cases = [
        ("/api/v2/project", &key, v2),
        ("/%61pi/v2/project", &key, v2),
        ("/api/%76%32/project", &key, v2),
        ("/api/v1/wallet", &jwt, v1),
        ("/%61pi/v1/wallet", &jwt, v1),
    ];
    for (path, token, refused) in cases {
        // The bucket is shared across spellings: it is empty after the first case.
        // Each case must meet a 429, whose body `burst` checks.
        let through = app.burst(6, path, token, refused).await;
        assert!(through < 6, "{path}: {through} of 6 let through");
    }
    app.app.stop().await;
}

/// The SDK sends its token to `/api/v1/health` before its requests: health
/// answers whatever the bucket holds, and costs nothing from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_never_limited_and_costs_nothing() {
    let app = serve(Some(3)).await;
    let authority = app.authority().await;
    let jwt = sign_es256(
        &authority.config.private_key,
        &json!({ "sub": authority.config.authority_id }),
    );
    for _ in 0..20 {
        let (status, body, _) = app.get("/api/v1/health", Some(&jwt)).await;
        assert_eq!(status, 200, "health with a credential: {body}");
    }
    app.assert_limited(
        3,
        10,
        "/api/v1/wallet",
        &jwt,
        assert_v1_limit,
        "the bucket was still full",
    )
    .await;
    let (status, body, _) = app.get("/api/v1/health", Some(&jwt)).await;
    assert_eq!(status, 200, "health while the bucket is empty: {body}");
    app.app.stop().await;
}

/// A refused credential is answered 401 every time and touches no bucket:
/// forged tokens naming an authority do not spend that authority's budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_401_and_spend_no_bucket() {
    let app = serve(Some(3)).await;
    let authority = app.authority().await;
    let id = &authority.config.authority_id;
    let forged = sign_es256(&foreign_private_pem(), &json!({ "sub": id }));
    for (path, token) in [
        ("/api/v1/wallet", forged.as_str()),
        ("/api/v2/project", forged.as_str()),
        ("/api/v2/project", "ak_aaaaaaaaaaaaaaaaaaaa_bbbb"),
        ("/api/v1/wallet", "garbage"),
    ] {
        for _ in 0..10 {
            let (status, body, _) = app.get(path, Some(token)).await;
            assert_eq!(status, 401, "{path} {token}: {body}");
        }
    }
    let jwt = sign_es256(&authority.config.private_key, &json!({ "sub": id }));
    app.assert_limited(
        3,
        10,
        "/api/v1/wallet",
        &jwt,
        assert_v1_limit,
        "the forgeries spent nothing",
    )
    .await;
    app.app.stop().await;
}
