//! Request-rate limits per credential: a token bucket per `Authorization`
//! value, refilled at `rate_limit_per_second` and holding one second's worth
//! (so a client may burst that many, then keeps the rate). Over the limit a
//! request is answered 429 with each API's own error body, before any
//! handler or database work.
//!
//! Buckets are keyed by the SHA-256 digest of the credential: the limiter
//! never holds a token. Requests without an `Authorization` header (health,
//! the OpenAPI document, the landing page) are not limited.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Credentials tracked at most; beyond, idle buckets are forgotten (a
/// forgotten bucket is a full one, so forgetting never loosens a limit that
/// is being hit).
const MAX_TRACKED: usize = 100_000;

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The limiter shared by every worker of one server.
pub struct RateLimiter {
    per_second: Option<u32>,
    buckets: Mutex<HashMap<[u8; 32], Bucket>>,
}

impl RateLimiter {
    /// `None` (or 0) turns limiting off.
    pub fn new(per_second: Option<u32>) -> Self {
        Self {
            per_second: per_second.filter(|r| *r > 0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether one more request with this credential may go through now.
    pub fn allow(&self, credential: &str) -> bool {
        let Some(rate) = self.per_second.map(f64::from) else {
            return true;
        };
        let key: [u8; 32] = Sha256::digest(credential.as_bytes()).into();
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.refilled).as_secs_f64() * rate < rate);
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
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

/// The credential of a request: the `Authorization` value without `Bearer `.
fn credential(req: &ServiceRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// Middleware: 429 when the request's credential is over its rate.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>();
    let over = match (limiter, credential(&req)) {
        (Some(limiter), Some(token)) => !limiter.allow(token),
        _ => false,
    };
    if over {
        let message = "too many requests with this credential; retry in a second";
        let body = if req.path().starts_with("/api/v2") {
            serde_json::json!({ "status": "LIMIT_EXCEEDED", "message": message })
        } else {
            serde_json::json!({ "error": message })
        };
        let response = HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(body);
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_one_second_and_is_per_credential() {
        let limiter = RateLimiter::new(Some(5));
        let allowed = (0..20).filter(|_| limiter.allow("ak_a_secret")).count();
        assert_eq!(allowed, 5, "a burst of one second's worth, then refused");
        assert!(
            limiter.allow("ak_b_secret"),
            "another credential has its own bucket"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert!(limiter.allow("ak_a_secret"), "refilled at 5 per second");
    }

    #[test]
    fn off_means_unlimited_and_no_token_is_kept() {
        let off = RateLimiter::new(None);
        assert!((0..1000).all(|_| off.allow("x")));
        let zero = RateLimiter::new(Some(0));
        assert!((0..1000).all(|_| zero.allow("x")));
        let on = RateLimiter::new(Some(1));
        on.allow("wsa_secret_token");
        let buckets = on.buckets.lock().expect("not poisoned");
        let expected: [u8; 32] = Sha256::digest(b"wsa_secret_token").into();
        assert!(buckets.contains_key(&expected), "keyed by the digest");
    }
}
