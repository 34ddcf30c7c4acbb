//! Lots: a wallet's value that expires at a time, their history, and the
//! parts of them Open holds earmark (`hold_lots`).
//!
//! With several writers (worker threads, server processes) at READ
//! COMMITTED, a wallet's row lock guards its lots: every write that changes
//! a lot (a spend, an earmark, a release, a capture, an expiry, a lot
//! formed by an Issue, a Transfer or a Capture) locks the lot's wallet
//! first (`wallets::lock_wallets`, `FOR UPDATE`: the ledger's `lock_book`
//! locks every wallet its operations and their holds name, and reads the
//! Open lots of those value leaves only after). So [`lots_of`] is a plain
//! `SELECT`: taken after the lock, its statement's snapshot has every lot
//! change committed before the lock was granted, and no other transaction
//! can change them until this one ends. Inside a write group the wallet
//! may be answered from the group's cache without a statement, but then an
//! earlier job of the same transaction holds the lock (a released savepoint
//! hands its locks to the transaction; a rolled-back one takes the wallet
//! out of the cache with it), and that job's own lot writes are the
//! transaction's, which every later statement of it sees: the lots are
//! never cached, so a job always plans on the wallet's current lots.
//!
//! An earmark changes only with its hold, which the write locks
//! (`holds::lock_holds`) before it reads them ([`hold_earmarks`]).

use super::rows::{self, col};
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use postgres::Row;
use wallet_core::ids::{LotId, TransactionId, WalletId};
use wallet_core::model::{Earmark, Expiring, Lot, LotStatus, Millis, Page, PageRequest};
use wallet_core::port::{LotUpdate, NewLot, NewLotStep};
use wallet_core::text::HoldId;
use wallet_core::StoreError;

/// Lots: `SELECT lot_columns!() FROM lots l`.
macro_rules! lot_columns {
    () => {
        "l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.expires_at, l.status,
         l.created_at, l.transaction_id, l.updated_at"
    };
}

fn lot(r: &Row) -> DbResult<Lot> {
    Ok(Lot {
        id: LotId::new(col(r, 0)?),
        wallet: WalletId::new(col(r, 1)?),
        amount: col(r, 2)?,
        remaining: col(r, 3)?,
        earmarked: col(r, 4)?,
        expires_at: col(r, 5)?,
        status: rows::parsed(r, 6, "lots.status", LotStatus::parse)?,
        created_at: col(r, 7)?,
        transaction: TransactionId::new(col(r, 8)?),
        updated_at: col(r, 9)?,
    })
}

/// A wallet's lots, soonest `expires_at` first (ties: the lot formed
/// first). By status, a range of `lots_by_wallet` in order; all of them,
/// the wallet's lots of every status sorted (each wallet's own few).
pub(crate) fn wallet_lots(
    conn: &mut PgConn,
    wallet: WalletId,
    status: Option<LotStatus>,
    page: PageRequest,
) -> DbResult<Page<Lot>> {
    let (limit, offset) = rows::limits(page);
    match status {
        None => rows::page(
            conn,
            concat!(
                "SELECT ",
                lot_columns!(),
                " FROM lots l WHERE l.wallet_id = $1
                 ORDER BY l.expires_at, l.id LIMIT $2 OFFSET $3"
            ),
            &[&wallet.get(), &limit, &offset],
            "SELECT count(*) FROM lots WHERE wallet_id = $1",
            &[&wallet.get()],
            lot,
        ),
        Some(status) => rows::page(
            conn,
            concat!(
                "SELECT ",
                lot_columns!(),
                " FROM lots l WHERE l.wallet_id = $1 AND l.status = $2
                 ORDER BY l.expires_at, l.id LIMIT $3 OFFSET $4"
            ),
            &[&wallet.get(), &status.as_str(), &limit, &offset],
            "SELECT count(*) FROM lots WHERE wallet_id = $1 AND status = $2",
            &[&wallet.get(), &status.as_str()],
            lot,
        ),
    }
}

