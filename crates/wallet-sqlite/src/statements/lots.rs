//! Lots: a wallet's value that expires at a time, its history, and the
//! parts of lots Open holds reserve (earmarks).
//!
//! `lots_of` runs for the source of every transfer, usually to find
//! nothing: one cached statement, a range of `lots_by_wallet`. As on the
//! rest of the hot path (see `ledger::insert_transaction`), no statement
//! here has RETURNING or ON CONFLICT, which would open a statement journal
//! per statement: `insert_lot` reads the rowid back instead. With one
//! writer, reading inside the write job is locking: no other write runs
//! until it ends, and every write that changes a wallet's lots runs in a
//! job that read (locked) the wallet first.

use super::rows::{self, LOT_COLUMNS};
use crate::error::{DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension};
use wallet_core::ids::{LotId, WalletId};
use wallet_core::model::{Earmark, Expiring, Lot, LotStatus, Millis, Page, PageRequest};
use wallet_core::port::{LotUpdate, NewLot, NewLotStep};
use wallet_core::text::HoldId;
use wallet_core::StoreError;

/// A wallet's lots, soonest `expires_at` first (ties: the lot formed
/// first), of one status or all. With a status it is a range of
/// `lots_by_wallet` in order; all of a wallet's lots are sorted (the
/// index orders them by status first).
pub(crate) fn wallet_lots(
    conn: &Connection,
    wallet: WalletId,
    status: Option<LotStatus>,
    page: PageRequest,
) -> DbResult<Page<Lot>> {
    match status {
        None => rows::page(
            conn,
            &format!(
                "SELECT {LOT_COLUMNS} FROM lots l WHERE l.wallet_id = ?1
                 ORDER BY l.expires_at, l.id LIMIT ?2 OFFSET ?3"
            ),
            params![wallet.get(), page.size, page.offset()],
            "SELECT count(*) FROM lots WHERE wallet_id = ?1",
            [wallet.get()],
            rows::lot,
        ),
        Some(status) => rows::page(
            conn,
            &format!(
                "SELECT {LOT_COLUMNS} FROM lots l WHERE l.wallet_id = ?1 AND l.status = ?2
                 ORDER BY l.expires_at, l.id LIMIT ?3 OFFSET ?4"
            ),
            params![wallet.get(), status.as_str(), page.size, page.offset()],
            "SELECT count(*) FROM lots WHERE wallet_id = ?1 AND status = ?2",
            params![wallet.get(), status.as_str()],
            rows::lot,
        ),
    }
}

/// The statement of [`expiring`], for the query-plan tests.
pub(crate) const EXPIRING_SQL: &str = "
    SELECT expires_at, sum(remaining) FROM lots WHERE wallet_id = ?1 AND status = 'Open'
    GROUP BY expires_at ORDER BY expires_at LIMIT ?2";

/// Per wallet, its Open lots' `remaining` summed per `expires_at`, soonest
/// first, at most [`Expiring::MAX_ROWS`] rows: a range of `lots_by_wallet`
/// each, already in order (no sort). The sums fit: a wallet's Open lots
/// hold at most its balance (`check` holds it).
pub(crate) fn expiring(conn: &Connection, wallets: &[WalletId]) -> DbResult<Vec<(WalletId, Expiring)>> {
    let mut stmt = conn.prepare_cached(EXPIRING_SQL)?;
    let limit = i64::try_from(Expiring::MAX_ROWS).unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for wallet in wallets {
        let rows = stmt.query_map(params![wallet.get(), limit], |r| {
            Ok(Expiring {
                expires_at: r.get(0)?,
                amount: r.get(1)?,
            })
        })?;
        for row in rows {
            found.push((*wallet, row?));
        }
    }
    Ok(found)
}

/// What the holds of `project` with these ids reserve of lots, each hold's
/// earmarks in lot id order.
pub(crate) fn hold_earmarks(
    conn: &Connection,
    project: &str,
    holds: &[HoldId],
) -> DbResult<Vec<(HoldId, Earmark)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.lot_id, e.amount FROM holds h JOIN hold_lots e ON e.hold_id = h.id
         JOIN lots l ON l.id = e.lot_id
         WHERE h.project_id = ?1 AND h.public_id = ?2 AND h.status = 'Open'
         ORDER BY l.expires_at, l.id",
    )?;
    let mut found = Vec::new();
    for hold in holds {
        let rows = stmt.query_map(params![project, hold.as_str()], |r| {
            Ok(Earmark {
                lot: LotId::new(r.get(0)?),
                amount: r.get(1)?,
            })
        })?;
        for row in rows {
            found.push((hold.clone(), row?));
        }
    }
    Ok(found)
}

