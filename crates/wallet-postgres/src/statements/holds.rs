//! Holds: reading them, placing and changing them, and a wallet's balance at
//! a time (which reads entries). What a wallet's Open holds reserve
//! (`wallets.held`) moves with the guarded `wallets::adjust_held`.
//!
//! With several writers: a job locks the holds it names (`lock_holds`,
//! `FOR UPDATE`, in id order, before any wallet), so a Capture, a Void and
//! an expiry of one hold run one after the other, and the later one reads
//! the hold as the earlier left it; a new hold's id is claimed by an
//! `INSERT ... ON CONFLICT DO NOTHING` on `holds_public_id`, and an update
//! changes only a hold that is still Open.

use super::rows::{self, col, hold_columns};
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::model::{Hold, HoldStatus, Millis, Page, PageRequest};
use wallet_core::port::HoldUpdate;
use wallet_core::text::HoldId;
use wallet_core::StoreError;

pub(crate) fn hold(conn: &mut PgConn, project: &str, id: &HoldId) -> DbResult<Option<Hold>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            hold_columns!(),
            " FROM holds h WHERE h.project_id = $1 AND h.public_id = $2"
        ),
        &[&project, &id.as_str()],
    )?
    .map(|r| rows::hold(&r))
    .transpose()
}

/// A wallet's holds as source, newest first, of one status or all: a range
/// of `holds_by_source`, read backwards. Two statements rather than `$2 IS
/// NULL OR status = $2`, so each is planned for what it asks.
pub(crate) fn wallet_holds(
    conn: &mut PgConn,
    wallet: WalletId,
    status: Option<HoldStatus>,
    page: PageRequest,
) -> DbResult<Page<Hold>> {
    let (limit, offset) = rows::limits(page);
    match status {
        None => rows::page(
            conn,
            concat!(
                "SELECT ",
                hold_columns!(),
                " FROM holds h WHERE h.source_id = $1
                 ORDER BY h.created_at DESC, h.id DESC LIMIT $2 OFFSET $3"
            ),
            &[&wallet.get(), &limit, &offset],
            "SELECT count(*) FROM holds WHERE source_id = $1",
            &[&wallet.get()],
            rows::hold,
        ),
        Some(status) => rows::page(
            conn,
            concat!(
                "SELECT ",
                hold_columns!(),
                " FROM holds h WHERE h.source_id = $1 AND h.status = $2
                 ORDER BY h.created_at DESC, h.id DESC LIMIT $3 OFFSET $4"
            ),
            &[&wallet.get(), &status.as_str(), &limit, &offset],
            "SELECT count(*) FROM holds WHERE source_id = $1 AND status = $2",
            &[&wallet.get(), &status.as_str()],
            rows::hold,
        ),
    }
}

/// Open holds whose time has come, soonest first, in every project: a range
/// of the partial index `holds_due` (the `WHERE` repeats its condition so
/// the planner may use it).
pub(crate) fn due_holds(conn: &mut PgConn, now: Millis, limit: u32) -> DbResult<Vec<(String, HoldId)>> {
    let found = conn.query(
        "SELECT project_id, public_id FROM holds
         WHERE status = 'Open' AND expires_at IS NOT NULL AND expires_at <= $1
         ORDER BY expires_at, id LIMIT $2",
        &[&now, &i64::from(limit)],
    )?;
    rows::all(&found, |r| Ok((col(r, 0)?, rows::hold_id(r, 1)?)))
}

/// The soonest expiry of any Open hold: the first key of `holds_due`.
pub(crate) fn next_hold_expiry(conn: &mut PgConn) -> DbResult<Option<Millis>> {
    let row = conn.query_one(
        "SELECT min(expires_at) FROM holds WHERE status = 'Open' AND expires_at IS NOT NULL",
        &[],
    )?;
    col(&row, 0)
}

