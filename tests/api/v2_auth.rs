//! API v2 credentials: access keys, authority JWTs, customer keys and
//! offline customer JWTs, and project isolation.

use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wallet_testkit::app::v2::{assert_error, assert_error_body, ctx, issue, redeem, transfer, Ctx, Failures};
use wallet_testkit::app::{foreign_private_pem, sign_es256, sign_with_header, spawn_app, TestApp};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn mint_key(app: &TestApp, c: &Ctx, customer: &str, body: Value) -> (String, String) {
    let key = c
        .call(app, "POST", &format!("/customers/{customer}/keys"), body, 201)
        .await;
    let token = key["token"].as_str().expect("token").to_owned();
    (key["id"].as_str().expect("key id").to_owned(), token)
}

#[tokio::test]
async fn credentials_are_checked() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;
    let revoked = app.create_authority("default").await;
    app.revoke(&revoked).await;
    let forged = sign_es256(&foreign_private_pem(), &json!({ "sub": a.id }));
    let expired = sign_es256(
        &a.private_pem,
        &json!({ "sub": a.id, "exp": now_ms() / 1000 - 3600 }),
    );
    let expired_10_s_ago = sign_es256(
        &a.private_pem,
        &json!({ "sub": a.id, "exp": now_ms() / 1000 - 10 }),
    );
    let crit = sign_with_header(
        &a.private_pem,
        &json!({ "alg": "ES256", "crit": ["x-policy"], "x-policy": "strict" }),
        &json!({ "sub": a.id }),
    );
    // The same key with its last secret character changed (to another one of the alphabet).
    let last = if c.key.ends_with('a') { 'b' } else { 'a' };
    let wrong_secret = format!("{}{last}", &c.key[..c.key.len() - 1]);
    assert_ne!(wrong_secret, c.key);
    let cases: Vec<(&str, Option<&str>, u16, &str)> = vec![
        ("no key", None, 401, "NO_KEY"),
        ("garbage", Some("garbage"), 401, "ILLEGAL_TOKEN"),
        ("three dots", Some("a.b.c"), 401, "ILLEGAL_TOKEN"),
        (
            "unknown access key",
            Some("ak_aaaaaaaaaaaaaaaaaaaa_bbbb"),
            401,
            "ILLEGAL_TOKEN",
        ),
        (
            "access key, wrong secret",
            Some(&wrong_secret),
            401,
            "ILLEGAL_TOKEN",
        ),
        ("revoked authority", Some(&revoked.token), 401, "ILLEGAL_TOKEN"),
        ("forged signature", Some(&forged), 401, "ILLEGAL_SIGNATURE"),
        ("expired authority JWT", Some(&expired), 401, "EXPIRED"),
        (
            "authority JWT expired 10 s ago (no leeway)",
            Some(&expired_10_s_ago),
            401,
            "EXPIRED",
        ),
        ("a crit header", Some(&crit), 401, "ILLEGAL_TOKEN"),
    ];
    for (case, token, http, status) in cases {
        let reply = app.v2("GET", "/project", token, None).await;
        assert_error(case, &reply, http, status);
    }
    for (case, token) in [("access key", &c.key), ("authority JWT", &a.token)] {
        let (status, body) = app.v2("GET", "/project", Some(token), None).await;
        assert_eq!((status, &body["id"]), (200, &json!("default")), "{case}: {body}");
    }
    let response = app
        .client
        .get(app.url("/api/v2/project"))
        .header("Authorization", &a.token)
        .send()
        .await;
    assert_eq!(
        response.unwrap().status().as_u16(),
        200,
        "a raw JWT without Bearer"
    );
    let response = app
        .client
        .get(app.url("/api/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "the OpenAPI document needs no key"
    );
}

