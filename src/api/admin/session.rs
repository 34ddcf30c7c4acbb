//! Admin sessions (in memory: a restart logs everyone out), CSRF tokens, and
//! the limit on failed logins.

use crate::domain::random_base32;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The session cookie's name.
pub const COOKIE: &str = "wallet_admin";
/// Failed logins allowed per address and window.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
    /// Epoch milliseconds, for the client.
    pub expires_at: i64,
}

impl Session {
    /// Whether `token` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// Live sessions, keyed by the SHA-256 of their cookie value.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<Vec<u8>, Session>>,
}

fn key(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Sessions {
    /// Starts a session; returns the cookie value and the session.
    pub fn create(&self) -> (String, Session) {
        let token = random_base32(40);
        let session = Session {
            csrf: random_base32(32),
            expires: Instant::now() + SESSION_TTL,
            expires_at: crate::clock::now_ms() + SESSION_TTL.as_millis() as i64,
        };
        if let Ok(mut live) = self.live.lock() {
            let now = Instant::now();
            live.retain(|_, s| s.expires > now);
            live.insert(key(&token), session.clone());
        }
        (token, session)
    }

    pub fn get(&self, token: &str) -> Option<Session> {
        let live = self.live.lock().ok()?;
        live.get(&key(token))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    pub fn end(&self, token: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&key(token));
        }
    }
}

/// Counts failed logins per client address.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginLimiter {
    /// Whether this address may try to log in now.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let Ok(failures) = self.failures.lock() else {
            return false;
        };
        match failures.get(&ip) {
            Some((count, since)) => *count < MAX_FAILURES || since.elapsed() >= FAILURE_WINDOW,
            None => true,
        }
    }

    pub fn failed(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            let entry = failures.entry(ip).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= FAILURE_WINDOW {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_find_and_end() {
        let sessions = Sessions::default();
        let (token, session) = sessions.create();
        assert!(sessions
            .get(&token)
            .is_some_and(|s| s.csrf_matches(&session.csrf)));
        assert!(!session.csrf_matches("nope"));
        assert!(sessions.get("other").is_none());
        sessions.end(&token);
        assert!(sessions.get(&token).is_none());
    }

    #[test]
    fn five_failures_lock_an_address_out() {
        let limiter = LoginLimiter::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..5 {
            assert!(limiter.allows(ip));
            limiter.failed(ip);
        }
        assert!(!limiter.allows(ip));
        assert!(
            limiter.allows(IpAddr::from([127, 0, 0, 2])),
            "other addresses are not affected"
        );
        limiter.succeeded(ip);
        assert!(limiter.allows(ip));
    }
}
