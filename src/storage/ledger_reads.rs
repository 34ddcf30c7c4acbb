//! Entries and transactions as API v2 lists them.

use super::rows::*;
use super::{ReadTx, StorageError};
use rusqlite::{params, OptionalExtension, Row};

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok(EntryRow {
        id: r.get(0)?,
        wallet_id: r.get(1)?,
        transaction_id: r.get(2)?,
        kind: r.get(3)?,
        amount: r.get(4)?,
        balance_after: r.get(5)?,
        reason: r.get(6)?,
        created_at: r.get(7)?,
    })
}

fn transaction_from_row(r: &Row<'_>) -> rusqlite::Result<TransactionRow> {
    let status: String = r.get(2)?;
    Ok(TransactionRow {
        id: r.get(0)?,
        reference_id: r.get(1)?,
        completed: status == "Completed",
        error: r.get(3)?,
        description: r.get(4)?,
        operations: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const TRANSACTION_COLUMNS: &str = "id, reference_id, status, error, description, operations, created_at";

impl ReadTx<'_> {
    /// A wallet's entries in a time range, newest first.
    pub fn wallet_entries(
        &self,
        wallet: i64,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Paged<EntryRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, wallet_id, transaction_id, kind, amount, balance_after, reason, created_at
             FROM entries WHERE wallet_id = ?1 AND created_at >= ?2 AND created_at < ?3
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
        )?;
        let rows = stmt.query_map(
            params![wallet, range.from, range.to, page.size, page.offset()],
            entry_from_row,
        )?;
        let items = rows.collect::<Result<_, _>>()?;
        let total = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM entries WHERE wallet_id = ?1 AND created_at >= ?2 AND created_at < ?3",
            )?
            .query_row(params![wallet, range.from, range.to], |r| r.get(0))?;
        Ok(Paged { items, total })
    }

    pub fn transaction(&self, project: &str, id: i64) -> Result<Option<TransactionRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE id = ?1 AND project_id = ?2"
            ))?
            .query_row(params![id, project], transaction_from_row)
            .optional()?)
    }

    pub fn transaction_by_reference(
        &self,
        project: &str,
        reference: &str,
    ) -> Result<Option<TransactionRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE project_id = ?1 AND reference_id = ?2"
            ))?
            .query_row(params![project, reference], transaction_from_row)
            .optional()?)
    }

    /// A project's transactions in a time range, newest first.
    pub fn transactions_page(
        &self,
        project: &str,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Paged<TransactionRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions
             WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
        ))?;
        let rows = stmt.query_map(
            params![project, range.from, range.to, page.size, page.offset()],
            transaction_from_row,
        )?;
        let items = rows.collect::<Result<_, _>>()?;
        let total = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM transactions WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3",
            )?
            .query_row(params![project, range.from, range.to], |r| r.get(0))?;
        Ok(Paged { items, total })
    }
}
