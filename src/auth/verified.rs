//! Tokens whose ES256 signature was already verified.
//!
//! The SDK makes one token and sends it forever, and an ES256 verification
//! costs far more than the rest of a request. A token string that verified
//! once against an authority's key verifies again (the key never changes), so
//! it is remembered. Revocation is not cached: the authority is looked up on
//! every request, and a revoked one is refused whatever this cache holds.
//!
//! Callers key it by `jwt::canonical` (the token with its signature's low
//! `s`), so a token and its high-S twin, which verify alike, are one entry:
//! flipping signatures can neither grow the cache nor flush it faster. The
//! expiry remembered is `exp` plus the configured leeway, so a cached token
//! stops being accepted exactly when a fresh verification would refuse it.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most tokens remembered; when full the cache starts over (tokens are
/// long-lived, so it refills at once with the ones in use).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub(super) struct VerifiedTokens {
    tokens: Mutex<HashMap<String, Verified>>,
}

#[derive(Clone)]
struct Verified {
    authority: String,
    /// `exp` in Unix seconds, re-checked on every use.
    expires: Option<u64>,
}

impl VerifiedTokens {
    /// Whether `token` verified before as a token of `authority` that has not
    /// expired since.
    pub fn knows(&self, token: &str, authority: &str, now_secs: u64) -> bool {
        let Ok(tokens) = self.tokens.lock() else {
            return false;
        };
        tokens
            .get(token)
            .is_some_and(|v| v.authority == authority && v.expires.is_none_or(|exp| exp > now_secs))
    }

    pub fn remember(&self, token: &str, authority: &str, expires: Option<u64>) {
        if let Ok(mut tokens) = self.tokens.lock() {
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
            let verified = Verified {
                authority: authority.to_owned(),
                expires,
            };
            tokens.insert(token.to_owned(), verified);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_authority_and_until_expiry() {
        let cache = VerifiedTokens::default();
        cache.remember("t1", "au_a", None);
        cache.remember("t2", "au_a", Some(100));
        assert!(cache.knows("t1", "au_a", 1_000));
        assert!(
            !cache.knows("t1", "au_b", 1_000),
            "bound to the authority it verified for"
        );
        assert!(cache.knows("t2", "au_a", 99));
        assert!(
            !cache.knows("t2", "au_a", 100),
            "expired tokens are verified (and refused) again"
        );
        assert!(!cache.knows("t3", "au_a", 0));
    }

    #[test]
    fn stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..=CAPACITY {
            cache.remember(&i.to_string(), "au", None);
        }
        assert!(cache.tokens.lock().map_or(usize::MAX, |t| t.len()) <= CAPACITY);
    }
}
