//! The lockout on failed admin logins, per client address and user name.
//!
//! An attempt is counted when it arrives, before its password is verified,
//! so guesses sent all at once cannot slip past the count while argon2
//! runs. A success forgets the count; an attempt the server was too busy to
//! verify is given back.
//!
//! The key is the address and the user name: guesses at `root` never lock
//! `admin` out, and an attacker at one address never locks out the operator
//! at another. Behind a reverse proxy every client has the proxy's address
//! unless `trusted_proxies` names it (see `api::client_addr`). An IPv6
//! client is keyed by its /64, which one subscriber usually holds whole.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts allowed per address and user name in one window.
pub const MAX_ATTEMPTS: u32 = 5;
/// The window starts at the first attempt; after it the count starts over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at most. When full, windows that are over are forgotten;
/// if none is, new keys are refused until one is (forgetting a live window
/// would hand its attacker fresh attempts).
const MAX_TRACKED: usize = 100_000;

type Key = [u8; 32];

/// A counted attempt. Dropped, it stays counted: a failure.
#[must_use]
pub struct Attempt {
    key: Key,
}

struct Window {
    attempts: u32,
    since: Instant,
}

#[derive(Default)]
pub struct LoginLimiter {
    windows: Mutex<HashMap<Key, Window>>,
    refused: AtomicU64,
}

fn key(ip: IpAddr, username: &str) -> Key {
    let mut hasher = Sha256::new();
    match ip {
        IpAddr::V4(v4) => hasher.update(v4.octets()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => hasher.update(v4.octets()),
            None => hasher.update(&v6.octets()[..8]),
        },
    }
    // The user name is the client's text: hashed, so a key is 32 bytes
    // whatever was sent. The separator keeps address and name apart.
    hasher.update([0xff]);
    hasher.update(username.as_bytes());
    hasher.finalize().into()
}

impl LoginLimiter {
    /// Counts an attempt of `username` from `ip`, or `None` if that address
    /// and user name have used up their attempts in this window.
    pub fn admit(&self, ip: IpAddr, username: &str) -> Option<Attempt> {
        let key = key(ip, username);
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&key) {
            windows.retain(|_, w| now.duration_since(w.since) < WINDOW);
        }
        let admitted = if windows.len() >= MAX_TRACKED && !windows.contains_key(&key) {
            false
        } else {
            let window = windows.entry(key).or_insert(Window {
                attempts: 0,
                since: now,
            });
            if now.duration_since(window.since) >= WINDOW {
                *window = Window {
                    attempts: 0,
                    since: now,
                };
            }
            let admitted = window.attempts < MAX_ATTEMPTS;
            if admitted {
                window.attempts += 1;
            }
            admitted
        };
        if !admitted {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted.then_some(Attempt { key })
    }

    /// The password was right: this address and user name start afresh.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        windows.remove(&attempt.key);
    }

    /// The attempt was not verified (the server was busy, or the database
    /// failed): it does not count.
    pub fn refund(&self, attempt: Attempt) {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(window) = windows.get_mut(&attempt.key) {
            window.attempts = window.attempts.saturating_sub(1);
        }
    }

    /// Attempts refused because their address and user name were locked out.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    #[test]
    fn attempts_are_counted_per_address_and_user_name() {
        let limiter = LoginLimiter::default();
        let here = ip("192.0.2.1");
        let held: Vec<Attempt> = (0..MAX_ATTEMPTS)
            .map(|n| {
                limiter
                    .admit(here, "admin")
                    .unwrap_or_else(|| panic!("attempt {n} is admitted"))
            })
            .collect();
        assert!(
            limiter.admit(here, "admin").is_none(),
            "counted on arrival: attempts still being verified use up the allowance"
        );
        assert_eq!(limiter.refused(), 1);
        assert!(limiter.admit(here, "root").is_some(), "another user name");
        assert!(
            limiter.admit(ip("192.0.2.2"), "admin").is_some(),
            "another address"
        );
        assert!(
            limiter.admit(ip("2001:db8:1:2::1"), "admin").is_some()
                && limiter.admit(ip("::ffff:192.0.2.1"), "admin").is_none(),
            "an IPv4-mapped peer is the same IPv4 client"
        );

        let mut held = held.into_iter();
        if let Some(busy) = held.next() {
            limiter.refund(busy);
        }
        let retry = limiter.admit(here, "admin");
        assert!(retry.is_some(), "a refunded attempt can be retried");
        assert!(limiter.admit(here, "admin").is_none());
        if let Some(right) = retry {
            limiter.succeeded(right);
        }
        assert!(limiter.admit(here, "admin").is_some(), "a success starts afresh");
    }

    #[test]
    fn an_ipv6_client_is_keyed_by_its_64() {
        let limiter = LoginLimiter::default();
        for n in 0..MAX_ATTEMPTS {
            let address = ip(&format!("2001:db8:1:2::{n}"));
            assert!(limiter.admit(address, "admin").is_some());
        }
        assert!(
            limiter.admit(ip("2001:db8:1:2:ffff::1"), "admin").is_none(),
            "the same /64"
        );
        assert!(limiter.admit(ip("2001:db8:1:3::1"), "admin").is_some());
    }
}
