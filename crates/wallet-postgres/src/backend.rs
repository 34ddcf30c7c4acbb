//! [`PostgresBackend`]: the port's [`Backend`] on one PostgreSQL database.

use crate::conn::{off_async, Role, Target};
use crate::error::DbError;
use crate::migrations;
use crate::pool::ReadPool;
use crate::tx::PgTx;
use crate::watch::Watcher;
use crate::writer::Writer;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use wallet_core::port::{Backend, BackendStats, BoxFuture, ReadJob, WriteJob};
use wallet_core::StoreError;

/// How to reach the database, and how much of it to use.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database` (or `postgresql://`,
    /// with libpq parameters such as `sslmode` as a query string). Never
    /// logged: it may hold a password.
    pub url: String,
    /// Writer threads, each with one connection and its own group commit.
    /// Several let one group wait on a lock or a commit while another runs.
    pub writers: usize,
    /// Connections in the read pool.
    pub read_connections: u32,
    /// The most jobs one writer commits in one transaction.
    pub max_batch: usize,
    /// Whether a database without the wallet-service schema gets it (the
    /// server's first start). Without it, such a database is refused
    /// ([`OpenError::Missing`]) and left as it is: a mistyped database name
    /// never quietly becomes a new, empty ledger.
    pub create: bool,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = Target::parse(&self.url).map_or_else(|_| "<invalid url>".to_owned(), |t| t.describe());
        f.debug_struct("PgOptions")
            .field("database", &target)
            .field("writers", &self.writers)
            .field("read_connections", &self.read_connections)
            .field("max_batch", &self.max_batch)
            .field("create", &self.create)
            .finish()
    }
}

impl PgOptions {
    /// 4 writers, 8 readers, groups of up to 1,024 jobs, and the schema
    /// created if there is none.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            writers: 4,
            read_connections: 8,
            max_batch: 1024,
            create: true,
        }
    }
}

/// Why [`PostgresBackend::connect`] did not open the database.
///
/// A missing schema is its own variant so that a command can tell it apart
/// and print it as it is; everything else is the store's error. `?` turns
/// either into a [`StoreError`] where only that is wanted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Only with `create = false`: the database has no wallet-service
    /// schema. Nothing was created or changed.
    #[error("{0}")]
    Missing(String),
    /// The database could not be reached, migrated or served.
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

/// One PostgreSQL database: writer threads with a connection each, and a
/// pool of read connections. Wrap it in a [`wallet_core::Store`]
/// (`Store::new(Arc::new(backend))`). Several processes may serve one
/// database at once.
pub struct PostgresBackend {
    target: Target,
    writer: Option<Writer>,
    readers: Option<ReadPool>,
    /// The LISTEN thread, once `watch_events` started it.
    watcher: Mutex<Option<Watcher>>,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("database", &self.target.describe())
            .finish_non_exhaustive()
    }
}

impl PostgresBackend {
    /// Connects, brings the schema up to date (creating it if
    /// `options.create`), opens the read pool and starts the writers. A
    /// database at a schema step newer than this binary knows is refused
    /// (`StoreError::Schema`). May be called from async code: the
    /// connections are opened on a thread of their own.
    pub fn connect(options: &PgOptions) -> Result<Self, OpenError> {
        let target = Target::parse(&options.url)?;
        off_async(|| {
            let mut conn = target.connect(Role::Maintenance)?;
            migrations::migrate(&mut conn, options.create, &target)?;
            drop(conn);
            let readers = ReadPool::new(target.manager(), options.read_connections)?;
            let writer = Writer::start(&target, options.writers, options.max_batch)?;
            Ok(Self {
                target: target.clone(),
                writer: Some(writer),
                readers: Some(readers),
                watcher: Mutex::new(None),
            })
        })
    }

    /// `user@host:port/database`: the database, without its password.
    pub fn describe(&self) -> String {
        self.target.describe()
    }

    pub(crate) fn readers(&self) -> Result<&ReadPool, StoreError> {
        self.readers.as_ref().ok_or_else(closed)
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the backend is shutting down".to_owned())
}

impl Drop for PostgresBackend {
    /// Drains the writers (every queued job is answered), then closes the
    /// connections, off the async thread if dropped on one (the sync client
    /// cannot close there). A write job holding the last handle drops it on
    /// its writer thread, which is no async thread: inline, so the writer
    /// does not wait for itself.
    fn drop(&mut self) {
        let watcher = self
            .watcher
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let (writer, readers) = (self.writer.take(), self.readers.take());
        let close = move || {
            drop(watcher);
            drop(writer);
            drop(readers);
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            off_async(close);
        } else {
            close();
        }
    }
}

impl Backend for PostgresBackend {
    fn write(&self, job: WriteJob) -> BoxFuture<Result<(), StoreError>> {
        match &self.writer {
            Some(writer) => writer.submit(job),
            None => Box::pin(async { Err(closed()) }),
        }
    }

    fn read(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        match self.readers() {
            Ok(readers) => Box::pin(readers.run(move |conn| job(&mut PgTx::reading(conn)))),
            Err(e) => Box::pin(async { Err(e) }),
        }
    }

    fn stats(&self) -> BackendStats {
        let mut stats = BackendStats::default();
        if let Some(writer) = &self.writer {
            let counters = writer.counters();
            stats.commits = counters.commits.load(Ordering::Relaxed);
            stats.jobs = counters.jobs.load(Ordering::Relaxed);
            stats.largest_group = counters.largest_group.load(Ordering::Relaxed);
            stats.retries = counters.retries.load(Ordering::Relaxed);
        }
        if let Some(readers) = &self.readers {
            let pool = readers.stats();
            stats.read_connections = pool.connections;
            stats.idle_read_connections = pool.idle;
            stats.read_waits = pool.waits;
            stats.read_wait_micros = pool.wait_micros;
        }
        stats
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }

    /// Starts a thread that LISTENs for other processes' commits with
    /// events and rings `bell` (see `watch`); a second call replaces the
    /// first one's thread. It stops when the backend is dropped.
    fn watch_events(&self, bell: wallet_core::Bell) -> Result<(), StoreError> {
        let watcher = Watcher::start(&self.target, bell)?;
        let old = self
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(watcher);
        drop(old);
        Ok(())
    }
}
