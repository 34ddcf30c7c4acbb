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