#[tokio::test]
async fn a_customer_key_reads_its_own_data_and_writes_nothing_else() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let wa = c.customer_wallet(&app, "alice").await;
    let wb = c.customer_wallet(&app, "bob").await;
    c.fund(&app, &wa, 50).await;
    let tx = c.tx_ok(&app, vec![transfer(&wa, &wb, 5)]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key_id, ck) = mint_key(&app, &c, "alice", json!({})).await;
    assert!(ck.starts_with("ck_"), "customer key token {ck}");
    let listed = c.get_ok(&app, "/customers/alice/keys").await;
    assert_eq!(listed["items"][0]["id"], key_id.as_str(), "{listed}");
    assert!(
        listed["items"][0].get("token").is_none(),
        "tokens are shown once: {listed}"
    );

    let asset = &c.asset;
    let reads = [
        "/customers/alice".to_owned(),
        "/wallets".into(),
        "/customers/alice/wallets".into(),
        format!("/wallets/{wa}"),
        format!("/wallets/{wa}/entries"),
        "/assets".into(),
        format!("/assets/{asset}"),
    ];
    for path in &reads {
        let (status, body) = app.v2("GET", path, Some(&ck), None).await;
        assert_eq!(status, 200, "customer key GET {path}: {body}");
    }
    let own = app.v2("GET", "/wallets", Some(&ck), None).await.1;
    assert_eq!(
        (&own["total"], &own["items"][0]["id"]),
        (&json!(1), &json!(wa)),
        "only alice's: {own}"
    );
    for (field, value) in [("name", "mine"), ("description", "my wallet")] {
        let (status, body) = app
            .v2(
                "PUT",
                &format!("/wallets/{wa}/{field}"),
                Some(&ck),
                Some(&json!({field: value})),
            )
            .await;
        assert_eq!(
            (status, &body[field]),
            (200, &json!(value)),
            "customer key PUT {field}: {body}"
        );
    }

    let w = |s: &str| json!(s);
    let denied: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            "/transactions".into(),
            Some(json!({"referenceId": "ck-1", "operations": [issue(&wa, 1)]})),
        ),
        (
            "POST",
            "/transactions".into(),
            Some(json!({"referenceId": "ck-2", "operations": [redeem(&wa, 1)]})),
        ),
        (
            "POST",
            "/wallets".into(),
            Some(json!({"customerId": "alice", "assetId": asset})),
        ),
        ("PUT", format!("/wallets/{wa}/status"), Some(w("Suspended"))),
        ("POST", "/customers/alice/suspend".into(), Some(json!({}))),
        (
            "POST",
            "/customers/alice/resume".into(),
            Some(json!({"walletIds": [wa]})),
        ),
        (
            "POST",
            "/assets".into(),
            Some(json!({"name": "x", "code": "X", "fractions": 1})),
        ),
        ("PUT", format!("/assets/{asset}/name"), Some(json!({"name": "x"}))),
        ("DELETE", format!("/assets/{asset}"), None),
        (
            "POST",
            "/customers".into(),
            Some(json!({"id": "alice", "name": "hacked"})),
        ),
        ("PUT", "/customers/alice".into(), Some(json!({"name": "hacked"}))),
        ("DELETE", "/customers/alice".into(), None),
        ("POST", "/customers/alice/keys".into(), Some(json!({}))),
        ("GET", "/customers/alice/keys".into(), None),
        ("DELETE", format!("/customers/alice/keys/{key_id}"), None),
        ("POST", "/system-wallets".into(), Some(json!({"assetId": asset}))),
        ("GET", "/system-wallets".into(), None),
        ("GET", "/project".into(), None),
        ("GET", "/customers".into(), None),
        ("GET", "/transactions".into(), None),
        ("GET", format!("/transactions/{tx}"), None),
        ("GET", "/customers/bob".into(), None),
        ("GET", "/customers/bob/wallets".into(), None),
        ("GET", format!("/wallets/{wb}"), None),
        ("GET", format!("/wallets/{wb}/entries"), None),
        (
            "PUT",
            format!("/wallets/{wb}/name"),
            Some(json!({"name": "taken"})),
        ),
        (
            "PUT",
            format!("/wallets/{wb}/description"),
            Some(json!({"description": "taken"})),
        ),
    ];
    let before = app.check().await;
    let mut failures = Failures::default();
    for (method, path, body) in &denied {
        let reply = app.v2(method, path, Some(&ck), body.as_ref()).await;
        failures.error(
            &format!("customer key {method} {path}"),
            &reply,
            403,
            "ACCESS_DENIED",
        );
    }
    failures.assert_none();
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets)
    );
    assert_eq!((c.balance(&app, &wa).await, c.balance(&app, &wb).await), (45, 5));
    let bob = c.wallet_of(&app, &wb).await;
    assert_eq!(
        (&bob["name"], &bob["status"]),
        (&json!("bob's"), &json!("Open")),
        "{bob}"
    );
    assert_eq!(
        c.get_ok(&app, "/customers/alice").await["name"],
        "alice",
        "not renamed"
    );
    assert_eq!(
        app.v2("GET", "/wallets", Some(&ck), None).await.0,
        200,
        "the key still works"
    );
}

