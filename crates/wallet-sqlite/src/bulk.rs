//! Bulk loading for benchmarks: millions of rows written straight into a
//! database file that no server is using yet, and the sizes a benchmark
//! reports.
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

use crate::backend::SqliteBackend;
use crate::error::{DbError, DbResult};
use rusqlite::{params, CachedStatement, Connection};
use std::path::Path;
use wallet_core::ids::{AssetId, AuthorityRowId, EntryId, LotId, TransactionId, WalletId};
use wallet_core::model::{EntryKind, Millis};
use wallet_core::port::{NewEntry, NewTransaction};
use wallet_core::StoreError;

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
    grant: CachedStatement<'c>,
    lot: CachedStatement<'c>,
    balance: CachedStatement<'c>,
    total: CachedStatement<'c>,
    conn: &'c Connection,
}

impl BulkLoader {
    /// Opens a database that [`SqliteBackend::open`] has already created
    /// (schema applied). Durability is off: a crash mid-load leaves a file
    /// to delete.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open = || -> DbResult<Connection> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(crate::connection::BUSY_TIMEOUT)?;
            conn.execute_batch(
                "PRAGMA synchronous = OFF;
                 PRAGMA foreign_keys = OFF;
                 PRAGMA cache_size = -262144;
                 PRAGMA temp_store = MEMORY;",
            )?;
            Ok(conn)
        };
        Ok(Self { conn: open()? })
    }

    /// Runs `work` in one transaction with the bulk statements prepared.
    pub fn chunk<T>(
        &mut self,
        work: impl FnOnce(&mut BulkTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction().map_err(DbError::from)?;
        let out = {
            let mut bulk = BulkTx::new(&tx)?;
            work(&mut bulk)?
        };
        tx.commit().map_err(DbError::from)?;
        Ok(out)
    }

    /// Checkpoints the WAL into the main file and truncates it, so the file
    /// size afterwards is the size of the data.
    pub fn finish(self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(DbError::from)?;
        Ok(())
    }
}

