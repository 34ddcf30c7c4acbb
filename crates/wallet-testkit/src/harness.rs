//! One fresh, empty database per test, whatever the backend.
//!
//! A backend's harness is all the suite needs of it: [`Harness::fresh`]
//! hands out a [`TestDb`] (its [`Backend`] and whatever must outlive it: a
//! temp dir, a database to drop), and [`conformance_suite!`] runs every
//! conformance function on its own fresh one. [`SqliteHarness`] makes a
//! file in a temp dir, [`PgHarness`] a database of the test binary's
//! throwaway cluster ([`PgCluster::shared`]).
//!
//! [`conformance_suite!`]: crate::conformance_suite

use crate::pg_cluster::PgCluster;
use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use wallet_core::port::Backend;
use wallet_core::Store;
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

/// Makes databases for tests.
pub trait Harness: Send + Sync {
    /// A new, empty database that no other test sees. Panics if it cannot
    /// make one: a test without its database has nothing to say.
    fn fresh(&self) -> impl Future<Output = TestDb> + Send;
}

/// Opens the same database again, as a restarted server would.
type Reopen = Arc<dyn Fn() -> Arc<dyn Backend> + Send + Sync>;

/// A test's database: the backend, and what must live until the backend is
/// gone (dropped after it).
pub struct TestDb {
    // Field order is drop order: the backend closes before its files go.
    backend: Arc<dyn Backend>,
    reopen: Option<Reopen>,
    _keep: Box<dyn Any + Send>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("backend", &self.backend.kind())
            .finish_non_exhaustive()
    }
}

impl TestDb {
    /// `keep` is dropped after the backend: a temp dir, a guard that drops
    /// the database.
    pub fn new(backend: Arc<dyn Backend>, keep: impl Any + Send) -> Self {
        Self {
            backend,
            reopen: None,
            _keep: Box::new(keep),
        }
    }

    /// The same, able to [`reopen`](TestDb::reopened) its database with
    /// `reopen`.
    pub fn with_reopen(
        backend: Arc<dyn Backend>,
        keep: impl Any + Send,
        reopen: impl Fn() -> Arc<dyn Backend> + Send + Sync + 'static,
    ) -> Self {
        Self {
            backend,
            reopen: Some(Arc::new(reopen)),
            _keep: Box::new(keep),
        }
    }

    /// The database closed and opened again, as a server restart does: the
    /// backend is dropped first (the caller holds no other handle to it),
    /// then a new one opens the same file or database. Without a way to
    /// reopen it (a database made with [`TestDb::new`]), the same backend.
    pub fn reopened(self) -> Self {
        let Some(reopen) = self.reopen else {
            return self;
        };
        drop(self.backend);
        Self {
            backend: reopen(),
            reopen: Some(reopen),
            _keep: self._keep,
        }
    }

    pub fn backend(&self) -> Arc<dyn Backend> {
        Arc::clone(&self.backend)
    }

    pub fn store(&self) -> Store {
        Store::new(self.backend())
    }

    /// The same database behind another backend (a decorator such as
    /// [`FaultyBackend`](crate::FaultyBackend)), keeping what it must outlive.
    pub fn wrapped(self, wrap: impl FnOnce(Arc<dyn Backend>) -> Arc<dyn Backend>) -> Self {
        Self {
            backend: wrap(self.backend),
            reopen: self.reopen,
            _keep: self._keep,
        }
    }
}

/// SQLite in WAL mode on a file in a fresh temp dir (WAL needs a real file).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteHarness;

impl Harness for SqliteHarness {
    async fn fresh(&self) -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir for the database");
        let options = SqliteOptions::new(dir.path().join("wallet.db"));
        let backend = SqliteBackend::open(&options).expect("a fresh SQLite database opens");
        TestDb::with_reopen(Arc::new(backend), dir, move || {
            let backend = SqliteBackend::open(&options).expect("the SQLite database opens again");
            Arc::new(backend) as Arc<dyn Backend>
        })
    }
}

/// PostgreSQL: a fresh database (`t_<n>`) of the test binary's cluster per
/// test, with the backend's default options (4 writers, 8 readers), dropped
/// after the backend closes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgHarness;

impl Harness for PgHarness {
    async fn fresh(&self) -> TestDb {
        let database = PgCluster::shared().fresh_database();
        let options = PgOptions::new(database.url());
        let backend = PostgresBackend::connect(&options)
            .unwrap_or_else(|e| panic!("a fresh PostgreSQL database {} opens: {e}", database.name()));
        TestDb::with_reopen(Arc::new(backend), database, move || {
            let backend = PostgresBackend::connect(&options)
                .unwrap_or_else(|e| panic!("the PostgreSQL database opens again: {e}"));
            Arc::new(backend) as Arc<dyn Backend>
        })
    }
}
