//! [`SqliteBackend`]: the port's [`Backend`] on one SQLite file.

use crate::connection::{self, Durability};
use crate::error::DbError;
use crate::migrations;
use crate::pool::ReadPool;
use crate::tx::SqlTx;
use crate::writer::{Checkpointer, Writer};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use wallet_core::port::{Backend, BackendStats, BoxFuture, ReadJob, WriteJob};
use wallet_core::StoreError;

/// How to open the database.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    pub durability: Durability,
    /// Read-only connections in the pool.
    pub read_connections: u32,
    /// The most jobs the writer commits in one SQLite transaction.
    pub max_batch: usize,
    /// Whether a missing file becomes a new database (the server's first
    /// start). Without it, opening refuses a missing file or one that is not
    /// a wallet-service database ([`OpenError::Missing`]), and changes
    /// nothing: a mistyped path never quietly starts a new, empty ledger.
    pub create: bool,
}

impl SqliteOptions {
    /// Durable commits, 8 readers, groups of up to 1,024 jobs, and a new
    /// database if there is none.
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

/// Why [`SqliteBackend::open`] did not open the database.
///
/// A missing database is its own variant so that a command can tell it
/// apart and print it as it is (its text is the whole message, as `main`
/// prints it); everything else is the store's error. `?` turns either into
/// a [`StoreError`] where only that is wanted: `Missing` becomes
/// `Unavailable`, as SQLite's own "cannot open" is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Only with `create = false`: no file at the path, or a file that is
    /// not a wallet-service database. Nothing was created or changed.
    #[error("{0}")]
    Missing(String),
    /// The file could not be opened, migrated or served.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbError> for OpenError {
    fn from(e: DbError) -> Self {
        OpenError::Store(e.into())
    }
}

impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Missing(message) => StoreError::Unavailable(message),
            OpenError::Store(e) => e,
        }
    }
}

/// One SQLite file in WAL mode: one writer thread and a pool of readers.
/// Wrap it in a [`wallet_core::Store`] (`Store::new(Arc::new(backend))`).
pub struct SqliteBackend {
    path: PathBuf,
    writer: Writer,
    readers: ReadPool,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteBackend {
    /// Opens (creating it and its folders if `options.create`) the database
    /// file, brings its schema up to date, and starts the writer thread. A
    /// file at a schema step newer than this binary knows is refused
    /// (`StoreError::Schema`).
    pub fn open(options: &SqliteOptions) -> Result<Self, OpenError> {
        if options.create {
            if let Some(dir) = options.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(DbError::from)?;
            }
        } else {
            connection::require_existing(&options.path)?;
        }
        let mut write_conn = connection::open_writer(&options.path, options.durability)?;
        migrations::migrate(&mut write_conn)?;
        connection::restrict_permissions(&options.path)?;
        let readers = ReadPool::new(connection::reader_pool(&options.path, options.read_connections)?);
        let checkpointer = Checkpointer::start(&options.path, options.durability.synchronous())?;
        let writer = Writer::start(write_conn, options.max_batch, checkpointer)?;
        Ok(Self {
            path: options.path.clone(),
            writer,
            readers,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn readers(&self) -> &ReadPool {
        &self.readers
    }

    #[cfg(test)]
    pub(crate) fn writer(&self) -> &Writer {
        &self.writer
    }
}

impl Backend for SqliteBackend {
    fn write(&self, job: WriteJob) -> BoxFuture<Result<(), StoreError>> {
        self.writer.submit(job)
    }

    fn read(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        Box::pin(self.readers.run(move |conn| {
            job(&mut SqlTx::reading(conn));
            Ok(())
        }))
    }

    /// On this thread when that needs no wait (see `ReadPool::try_now`),
    /// else through the pool as `read`.
    fn read_point(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        match self.readers.try_now(move |conn| job(&mut SqlTx::reading(conn))) {
            Ok(()) => Box::pin(std::future::ready(Ok(()))),
            Err(work) => Box::pin(self.readers.run(move |conn| {
                work(conn);
                Ok(())
            })),
        }
    }

    fn stats(&self) -> BackendStats {
        let writer = self.writer.counters();
        let pool = self.readers.stats();
        BackendStats {
            commits: writer.commits.load(Ordering::Relaxed),
            jobs: writer.jobs.load(Ordering::Relaxed),
            largest_group: writer.largest_group.load(Ordering::Relaxed),
            retries: writer.retries.load(Ordering::Relaxed),
            read_connections: pool.connections,
            idle_read_connections: pool.idle,
            read_waits: pool.waits,
            read_wait_micros: pool.wait_micros,
        }
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }
}
