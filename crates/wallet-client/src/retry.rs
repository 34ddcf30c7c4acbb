//! Which failed requests are sent again, when, and how often.
//!
//! A request is retried only when sending it again cannot apply it twice:
//!
//! | failure | idempotent request | other request |
//! |---|---|---|
//! | connection refused / not established (nothing was sent) | retried | retried |
//! | dropped or timed out after sending | retried | not retried |
//! | 429 `LIMIT_EXCEEDED` (refused before anything was done) | retried | retried |
//! | 502, 503, 504 | retried | not retried |
//! | any other status (500 included: it would fail the same) | not retried | not retried |
//!
//! Idempotent requests: every GET, every PUT (they set a value), and
//! `POST /transactions` and `POST /transactions/batch`, whose `referenceId`s
//! make a second delivery a `DuplicateReferenceId` instead of a second
//! application; the retry sends the very same body, so the same
//! `referenceId`. Not idempotent: the other POSTs (a second asset, key or
//! webhook would be made) and DELETEs (the retry would answer 404).
//!
//! The wait before attempt `n + 1` is `base_delay * 2^(n-1)`, at most
//! `max_delay`; a `Retry-After` of the answer wins (still at most
//! `max_delay`). At most `max_attempts` attempts in all.

use std::time::Duration;

/// The retry policy of a [`crate::Client`]. `RetryPolicy::none()` sends
/// each request once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry).
    pub max_attempts: u32,
    /// The wait after the first failed attempt; doubled after each.
    pub base_delay: Duration,
    /// The longest wait, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, waiting 200 ms, 400 ms, 800 ms (at most 10 s).
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// How an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection was made: nothing reached the server.
    Connect,
    /// The request may have reached the server but no full answer came back.
    Transport,
    /// The server answered this status, maybe with a `Retry-After`.
    Status {
        http: u16,
        retry_after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// Each request sent once.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before the attempt after attempt `attempt` (from 1) failed
    /// with `failure`, or `None` when it is not retried.
    pub fn delay(&self, attempt: u32, idempotent: bool, failure: Failure) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let retry_after = match failure {
            Failure::Connect => None,
            Failure::Transport if idempotent => None,
            Failure::Status {
                http: 429,
                retry_after,
            } => retry_after,
            Failure::Status {
                http: 502..=504,
                retry_after,
            } if idempotent => retry_after,
            Failure::Transport | Failure::Status { .. } => return None,
        };
        Some(
            retry_after
                .unwrap_or_else(|| self.backoff(attempt))
                .min(self.max_delay),
        )
    }

    /// `base_delay * 2^(attempt-1)`, at most `max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A `Retry-After` in seconds (the server sends no HTTP dates).
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(http: u16) -> Failure {
        Failure::Status {
            http,
            retry_after: None,
        }
    }

    #[test]
    fn what_is_retried() {
        let p = RetryPolicy::default();
        // Nothing sent: always safe.
        assert!(p.delay(1, false, Failure::Connect).is_some());
        // Sent, no answer: only when a second delivery cannot apply twice.
        assert!(p.delay(1, true, Failure::Transport).is_some());
        assert_eq!(p.delay(1, false, Failure::Transport), None);
        // Refused before anything was done.
        assert!(p.delay(1, false, status(429)).is_some());
        for http in [502, 503, 504] {
            assert!(p.delay(1, true, status(http)).is_some(), "{http}");
            assert_eq!(p.delay(1, false, status(http)), None, "{http}");
        }
        for http in [200, 201, 400, 401, 403, 404, 409, 500] {
            assert_eq!(p.delay(1, true, status(http)), None, "{http}");
        }
    }

    #[test]
    fn attempts_are_bounded_and_backoff_doubles() {
        let p = RetryPolicy::default();
        let waits: Vec<_> = (1..=5).map(|n| p.delay(n, true, Failure::Connect)).collect();
        assert_eq!(
            waits,
            vec![
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(400)),
                Some(Duration::from_millis(800)),
                None,
                None
            ]
        );
        assert_eq!(RetryPolicy::none().delay(1, true, Failure::Connect), None);
        assert_eq!(p.backoff(40), p.max_delay);
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        let after = |s| Failure::Status {
            http: 429,
            retry_after: Some(Duration::from_secs(s)),
        };
        assert_eq!(p.delay(1, false, after(2)), Some(Duration::from_secs(2)));
        assert_eq!(p.delay(1, false, after(3600)), Some(p.max_delay));
        assert_eq!(retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after(None), None);
    }
}
