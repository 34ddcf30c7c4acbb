//! Server settings (the admin password hash, the maintenance switch) and
//! admin sessions, stored in the database so every process sees them.

use super::rows::col;
use crate::conn::PgConn;
use crate::error::DbResult;
use postgres::Row;
use wallet_core::model::{AdminSession, Millis};

pub(crate) fn get(conn: &mut PgConn, key: &str) -> DbResult<Option<String>> {
    conn.query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?
        .map(|r| col(&r, 0))
        .transpose()
}

/// [`get`] inside a write: the row stays share-locked until the write
/// commits, so turning the maintenance switch on (an UPDATE) waits for
/// every write that read it off.
pub(crate) fn get_for_write(conn: &mut PgConn, key: &str) -> DbResult<Option<String>> {
    conn.query_opt("SELECT value FROM settings WHERE key = $1 FOR SHARE", &[&key])?
        .map(|r| col(&r, 0))
        .transpose()
}

pub(crate) fn set(conn: &mut PgConn, key: &str, value: &str) -> DbResult<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )?;
    Ok(())
}

/// Sets `key` only if it has no value yet; returns whether it was set now.
pub(crate) fn set_if_absent(conn: &mut PgConn, key: &str, value: &str) -> DbResult<bool> {
    let inserted = conn.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[&key, &value],
    )?;
    Ok(inserted > 0)
}

fn session(r: &Row) -> DbResult<AdminSession> {
    Ok(AdminSession {
        token_digest: col(r, 0)?,
        password_stamp: col(r, 1)?,
        created_at: col(r, 2)?,
        expires_at: col(r, 3)?,
    })
}

pub(crate) fn admin_session(conn: &mut PgConn, token_digest: &[u8]) -> DbResult<Option<AdminSession>> {
    conn.query_opt(
        "SELECT token_digest, password_stamp, created_at, expires_at FROM admin_sessions
         WHERE token_digest = $1",
        &[&token_digest],
    )?
    .map(|r| session(&r))
    .transpose()
}

pub(crate) fn insert_admin_session(conn: &mut PgConn, s: &AdminSession) -> DbResult<()> {
    conn.execute(
        "INSERT INTO admin_sessions (token_digest, password_stamp, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        &[&s.token_digest, &s.password_stamp, &s.created_at, &s.expires_at],
    )?;
    Ok(())
}

pub(crate) fn delete_admin_session(conn: &mut PgConn, token_digest: &[u8]) -> DbResult<()> {
    conn.execute(
        "DELETE FROM admin_sessions WHERE token_digest = $1",
        &[&token_digest],
    )?;
    Ok(())
}

pub(crate) fn prune_admin_sessions(conn: &mut PgConn, password_stamp: &[u8], now: Millis) -> DbResult<u64> {
    conn.execute(
        "DELETE FROM admin_sessions WHERE expires_at <= $2 OR password_stamp <> $1",
        &[&password_stamp, &now],
    )
}
