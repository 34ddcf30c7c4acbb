//! Tokens as clients make them, and as attackers bend them: ES256 JWTs
//! with any header or claims, high-S twins, foreign keys, raw signatures.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::Value;

pub fn sign_es256(private_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).expect("private key");
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).expect("signed")
}

/// A JWT with any header (`crit`, say), signed ES256 over exactly the bytes given.
pub fn sign_with_header(private_pem: &str, header: &Value, claims: &Value) -> String {
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(private_pem).expect("private key");
    let head = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = key.sign(head.as_bytes());
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The same token with its ECDSA signature `(r, s)` turned into `(r, n - s)`:
/// other bytes that verify just as well (one of the two is "high-S").
pub fn flip_s(token: &str) -> String {
    let (head, signature) = token.rsplit_once('.').expect("a JWT");
    let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let signature = p256::ecdsa::Signature::from_slice(&bytes).expect("an ES256 signature");
    let (r, s) = signature.split_scalars();
    let flipped = p256::ecdsa::Signature::from_scalars(r, -s).expect("a signature");
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(flipped.to_bytes()))
}

/// Whether a JWT's ES256 signature has the larger of its two `s` values.
pub fn is_high_s(token: &str) -> bool {
    let signature = token.rsplit('.').next().expect("a JWT");
    let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let signature = p256::ecdsa::Signature::from_slice(&bytes).expect("an ES256 signature");
    signature.normalize_s().is_some()
}

/// A fresh P-256 private key that no authority has.
pub fn foreign_private_pem() -> String {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    secret.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()
}

/// A JWT with any header and claims and the given raw signature part.
pub fn raw_jwt(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}