/// Per wallet, its Open lots' `remaining` summed per `expires_at`, soonest
/// first, at most [`Expiring::MAX_ROWS`]: for each wallet one range of
/// `lots_by_wallet`, grouped as it is read. A sum past i64 (a broken
/// database: Open lots hold at most the balance) fails the cast, never
/// reads as a wrong number.
pub(crate) fn expiring(conn: &mut PgConn, wallets: &[WalletId]) -> DbResult<Vec<(WalletId, Expiring)>> {
    if wallets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = wallets.iter().map(|w| w.get()).collect();
    let max_rows = i64::try_from(Expiring::MAX_ROWS).unwrap_or(i64::MAX);
    let found = conn.query(
        "SELECT w.id, x.expires_at, x.amount
         FROM (SELECT DISTINCT id FROM unnest($1::bigint[]) AS u(id)) w
         CROSS JOIN LATERAL (
             SELECT l.expires_at, sum(l.remaining)::bigint AS amount FROM lots l
             WHERE l.wallet_id = w.id AND l.status = 'Open'
             GROUP BY l.expires_at ORDER BY l.expires_at LIMIT $2) x
         ORDER BY w.id, x.expires_at",
        &[&ids, &max_rows],
    )?;
    rows::all(&found, |r| {
        Ok((
            WalletId::new(col(r, 0)?),
            Expiring {
                expires_at: col(r, 1)?,
                amount: col(r, 2)?,
            },
        ))
    })
}

/// What the Open holds of `project` with these ids earmark, per hold in
/// spending order of the lots (the order a Hold made them in).
pub(crate) fn hold_earmarks(
    conn: &mut PgConn,
    project: &str,
    holds: &[HoldId],
) -> DbResult<Vec<(HoldId, Earmark)>> {
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = holds.iter().map(HoldId::as_str).collect();
    let found = conn.query(
        "SELECT h.public_id, e.lot_id, e.amount
         FROM holds h JOIN hold_lots e ON e.hold_id = h.id JOIN lots l ON l.id = e.lot_id
         WHERE h.project_id = $1 AND h.public_id = ANY($2) AND h.status = 'Open'
         ORDER BY h.id, l.expires_at, l.id",
        &[&project, &ids],
    )?;
    rows::all(&found, |r| {
        Ok((
            rows::hold_id(r, 0)?,
            Earmark {
                lot: LotId::new(col(r, 1)?),
                amount: col(r, 2)?,
            },
        ))
    })
}

/// Open lots with something not earmarked whose time has come, soonest
/// first, in every project: a range of the partial index `lots_due` (the
/// `WHERE` repeats its condition so the planner may use it).
pub(crate) fn due_lots(
    conn: &mut PgConn,
    now: Millis,
    limit: u32,
) -> DbResult<Vec<(String, WalletId, LotId)>> {
    let found = conn.query(
        "SELECT w.project_id, l.wallet_id, l.id FROM lots l JOIN wallets w ON w.id = l.wallet_id
         WHERE l.status = 'Open' AND l.remaining > l.earmarked AND l.expires_at <= $1
         ORDER BY l.expires_at, l.id LIMIT $2",
        &[&now, &i64::from(limit)],
    )?;
    rows::all(&found, |r| {
        Ok((col(r, 0)?, WalletId::new(col(r, 1)?), LotId::new(col(r, 2)?)))
    })
}

/// The soonest expiry of a lot with something to expire: the first key of
/// `lots_due`.
pub(crate) fn next_lot_expiry(conn: &mut PgConn) -> DbResult<Option<Millis>> {
    let row = conn.query_one(
        "SELECT min(expires_at) FROM lots WHERE status = 'Open' AND remaining > earmarked",
        &[],
    )?;
    col(&row, 0)
}

/// One lot, by id (a write reads the lots it expired, for their events).
pub(crate) fn lot_by_id(conn: &mut PgConn, id: LotId) -> DbResult<Option<Lot>> {
    conn.query_opt(
        concat!("SELECT ", lot_columns!(), " FROM lots l WHERE l.id = $1"),
        &[&id.get()],
    )?
    .map(|r| lot(&r))
    .transpose()
}

