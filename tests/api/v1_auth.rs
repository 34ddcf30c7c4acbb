//! Who may call API v1: only live authorities with valid ES256 tokens.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use wallet_testkit::app::{
    flip_s, foreign_private_pem, is_high_s, json_of, raw_jwt, sign_es256, sign_with_header, spawn_app,
    spawn_app_with, TestApp,
};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Asserts a token is refused with 401 and a JSON error on a write and a
/// read, and that the write changed nothing.
async fn assert_refused(app: &TestApp, token: &str, good_token: &str, case: &str) {
    let before = app.check().await;
    let response = app
        .post_entry(
            token,
            &json!({ "user_id": "victim", "amount": 1000, "reason": "attack" }),
        )
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!(status, 401, "{case}: write must be 401, got {body}");
    assert!(body["error"].is_string(), "{case}: {body}");
    let (status, _) = json_of(app.get(token, "/api/v1/wallet").await).await;
    assert_eq!(status, 401, "{case}: read must be 401");
    let after = app.check().await;
    assert_eq!(before.entries, after.entries, "{case}: nothing may change");
    assert_eq!(
        app.total(good_token, "victim").await,
        Some(1),
        "{case}: balance unchanged"
    );
}

#[tokio::test]
async fn missing_authorization_is_401() {
    let app = spawn_app().await;
    for path in ["/api/v1/wallet", "/api/v1/entry/inventory"] {
        let (status, body) = json_of(app.client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
        assert!(body["error"].as_str().unwrap().contains("missing"), "{body}");
    }
}

#[tokio::test]
async fn bearer_prefix_is_accepted_too() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let response = app.get(&format!("Bearer {}", a.token), "/api/v1/wallet").await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn forged_revoked_and_crafted_tokens_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let victim = app.create_authority("default").await;
    app.entry(&a.token, "victim", 1).await;

    let public_pem = p256::SecretKey::from_pkcs8_pem(&victim.private_pem)
        .unwrap()
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let sub = json!({ "sub": victim.id });
    let es256_header = json!({ "alg": "ES256", "typ": "JWT" });
    let valid_signature = victim.token.rsplit('.').next().unwrap().to_owned();

    let cases: Vec<(&str, String)> = vec![
        (
            "forged key: right id, another private key",
            sign_es256(&foreign_private_pem(), &sub),
        ),
        (
            "alg none",
            raw_jwt(&json!({ "alg": "none", "typ": "JWT" }), &sub, ""),
        ),
        (
            "HS256 keyed with the public key",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &sub,
                &EncodingKey::from_secret(public_pem.as_bytes()),
            )
            .unwrap(),
        ),
        (
            "expired exp",
            sign_es256(
                &victim.private_pem,
                &json!({ "sub": victim.id, "exp": now() - 3600 }),
            ),
        ),
        (
            "nbf in the future",
            sign_es256(
                &victim.private_pem,
                &json!({ "sub": victim.id, "nbf": now() + 3600 }),
            ),
        ),
        (
            "a customer token (has aud) used as an authority token",
            sign_es256(
                &victim.private_pem,
                &json!({ "sub": victim.id, "aud": "customer:victim", "exp": now() + 3600 }),
            ),
        ),
        ("stripped signature", raw_jwt(&es256_header, &sub, "")),
        (
            "claims altered under a valid signature",
            raw_jwt(
                &es256_header,
                &json!({ "sub": victim.id, "x": 1 }),
                &valid_signature,
            ),
        ),
        (
            "unknown authority",
            sign_es256(&victim.private_pem, &json!({ "sub": "au_unknown" })),
        ),
        (
            "sub is not a string",
            sign_es256(&victim.private_pem, &json!({ "sub": 7 })),
        ),
        ("no sub", sign_es256(&victim.private_pem, &json!({}))),
        ("not a JWT", "hello".to_owned()),
        ("empty", String::new()),
        ("bearer only", "Bearer ".to_owned()),
    ];
    // Checked while the victim is live, so that each case is refused for its
    // own reason and not because the authority is revoked.
    assert_eq!(
        app.get(&victim.token, "/api/v1/wallet").await.status().as_u16(),
        200
    );
    for (case, token) in &cases {
        assert_refused(&app, token, &a.token, case).await;
    }
    app.revoke(&victim).await;
    assert_refused(&app, &victim.token, &a.token, "revoked authority").await;
    // Revoking one authority leaves the others working.
    assert_eq!(app.get(&a.token, "/api/v1/wallet").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_token_with_a_future_exp_is_accepted() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let token = sign_es256(&a.private_pem, &json!({ "sub": a.id, "exp": now() + 3600 }));
    let (status, body): (u16, Value) = json_of(app.get(&token, "/api/v1/wallet").await).await;
    assert_eq!(status, 200, "{body}");
}

