//! Verifying ES256 JWTs signed by an authority's key.
//!
//! `exp` and `nbf` are enforced to the second (RFC 7519: valid from `nbf`
//! until just before `exp`), widened by `jwt_leeway_seconds` when an
//! operator sets one (default 0). A header with `crit` is refused: this
//! server understands no extension, and RFC 7515 §4.1.11 says a token naming
//! one it does not understand is invalid.
//!
//! An ECDSA signature `(r, s)` has a twin `(r, n - s)` that verifies the
//! same message. Both are accepted: ES256 (RFC 7518) does not require the
//! low `s`, and common signers (OpenSSL, so the SDK's PyJWT, and RustCrypto's
//! p256) pick either about half the time, so refusing high-S would lock out
//! half of the SDK's clients. Nothing keys on a token's bytes instead: the
//! rate limit keys on the credential's identity, and the verified-token cache
//! on the token with its low `s` (`canonical`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::borrow::Cow;

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
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
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
    /// Checked by `verify`.
    #[serde(default)]
    pub nbf: Option<serde_json::Value>,
}

impl Claims {
    /// `exp` in whole Unix seconds; `Err` if present but not such a number.
    pub fn expiry(&self) -> Result<Option<u64>, ()> {
        self.exp.as_ref().map(|e| e.as_u64().ok_or(())).transpose()
    }

    fn not_before(&self) -> Result<Option<u64>, ()> {
        self.nbf.as_ref().map(|n| n.as_u64().ok_or(())).transpose()
    }

    /// Whether the token is valid at `now` (Unix seconds), with `leeway`
    /// seconds of clock skew either way.
    fn check_times(&self, now: u64, leeway: u64) -> Result<(), AuthError> {
        let expiry = self.expiry().map_err(|()| AuthError::Malformed)?;
        let not_before = self.not_before().map_err(|()| AuthError::Malformed)?;
        if expiry.is_some_and(|exp| now >= exp.saturating_add(leeway)) {
            return Err(AuthError::Expired);
        }
        if not_before.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
            return Err(AuthError::NotYetValid);
        }
        Ok(())
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
/// can be found. Nothing in them is trusted until `verify` passes. A header
/// that is not ES256 or that carries `crit` is refused here.
pub(super) fn unverified_claims(token: &str) -> Result<Claims, AuthError> {
    let data = jsonwebtoken::dangerous::insecure_decode::<Claims>(token).map_err(|_| AuthError::Malformed)?;
    if data.header.alg != Algorithm::ES256 || names_crit(token) {
        return Err(AuthError::Malformed);
    }
    Ok(data.claims)
}

/// Whether the header has a `crit` member, whatever its value (`null` and
/// `[]` included: RFC 7515 allows only a non-empty list, of extensions the
/// receiver understands, and there are none here). An unreadable header
/// counts as naming one.
fn names_crit(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return true;
    };
    let Ok(json) = URL_SAFE_NO_PAD.decode(header) else {
        return true;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json)
        .map_or(true, |header| header.contains_key("crit"))
}

/// The token with its signature's low `s`: a token and its high-S twin map to
/// one string, so caching by it holds one entry per signed message. Anything
/// that is not a parsable ES256 signature is returned as it is (it will not
/// verify, so it is never cached).
pub(super) fn canonical(token: &str) -> Cow<'_, str> {
    let Some((head, signature)) = token.rsplit_once('.') else {
        return Cow::Borrowed(token);
    };
    let low = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| p256::ecdsa::Signature::from_slice(&bytes).ok())
        .and_then(|signature| signature.normalize_s());
    match low {
        Some(low) => Cow::Owned(format!("{head}.{}", URL_SAFE_NO_PAD.encode(low.to_bytes()))),
        None => Cow::Borrowed(token),
    }
}