/// The Open lots of wallets the write has locked, in spending order: one
/// prepared statement, a range of `lots_by_wallet` per wallet (a transfer
/// from a wallet without lots finds nothing in one index probe). No row
/// lock: the wallets' locks guard their lots (see the module's notes).
pub(crate) fn lots_of(conn: &mut PgConn, wallets: &[WalletId]) -> DbResult<Vec<Lot>> {
    if wallets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = wallets.iter().map(|w| w.get()).collect();
    let found = conn.query(
        concat!(
            "SELECT ",
            lot_columns!(),
            " FROM lots l WHERE l.wallet_id = ANY($1) AND l.status = 'Open'
             ORDER BY l.expires_at, l.id"
        ),
        &[&ids],
    )?;
    rows::all(&found, lot)
}

/// Writes a lot a transaction formed, at its state after it; its id is the
/// identity's next.
pub(crate) fn insert_lot(conn: &mut PgConn, lot: &NewLot) -> DbResult<LotId> {
    let row = conn.query_one(
        "INSERT INTO lots (wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         RETURNING id",
        &[
            &lot.wallet.get(),
            &lot.amount,
            &lot.remaining,
            &lot.earmarked,
            &lot.expires_at,
            &lot.status.as_str(),
            &lot.transaction.get(),
            &lot.created_at,
        ],
    )?;
    Ok(LotId::new(col(&row, 0)?))
}

/// Writes what a transaction changed of a lot. Only an Open lot changes
/// (Spent and Expired are final): one that is not is `Retryable`, since the
/// job planned on an Open one.
pub(crate) fn update_lot(conn: &mut PgConn, change: &LotUpdate) -> DbResult<()> {
    let changed = conn.execute(
        "UPDATE lots SET remaining = $2, earmarked = $3, status = $4, updated_at = $5
         WHERE id = $1 AND status = 'Open'",
        &[
            &change.id.get(),
            &change.remaining,
            &change.earmarked,
            &change.status.as_str(),
            &change.updated_at,
        ],
    )?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "lot {} is gone or no longer Open",
            change.id
        ))));
    }
    Ok(())
}

pub(crate) fn append_lot_step(conn: &mut PgConn, step: &NewLotStep) -> DbResult<()> {
    conn.execute(
        "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &step.lot.get(),
            &step.transaction.get(),
            &step.kind.as_str(),
            &step.amount,
            &step.created_at,
        ],
    )?;
    Ok(())
}

/// Replaces every earmark of a hold of `project`: the old ones go, the new
/// ones (if any) come in one `INSERT` from arrays. A hold that is not there
/// with earmarks to write is `Internal` (the ledger writes a new hold
/// before its earmarks).
pub(crate) fn set_earmarks(
    conn: &mut PgConn,
    project: &str,
    hold: &HoldId,
    earmarks: &[Earmark],
) -> DbResult<()> {
    conn.execute(
        "DELETE FROM hold_lots
         WHERE hold_id = (SELECT id FROM holds WHERE project_id = $1 AND public_id = $2)",
        &[&project, &hold.as_str()],
    )?;
    if earmarks.is_empty() {
        return Ok(());
    }
    let lots: Vec<i64> = earmarks.iter().map(|e| e.lot.get()).collect();
    let amounts: Vec<i64> = earmarks.iter().map(|e| e.amount).collect();
    let written = conn.execute(
        "INSERT INTO hold_lots (hold_id, lot_id, amount)
         SELECT h.id, v.lot, v.amount
         FROM holds h, unnest($3::bigint[], $4::bigint[]) AS v(lot, amount)
         WHERE h.project_id = $1 AND h.public_id = $2",
        &[&project, &hold.as_str(), &lots, &amounts],
    )?;
    if written != u64::try_from(earmarks.len()).unwrap_or(u64::MAX) {
        return Err(DbError(StoreError::Internal(format!(
            "hold {hold}: {written} of {} earmarks written (no such hold?)",
            earmarks.len()
        ))));
    }
    Ok(())
}