/// The holds a transaction placed, in the order it placed them.
pub(crate) fn transaction_holds(
    conn: &mut PgConn,
    project: &str,
    transaction: TransactionId,
) -> DbResult<Vec<Hold>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            hold_columns!(),
            " FROM holds h WHERE h.transaction_id = $1 AND h.project_id = $2 ORDER BY h.id"
        ),
        &[&transaction.get(), &project],
    )?;
    rows::all(&found, rows::hold)
}

/// The holds of `project` with these ids, locked until the write ends, in
/// id order (the sort runs below the row locks, so two jobs lock their
/// common holds in the same order; and every job locks its holds before its
/// wallets, so holds and wallets cannot wait in a circle either). A hold
/// another write changed while this waited is read as that write left it.
/// Missing ids (a hold the job is about to place) are left out; placing it
/// then races on the unique index, see [`insert_hold`].
pub(crate) fn lock_holds(conn: &mut PgConn, project: &str, ids: &[HoldId]) -> DbResult<Vec<Hold>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = ids.iter().map(HoldId::as_str).collect();
    let found = conn.query(
        concat!(
            "SELECT ",
            hold_columns!(),
            " FROM holds h WHERE h.project_id = $1 AND h.public_id = ANY($2)
             ORDER BY h.public_id COLLATE \"C\" FOR UPDATE OF h"
        ),
        &[&project, &ids],
    )?;
    let mut holds = rows::all(&found, rows::hold)?;
    // The core's order (byte order of the ids), whatever the collation.
    holds.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(holds)
}

/// Writes a new hold, claiming its id: `DO NOTHING` on exactly the
/// `holds_public_id` constraint. If another writer placed a hold with this
/// id, uncommitted, PostgreSQL waits for it to end; committed, no row comes
/// back and the claim is `Retryable` (the planner saw the id free), without
/// a failed statement. The rerun sees the hold and fails `CONFLICT`.
pub(crate) fn insert_hold(conn: &mut PgConn, project: &str, hold: &Hold) -> DbResult<()> {
    let row = conn.query_opt(
        "INSERT INTO holds (project_id, public_id, source_id, destination_id, asset_id, amount, captured,
                            remaining, status, expires_at, transaction_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT ON CONSTRAINT holds_public_id DO NOTHING
         RETURNING id",
        &[
            &project,
            &hold.id.as_str(),
            &hold.source.get(),
            &hold.destination.map(WalletId::get),
            &hold.asset.get(),
            &hold.amount,
            &hold.captured,
            &hold.remaining,
            &hold.status.as_str(),
            &hold.expires_at,
            &hold.transaction.get(),
            &hold.created_at,
            &hold.updated_at,
        ],
    )?;
    match row {
        Some(_) => Ok(()),
        None => Err(DbError(StoreError::Retryable(format!(
            "hold id {} was taken since it was planned",
            hold.id
        )))),
    }
}

/// Writes what a transaction changed of a hold. Only an Open hold changes
/// (every other status is final): one that is not is `Retryable`, since the
/// job planned on an Open one.
pub(crate) fn update_hold(conn: &mut PgConn, project: &str, change: &HoldUpdate<'_>) -> DbResult<()> {
    let changed = conn.execute(
        "UPDATE holds SET captured = $3, remaining = $4, status = $5, updated_at = $6
         WHERE project_id = $1 AND public_id = $2 AND status = 'Open'",
        &[
            &project,
            &change.id.as_str(),
            &change.captured,
            &change.remaining,
            &change.status.as_str(),
            &change.updated_at,
        ],
    )?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "hold {} is gone or no longer Open",
            change.id
        ))));
    }
    Ok(())
}

/// The posted balance after the last entry with `created_at <= at`: one
/// backward seek into `entries_by_wallet_time (wallet_id, created_at, id)`,
/// whatever the wallet's history.
pub(crate) fn balance_at(conn: &mut PgConn, wallet: WalletId, at: Millis) -> DbResult<Option<i64>> {
    conn.query_opt(
        "SELECT balance_after FROM entries WHERE wallet_id = $1 AND created_at <= $2
         ORDER BY created_at DESC, id DESC LIMIT 1",
        &[&wallet.get(), &at],
    )?
    .map(|r| col(&r, 0))
    .transpose()
}