/// `exp` and `nbf` hold to the second (no leeway by default), and a header
/// naming a `crit` extension is refused (RFC 7515 §4.1.11: this server
/// understands none).
#[tokio::test]
async fn tokens_outside_their_validity_or_with_crit_are_refused() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "victim", 1).await;
    let signed = |claims: Value| sign_es256(&a.private_pem, &claims);
    let with_header = |header: Value| sign_with_header(&a.private_pem, &header, &json!({ "sub": a.id }));
    let now = now();
    // `nbf` cases stay in the future for the whole test: at least 30 s.
    let cases: Vec<(&str, String)> = vec![
        ("exp is now", signed(json!({ "sub": a.id, "exp": now }))),
        ("expired 1 s ago", signed(json!({ "sub": a.id, "exp": now - 1 }))),
        (
            "expired 10 s ago",
            signed(json!({ "sub": a.id, "exp": now - 10 })),
        ),
        (
            "expired 50 s ago",
            signed(json!({ "sub": a.id, "exp": now - 50 })),
        ),
        ("nbf in 30 s", signed(json!({ "sub": a.id, "nbf": now + 30 }))),
        ("nbf in 50 s", signed(json!({ "sub": a.id, "nbf": now + 50 }))),
        ("exp not a number", signed(json!({ "sub": a.id, "exp": "never" }))),
        ("nbf not a number", signed(json!({ "sub": a.id, "nbf": "now" }))),
        (
            "crit names an unknown extension",
            with_header(json!({ "alg": "ES256", "typ": "JWT", "crit": ["x-policy"], "x-policy": "strict" })),
        ),
        (
            "crit names a member it lacks",
            with_header(json!({ "alg": "ES256", "crit": ["x-policy"] })),
        ),
        (
            "crit b64 (unencoded payload, RFC 7797)",
            with_header(json!({ "alg": "ES256", "crit": ["b64"], "b64": false })),
        ),
        ("crit empty", with_header(json!({ "alg": "ES256", "crit": [] }))),
        ("crit null", with_header(json!({ "alg": "ES256", "crit": null }))),
    ];
    for (case, token) in &cases {
        assert_refused(&app, token, &a.token, case).await;
    }
    let accepted = [
        ("nbf is now", signed(json!({ "sub": a.id, "nbf": now }))),
        ("exp in 30 s", signed(json!({ "sub": a.id, "exp": now + 30 }))),
        (
            "a header with kid and no crit",
            with_header(json!({ "alg": "ES256", "typ": "JWT", "kid": "k1" })),
        ),
    ];
    for (case, token) in &accepted {
        let (status, body) = json_of(app.get(token, "/api/v1/wallet").await).await;
        assert_eq!(status, 200, "{case}: {body}");
    }
}

/// `jwt_leeway_seconds` widens both bounds by that much, and no more.
#[tokio::test]
async fn the_jwt_leeway_is_configurable() {
    let app = spawn_app_with(|s| s.jwt_leeway_seconds = 30).await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "victim", 1).await;
    let now = now();
    let signed = |claims: Value| sign_es256(&a.private_pem, &claims);
    for (case, token) in [
        (
            "expired 10 s ago",
            signed(json!({ "sub": a.id, "exp": now - 10 })),
        ),
        ("nbf in 10 s", signed(json!({ "sub": a.id, "nbf": now + 10 }))),
    ] {
        app.entry(&token, "leeway", 1).await;
        let (status, body) = json_of(app.get(&token, "/api/v1/wallet").await).await;
        assert_eq!(status, 200, "{case}, within 30 s of leeway: {body}");
    }
    for (case, token) in [
        (
            "expired 50 s ago",
            signed(json!({ "sub": a.id, "exp": now - 50 })),
        ),
        ("nbf in 50 s", signed(json!({ "sub": a.id, "nbf": now + 50 }))),
    ] {
        assert_refused(&app, &token, &a.token, case).await;
    }
}

/// ES256 signatures come in pairs, `(r, s)` and `(r, n - s)`, and signers
/// such as OpenSSL (the SDK's PyJWT) pick either: both are accepted, as
/// the same token (the rate limit keys on the authority, never on bytes).
#[tokio::test]
async fn either_s_of_a_signature_is_accepted() {
    let app = spawn_app().await;
    let a = app.create_authority("default").await;
    let flipped = flip_s(&a.token);
    assert_ne!(
        is_high_s(&a.token),
        is_high_s(&flipped),
        "one of the two is high-S"
    );
    for token in [&a.token, &flipped, &a.token] {
        app.entry(token, "u", 1).await;
    }
    assert_eq!(app.total(&flipped, "u").await, Some(3));
    let forged = flip_s(&sign_es256(&foreign_private_pem(), &json!({ "sub": a.id })));
    let (status, _) = json_of(app.get(&forged, "/api/v1/wallet").await).await;
    assert_eq!(status, 401, "a flipped forgery is still a forgery");
}
