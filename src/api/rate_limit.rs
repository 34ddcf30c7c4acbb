//! Request-rate limits per credential: a token bucket per credential
//! identity, refilled at `rate_limit_per_second` and holding one second's
//! worth (so a client may burst that many, then keeps the rate).
//!
//! A bucket belongs to who the credential is (`auth::Identity`), never to the
//! token's bytes: an authority's bucket is shared by its access key and by
//! every JWT it signs (re-signed with other claims, or the same signature
//! with its other `s`); a customer key has its own, by key id; offline
//! customer JWTs share one per authority and customer. So a client cannot
//! mint its way past its limit, and the limiter holds no secret.
//!
//! The limit is charged inside each API's authentication extractor, once the
//! credential has verified: the 429 then has the error body of the API whose
//! route is serving the request (however its path is spelled), and its
//! Retry-After says when to come back. What is not charged:
//! - a request whose credential is missing or refused: it gets its 401 and
//!   changes nothing (charging it would key on unverified bytes, or let a
//!   forger spend a victim's budget);
//! - routes that authenticate no client: `/api/v1/health` (the SDK calls it
//!   before its requests), the OpenAPI document, the landing page, metrics,
//!   the admin API (its login has its own limit).
//!
//! The limit protects the ledger from authenticated clients that misbehave,
//! per process; it is no anti-DDoS device (put a proxy in front for that).

use crate::auth::Identity;
use actix_web::{web, HttpRequest};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Identities tracked at most; beyond, idle buckets are forgotten (a
/// forgotten bucket is a full one, so forgetting never loosens a limit that
/// is being hit).
const MAX_TRACKED: usize = 100_000;

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: &str = "1";

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The limiter shared by every worker of one server.
pub struct RateLimiter {
    per_second: Option<u32>,
    buckets: Mutex<HashMap<Identity, Bucket>>,
}

/// A request over its credential's rate; each API answers it 429 in its own
/// error body, with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests with this credential; retry in a second")]
pub struct OverLimit;

impl RateLimiter {
    /// `None` (or 0) turns limiting off.
    pub fn new(per_second: Option<u32>) -> Self {
        Self {
            per_second: per_second.filter(|r| *r > 0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether one more request of this identity may go through now.
    pub fn allow(&self, identity: &Identity) -> bool {
        let Some(rate) = self.per_second.map(f64::from) else {
            return true;
        };
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(identity) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.refilled).as_secs_f64() * rate < rate);
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(identity.clone()).or_insert(Bucket {
            tokens: rate,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The limiter of the app serving a request, taken before the request is
/// moved into an extractor's future; an app without one limits nothing.
pub(crate) struct Limiter(Option<web::Data<RateLimiter>>);

impl Limiter {
    pub fn of(req: &HttpRequest) -> Self {
        Self(req.app_data::<web::Data<RateLimiter>>().cloned())
    }

    /// Charges one request to `identity`'s bucket.
    pub fn admit(&self, identity: &Identity) -> Result<(), OverLimit> {
        match &self.0 {
            Some(limiter) if !limiter.allow(identity) => Err(OverLimit),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(id: &str) -> Identity {
        Identity::Authority(id.to_owned())
    }

    #[test]
    fn a_bucket_holds_one_second_and_is_per_identity() {
        let limiter = RateLimiter::new(Some(5));
        let allowed = (0..20).filter(|_| limiter.allow(&authority("au_a"))).count();
        assert_eq!(allowed, 5, "a burst of one second's worth, then refused");
        assert!(
            limiter.allow(&authority("au_b")),
            "another authority has its own bucket"
        );
        let others = [
            Identity::CustomerKey("au_a".into()),
            Identity::CustomerToken {
                authority: "au_a".into(),
                customer: "c".into(),
            },
        ];
        for other in &others {
            assert!(limiter.allow(other), "{other:?} is not the authority au_a");
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert!(limiter.allow(&authority("au_a")), "refilled at 5 per second");
    }

    #[test]
    fn off_means_unlimited() {
        let off = RateLimiter::new(None);
        assert!((0..1000).all(|_| off.allow(&authority("x"))));
        let zero = RateLimiter::new(Some(0));
        assert!((0..1000).all(|_| zero.allow(&authority("x"))));
        assert!(
            Limiter(None).admit(&authority("x")).is_ok(),
            "no limiter, no limit"
        );
    }

    #[test]
    fn the_limiter_stays_bounded() {
        let limiter = RateLimiter::new(Some(1));
        for n in 0..=MAX_TRACKED {
            limiter.allow(&authority(&n.to_string()));
        }
        let tracked = limiter.buckets.lock().map_or(usize::MAX, |b| b.len());
        assert!(tracked <= MAX_TRACKED, "{tracked}");
    }
}
