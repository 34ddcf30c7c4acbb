//! Attacks on API v2 credentials: forged, re-keyed, re-curved and mangled
//! JWTs, another project's authority, customer credentials on writes. Every
//! attack is refused and changes nothing; the counts are printed.

use crate::app::v2::{ctx, issue};
use crate::app::{foreign_private_pem, raw_jwt, sign_es256, spawn_app, TestApp, TestAuthority};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A P-384 key (another curve than the authorities' P-256), as PKCS#8 PEM.
fn p384_private_pem() -> String {
    use p384::pkcs8::EncodePrivateKey;
    p384::SecretKey::random(&mut rand_core::OsRng)
        .to_pkcs8_pem(p384::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

fn public_pem(authority: &TestAuthority) -> String {
    p256::SecretKey::from_pkcs8_pem(&authority.private_pem)
        .unwrap()
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

/// Replaces one character in the middle of the signature part.
fn alter_signature(token: &str) -> String {
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = signature.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(bytes).unwrap())
}

/// The forged and mangled tokens, each claiming to be `victim`.
fn forgeries(victim: &TestAuthority, other: &TestAuthority) -> Vec<(&'static str, String)> {
    let sub = json!({ "sub": victim.id });
    let es256 = json!({ "alg": "ES256", "typ": "JWT" });
    let (header_part, _) = victim.token.split_once('.').unwrap();
    let (_, valid_signature) = victim.token.rsplit_once('.').unwrap();
    let attacker = foreign_private_pem();
    let attacker_jwk = {
        let key = p256::SecretKey::from_pkcs8_pem(&attacker).unwrap();
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false);
        json!({ "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()) })
    };
    let mut with_jwk = Header::new(Algorithm::ES256);
    with_jwk.jwk = serde_json::from_value(attacker_jwk).ok();
    vec![
        (
            "alg none",
            raw_jwt(&json!({ "alg": "none", "typ": "JWT" }), &sub, ""),
        ),
        (
            "alg None, signature kept",
            raw_jwt(&json!({ "alg": "None" }), &sub, valid_signature),
        ),
        (
            "HS256 keyed with the authority's public key",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &sub,
                &EncodingKey::from_secret(public_pem(victim).as_bytes()),
            )
            .unwrap(),
        ),
        (
            "ES384, signed on another curve (P-384)",
            jsonwebtoken::encode(
                &Header::new(Algorithm::ES384),
                &sub,
                &EncodingKey::from_ec_pem(p384_private_pem().as_bytes()).unwrap(),
            )
            .unwrap(),
        ),
        ("ES256 signed by another key", sign_es256(&attacker, &sub)),
        (
            "ES256 signed by another key, its public key embedded (jwk)",
            jsonwebtoken::encode(
                &with_jwk,
                &sub,
                &EncodingKey::from_ec_pem(attacker.as_bytes()).unwrap(),
            )
            .unwrap(),
        ),
        ("stripped signature", raw_jwt(&es256, &sub, "")),
        (
            "signature of two parts only",
            victim.token.rsplit_once('.').unwrap().0.to_owned(),
        ),
        ("altered signature", alter_signature(&victim.token)),
        (
            "claims swapped under a valid signature",
            format!(
                "{header_part}.{}.{valid_signature}",
                URL_SAFE_NO_PAD.encode(json!({ "sub": other.id }).to_string())
            ),
        ),
        (
            "another authority's signature",
            format!(
                "{}.{}",
                victim.token.rsplit_once('.').unwrap().0,
                other.token.rsplit_once('.').unwrap().1
            ),
        ),
        (
            "expired",
            sign_es256(
                &victim.private_pem,
                &json!({ "sub": victim.id, "exp": now() - 3600 }),
            ),
        ),
        (
            "not yet valid",
            sign_es256(
                &victim.private_pem,
                &json!({ "sub": victim.id, "nbf": now() + 3600 }),
            ),
        ),
        (
            "unknown authority",
            sign_es256(&victim.private_pem, &json!({ "sub": "au_aaaaaaaaaaaaaaaaaaaa" })),
        ),
        (
            "a sub that is not an id",
            sign_es256(&victim.private_pem, &json!({ "sub": "../../etc" })),
        ),
        (
            "a header that is not JSON",
            format!(
                "bm90IGpzb24.{}.{valid_signature}",
                URL_SAFE_NO_PAD.encode(sub.to_string())
            ),
        ),
        (
            "a huge token",
            format!(
                "{}.{}.{}",
                "e".repeat(20_000),
                "e".repeat(20_000),
                "e".repeat(20_000)
            ),
        ),
    ]
}

/// Ledger counts: what a refused request must not change.
async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let r = app.check().await;
    assert!(r.is_ok(), "{r:#?}");
    (r.entries, r.transactions, r.wallets)
}

#[tokio::test]
async fn forged_and_mangled_jwts_are_refused_on_api_v2() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let victim = app.create_authority("default").await;
    let other = app.create_authority("default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 100).await;
    let before = counts(&app).await;
    let attacks = forgeries(&victim, &other);
    for (case, token) in &attacks {
        for (method, path, body) in [
            ("GET", "/project".to_owned(), None),
            ("GET", format!("/wallets/{w}"), None),
            (
                "POST",
                "/transactions".to_owned(),
                Some(
                    json!({ "referenceId": format!("forged-{}", case.len()), "operations": [issue(&w, 1000)] }),
                ),
            ),
        ] {
            let (status, reply) = app.v2(method, &path, Some(token), body.as_ref()).await;
            assert_eq!(status, 401, "{case}: {method} {path} must be 401: {reply}");
            assert!(
                reply["status"].is_string() && reply["message"].is_string(),
                "{case}: {reply}"
            );
        }
    }
    assert_eq!(counts(&app).await, before, "no forged token changed anything");
    assert_eq!(c.balance(&app, &w).await, 100);
    let (status, _) = app.v2("GET", "/project", Some(&victim.token), None).await;
    assert_eq!(status, 200, "the victim's real token still works");
    println!(
        "JWT attacks on API v2: {} forged tokens x 3 requests, all 401, nothing changed",
        attacks.len()
    );
}

#[tokio::test]
async fn another_projects_authority_sees_and_moves_nothing_here() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 100).await;
    let tx = c.get_ok(&app, "/transactions").await["items"][0]["id"].clone();
    app.create_project("other").await;
    let outsider = app.create_authority("other").await;
    let outsider_key = app.access_key("other").await;
    let before = counts(&app).await;
    for (who, token) in [
        ("JWT", outsider.token.as_str()),
        ("access key", outsider_key.as_str()),
    ] {
        let (status, project) = app.v2("GET", "/project", Some(token), None).await;
        assert_eq!(
            (status, &project["id"]),
            (200, &json!("other")),
            "{who}: its own project only"
        );
        let tx = tx.as_str().unwrap();
        for (method, path, body) in [
            ("GET", format!("/wallets/{w}"), None),
            ("GET", format!("/wallets/{w}/entries"), None),
            ("GET", "/customers/alice".to_owned(), None),
            ("GET", format!("/transactions/{tx}"), None),
            ("PUT", format!("/wallets/{w}/status"), Some(json!("Suspended"))),
            (
                "POST",
                "/transactions".to_owned(),
                Some(
                    json!({ "referenceId": "steal", "operations": [{ "type": "Redeem", "source": w, "amount": 100 }] }),
                ),
            ),
        ] {
            let (status, reply) = app.v2(method, &path, Some(token), body.as_ref()).await;
            assert_eq!(
                status, 404,
                "{who}: {method} {path}: another project's ids are not found: {reply}"
            );
        }
        let (_, customers) = app.v2("GET", "/customers", Some(token), None).await;
        assert_eq!(customers["total"], 0, "{who}: {customers}");
    }
    assert_eq!(counts(&app).await, before);
    assert_eq!(c.balance(&app, &w).await, 100);
}

