//! A fresh database of the cluster with the backend over it, raw SQL for
//! what the port does not show, and the rows most tests need.
#![allow(dead_code)] // Each module uses a part.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use wallet_core::ids::{AuthorityRowId, WalletId};
use wallet_core::policy::Caller;
use wallet_core::port::Backend;
use wallet_core::{Store, StoreError};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::{Fixture, PgCluster, PgDatabase, TestDb};

/// A test's database and the backend on it. Field order is drop order: the
/// backend closes before its database is dropped.
pub struct Db {
    pub store: Store,
    pub fx: Fixture,
    pub backend: Arc<PostgresBackend>,
    pub database: PgDatabase,
}

/// A fresh database with the backend on it, `options` adjusted by `tune`.
pub fn open_with(tune: impl FnOnce(&mut PgOptions)) -> Db {
    let database = PgCluster::shared().fresh_database();
    let mut options = PgOptions::new(database.url());
    tune(&mut options);
    let backend = Arc::new(PostgresBackend::connect(&options).expect("the backend connects"));
    let dyn_backend: Arc<dyn Backend> = backend.clone();
    Db {
        store: Store::new(dyn_backend.clone()),
        fx: Fixture::new(TestDb::new(dyn_backend, ())),
        backend,
        database,
    }
}

pub fn open() -> Db {
    open_with(|_| {})
}

/// Runs `sql` (simple protocol, several statements allowed) on `url` from a
/// thread of its own (the sync client cannot run on the test's runtime)
/// and returns the first column of every row, as text.
pub fn sql(url: &str, sql: &str) -> Result<Vec<Option<String>>, postgres::Error> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        let mut column = Vec::new();
        for message in client.simple_query(&sql)? {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                column.push(row.get(0).map(str::to_owned));
            }
        }
        Ok(column)
    })
    .join()
    .expect("the SQL thread")
}

/// The one value `query` returns, as text.
pub fn value(url: &str, query: &str) -> String {
    let rows = sql(url, query).unwrap_or_else(|e| panic!("{query}: {e}"));
    rows.first()
        .cloned()
        .flatten()
        .unwrap_or_else(|| panic!("{query}: no value"))
}

impl Db {
    pub fn url(&self) -> &str {
        self.database.url()
    }

    /// A setting as the database holds it now.
    pub async fn setting(&self, key: &'static str) -> Option<String> {
        self.store.read(move |r| r.setting(key)).await.expect("reads")
    }

    pub fn commits(&self) -> u64 {
        self.store.stats().commits
    }
}

/// The authority row behind a caller the fixture made.
pub fn authority_row(caller: &Caller) -> AuthorityRowId {
    match caller {
        Caller::Authority(a) => a.authority,
        _ => panic!("not an authority"),
    }
}

/// An authority of `default` and a funded system wallet.
pub async fn funded(db: &Db, amount: i64) -> (Caller, WalletId) {
    let caller = db.fx.authority("default").await;
    let wallet = db.fx.funded(&caller, None, amount).await;
    (caller, wallet)
}

/// A write job that holds the (only) writer until released: jobs submitted
/// meanwhile queue up and are taken as one group.
pub struct Blocker {
    release: std::sync::mpsc::Sender<()>,
    done: tokio::task::JoinHandle<Result<(), StoreError>>,
}

impl Blocker {
    pub async fn start(store: &Store) -> Self {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let store = store.clone();
        let done = tokio::spawn(async move {
            store
                .write(move |_tx| {
                    let _ = wait.lock().unwrap().recv_timeout(Duration::from_secs(20));
                    Ok::<_, StoreError>(())
                })
                .await
        });
        // The writer takes it now, alone.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Self { release, done }
    }

    /// Lets the writer go on, after the jobs submitted meanwhile have had
    /// time to queue.
    pub async fn release(self) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.release.send(()).unwrap();
        self.done.await.unwrap().expect("the blocker commits");
    }
}

/// Submits `work` as a write job now, on a task of its own.
pub fn spawn_write<T, E, F>(store: &Store, work: F) -> tokio::task::JoinHandle<Result<T, E>>
where
    F: FnMut(&mut dyn wallet_core::port::WriteTx) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: wallet_core::JobError,
{
    let store = store.clone();
    tokio::spawn(async move { store.write(work).await })
}
