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

/// A test's database: the backend, and what must live until the backend is
/// gone (dropped after it).
pub struct TestDb {
    // Field order is drop order: the backend closes before its files go.
    backend: Arc<dyn Backend>,
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
            _keep: Box::new(keep),
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
        TestDb::new(Arc::new(backend), dir)
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
        let backend = PostgresBackend::connect(&PgOptions::new(database.url()))
            .unwrap_or_else(|e| panic!("a fresh PostgreSQL database {} opens: {e}", database.name()));
        TestDb::new(Arc::new(backend), database)
    }
}
