//! Opaque keys: `<kind>_<id>_<secret>`, stored only as a SHA-256 digest.
//!
//! The id finds the row; the secret's digest is compared in constant time. A
//! fast hash is right here: the secret is 160 random bits, not a password, so
//! there is nothing to brute-force, and every API request verifies one.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wallet_core::text::{random_base32, PublicId};

/// Prefix of access keys (authorities) and customer keys.
pub(super) const ACCESS_KEY_PREFIX: &str = "ak_";
pub(super) const CUSTOMER_KEY_PREFIX: &str = "ck_";

/// A freshly minted key: the token for the client, the digest for the database.
pub(super) struct Minted {
    pub id: PublicId,
    pub token: String,
    pub digest: Vec<u8>,
}

pub(super) fn mint(prefix: &str) -> Minted {
    let id = PublicId::random(prefix);
    // 32 characters of a 32-letter alphabet: 160 random bits.
    let secret = random_base32(32);
    let digest = digest(&secret);
    Minted {
        token: format!("{id}_{secret}"),
        id,
        digest,
    }
}

pub(super) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Splits `<prefix><rest>_<secret>` into the public id and the secret.
pub(super) fn split(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.rsplit_once('_')?;
    (PublicId::parse(id).is_ok() && !secret.is_empty() && secret.len() <= 64).then_some((id, secret))
}

/// Whether `secret` hashes to `stored`, in time independent of where they differ.
pub(super) fn matches(secret: &str, stored: &[u8]) -> bool {
    bool::from(digest(secret).as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_split_and_verify() {
        let minted = mint(ACCESS_KEY_PREFIX);
        assert!(minted.token.starts_with("ak_"));
        let (id, secret) = split(&minted.token).expect("splits");
        assert_eq!(id, minted.id.as_str());
        assert_eq!(secret.len(), 32);
        assert!(matches(secret, &minted.digest));
        assert!(!matches("wrong", &minted.digest));
        assert_ne!(mint(ACCESS_KEY_PREFIX).token, minted.token);
    }

    #[test]
    fn garbage_does_not_split() {
        for token in ["", "_", "ak_", "nounderscore", "ak_x y_secret", "ak_id_"] {
            assert!(split(token).is_none(), "{token:?}");
        }
    }
}

/// Property tests of opaque-key parsing (issue 6: bad input at scale).
#[cfg(test)]
mod split_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn split_never_panics_and_only_cuts_at_the_last_underscore(token in "(ak_|ck_)?\\PC{0,80}") {
            if let Some((id, secret)) = split(&token) {
                prop_assert_eq!(format!("{id}_{secret}"), token.as_str());
                prop_assert!(!secret.is_empty() && !secret.contains('_'));
            }
        }

        #[test]
        fn only_the_exact_secret_matches(secret in "[a-z2-9]{1,64}", other in "[a-z2-9]{1,64}") {
            let stored = digest(&secret);
            prop_assert!(matches(&secret, &stored));
            prop_assert_eq!(matches(&other, &stored), other == secret);
            prop_assert!(!matches(&secret, &stored[..31]), "a truncated digest never matches");
        }
    }
}
