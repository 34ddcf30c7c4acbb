//! Server settings stored in the database (the admin password hash, the
//! maintenance switch), so they survive restarts and every process sees them.

use crate::error::DbResult;
use rusqlite::{params, Connection, OptionalExtension};
use wallet_core::model::{AdminSession, Millis};

pub(crate) fn get(conn: &Connection, key: &str) -> DbResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Sets `key` only if it has no value yet; returns whether it was set now.
pub(crate) fn set_if_absent(conn: &Connection, key: &str, value: &str) -> DbResult<bool> {
    let inserted = conn
        .prepare_cached("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")?
        .execute(params![key, value])?;
    Ok(inserted > 0)
}

pub(crate) fn admin_session(conn: &Connection, token_digest: &[u8]) -> DbResult<Option<AdminSession>> {
    Ok(conn
        .prepare_cached(
            "SELECT token_digest, password_stamp, created_at, expires_at FROM admin_sessions
             WHERE token_digest = ?1",
        )?
        .query_row([token_digest], |r| {
            Ok(AdminSession {
                token_digest: r.get(0)?,
                password_stamp: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
            })
        })
        .optional()?)
}

pub(crate) fn insert_admin_session(conn: &Connection, session: &AdminSession) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO admin_sessions (token_digest, password_stamp, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        session.token_digest,
        session.password_stamp,
        session.created_at,
        session.expires_at
    ])?;
    Ok(())
}

pub(crate) fn delete_admin_session(conn: &Connection, token_digest: &[u8]) -> DbResult<()> {
    conn.prepare_cached("DELETE FROM admin_sessions WHERE token_digest = ?1")?
        .execute([token_digest])?;
    Ok(())
}

pub(crate) fn prune_admin_sessions(conn: &Connection, password_stamp: &[u8], now: Millis) -> DbResult<u64> {
    let ended = conn
        .prepare_cached("DELETE FROM admin_sessions WHERE expires_at <= ?2 OR password_stamp != ?1")?
        .execute(params![password_stamp, now])?;
    Ok(u64::try_from(ended).unwrap_or(u64::MAX))
}
