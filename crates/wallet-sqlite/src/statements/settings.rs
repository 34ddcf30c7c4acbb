//! Server settings stored in the database (the admin password hash, the
//! maintenance switch), so they survive restarts and every process sees them.

use crate::error::DbResult;
use rusqlite::{params, Connection, OptionalExtension};

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
