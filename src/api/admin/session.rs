//! Admin sessions (in memory: a restart logs everyone out) and their CSRF
//! tokens.
//!
//! Each session remembers the stamp of the password hash it was opened
//! under; it counts only while that is still the stored hash. So setting the
//! password (`admin set-password`, from any process) ends every session:
//! the next check sees another stamp. Sessions kept in a database later
//! would store the stamp beside them and compare it the same way.

use super::password::PasswordStamp;
use crate::domain::random_base32;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The session cookie's name.
pub const COOKIE: &str = "wallet_admin";

#[derive(Clone)]
pub struct Session {
    pub csrf: String,
    expires: Instant,
    /// Epoch milliseconds, for the client.
    pub expires_at: i64,
    password: PasswordStamp,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("csrf", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
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
    /// Starts a session under the password `stamp` that was just verified;
    /// returns the cookie value and the session.
    pub fn create(&self, password: PasswordStamp) -> (String, Session) {
        let token = random_base32(40);
        let session = Session {
            csrf: random_base32(32),
            expires: Instant::now() + SESSION_TTL,
            expires_at: wallet_core::clock::system_now()
                + i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX),
            password,
        };
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        live.retain(|_, s| s.expires > now);
        live.insert(key(&token), session.clone());
        (token, session)
    }

    /// The session of `token`, if it is live and was opened under the
    /// `current` password. Sessions of any other password are ended here.
    pub fn get(&self, token: &str, current: Option<&PasswordStamp>) -> Option<Session> {
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        live.retain(|_, s| Some(&s.password) == current);
        live.get(&key(token))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    pub fn end(&self, token: &str) {
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        live.remove(&key(token));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_find_and_end() {
        let sessions = Sessions::default();
        let stamp = PasswordStamp::of("$argon2id$first");
        let (token, session) = sessions.create(stamp.clone());
        assert!(sessions
            .get(&token, Some(&stamp))
            .is_some_and(|s| s.csrf_matches(&session.csrf)));
        assert!(!session.csrf_matches("nope"));
        assert!(sessions.get("other", Some(&stamp)).is_none());
        sessions.end(&token);
        assert!(sessions.get(&token, Some(&stamp)).is_none());
    }

    #[test]
    fn another_password_ends_every_session() {
        let sessions = Sessions::default();
        let old = PasswordStamp::of("$argon2id$old");
        let tokens = [sessions.create(old.clone()).0, sessions.create(old.clone()).0];
        let new = PasswordStamp::of("$argon2id$new");
        for token in &tokens {
            assert!(sessions.get(token, Some(&new)).is_none());
            assert!(
                sessions.get(token, Some(&old)).is_none(),
                "ended, not just hidden: going back to the old hash does not revive it"
            );
        }
        let (token, _) = sessions.create(old.clone());
        assert!(sessions.get(&token, None).is_none(), "no password: no session");
    }
}