/// The statement of [`due_lots`], for the query-plan tests.
pub(crate) const DUE_LOTS_SQL: &str = "
    SELECT w.project_id, l.wallet_id, l.id FROM lots l JOIN wallets w ON w.id = l.wallet_id
    WHERE l.status = 'Open' AND l.remaining > l.earmarked AND l.expires_at <= ?1
    ORDER BY l.expires_at, l.id LIMIT ?2";

/// Open lots with something not earmarked whose time has come, soonest
/// first, in every project: the Open range of `lots_due` (status,
/// expires_at), whose keys end with the rowid, so the order costs no sort.
pub(crate) fn due_lots(
    conn: &Connection,
    now: Millis,
    limit: u32,
) -> DbResult<Vec<(String, WalletId, LotId)>> {
    let mut stmt = conn.prepare_cached(DUE_LOTS_SQL)?;
    let rows = stmt.query_map(params![now, limit], |r| {
        Ok((r.get(0)?, WalletId::new(r.get(1)?), LotId::new(r.get(2)?)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The statement of [`next_lot_expiry`], for the query-plan tests.
pub(crate) const NEXT_LOT_EXPIRY_SQL: &str = "SELECT expires_at FROM lots
    WHERE status = 'Open' AND remaining > earmarked ORDER BY expires_at LIMIT 1";

/// The soonest `expires_at` of an Open lot with something not earmarked:
/// the first such key of `lots_due`.
pub(crate) fn next_lot_expiry(conn: &Connection) -> DbResult<Option<Millis>> {
    Ok(conn
        .prepare_cached(NEXT_LOT_EXPIRY_SQL)?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// The statement of [`lots_of`] (made once: it runs on every transfer),
/// for the query-plan tests too.
pub(crate) static LOTS_OF_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {LOT_COLUMNS} FROM lots l WHERE l.wallet_id = ?1 AND l.status = 'Open'
         ORDER BY l.expires_at, l.id"
    )
});

/// The Open lots of these wallets, in (`expires_at`, id) order: a range of
/// `lots_by_wallet` per wallet (a transaction's spending wallets are few),
/// merged.
pub(crate) fn lots_of(conn: &Connection, wallets: &[WalletId]) -> DbResult<Vec<Lot>> {
    let mut stmt = conn.prepare_cached(&LOTS_OF_SQL)?;
    let mut found = Vec::new();
    for wallet in wallets {
        for lot in stmt.query_map([wallet.get()], rows::lot)? {
            found.push(lot?);
        }
    }
    if wallets.len() > 1 {
        found.sort_by_key(|lot| (lot.expires_at, lot.id));
    }
    Ok(found)
}

/// Writes a lot a transaction formed; its id is the rowid.
pub(crate) fn insert_lot(conn: &Connection, lot: &NewLot) -> DbResult<LotId> {
    conn.prepare_cached(
        "INSERT INTO lots (wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                           created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        lot.wallet.get(),
        lot.amount,
        lot.remaining,
        lot.earmarked,
        lot.expires_at,
        lot.status.as_str(),
        lot.transaction.get(),
        lot.created_at
    ])?;
    Ok(LotId::new(conn.last_insert_rowid()))
}

/// Writes what a transaction changed of a lot. Only an Open lot changes
/// (Spent and Expired are final): one that is not is `Retryable`, since the
/// job planned on an Open one.
pub(crate) fn update_lot(conn: &Connection, change: &LotUpdate) -> DbResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE lots SET remaining = ?2, earmarked = ?3, status = ?4, updated_at = ?5
             WHERE id = ?1 AND status = 'Open'",
        )?
        .execute(params![
            change.id.get(),
            change.remaining,
            change.earmarked,
            change.status.as_str(),
            change.updated_at
        ])?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "lot {} is gone or no longer Open",
            change.id
        ))));
    }
    Ok(())
}

pub(crate) fn append_lot_step(conn: &Connection, step: &NewLotStep) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        step.lot.get(),
        step.transaction.get(),
        step.kind.as_str(),
        step.amount,
        step.created_at
    ])?;
    Ok(())
}

/// Replaces what a hold of `project` reserves of lots. Only holds that
/// place, capture, void or expire with lot value come here.
pub(crate) fn set_earmarks(
    conn: &Connection,
    project: &str,
    hold: &HoldId,
    earmarks: &[Earmark],
) -> DbResult<()> {
    let rowid: i64 = conn
        .prepare_cached("SELECT id FROM holds WHERE project_id = ?1 AND public_id = ?2")?
        .query_row(params![project, hold.as_str()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| {
            DbError(StoreError::Internal(format!(
                "earmarks of hold {hold}, which is not there"
            )))
        })?;
    conn.prepare_cached("DELETE FROM hold_lots WHERE hold_id = ?1")?
        .execute([rowid])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO hold_lots (hold_id, lot_id, amount) VALUES (?1, ?2, ?3)")?;
    for earmark in earmarks {
        insert.execute(params![rowid, earmark.lot.get(), earmark.amount])?;
    }
    Ok(())
}
