//! The operator's own state, kept in the database so that every server
//! process on it (and a restarted one) agrees: the maintenance switch, the
//! admin password's hash, and the admin sessions.
//!
//! These are operator acts: no policy caller. The admin API has already
//! checked the session (or the CLI runs on the server's machine).
//!
//! A session counts only while it is unexpired AND was opened under the
//! password hash stored now ([`AdminSession::stamp_of`]); both are checked
//! in one read, every time, so a password set by any process ends every
//! session at the next request. Pruning the rows (when a password is set,
//! when a session opens) only keeps the table small: correctness never
//! depends on it, which is why a session inserted concurrently with a
//! password change (several processes) is harmless.

use super::{Ledger, ADMIN_PASSWORD, MAINTENANCE};
use crate::model::{AdminSession, Millis};
use crate::port::{ReadTx, Rechecked, WriteTx};
use crate::LedgerError;

/// The stamp of the password stored now (`None`: no password is set).
fn current_stamp(r: &mut dyn ReadTx) -> Result<Option<Vec<u8>>, LedgerError> {
    Ok(r.setting(ADMIN_PASSWORD)?.as_deref().map(AdminSession::stamp_of))
}

/// Ends every session that expired by `now` or belongs to another password
/// than the one stored now (all of them if none is).
fn prune(tx: &mut dyn WriteTx, now: Millis) -> Result<u64, LedgerError> {
    // No password: no stamp matches an empty one, so every session ends.
    let stamp = current_stamp(tx)?.unwrap_or_default();
    Ok(tx.prune_admin_sessions(&stamp, now)?)
}

/// Whether the maintenance switch is on, as the store holds it. Read by
/// every write of an authority or customer (`access::recheck`).
pub(super) fn maintenance_on(r: &mut dyn ReadTx) -> Result<bool, LedgerError> {
    Ok(r.setting(MAINTENANCE)?.as_deref() == Some("on"))
}

impl Ledger {
    /// Whether the maintenance switch is on, as the store holds it.
    pub async fn maintenance(&self) -> Result<bool, LedgerError> {
        self.store.read(|r| maintenance_on(r)).await
    }

    pub async fn set_maintenance(&self, on: bool) -> Result<(), LedgerError> {
        let value = if on { "on" } else { "off" };
        self.store
            .write(move |tx| -> Result<(), LedgerError> {
                tx.hold_rechecks(Rechecked::Maintenance)?;
                Ok(tx.set_setting(MAINTENANCE, value)?)
            })
            .await
    }

    /// The admin password's stored hash (a PHC string), if one is set.
    pub async fn admin_password_hash(&self) -> Result<Option<String>, LedgerError> {
        self.store.read(|r| Ok(r.setting(ADMIN_PASSWORD)?)).await
    }

    /// Stores the admin password's hash; with `only_if_absent`, keeps an
    /// existing one. Returns whether it was stored. A new hash ends every
    /// session opened under another, in the same transaction.
    pub async fn set_admin_password_hash(
        &self,
        hash: String,
        only_if_absent: bool,
    ) -> Result<bool, LedgerError> {
        let clock = self.clock.clone();
        self.store
            .write(move |tx| -> Result<bool, LedgerError> {
                let stored = if only_if_absent {
                    tx.set_setting_if_absent(ADMIN_PASSWORD, &hash)?
                } else {
                    tx.set_setting(ADMIN_PASSWORD, &hash)?;
                    true
                };
                if stored {
                    prune(tx, clock.now())?;
                }
                Ok(stored)
            })
            .await
    }

    /// The session whose cookie has this digest, if it is live now:
    /// unexpired, and opened under the password stored now. One read: the
    /// row and the stored hash come from one snapshot.
    pub async fn admin_session(&self, token_digest: Vec<u8>) -> Result<Option<AdminSession>, LedgerError> {
        let now = self.clock.now();
        self.store
            .read(move |r| {
                let Some(session) = r.admin_session(&token_digest)? else {
                    return Ok(None);
                };
                let current = current_stamp(r)?;
                let live =
                    session.expires_at > now && current.as_deref() == Some(&session.password_stamp[..]);
                Ok(live.then_some(session))
            })
            .await
    }

    /// Opens a session for `ttl` milliseconds under the password whose
    /// stamp the login just verified. `None` if that is no longer the
    /// stored password (it changed during the login): nothing is opened.
    /// Ends the expired sessions on the way, so the table holds at most
    /// the sessions opened within one `ttl`.
    pub async fn open_admin_session(
        &self,
        token_digest: Vec<u8>,
        password_stamp: Vec<u8>,
        ttl: Millis,
    ) -> Result<Option<AdminSession>, LedgerError> {
        let clock = self.clock.clone();
        self.store
            .write(move |tx| {
                let now = clock.now();
                if current_stamp(tx)?.as_deref() != Some(&password_stamp[..]) {
                    return Ok(None);
                }
                prune(tx, now)?;
                let session = AdminSession {
                    token_digest: token_digest.clone(),
                    password_stamp: password_stamp.clone(),
                    created_at: now,
                    expires_at: now.saturating_add(ttl),
                };
                tx.insert_admin_session(&session)?;
                Ok(Some(session))
            })
            .await
    }

    /// Ends the session whose cookie has this digest (logout); ending one
    /// that is gone already is not an error.
    pub async fn end_admin_session(&self, token_digest: Vec<u8>) -> Result<(), LedgerError> {
        self.store
            .write(move |tx| -> Result<(), LedgerError> { Ok(tx.delete_admin_session(&token_digest)?) })
            .await
    }

    /// Ends every expired session and every session of another password
    /// than the stored one; returns how many ended.
    pub async fn prune_admin_sessions(&self) -> Result<u64, LedgerError> {
        let clock = self.clock.clone();
        self.store.write(move |tx| prune(tx, clock.now())).await
    }
}
