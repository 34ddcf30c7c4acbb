//! Bulk loading for benchmarks: millions of rows written straight into a
//! database file that no server is using yet.
//!
//! The normal path (one writer job per request, a savepoint each, a durable
//! commit per group) is what a benchmark measures, so it cannot also be how
//! the benchmark preloads ten million entries in reasonable time. This loader
//! opens its own connection with `synchronous=OFF` and a large page cache,
//! writes in large transactions, and leaves the file exactly as the ledger
//! would have: balances equal to the sum of entries, `balance_after` of every
//! entry correct, per-authority totals maintained, transactions present.
//! The caller computes the balances (it generates the entries); this file
//! only writes rows. Never use it on a file a server has open.

use super::rows::{NewEntry, NewTransaction};
use super::{ReadTx, StorageError};
use rusqlite::{params, CachedStatement, Connection};
use std::path::Path;

/// A connection for bulk loading.
pub struct BulkLoader {
    conn: Connection,
}

/// The statements of one bulk transaction.
pub struct BulkTx<'c> {
    customer: CachedStatement<'c>,
    wallet: CachedStatement<'c>,
    transaction: CachedStatement<'c>,
    entry: CachedStatement<'c>,
    item: CachedStatement<'c>,
    balance: CachedStatement<'c>,
    total: CachedStatement<'c>,
    conn: &'c Connection,
}

impl BulkLoader {
    /// Opens a database that `Store::open` has already created (schema
    /// applied). Durability is off: a crash mid-load leaves a file to delete.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "PRAGMA synchronous = OFF;
             PRAGMA foreign_keys = OFF;
             PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;",
        )?;
        Ok(Self { conn })
    }

    /// Runs `work` in one transaction with the bulk statements prepared.
    pub fn chunk<T>(
        &mut self,
        work: impl FnOnce(&mut BulkTx<'_>) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let tx = self.conn.transaction()?;
        let out = {
            let mut bulk = BulkTx::new(&tx)?;
            work(&mut bulk)?
        };
        tx.commit()?;
        Ok(out)
    }

    /// Checkpoints the WAL into the main file and truncates it, so the file
    /// size afterwards is the size of the data.
    pub fn finish(self) -> Result<(), StorageError> {
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

impl<'c> BulkTx<'c> {
    fn new(conn: &'c Connection) -> Result<Self, StorageError> {
        Ok(Self {
            customer: conn.prepare_cached(
                "INSERT INTO customers (project_id, external_id, status, created_at)
                 VALUES (?1, ?2, 'Active', ?3)",
            )?,
            wallet: conn.prepare_cached(
                "INSERT INTO wallets (project_id, asset_id, customer_id, is_default, status, balance, created_at)
                 VALUES (?1, ?2, ?3, 1, 'Open', 0, ?4)",
            )?,
            transaction: conn.prepare_cached(
                "INSERT INTO transactions
                   (project_id, reference_id, authority_id, status, error, description, operations, created_at)
                 VALUES (?1, ?2, ?3, 'Completed', NULL, ?4, ?5, ?6)",
            )?,
            entry: conn.prepare_cached(
                "INSERT INTO entries
                   (wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            item: conn.prepare_cached("INSERT INTO items (entry_id, name, data, used) VALUES (?1, ?2, ?3, 0)")?,
            balance: conn.prepare_cached("UPDATE wallets SET balance = ?2 WHERE id = ?1")?,
            total: conn.prepare_cached(
                "INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (?1, ?2, ?3)
                 ON CONFLICT (wallet_id, authority_id) DO UPDATE SET total = excluded.total, total_high = 0",
            )?,
            conn,
        })
    }

    /// A customer with its default wallet of `asset` (balance 0 until
    /// [`BulkTx::set_balance`]). Returns the wallet id.
    pub fn customer_wallet(
        &mut self,
        project: &str,
        asset: i64,
        external_id: &str,
        now: i64,
    ) -> Result<i64, StorageError> {
        self.customer.execute(params![project, external_id, now])?;
        let customer = self.conn.last_insert_rowid();
        self.wallet.execute(params![project, asset, customer, now])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A completed transaction; returns its id.
    pub fn transaction(&mut self, t: &NewTransaction<'_>) -> Result<i64, StorageError> {
        self.transaction.execute(params![
            t.project_id,
            t.reference_id,
            t.authority,
            t.description,
            t.operations,
            t.created_at
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// An entry, without touching the wallet: the caller sets final balances
    /// and totals once, at the end.
    pub fn entry(&mut self, e: &NewEntry<'_>) -> Result<i64, StorageError> {
        self.entry.execute(params![
            e.wallet,
            e.transaction,
            e.authority,
            e.kind.as_str(),
            e.amount,
            e.balance_after,
            e.reason,
            e.created_at
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn item(&mut self, entry: i64, name: &str, data: Option<&str>) -> Result<(), StorageError> {
        self.item.execute(params![entry, name, data])?;
        Ok(())
    }

    /// The wallet's final balance and `authority`'s running total in it.
    pub fn set_balance(&mut self, wallet: i64, authority: i64, balance: i64) -> Result<(), StorageError> {
        self.balance.execute(params![wallet, balance])?;
        self.total.execute(params![wallet, authority, balance])?;
        Ok(())
    }

    /// Marks the asset used, as opening a wallet through the ledger does.
    pub fn mark_asset_used(&mut self, asset: i64) -> Result<(), StorageError> {
        self.conn
            .execute("UPDATE assets SET used = 1 WHERE id = ?1", [asset])?;
        Ok(())
    }
}

/// Sizes that a benchmark reports.
#[derive(Debug, Clone, Copy)]
pub struct AssetTotals {
    pub wallets: i64,
    pub balance_sum: i64,
}

impl ReadTx<'_> {
    /// How many wallets hold `asset` and the sum of their balances: money
    /// conservation is checked by comparing this before and after a run.
    pub fn asset_totals(&self, asset: i64) -> Result<AssetTotals, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*), coalesce(sum(balance), 0) FROM wallets WHERE asset_id = ?1")?
            .query_row([asset], |r| {
                Ok(AssetTotals {
                    wallets: r.get(0)?,
                    balance_sum: r.get(1)?,
                })
            })?)
    }

    /// The database's size in bytes (pages in use times page size).
    pub fn database_bytes(&self) -> Result<i64, StorageError> {
        Ok(self.conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?)
    }
}
