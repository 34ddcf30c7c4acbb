//! Standard Webhooks signatures.
//!
//! A secret is bytes, written `whsec_<base64 of the bytes>`; a delivery's
//! `webhook-signature` is `v1,<base64 HMAC-SHA256(secret bytes,
//! "<webhook-id>.<webhook-timestamp>.<body>")>`, which the receivers'
//! verifier libraries check.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The prefix of a secret's text form.
pub const PREFIX: &str = "whsec_";

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(PREFIX)?;
        STANDARD.decode(encoded).ok().filter(|b| !b.is_empty()).map(Self)
    }

    /// `whsec_<base64>`: what the endpoint's owner is shown once.
    pub fn to_whsec(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` header of a delivery of `body` with
    /// `webhook-id` `id` at `webhook-timestamp` `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &str) -> Vec<u8> {
        // HMAC takes a key of any length: `new_from_slice` cannot fail.
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.0) else {
            return Vec::new();
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's reference vector (the same
    /// one its libraries test; PyPI `standardwebhooks` 1.1.0 signs it so too).
    #[test]
    fn the_reference_vector_signs_as_the_specification_says() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a valid secret");
        let signature = secret.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_secret_round_trips_through_its_text_and_refuses_other_text() {
        let secret = Secret::from_bytes(vec![1, 2, 3, 250]);
        assert_eq!(Secret::parse(&secret.to_whsec()), Some(secret));
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            None,
            "no prefix"
        );
        assert_eq!(Secret::parse("whsec_"), None, "empty");
        assert_eq!(Secret::parse("whsec_%%%"), None, "not base64");
        assert!(!format!("{:?}", Secret::from_bytes(vec![7])).contains('7'));
    }

    #[test]
    fn every_part_of_the_signed_text_counts() {
        let secret = Secret::from_bytes(vec![9; 24]);
        let base = secret.sign("p:1", 100, "{}");
        assert_ne!(base, secret.sign("p:2", 100, "{}"));
        assert_ne!(base, secret.sign("p:1", 101, "{}"));
        assert_ne!(base, secret.sign("p:1", 100, "{ }"));
        assert_ne!(base, Secret::from_bytes(vec![8; 24]).sign("p:1", 100, "{}"));
    }
}
