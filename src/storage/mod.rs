//! Storage: the only module that speaks SQL.
//!
//! One SQLite file in WAL mode. Every write goes through one [`writer`] thread
//! that owns the write connection and commits queued jobs in groups; reads use
//! a pool of read-only connections. The ledger core calls the narrow statement
//! sets [`WriteTx`] and [`ReadTx`] and never sees a connection, so another
//! backend (PostgreSQL, later) has to provide exactly these methods.

mod catalog;
mod check;
mod connection;
mod error;
mod keys;
mod ledger_reads;
mod reads;
mod rows;
mod writer;
mod writes;

pub use connection::Durability;
pub use error::StorageError;
pub use reads::{InventoryFilter, ReadTx, WalletTotalsFilter};
pub use rows::*;
pub use writer::WriterStats;
pub use writes::{AuthorityCredential, WriteTx};

use r2d2_sqlite::SqliteConnectionManager;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub path: PathBuf,
    pub durability: Durability,
    /// Read-only connections in the pool.
    pub read_connections: u32,
    /// The most jobs the writer commits in one SQLite transaction.
    pub max_batch: usize,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Full,
            read_connections: 8,
            max_batch: 1024,
        }
    }
}

/// The database: one writer thread and a pool of readers. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    path: PathBuf,
    writer: writer::Writer,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

impl Store {
    /// Opens (creating if needed) the database file, brings its schema up to
    /// date, and starts the writer thread.
    pub fn open(options: &StoreOptions) -> Result<Self, StorageError> {
        if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut write_conn = connection::open_writer(&options.path, options.durability)?;
        connection::migrate(&mut write_conn)?;
        connection::restrict_permissions(&options.path)?;
        let readers = connection::reader_pool(&options.path, options.read_connections)?;
        let writer = writer::Writer::start(write_conn, options.max_batch)?;
        Ok(Self {
            inner: Arc::new(StoreInner {
                path: options.path.clone(),
                writer,
                readers,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` inside the writer's current group transaction, in a
    /// savepoint of its own: if it returns `Err`, everything it wrote is rolled
    /// back and its neighbours in the group are unaffected. Resolves only
    /// after the group has committed (durably, with `Durability::Full`).
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        self.inner.writer.submit(work).await
    }

    /// Runs `work` on a pooled read-only connection, inside one read
    /// transaction so that several queries see one consistent snapshot.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&ReadTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let pool = self.inner.readers.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StorageError::from)?;
            let tx = conn.transaction().map_err(StorageError::from)?;
            let out = work(&ReadTx::new(&tx))?;
            // A read transaction has nothing to commit; ending it frees the snapshot.
            drop(tx);
            Ok(out)
        })
        .await;
        joined.unwrap_or_else(|_| Err(E::from(StorageError::WorkerPanicked)))
    }

    /// Counters of the writer (commits, jobs, largest group).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }
}