/// Fills the path of a route of the OpenAPI document with real ids.
fn fill(template: &str, ids: &[(&str, &str)]) -> String {
    ids.iter().fold(
        template.trim_start_matches("/api/v2").to_owned(),
        |path, (name, id)| path.replace(&format!("{{{name}}}"), id),
    )
}

#[tokio::test]
async fn customer_credentials_never_write() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let authority = app.create_authority("default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 100).await;
    let tx = c.get_ok(&app, "/transactions").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await;
    let (key_id, customer_key) = (
        key["id"].as_str().unwrap().to_owned(),
        key["token"].as_str().unwrap().to_owned(),
    );
    let customer_jwt = sign_es256(
        &authority.private_pem,
        &json!({ "sub": authority.id, "aud": "customer:alice", "exp": now() + 600 }),
    );
    let ids = [
        ("assetId", c.asset.as_str()),
        ("customerId", "alice"),
        ("walletId", w.as_str()),
        ("keyId", key_id.as_str()),
        ("txId", tx.as_str()),
        ("webhookId", "wh_none"),
    ];
    let op = json!({ "type": "Issue", "destination": w, "amount": 5 });
    let body_of = |method: &str, template: &str| -> Option<Value> {
        Some(match (method, template) {
            ("POST", "/api/v2/assets") => json!({ "name": "x", "code": "X", "fractions": 1 }),
            ("PUT", "/api/v2/assets/{assetId}/name") | ("PUT", "/api/v2/wallets/{walletId}/name") => {
                json!({ "name": "x" })
            }
            ("POST", "/api/v2/customers") => json!({ "id": "alice", "name": "hacked" }),
            ("PUT", "/api/v2/customers/{customerId}") => json!({ "name": "hacked" }),
            ("POST", "/api/v2/customers/{customerId}/keys")
            | ("POST", "/api/v2/customers/{customerId}/suspend") => json!({}),
            ("POST", "/api/v2/customers/{customerId}/resume") => json!({ "walletIds": [w] }),
            ("POST", "/api/v2/system-wallets") => json!({ "assetId": c.asset }),
            ("POST", "/api/v2/wallets") => json!({ "customerId": "alice", "assetId": c.asset }),
            ("POST", "/api/v2/transactions") => json!({ "referenceId": "ck", "operations": [op] }),
            ("POST", "/api/v2/transactions/batch") => {
                json!({ "transactions": [{ "referenceId": "ckb", "operations": [op] }] })
            }
            ("PUT", "/api/v2/wallets/{walletId}/description") => json!({ "description": "x" }),
            ("PUT", "/api/v2/wallets/{walletId}/status") => json!("Suspended"),
            ("PUT", "/api/v2/wallets/{walletId}/credit-limit") => json!({ "creditLimit": 1000 }),
            ("POST", "/api/v2/webhooks") => json!({ "url": "https://example.com/hook" }),
            ("POST", "/api/v2/webhooks/{webhookId}/replay") => json!({ "after": 0 }),
            ("DELETE", _) => return None,
            (method, template) => {
                panic!("a write route with no test body yet: {method} {template}; add one here")
            }
        })
    };
    // Every write route the document lists, so a new one is covered by itself.
    let doc = c.get_ok(&app, "/openapi.json").await;
    let mut routes = Vec::new();
    for (template, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if matches!(method.as_str(), "POST" | "PUT" | "DELETE" | "PATCH") {
                routes.push((method, template.clone()));
            }
        }
    }
    assert!(
        routes.len() >= 15,
        "the document lists the write routes: {routes:?}"
    );
    // A customer may name and describe its own wallets (docs/api-v2.md); nothing else.
    let allowed = [
        "/api/v2/wallets/{walletId}/name",
        "/api/v2/wallets/{walletId}/description",
    ];
    let before = counts(&app).await;
    let mut tried = 0;
    for (who, token) in [
        ("customer key", &customer_key),
        ("offline customer JWT", &customer_jwt),
    ] {
        for (method, template) in &routes {
            let path = fill(template, &ids);
            let body = body_of(method, template);
            let (status, reply) = app.v2(method, &path, Some(token), body.as_ref()).await;
            tried += 1;
            if method == "PUT" && allowed.contains(&template.as_str()) {
                assert_eq!(status, 200, "{who}: {method} {path}: {reply}");
            } else {
                assert_eq!(
                    (status, &reply["status"]),
                    (403, &json!("ACCESS_DENIED")),
                    "{who}: {method} {path} must be refused: {reply}"
                );
            }
        }
    }
    assert_eq!(
        counts(&app).await,
        before,
        "no customer credential moved value or made a row"
    );
    assert_eq!(c.balance(&app, &w).await, 100);
    let wallet = c.wallet_of(&app, &w).await;
    assert_eq!(wallet["status"], "Open", "{wallet}");
    assert_eq!(wallet["creditLimit"], 0, "no credit granted: {wallet}");
    assert_eq!(c.get_ok(&app, "/customers/alice").await["status"], "Active");
    let (status, _) = app.v2("GET", "/wallets", Some(&customer_key), None).await;
    assert_eq!(status, 200, "the key itself was not revoked by anything it did");
    println!("customer credentials on every write route: {tried} attempts, only the two documented renames allowed");
}
