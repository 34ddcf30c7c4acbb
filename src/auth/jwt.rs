//! Verifying ES256 JWTs signed by an authority's key.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Why a request was not authenticated. Messages never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing Authorization header")]
    Missing,
    #[error("the token is not a valid key or ES256 JWT")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("unknown or revoked key")]
    UnknownKey,
    #[error("the credential store is unavailable")]
    Unavailable,
}

#[derive(Debug, Deserialize)]
pub(super) struct Claims {
    pub sub: String,
    /// Present only on customer tokens: `customer:<customerId>`.
    #[serde(default)]
    pub aud: Option<serde_json::Value>,
    /// Checked by `verify`; kept to bound how long a verified token is remembered.
    #[serde(default)]
    pub exp: Option<serde_json::Value>,
}

impl Claims {
    /// `exp` in whole Unix seconds; `Err` if present but not such a number.
    pub fn expiry(&self) -> Result<Option<u64>, ()> {
        self.exp.as_ref().map(|e| e.as_u64().ok_or(())).transpose()
    }
}

/// The `Authorization` header value without an optional `Bearer ` prefix.
pub(super) fn token_of(header: &str) -> &str {
    let header = header.trim();
    match header.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => header[7..].trim_start(),
        _ => header,
    }
}

/// The claims, read before the signature is checked so the right public key
/// can be found. Nothing in them is trusted until `verify` passes.
pub(super) fn unverified_claims(token: &str) -> Result<Claims, AuthError> {
    let data = jsonwebtoken::dangerous::insecure_decode::<Claims>(token).map_err(|_| AuthError::Malformed)?;
    if data.header.alg != Algorithm::ES256 {
        return Err(AuthError::Malformed);
    }
    Ok(data.claims)
}

/// Verifies the signature with the authority's key. Only ES256 is accepted
/// (no `none`, no HMAC keyed with the public key); `exp` and `nbf` are
/// enforced when present. With `audience` `None` a token carrying an `aud`
/// is refused (a customer token is no authority token); with `Some`, the
/// `aud` must be exactly that and `exp` is required.
pub(super) fn verify(token: &str, public_key_pem: &str, audience: Option<&str>) -> Result<Claims, AuthError> {
    let key = DecodingKey::from_ec_pem(public_key_pem.as_bytes()).map_err(|_| AuthError::Unavailable)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_nbf = true;
    match audience {
        Some(audience) => {
            validation.set_required_spec_claims(&["sub", "aud", "exp"]);
            validation.set_audience(&[audience]);
        }
        None => validation.set_required_spec_claims(&["sub"]),
    }
    jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            _ => AuthError::Malformed,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_prefix_is_optional() {
        assert_eq!(token_of("abc.def.ghi"), "abc.def.ghi");
        assert_eq!(token_of("Bearer abc.def.ghi"), "abc.def.ghi");
        assert_eq!(token_of("bearer  abc"), "abc");
        assert_eq!(token_of("Bear"), "Bear");
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for token in ["", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "\u{0}\u{1}"] {
            assert_eq!(
                unverified_claims(token).err(),
                Some(AuthError::Malformed),
                "{token:?}"
            );
        }
    }
}

/// Property tests of JWT parsing (issue 6: bad input at scale).
#[cfg(test)]
mod parse_properties {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    fn part(json: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(token in "\\PC{0,300}") {
            let token = token_of(&token);
            let _ = unverified_claims(token);
        }

        #[test]
        fn only_es256_headers_are_read(alg in "[A-Za-z0-9]{0,8}", sub in "[a-z0-9_]{1,30}") {
            prop_assume!(alg != "ES256");
            let token = format!(
                "{}.{}.c2ln",
                part(&serde_json::json!({ "alg": alg, "typ": "JWT" })),
                part(&serde_json::json!({ "sub": sub }))
            );
            prop_assert_eq!(unverified_claims(&token).err(), Some(AuthError::Malformed));
        }
    }

    proptest! {
        // Each case makes a key pair and signs: fewer cases, still many keys.
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn no_signature_but_the_key_holders_verifies(signature in proptest::collection::vec(any::<u8>(), 0..96)) {
            let pair = crate::auth::keys::generate().map_err(TestCaseError::fail)?;
            let head = format!(
                "{}.{}",
                part(&serde_json::json!({ "alg": "ES256", "typ": "JWT" })),
                part(&serde_json::json!({ "sub": "au_x" }))
            );
            let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&signature));
            prop_assert!(verify(&forged, &pair.public_pem, None).is_err());
            let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.as_bytes())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let signed = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::ES256),
                &serde_json::json!({ "sub": "au_x" }),
                &key,
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(verify(&signed, &pair.public_pem, None).is_ok());
        }
    }
}
