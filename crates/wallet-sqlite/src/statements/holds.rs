//! Holds: reading them, placing and changing them, and what a wallet's Open
//! holds reserve (`wallets.held`, moved only by the guarded `adjust_held`).
//! Also a wallet's balance at a time, which reads entries.

use super::rows::{self, HOLD_COLUMNS};
use crate::error::{DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::model::{Hold, HoldStatus, Millis, Page, PageRequest};
use wallet_core::port::HoldUpdate;
use wallet_core::text::HoldId;
use wallet_core::StoreError;

pub(crate) fn hold(conn: &Connection, project: &str, id: &HoldId) -> DbResult<Option<Hold>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.project_id = ?1 AND h.public_id = ?2"
        ))?
        .query_row(params![project, id.as_str()], rows::hold)
        .optional()?)
}

/// A wallet's holds as source, newest first, of one status or all. Two
/// statements rather than `?2 IS NULL OR status = ?2`, so each is planned
/// for what it asks.
pub(crate) fn wallet_holds(
    conn: &Connection,
    wallet: WalletId,
    status: Option<HoldStatus>,
    page: PageRequest,
) -> DbResult<Page<Hold>> {
    match status {
        None => rows::page(
            conn,
            &format!(
                "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.source_id = ?1
                 ORDER BY h.created_at DESC, h.id DESC LIMIT ?2 OFFSET ?3"
            ),
            params![wallet.get(), page.size, page.offset()],
            "SELECT count(*) FROM holds WHERE source_id = ?1",
            [wallet.get()],
            rows::hold,
        ),
        Some(status) => rows::page(
            conn,
            &format!(
                "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.source_id = ?1 AND h.status = ?2
                 ORDER BY h.created_at DESC, h.id DESC LIMIT ?3 OFFSET ?4"
            ),
            params![wallet.get(), status.as_str(), page.size, page.offset()],
            "SELECT count(*) FROM holds WHERE source_id = ?1 AND status = ?2",
            params![wallet.get(), status.as_str()],
            rows::hold,
        ),
    }
}

/// Open holds whose time has come, soonest first, in every project: a range
/// of the partial index `holds_due` (the `WHERE` repeats its condition so
/// SQLite may use it).
pub(crate) fn due_holds(conn: &Connection, now: Millis, limit: u32) -> DbResult<Vec<(String, HoldId)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT project_id, public_id FROM holds
         WHERE status = 'Open' AND expires_at IS NOT NULL AND expires_at <= ?1
         ORDER BY expires_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |r| {
        Ok((r.get::<_, String>(0)?, rows::hold_id(r, 1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The soonest expiry of any Open hold: the first key of `holds_due`.
pub(crate) fn next_hold_expiry(conn: &Connection) -> DbResult<Option<Millis>> {
    Ok(conn
        .prepare_cached("SELECT min(expires_at) FROM holds WHERE status = 'Open' AND expires_at IS NOT NULL")?
        .query_row([], |r| r.get(0))?)
}

/// The holds a transaction placed, in the order it placed them.
pub(crate) fn transaction_holds(
    conn: &Connection,
    project: &str,
    transaction: TransactionId,
) -> DbResult<Vec<Hold>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.transaction_id = ?1 AND h.project_id = ?2 ORDER BY h.id"
    ))?;
    let rows = stmt.query_map(params![transaction.get(), project], rows::hold)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The holds of `project` with these ids, in id order. One writer: reading
/// them inside the write job is locking them (see `wallets::lock_wallets`).
pub(crate) fn lock_holds(conn: &Connection, project: &str, ids: &[HoldId]) -> DbResult<Vec<Hold>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(hold) = hold(conn, project, id)? {
            found.push(hold);
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// Writes a new hold. A taken id is `Retryable`, found by a lookup first:
/// a failed INSERT would be a failed statement in the job, and `ON
/// CONFLICT` costs a statement journal (see `ledger::insert_transaction`).
pub(crate) fn insert_hold(conn: &Connection, project: &str, hold: &Hold) -> DbResult<()> {
    let taken = conn
        .prepare_cached("SELECT 1 FROM holds WHERE project_id = ?1 AND public_id = ?2")?
        .exists(params![project, hold.id.as_str()])?;
    if taken {
        return Err(DbError(StoreError::Retryable(format!(
            "hold id {} was taken since it was planned",
            hold.id
        ))));
    }
    conn.prepare_cached(
        "INSERT INTO holds (project_id, public_id, source_id, destination_id, asset_id, amount, captured,
                            remaining, status, expires_at, transaction_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        project,
        hold.id.as_str(),
        hold.source.get(),
        hold.destination.map(WalletId::get),
        hold.asset.get(),
        hold.amount,
        hold.captured,
        hold.remaining,
        hold.status.as_str(),
        hold.expires_at,
        hold.transaction.get(),
        hold.created_at,
        hold.updated_at
    ])?;
    Ok(())
}

/// Writes what a transaction changed of a hold. Only an Open hold changes
/// (every other status is final): one that is not is `Retryable`, since the
/// job planned on an Open one.
pub(crate) fn update_hold(conn: &Connection, project: &str, change: &HoldUpdate<'_>) -> DbResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE holds SET captured = ?3, remaining = ?4, status = ?5, updated_at = ?6
             WHERE project_id = ?1 AND public_id = ?2 AND status = 'Open'",
        )?
        .execute(params![
            project,
            change.id.as_str(),
            change.captured,
            change.remaining,
            change.status.as_str(),
            change.updated_at
        ])?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "hold {} is gone or no longer Open",
            change.id
        ))));
    }
    Ok(())
}

/// The posted balance after the last entry with `created_at <= at`: one
/// seek into `entries_by_wallet_time` (whose keys end with the rowid, so
/// the order by `id` costs no sort).
pub(crate) fn balance_at(conn: &Connection, wallet: WalletId, at: Millis) -> DbResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT balance_after FROM entries WHERE wallet_id = ?1 AND created_at <= ?2
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![wallet.get(), at], |r| r.get(0))
        .optional()?)
}
