//! Entries appended in a group, written with one statement instead of a
//! round trip each.
//!
//! A transfer appends two entries and a transfer with a fee four; each was
//! an `INSERT ... RETURNING id` of its own, waited for by the writer. Here
//! an entry takes its id from a block drawn from the table's identity
//! sequence at once (`nextval` over `generate_series`: one round trip per
//! block of two ids per job of the group, a transfer's two entries) and
//! waits in memory; the group cache writes every waiting entry with one
//! `INSERT ... SELECT FROM unnest(...)` when it writes its balances: before
//! any statement that could read entries, and before the COMMIT. Ids come
//! from the same sequence in the order entries are appended; the ids of a
//! block the group does not use are skipped, as a rolled-back insert skips
//! its id. A group of one job (a server that is not busy) gains nothing
//! (a draw and a write instead of an insert or two) and would skip ids:
//! its entries are inserted at once, as before.
//!
//! Savepoints: the running job's entries go when it is rolled back. If the
//! job had the waiting entries written (a statement of it needed them),
//! the kept jobs' entries were written inside its savepoint and go with it
//! too: they wait again, to be written later (`rewrite`).

use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use crate::statements::rows::col;
use std::collections::VecDeque;
use wallet_core::ids::EntryId;
use wallet_core::port::NewEntry;
use wallet_core::StoreError;

/// The largest block of ids drawn at once.
const MAX_BLOCK: i64 = 4096;

/// An entry as it will be written.
#[derive(Debug, Clone)]
struct Waiting {
    id: i64,
    wallet: i64,
    transaction: i64,
    authority: i64,
    kind: &'static str,
    amount: i64,
    balance_after: i64,
    reason: Option<String>,
    created_at: i64,
}

/// One group's entries not yet written, and the ids it drew.
#[derive(Debug)]
pub(super) struct WaitingEntries {
    rows: Vec<Waiting>,
    /// `rows[..kept]` are kept jobs'; the rest the running job's.
    kept: usize,
    /// Kept jobs' entries written inside the running job's savepoint: they
    /// wait again if it is rolled back.
    rewrite: Vec<Waiting>,
    ids: VecDeque<i64>,
    /// How many ids each draw takes; 0 for a group whose entries do not
    /// wait.
    block: i64,
}

impl WaitingEntries {
    /// For a group of `jobs` jobs: blocks of two ids per job (a transfer's
    /// two entries; a transfer with a fee takes two blocks); none for one
    /// job.
    pub(super) fn for_group(jobs: usize) -> Self {
        let jobs = i64::try_from(jobs).unwrap_or(MAX_BLOCK);
        Self {
            rows: Vec::new(),
            kept: 0,
            rewrite: Vec::new(),
            ids: VecDeque::new(),
            block: if jobs < 2 {
                0
            } else {
                jobs.saturating_mul(2).min(MAX_BLOCK)
            },
        }
    }

    /// Whether this group's entries may wait at all.
    pub(super) fn enabled(&self) -> bool {
        self.block > 0
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Gives `entry` its id and keeps it until [`WaitingEntries::write`].
    pub(super) fn push(&mut self, conn: &mut PgConn, entry: &NewEntry<'_>) -> DbResult<EntryId> {
        if self.ids.is_empty() {
            self.draw(conn)?;
        }
        let id = self.ids.pop_front().ok_or_else(|| {
            DbError(StoreError::Internal(
                "the entries' sequence gave no id".to_owned(),
            ))
        })?;
        self.rows.push(Waiting {
            id,
            wallet: entry.wallet.get(),
            transaction: entry.transaction.get(),
            authority: entry.authority.get(),
            kind: entry.kind.as_str(),
            amount: entry.amount,
            balance_after: entry.balance_after,
            reason: entry.reason.map(str::to_owned),
            created_at: entry.created_at,
        });
        Ok(EntryId::new(id))
    }

    fn draw(&mut self, conn: &mut PgConn) -> DbResult<()> {
        let rows = conn.query(
            "SELECT nextval(pg_get_serial_sequence('entries', 'id')) FROM generate_series(1, $1::int8)",
            &[&self.block],
        )?;
        for row in rows {
            self.ids.push_back(col(&row, 0)?);
        }
        Ok(())
    }

    /// Writes every waiting entry.
    pub(super) fn write(&mut self, conn: &mut PgConn) -> DbResult<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = &self.rows;
        let column = |f: fn(&Waiting) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
        let kinds: Vec<&str> = rows.iter().map(|w| w.kind).collect();
        let reasons: Vec<Option<&str>> = rows.iter().map(|w| w.reason.as_deref()).collect();
        conn.execute(
            "INSERT INTO entries
               (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[],
                                  $6::int8[], $7::int8[], $8::text[], $9::int8[])",
            &[
                &column(|w| w.id),
                &column(|w| w.wallet),
                &column(|w| w.transaction),
                &column(|w| w.authority),
                &kinds,
                &column(|w| w.amount),
                &column(|w| w.balance_after),
                &reasons,
                &column(|w| w.created_at),
            ],
        )?;
        self.rewrite.extend(self.rows.drain(..self.kept));
        self.rows.clear();
        self.kept = 0;
        Ok(())
    }

    /// The running job's entries stay.
    pub(super) fn keep_job(&mut self) {
        self.rewrite.clear();
        self.kept = self.rows.len();
    }

    /// The running job's entries go; kept jobs' entries written inside its
    /// savepoint wait again.
    pub(super) fn undo_job(&mut self) {
        self.rows.truncate(self.kept);
        self.rows.append(&mut self.rewrite);
        self.kept = self.rows.len();
    }
}
