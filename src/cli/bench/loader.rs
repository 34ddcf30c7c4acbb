//! The bench's preload on either backend: `wallet_bench::BulkLoad` over
//! SQLite's `BulkLoader` (rows inserted with `synchronous=OFF`) or
//! PostgreSQL's (`COPY`). Both take the same rows; the adapters only
//! forward them.

use crate::cli::progress::Reporter;
use crate::config::Database;
use std::sync::Arc;
use wallet_bench::{BulkLoad, BulkRows};
use wallet_core::ids::{AssetId, AuthorityRowId, EntryId, LotId, TransactionId, WalletId};
use wallet_core::model::Millis;
use wallet_core::port::{NewEntry, NewTransaction};
use wallet_core::progress::Progress;
use wallet_core::StoreError;

pub(super) struct Loader {
    backend: Backend,
    /// The preload's progress, on stderr when it is a terminal.
    progress: Arc<Reporter>,
}

enum Backend {
    Sqlite(wallet_sqlite::BulkLoader),
    /// Boxed: a client with its buffers; one per run.
    Postgres(Box<wallet_postgres::BulkLoader>),
}

impl Loader {
    /// Opens the loader on `db`, which the bench prepared (schema applied,
    /// no server on it). Not on an async thread: PostgreSQL's client blocks.
    pub(super) fn open(db: &Database) -> anyhow::Result<Self> {
        let backend = match db {
            Database::Sqlite(path) => Backend::Sqlite(wallet_sqlite::BulkLoader::open(path)?),
            Database::Postgres(url) => {
                Backend::Postgres(Box::new(wallet_postgres::BulkLoader::open(url.expose())?))
            }
        };
        Ok(Self {
            backend,
            progress: Reporter::on_stderr("preload"),
        })
    }
}

impl BulkLoad for Loader {
    fn chunk<T>(
        &mut self,
        work: impl FnOnce(&mut dyn BulkRows) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(loader) => loader.chunk(|tx| work(&mut SqliteRows(tx))),
            Backend::Postgres(loader) => loader.chunk(|tx| work(&mut PgRows(tx))),
        }
    }

    fn finish(self) -> Result<(), StoreError> {
        self.progress.finish();
        match self.backend {
            Backend::Sqlite(loader) => loader.finish(),
            Backend::Postgres(loader) => (*loader).finish(),
        }
    }

    fn progress(&self) -> &dyn Progress {
        &*self.progress
    }
}

struct SqliteRows<'a, 'c>(&'a mut wallet_sqlite::BulkTx<'c>);
struct PgRows<'a>(&'a mut wallet_postgres::BulkTx);

/// The two loaders' chunks have the same methods: forward each.
macro_rules! forward_rows {
    ($($rows:ty),*) => {$(
        impl BulkRows for $rows {
            fn customer_wallet(
                &mut self,
                project: &str,
                asset: AssetId,
                external_id: &str,
                now: Millis,
            ) -> Result<WalletId, StoreError> {
                self.0.customer_wallet(project, asset, external_id, now)
            }

            fn transaction(&mut self, transaction: &NewTransaction<'_>) -> Result<TransactionId, StoreError> {
                self.0.transaction(transaction)
            }

            fn entry(&mut self, entry: &NewEntry<'_>) -> Result<EntryId, StoreError> {
                self.0.entry(entry)
            }

            fn item(&mut self, entry: EntryId, name: &str, data: Option<&str>) -> Result<(), StoreError> {
                self.0.item(entry, name, data)
            }

            fn set_balance(
                &mut self,
                wallet: WalletId,
                authority: AuthorityRowId,
                balance: i64,
            ) -> Result<(), StoreError> {
                self.0.set_balance(wallet, authority, balance)
            }

            fn mark_asset_used(&mut self, asset: AssetId) -> Result<(), StoreError> {
                self.0.mark_asset_used(asset)
            }

            fn lot(&mut self, issue: &NewEntry<'_>, expires_at: Millis) -> Result<LotId, StoreError> {
                self.0.lot(issue, expires_at)
            }
        }
    )*};
}

forward_rows!(SqliteRows<'_, '_>, PgRows<'_>);
