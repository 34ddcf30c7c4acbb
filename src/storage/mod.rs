//! Storage: the only module that speaks SQL.
//!
//! One SQLite file in WAL mode. Every write goes through one [`writer`] thread
//! that owns the write connection and commits queued jobs in groups; reads use
//! a pool of read-only connections. The ledger core calls the narrow statement
//! sets [`WriteTx`] and [`ReadTx`] and never sees a connection, so another
//! backend (PostgreSQL, later) has to provide exactly these methods.

mod bulk;
mod catalog;
mod check;
mod connection;
mod error;
mod keys;
mod ledger_reads;
mod maintenance;
mod reads;
mod rows;
mod settings;
mod writer;
mod writes;

pub use bulk::{AssetTotals, BulkLoader, BulkTx};
pub use connection::Durability;
pub use error::StorageError;
pub use maintenance::{
    backup_into, export_project, restrict_permissions, verify, AssetDump, AuthorityDump, CustomerDump,
    CustomerKeyDump, DumpCounts, DumpRecord, EntryDump, ExclusiveDb, Fault, Import, ItemDump,
    MaintenanceError, ProjectDump, TransactionDump, WalletDump,
};
pub use reads::{InventoryFilter, ReadTx, WalletTotalsFilter};
pub use rows::*;
pub use writer::WriterStats;
pub use writes::{AuthorityCredential, WriteTx};

use r2d2_sqlite::SqliteConnectionManager;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Whether a missing file becomes a new database (the server's first
    /// start). Without it, opening refuses a missing file or one that is not
    /// a wallet-service database, and changes nothing.
    pub create: bool,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Full,
            read_connections: 8,
            max_batch: 1024,
            create: true,
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
    pool_waits: AtomicU64,
    pool_wait_micros: AtomicU64,
}

/// The read pool's state, for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadPoolStats {
    pub connections: u32,
    pub idle: u32,
    /// Reads that waited more than a millisecond for a connection.
    pub waits: u64,
    pub wait_micros: u64,
}

/// A wait for a pooled connection longer than this counts as waiting.
const POOL_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

impl Store {
    /// Opens (creating it if `options.create`) the database file, brings its
    /// schema up to date, and starts the writer thread.
    pub fn open(options: &StoreOptions) -> Result<Self, StorageError> {
        if options.create {
            if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        } else {
            connection::require_existing(&options.path)?;
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
                pool_waits: AtomicU64::new(0),
                pool_wait_micros: AtomicU64::new(0),
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
        let inner = Arc::clone(&self.inner);
        let joined = tokio::task::spawn_blocking(move || {
            let asked = std::time::Instant::now();
            let mut conn = inner.readers.get().map_err(StorageError::from)?;
            let waited = asked.elapsed();
            if waited > POOL_WAIT {
                inner.pool_waits.fetch_add(1, Ordering::Relaxed);
                inner
                    .pool_wait_micros
                    .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
            }
            let tx = conn.transaction().map_err(StorageError::from)?;
            let out = work(&ReadTx::new(&tx))?;
            // A read transaction has nothing to commit; ending it frees the snapshot.
            drop(tx);
            Ok(out)
        })
        .await;
        joined.unwrap_or_else(|_| Err(E::from(StorageError::WorkerPanicked)))
    }

    pub fn read_pool_stats(&self) -> ReadPoolStats {
        let state = self.inner.readers.state();
        ReadPoolStats {
            connections: state.connections,
            idle: state.idle_connections,
            waits: self.inner.pool_waits.load(Ordering::Relaxed),
            wait_micros: self.inner.pool_wait_micros.load(Ordering::Relaxed),
        }
    }

    /// Counters of the writer (commits, jobs, largest group).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }
}