#[tokio::test]
async fn revoked_and_expired_customer_keys_are_refused() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer_wallet(&app, "alice").await;
    let (revoked_id, revoked) = mint_key(&app, &c, "alice", json!({})).await;
    let expires_at = now_ms() + 1500;
    let (_, expiring) = mint_key(&app, &c, "alice", json!({ "expiresAt": expires_at })).await;
    let (_, kept) = mint_key(&app, &c, "alice", json!({})).await;
    for token in [&revoked, &expiring, &kept] {
        assert_eq!(app.v2("GET", "/wallets", Some(token), None).await.0, 200);
    }
    let listed = c.get_ok(&app, "/customers/alice/keys").await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["expiresAt"] == expires_at),
        "{listed}"
    );

    let (status, _) = app
        .v2(
            "DELETE",
            &format!("/customers/alice/keys/{revoked_id}"),
            Some(&c.key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_error(
        "revoked key",
        &app.v2("GET", "/wallets", Some(&revoked), None).await,
        401,
        "ILLEGAL_TOKEN",
    );
    let listed = c.get_ok(&app, "/customers/alice/keys").await;
    let row = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == revoked_id.as_str())
        .cloned();
    assert!(
        row.is_some_and(|k| k["revokedAt"].is_i64()),
        "revokedAt is set: {listed}"
    );

    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_error(
        "expired key",
        &app.v2("GET", "/wallets", Some(&expiring), None).await,
        401,
        "EXPIRED",
    );
    assert_eq!(
        app.v2("GET", "/wallets", Some(&kept), None).await.0,
        200,
        "another key is untouched"
    );
}

#[tokio::test]
async fn an_offline_customer_jwt_reads_only_that_customer() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let authority = app.create_authority("default").await;
    let wa = c.customer_wallet(&app, "alice").await;
    c.customer_wallet(&app, "bob").await;
    let exp = now_ms() / 1000 + 600;
    let jwt = |aud: &str, exp: Option<i64>| {
        let mut claims = json!({ "sub": authority.id, "aud": aud });
        if let Some(exp) = exp {
            claims["exp"] = json!(exp);
        }
        sign_es256(&authority.private_pem, &claims)
    };
    let alice = jwt("customer:alice", Some(exp));
    let own = app
        .v2("GET", "/customers/alice/wallets", Some(&alice), None)
        .await;
    assert_eq!((own.0, &own.1["items"][0]["id"]), (200, &json!(wa)), "{}", own.1);
    assert_eq!(app.v2("GET", "/wallets", Some(&alice), None).await.1["total"], 1);
    let write = json!({"referenceId": "jwt-1", "operations": [issue(&wa, 1)]});
    let reply = app.v2("POST", "/transactions", Some(&alice), Some(&write)).await;
    assert_error("offline JWT writes", &reply, 403, "ACCESS_DENIED");

    let forged = sign_es256(
        &foreign_private_pem(),
        &json!({"sub": authority.id, "aud": "customer:alice", "exp": exp}),
    );
    let refused: Vec<(&str, String, Option<&str>)> = vec![
        ("no exp", jwt("customer:alice", None), None),
        (
            "expired",
            jwt("customer:alice", Some(exp - 7200)),
            Some("EXPIRED"),
        ),
        (
            "expired 10 s ago (no leeway)",
            jwt("customer:alice", Some(exp - 610)),
            Some("EXPIRED"),
        ),
        ("forged", forged, Some("ILLEGAL_SIGNATURE")),
        ("unknown customer", jwt("customer:nobody", Some(exp)), None),
    ];
    for (case, token, status) in refused {
        let (code, body) = app
            .v2("GET", "/customers/alice/wallets", Some(&token), None)
            .await;
        assert_eq!(code, 401, "{case}: {body}");
        assert_error_body(case, &body);
        if let Some(status) = status {
            assert_eq!(body["status"], status, "{case}");
        }
    }
    let bob = jwt("customer:bob", Some(exp));
    for path in [
        "/customers/alice".to_owned(),
        "/customers/alice/wallets".into(),
        format!("/wallets/{wa}"),
    ] {
        let (code, body) = app.v2("GET", &path, Some(&bob), None).await;
        assert!(code == 403 || code == 401, "bob's JWT GET {path}: {code} {body}");
    }
}
