//! Transactions, entries and the per-authority running totals.

use super::rows::{self, col, entry_columns, transaction_columns};
use crate::conn::PgConn;
use crate::error::DbResult;
use wallet_core::ids::{AuthorityRowId, EntryId, TransactionId, WalletId};
use wallet_core::model::{Entry, Page, PageRequest, TimeRange, Transaction};
use wallet_core::port::{Claim, NewEntry, NewTransaction};

/// A wallet's entries in `range`, newest first.
pub(crate) fn wallet_entries(
    conn: &mut PgConn,
    wallet: WalletId,
    range: TimeRange,
    page: PageRequest,
) -> DbResult<Page<Entry>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            entry_columns!(),
            " FROM entries
             WHERE wallet_id = $1 AND created_at >= $2 AND created_at < $3
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
        ),
        &[&wallet.get(), &range.from, &range.to, &limit, &offset],
        "SELECT count(*) FROM entries WHERE wallet_id = $1 AND created_at >= $2 AND created_at < $3",
        &[&wallet.get(), &range.from, &range.to],
        rows::entry,
    )
}

pub(crate) fn transaction(
    conn: &mut PgConn,
    project: &str,
    id: TransactionId,
) -> DbResult<Option<Transaction>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            transaction_columns!(),
            " FROM transactions WHERE id = $1 AND project_id = $2"
        ),
        &[&id.get(), &project],
    )?
    .map(|r| rows::transaction(&r))
    .transpose()
}

pub(crate) fn transaction_by_reference(
    conn: &mut PgConn,
    project: &str,
    reference: &str,
) -> DbResult<Option<Transaction>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            transaction_columns!(),
            " FROM transactions WHERE project_id = $1 AND reference_id = $2"
        ),
        &[&project, &reference],
    )?
    .map(|r| rows::transaction(&r))
    .transpose()
}

/// A project's transactions in `range`, newest first.
pub(crate) fn transactions(
    conn: &mut PgConn,
    project: &str,
    range: TimeRange,
    page: PageRequest,
) -> DbResult<Page<Transaction>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            transaction_columns!(),
            " FROM transactions
             WHERE project_id = $1 AND created_at >= $2 AND created_at < $3
             ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
        ),
        &[&project, &range.from, &range.to, &limit, &offset],
        "SELECT count(*) FROM transactions WHERE project_id = $1 AND created_at >= $2 AND created_at < $3",
        &[&project, &range.from, &range.to],
        rows::transaction,
    )
}

/// Writes the transaction row, claiming its reference id. `DO NOTHING` on
/// exactly the `transactions_reference` index (any other constraint still
/// fails): if another writer holds the reference, uncommitted, PostgreSQL
/// waits for it to end; committed, no row comes back and the claim is
/// [`Claim::Duplicate`], without a failed statement.
pub(crate) fn insert_transaction(conn: &mut PgConn, t: &NewTransaction<'_>) -> DbResult<Claim> {
    let row = conn.query_opt(
        "INSERT INTO transactions
           (project_id, reference_id, authority_id, status, error, description, operations, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (project_id, reference_id) WHERE reference_id IS NOT NULL DO NOTHING
         RETURNING id",
        &[
            &t.project_id,
            &t.reference_id,
            &t.authority.get(),
            &t.status.as_str(),
            &t.error,
            &t.description,
            &t.operations,
            &t.created_at,
        ],
    )?;
    Ok(match row {
        Some(row) => Claim::Inserted(TransactionId::new(col(&row, 0)?)),
        None => Claim::Duplicate,
    })
}

/// Appends an entry. Balances move with `debit` and `credit`, not here.
pub(crate) fn append_entry(conn: &mut PgConn, e: &NewEntry<'_>) -> DbResult<EntryId> {
    let row = conn.query_one(
        "INSERT INTO entries
           (wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id",
        &[
            &e.wallet.get(),
            &e.transaction.get(),
            &e.authority.get(),
            &e.kind.as_str(),
            &e.amount,
            &e.balance_after,
            &e.reason,
            &e.created_at,
        ],
    )?;
    Ok(EntryId::new(col(&row, 0)?))
}

/// The running total of `authority`'s entries in `wallet`, if it has any.
pub(crate) fn authority_total(
    conn: &mut PgConn,
    wallet: WalletId,
    authority: AuthorityRowId,
) -> DbResult<Option<i128>> {
    conn.query_opt(
        "SELECT total::text FROM authority_totals WHERE wallet_id = $1 AND authority_id = $2",
        &[&wallet.get(), &authority.get()],
    )?
    .map(|r| rows::total(&r, 0))
    .transpose()
}

/// Adds `delta` to a running total (creating it at `delta`), by delta in
/// the database: exact in `NUMERIC`, and never a total read and written
/// back, so two writers' additions both count.
pub(crate) fn add_authority_total(
    conn: &mut PgConn,
    wallet: WalletId,
    authority: AuthorityRowId,
    delta: i64,
) -> DbResult<()> {
    conn.execute(
        "INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES ($1, $2, $3::int8)
         ON CONFLICT (wallet_id, authority_id)
         DO UPDATE SET total = authority_totals.total + excluded.total",
        &[&wallet.get(), &authority.get(), &delta],
    )?;
    Ok(())
}

/// A transaction's entries, in the order they were written (a range of
/// `entries_by_transaction`).
pub(crate) fn transaction_entries(conn: &mut PgConn, transaction: TransactionId) -> DbResult<Vec<Entry>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            entry_columns!(),
            " FROM entries WHERE transaction_id = $1 ORDER BY id"
        ),
        &[&transaction.get()],
    )?;
    rows::all(&found, rows::entry)
}
