//! Admin sessions, kept in the database: every server process on it knows
//! every session, and a restart logs no one out.
//!
//! A session is a row holding only digests: the SHA-256 of the cookie's
//! value and the stamp of the password hash it was opened under, with its
//! times (`wallet_core::model::AdminSession`). Nothing in the row opens
//! anything: the cookie's value exists only in the browser.
//!
//! The CSRF token is derived from the cookie's value, not stored: any
//! process recomputes it from the cookie of the request, and a reader of
//! the database (who has only the cookie's digest) cannot. It still proves
//! what a CSRF token must: a cross-site request carries the cookie but
//! cannot read it, so it cannot compute the header.
//!
//! Checking a session is one read (`Ledger::admin_session`): the row and the
//! stored password hash from one snapshot; the session counts while it is
//! unexpired and its stamp is the stored hash's. So `admin set-password`,
//! from any process, ends every session at the next request.

use super::password::PasswordStamp;
use crate::domain::random_base32;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;
use wallet_core::{Ledger, LedgerError};

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The session cookie's name.
pub const COOKIE: &str = "wallet_admin";

/// What a request learns of its live session.
#[derive(Clone)]
pub struct Session {
    pub csrf: String,
    /// Epoch milliseconds, for the client.
    pub expires_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("csrf", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Session {
    fn of(token: &str, expires_at: i64) -> Self {
        Self {
            csrf: csrf_of(token),
            expires_at,
        }
    }

    /// Whether `token` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// The digest a session's row is found by.
fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The CSRF token of the session whose cookie is `token`: base32 of
/// SHA-256 over a prefix and the cookie's value. The prefix keeps it apart
/// from the row's digest (SHA-256 of the value alone), from which it cannot
/// be computed.
fn csrf_of(token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"wallet-admin-csrf:");
    hasher.update(token.as_bytes());
    base32(&hasher.finalize())
}

/// Lower-case base32 in the alphabet of `random_base32` (no look-alikes).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let (mut out, mut bits, mut width) = (String::new(), 0u32, 0u32);
    for byte in bytes {
        bits = (bits << 8) | u32::from(*byte);
        width += 8;
        while width >= 5 {
            width -= 5;
            out.push(char::from(
                ALPHABET[usize::try_from((bits >> width) & 31).unwrap_or(0)],
            ));
        }
    }
    if width > 0 {
        out.push(char::from(
            ALPHABET[usize::try_from((bits << (5 - width)) & 31).unwrap_or(0)],
        ));
    }
    out
}

/// Opens a session under the password `stamp` that was just verified;
/// returns the cookie value and the session, or `None` if the password
/// changed while the login was verified (then nothing was opened).
pub async fn open(ledger: &Ledger, stamp: PasswordStamp) -> Result<Option<(String, Session)>, LedgerError> {
    // 40 characters of a 32-letter alphabet: 200 random bits.
    let token = random_base32(40);
    let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
    let opened = ledger
        .open_admin_session(digest(&token), stamp.into_bytes(), ttl)
        .await?;
    Ok(opened.map(|row| {
        let session = Session::of(&token, row.expires_at);
        (token, session)
    }))
}

/// The live session of the cookie value `token`, if there is one.
pub async fn find(ledger: &Ledger, token: &str) -> Result<Option<Session>, LedgerError> {
    let row = ledger.admin_session(digest(token)).await?;
    Ok(row.map(|row| Session::of(token, row.expires_at)))
}

/// Ends the session of the cookie value `token` (logout).
pub async fn end(ledger: &Ledger, token: &str) -> Result<(), LedgerError> {
    ledger.end_admin_session(digest(token)).await
}

#[cfg(test)]
mod tests;