impl<'c> BulkTx<'c> {
    fn new(conn: &'c Connection) -> DbResult<Self> {
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
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            entry: conn.prepare_cached(
                "INSERT INTO entries
                   (wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            item: conn.prepare_cached(
                "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status,
                                    v1_entry_id, created_at, updated_at)
                 SELECT w.project_id, 'v1_' || e.id, ?2, ?3, w.customer_id, 'Active', e.id, e.created_at,
                        e.created_at
                 FROM entries e JOIN wallets w ON w.id = e.wallet_id WHERE e.id = ?1",
            )?,
            grant: conn.prepare_cached(
                "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                         properties, created_at)
                 SELECT i.id, e.transaction_id, 'GrantItem', NULL, i.customer_id, i.properties, i.created_at
                 FROM items i JOIN entries e ON e.id = i.v1_entry_id WHERE i.id = ?1",
            )?,
            lot: conn.prepare_cached(
                "INSERT INTO lots (wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                                   created_at, updated_at)
                 VALUES (?1, ?2, ?2, 0, ?3, 'Open', ?4, ?5, ?5)",
            )?,
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
        asset: AssetId,
        external_id: &str,
        now: Millis,
    ) -> Result<WalletId, StoreError> {
        let mut write = || -> DbResult<WalletId> {
            self.customer.execute(params![project, external_id, now])?;
            let customer = self.conn.last_insert_rowid();
            self.wallet
                .execute(params![project, asset.get(), customer, now])?;
            Ok(WalletId::new(self.conn.last_insert_rowid()))
        };
        Ok(write()?)
    }

    /// A transaction row; returns its id.
    pub fn transaction(&mut self, t: &NewTransaction<'_>) -> Result<TransactionId, StoreError> {
        self.transaction
            .execute(params![
                t.project_id,
                t.reference_id,
                t.authority.get(),
                t.status.as_str(),
                t.error,
                t.description,
                t.operations,
                t.created_at
            ])
            .map_err(DbError::from)?;
        Ok(TransactionId::new(self.conn.last_insert_rowid()))
    }

    /// An entry, without touching the wallet: the caller sets final balances
    /// and totals once, at the end.
    pub fn entry(&mut self, e: &NewEntry<'_>) -> Result<EntryId, StoreError> {
        self.entry
            .execute(params![
                e.wallet.get(),
                e.transaction.get(),
                e.authority.get(),
                e.kind.as_str(),
                e.amount,
                e.balance_after,
                e.reason,
                e.created_at
            ])
            .map_err(DbError::from)?;
        Ok(EntryId::new(self.conn.last_insert_rowid()))
    }

    /// The item an API v1 entry grants (`name`, `data` as JSON text) to the
    /// entry's user, as the ledger writes it: id `v1_<entry>`, and its
    /// GrantItem step in the entry's transaction.
    pub fn item(&mut self, entry: EntryId, name: &str, data: Option<&str>) -> Result<(), StoreError> {
        let mut write = || -> DbResult<()> {
            self.item.execute(params![entry.get(), name, data])?;
            self.grant.execute([self.conn.last_insert_rowid()])?;
            Ok(())
        };
        Ok(write()?)
    }

    /// An Issue entry whose value forms an Open lot of its wallet that
    /// expires at `expires_at`, as the ledger writes an Issue with
    /// `expiresAt`: the entry (as [`BulkTx::entry`]: the caller computes
    /// its `balance_after` and the wallet's final balance, the lot's value
    /// counted in) and the lot, of the entry's amount, transaction and time,
    /// with no history beyond that. Returns the lot's id. The ledger's
    /// invariant (a wallet's Open lots hold at most its balance) is the
    /// caller's: write a wallet's lots after any preloaded spends of it (a
    /// spend takes lot value first), and with `expires_at` past the run.
    pub fn lot(&mut self, issue: &NewEntry<'_>, expires_at: Millis) -> Result<LotId, StoreError> {
        if issue.kind != EntryKind::Issue || issue.amount <= 0 {
            return Err(StoreError::Internal(format!(
                "a lot forms from an Issue of something, not a {} of {}",
                issue.kind, issue.amount
            )));
        }
        self.entry(issue)?;
        self.lot
            .execute(params![
                issue.wallet.get(),
                issue.amount,
                expires_at,
                issue.transaction.get(),
                issue.created_at
            ])
            .map_err(DbError::from)?;
        Ok(LotId::new(self.conn.last_insert_rowid()))
    }

    /// The wallet's final balance, and `authority`'s running total in it
    /// (the loader's entries are all by one authority).
    pub fn set_balance(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
        balance: i64,
    ) -> Result<(), StoreError> {
        let mut write = || -> DbResult<()> {
            self.balance.execute(params![wallet.get(), balance])?;
            self.total
                .execute(params![wallet.get(), authority.get(), balance])?;
            Ok(())
        };
        Ok(write()?)
    }

    /// Marks the asset used, as opening a wallet through the ledger does.
    pub fn mark_asset_used(&mut self, asset: AssetId) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE assets SET used = 1 WHERE id = ?1", [asset.get()])
            .map_err(DbError::from)?;
        Ok(())
    }
}

/// How many wallets hold an asset, and the sum of their balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetTotals {
    pub wallets: i64,
    /// In i128: each balance is bounded, their sum is not.
    pub balance_sum: i128,
}

impl SqliteBackend {
    /// The wallets of `asset` and the sum of their balances, on one read
    /// snapshot: a benchmark checks money conservation by comparing this
    /// before and after a run.
    pub async fn asset_totals(&self, asset: AssetId) -> Result<AssetTotals, StoreError> {
        self.readers()
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT balance FROM wallets WHERE asset_id = ?1")?;
                let mut rows = stmt.query([asset.get()])?;
                let mut totals = AssetTotals {
                    wallets: 0,
                    balance_sum: 0,
                };
                while let Some(row) = rows.next()? {
                    totals.wallets += 1;
                    totals.balance_sum += i128::from(row.get::<_, i64>(0)?);
                }
                Ok(totals)
            })
            .await
    }

    /// The database's size in bytes (pages in use times page size).
    pub async fn database_bytes(&self) -> Result<i64, StoreError> {
        self.readers()
            .run(|conn| {
                Ok(conn.query_row(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
    }
}