/// Verifies the signature with the authority's key. Only ES256 is accepted
/// (no `none`, no HMAC keyed with the public key); `exp` and `nbf` are
/// enforced when present, with `leeway` seconds of skew. With `audience`
/// `None` a token carrying an `aud` is refused (a customer token is no
/// authority token); with `Some`, the `aud` must be exactly that and `exp`
/// is required.
pub(super) fn verify(
    token: &str,
    public_key_pem: &str,
    audience: Option<&str>,
    leeway: u64,
) -> Result<Claims, AuthError> {
    let key = DecodingKey::from_ec_pem(public_key_pem.as_bytes()).map_err(|_| AuthError::Unavailable)?;
    let mut validation = Validation::new(Algorithm::ES256);
    // The times are checked below, exactly; jsonwebtoken's own check has a
    // default leeway of 60 s and accepts a token in its `exp` second.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    match audience {
        Some(audience) => {
            validation.set_required_spec_claims(&["sub", "aud", "exp"]);
            validation.set_audience(&[audience]);
        }
        None => validation.set_required_spec_claims(&["sub"]),
    }
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            _ => AuthError::Malformed,
        })?;
    let now = u64::try_from(wallet_core::clock::system_now() / 1000).unwrap_or(0);
    claims.check_times(now, leeway)?;
    Ok(claims)
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

    fn claims(exp: Option<serde_json::Value>, nbf: Option<serde_json::Value>) -> Claims {
        Claims {
            sub: "au_x".into(),
            aud: None,
            exp,
            nbf,
        }
    }

    #[test]
    fn exp_and_nbf_hold_to_the_second_widened_only_by_the_leeway() {
        use serde_json::json;
        let now = 1_000_000;
        let exp = |t: serde_json::Value| claims(Some(t), None);
        let nbf = |t: serde_json::Value| claims(None, Some(t));
        let (expired, early, malformed) = (
            Err(AuthError::Expired),
            Err(AuthError::NotYetValid),
            Err(AuthError::Malformed),
        );
        let cases = [
            ("no times", claims(None, None), 0, Ok(())),
            ("exp in 1 s", exp(json!(now + 1)), 0, Ok(())),
            ("exp is now", exp(json!(now)), 0, expired.clone()),
            ("exp 1 s ago", exp(json!(now - 1)), 0, expired.clone()),
            ("exp 59 s ago", exp(json!(now - 59)), 0, expired.clone()),
            ("exp 10 s ago, leeway 30", exp(json!(now - 10)), 30, Ok(())),
            ("exp 30 s ago, leeway 30", exp(json!(now - 30)), 30, expired),
            ("nbf is now", nbf(json!(now)), 0, Ok(())),
            ("nbf in 1 s", nbf(json!(now + 1)), 0, early.clone()),
            ("nbf in 30 s, leeway 30", nbf(json!(now + 30)), 30, Ok(())),
            ("nbf in 31 s, leeway 30", nbf(json!(now + 31)), 30, early),
            ("exp not an integer", exp(json!(1.5)), 0, malformed.clone()),
            ("nbf a string", nbf(json!("now")), 0, malformed),
            ("exp at the end of time", exp(json!(u64::MAX)), u64::MAX, Ok(())),
        ];
        for (case, claims, leeway, expected) in cases {
            assert_eq!(claims.check_times(now, leeway), expected, "{case}");
        }
    }

    #[test]
    fn a_crit_header_is_refused_whatever_its_value() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let token = |header: serde_json::Value| {
            format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(r#"{"sub":"au_x"}"#)
            )
        };
        for crit in [
            serde_json::json!(["exp"]),
            serde_json::json!([]),
            serde_json::Value::Null,
        ] {
            let with_crit = token(serde_json::json!({ "alg": "ES256", "crit": crit }));
            assert_eq!(
                unverified_claims(&with_crit).err(),
                Some(AuthError::Malformed),
                "{crit}"
            );
        }
        assert!(unverified_claims(&token(serde_json::json!({ "alg": "ES256", "kid": "k" }))).is_ok());
    }

    #[test]
    fn a_signature_and_its_high_s_twin_have_one_canonical_form() -> Result<(), String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let pair = crate::auth::keys::generate()?;
        let key =
            jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.as_bytes()).map_err(|e| e.to_string())?;
        let header = jsonwebtoken::Header::new(Algorithm::ES256);
        let token = jsonwebtoken::encode(&header, &serde_json::json!({ "sub": "au_x" }), &key)
            .map_err(|e| e.to_string())?;
        let (head, signature) = token.rsplit_once('.').ok_or("a JWT")?;
        let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?;
        let signature = p256::ecdsa::Signature::from_slice(&bytes).map_err(|e| e.to_string())?;
        let (r, s) = signature.split_scalars();
        let twin = p256::ecdsa::Signature::from_scalars(r, -s).map_err(|e| e.to_string())?;
        let twin = format!("{head}.{}", URL_SAFE_NO_PAD.encode(twin.to_bytes()));
        assert_ne!(token, twin);
        assert!(
            verify(&twin, &pair.public_pem, None, 0).is_ok(),
            "the twin verifies"
        );
        assert_eq!(canonical(&token), canonical(&twin));
        let low = canonical(&token);
        assert_eq!(canonical(&low), low, "canonical is idempotent");
        for garbage in ["", "a.b", "a.b.c", "a.b.", "eyJ.e30.AAAA"] {
            assert_eq!(canonical(garbage), garbage, "{garbage:?}");
        }
        Ok(())
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
            prop_assert!(verify(&forged, &pair.public_pem, None, 0).is_err());
            let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.private_pem.as_bytes())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let signed = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::ES256),
                &serde_json::json!({ "sub": "au_x" }),
                &key,
            )
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(verify(&signed, &pair.public_pem, None, 0).is_ok());
        }
    }
}
