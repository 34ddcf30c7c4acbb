//! Transactions, entries and the per-authority running totals.

use super::rows::{self, ENTRY_COLUMNS, TRANSACTION_COLUMNS};
use crate::error::{DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension};
use wallet_core::ids::{AuthorityRowId, EntryId, TransactionId, WalletId};
use wallet_core::model::{Entry, Page, PageRequest, TimeRange, Transaction};
use wallet_core::port::{Claim, NewEntry, NewTransaction};
use wallet_core::StoreError;

/// A wallet's entries in `range`, newest first.
pub(crate) fn wallet_entries(
    conn: &Connection,
    wallet: WalletId,
    range: TimeRange,
    page: PageRequest,
) -> DbResult<Page<Entry>> {
    rows::page(
        conn,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM entries
             WHERE wallet_id = ?1 AND created_at >= ?2 AND created_at < ?3
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
        ),
        params![wallet.get(), range.from, range.to, page.size, page.offset()],
        "SELECT count(*) FROM entries WHERE wallet_id = ?1 AND created_at >= ?2 AND created_at < ?3",
        params![wallet.get(), range.from, range.to],
        rows::entry,
    )
}

pub(crate) fn transaction(
    conn: &Connection,
    project: &str,
    id: TransactionId,
) -> DbResult<Option<Transaction>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = ?1 AND project_id = ?2"
        ))?
        .query_row(params![id.get(), project], rows::transaction)
        .optional()?)
}

pub(crate) fn transaction_by_reference(
    conn: &Connection,
    project: &str,
    reference: &str,
) -> DbResult<Option<Transaction>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE project_id = ?1 AND reference_id = ?2"
        ))?
        .query_row(params![project, reference], rows::transaction)
        .optional()?)
}

/// A project's transactions in `range`, newest first.
pub(crate) fn transactions(
    conn: &Connection,
    project: &str,
    range: TimeRange,
    page: PageRequest,
) -> DbResult<Page<Transaction>> {
    rows::page(
        conn,
        &format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions
             WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
        ),
        params![project, range.from, range.to, page.size, page.offset()],
        "SELECT count(*) FROM transactions WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3",
        params![project, range.from, range.to],
        rows::transaction,
    )
}

/// Writes the transaction row. A reference id the project used before is
/// not an error but [`Claim::Duplicate`]: `DO NOTHING` on exactly the
/// `transactions_reference` index (any other constraint still fails), so the
/// job learns of the race without a failed statement.
pub(crate) fn insert_transaction(conn: &Connection, t: &NewTransaction<'_>) -> DbResult<Claim> {
    // One writer: a reference id seen free here stays free until the insert.
    // A plain INSERT (no ON CONFLICT, no RETURNING): either of those makes
    // SQLite open a statement journal per statement, which inside a long
    // group transaction made a batch of transactions quadratic.
    if let Some(reference) = t.reference_id {
        let taken = conn
            .prepare_cached("SELECT 1 FROM transactions WHERE project_id = ?1 AND reference_id = ?2")?
            .exists(params![t.project_id, reference])?;
        if taken {
            return Ok(Claim::Duplicate);
        }
    }
    conn.prepare_cached(
        "INSERT INTO transactions
           (project_id, reference_id, authority_id, status, error, description, operations, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        t.project_id,
        t.reference_id,
        t.authority.get(),
        t.status.as_str(),
        t.error,
        t.description,
        t.operations,
        t.created_at
    ])?;
    Ok(Claim::Inserted(TransactionId::new(conn.last_insert_rowid())))
}

/// Appends an entry. Balances move with `debit` and `credit`, not here.
pub(crate) fn append_entry(conn: &Connection, e: &NewEntry<'_>) -> DbResult<EntryId> {
    conn.prepare_cached(
        "INSERT INTO entries
           (wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.wallet.get(),
        e.transaction.get(),
        e.authority.get(),
        e.kind.as_str(),
        e.amount,
        e.balance_after,
        e.reason,
        e.created_at
    ])?;
    Ok(EntryId::new(conn.last_insert_rowid()))
}

// A running total is an i128 in two columns (schema step 3): `total` holds
// its low 64 bits and `total_high` the rest (`rows::split_total`). It may
// pass i64 on a legal ledger (an authority issuing near MAX again and again
// while another redeems), so no legal entry is refused for its sake.

/// The running total of `authority`'s entries in `wallet`, if it has any.
pub(crate) fn authority_total(
    conn: &Connection,
    wallet: WalletId,
    authority: AuthorityRowId,
) -> DbResult<Option<i128>> {
    Ok(conn
        .prepare_cached(
            "SELECT total, total_high FROM authority_totals WHERE wallet_id = ?1 AND authority_id = ?2",
        )?
        .query_row(params![wallet.get(), authority.get()], |r| {
            Ok(rows::join_total(r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Adds `delta` to a running total (creating it at `delta`). The sum is
/// exact in i128, here: SQLite's own `+` would turn an overflowing low
/// column into a REAL. Reading before writing is safe because this runs in
/// the writer's `BEGIN IMMEDIATE` transaction, which no other connection
/// can write past. Only a total past about ±2^127 (2^63 entries of the
/// largest amount) cannot be stored: that stored total is `Corrupt`.
pub(crate) fn add_authority_total(
    conn: &Connection,
    wallet: WalletId,
    authority: AuthorityRowId,
    delta: i64,
) -> DbResult<()> {
    let old = authority_total(conn, wallet, authority)?.unwrap_or(0);
    let (low, high) = old
        .checked_add(i128::from(delta))
        .and_then(rows::split_total)
        .ok_or_else(|| {
            DbError(StoreError::Corrupt(format!(
                "authority {authority}'s running total in wallet {wallet} is out of range; nothing was written"
            )))
        })?;
    conn.prepare_cached(
        "INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (wallet_id, authority_id)
         DO UPDATE SET total = excluded.total, total_high = excluded.total_high",
    )?
    .execute(params![wallet.get(), authority.get(), low, high])?;
    Ok(())
}
