//! The read pool: read-only connections (r2d2), each read in one read
//! transaction (one snapshot), run in `spawn_blocking` so a slow query never
//! holds an async thread. WAL lets reads run while the writer commits.
//!
//! A point read (a credential, one wallet: a few indexed lookups) may run
//! at once on the calling thread instead ([`ReadPool::try_now`]), which
//! saves the two thread wakeups of the hop — but only where nothing can
//! make it wait: an idle connection taken without waiting, and a snapshot
//! had without the busy timeout (a lock held by another process, WAL
//! recovery). Whatever would wait hops as every other read does.

use crate::connection::BUSY_TIMEOUT;
use crate::error::DbResult;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wallet_core::StoreError;

/// A wait for a pooled connection longer than this counts as waiting.
const POOL_WAIT: Duration = Duration::from_millis(1);

#[derive(Clone)]
pub(crate) struct ReadPool {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<SqliteConnectionManager>,
    waits: AtomicU64,
    wait_micros: AtomicU64,
}

/// The pool's state, for [`wallet_core::port::BackendStats`].
pub(crate) struct PoolStats {
    pub(crate) connections: u32,
    pub(crate) idle: u32,
    pub(crate) waits: u64,
    pub(crate) wait_micros: u64,
}

impl ReadPool {
    pub(crate) fn new(pool: r2d2::Pool<SqliteConnectionManager>) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                waits: AtomicU64::new(0),
                wait_micros: AtomicU64::new(0),
            }),
        }
    }

    /// Runs `work` on a pooled connection inside one read transaction. The
    /// returned future starts the work when first polled (it needs a tokio
    /// runtime then, not when it is made).
    pub(crate) fn run<T, F>(&self, work: F) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        async move {
            match tokio::task::spawn_blocking(move || inner.run(work)).await {
                Ok(outcome) => outcome.map_err(StoreError::from),
                Err(e) if e.is_panic() => Err(StoreError::Internal("a read job panicked".to_owned())),
                Err(_) => Err(StoreError::Unavailable(
                    "the read was cancelled: shutting down".to_owned(),
                )),
            }
        }
    }

    /// Runs `work` at once on this thread in one read transaction, if that
    /// needs no wait: an idle connection, and a snapshot had with no busy
    /// timeout. Gives `work` back, untouched, where it would have to wait
    /// (every connection in use, a lock held elsewhere) or the transaction
    /// could not begin: the caller then runs it through [`ReadPool::run`].
    ///
    /// The whole read runs with no busy timeout: a statement that met a
    /// lock after all (WAL reads take none once the snapshot is had) fails
    /// at once rather than hold the thread.
    pub(crate) fn try_now<T, F>(&self, work: F) -> Result<T, F>
    where
        F: FnOnce(&Connection) -> T,
    {
        let Some(conn) = self.inner.pool.try_get() else {
            return Err(work);
        };
        if conn.busy_timeout(Duration::ZERO).is_err() {
            return Err(work);
        }
        let begun = begin(&conn).and_then(|()| take_snapshot(&conn));
        let out = match begun {
            Ok(()) => Ok(work(&conn)),
            Err(_) => Err(work),
        };
        end(&conn);
        // Should it fail, the next `begin` finds the connection as it is
        // and its read reports the error: nothing reads with a timeout of 0
        // but this.
        let _ = conn.busy_timeout(BUSY_TIMEOUT);
        out
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let state = self.inner.pool.state();
        PoolStats {
            connections: state.connections,
            idle: state.idle_connections,
            waits: self.inner.waits.load(Ordering::Relaxed),
            wait_micros: self.inner.wait_micros.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    fn run<T>(&self, work: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let asked = Instant::now();
        let conn = self.pool.get()?;
        let waited = asked.elapsed();
        if waited > POOL_WAIT {
            self.waits.fetch_add(1, Ordering::Relaxed);
            let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
            self.wait_micros.fetch_add(micros, Ordering::Relaxed);
        }
        begin(&conn)?;
        let out = work(&conn);
        end(&conn);
        out
    }
}

/// Opens a read transaction with cached statements (`BEGIN` is not parsed
/// per read), first ending one a failed `end` may have left open.
fn begin(conn: &Connection) -> DbResult<()> {
    if !conn.is_autocommit() {
        conn.prepare_cached("ROLLBACK")?.execute([])?;
    }
    conn.prepare_cached("BEGIN")?.execute([])?;
    Ok(())
}

/// Takes the transaction's snapshot now (`BEGIN` defers it to the first
/// read): reading the schema cookie takes the WAL read lock, or fails with
/// `BUSY` if it cannot be had.
fn take_snapshot(conn: &Connection) -> DbResult<()> {
    conn.prepare_cached("PRAGMA schema_version")?
        .query_row([], |_| Ok(()))?;
    Ok(())
}

/// Ends a read transaction: it has nothing to commit; ending it frees the
/// snapshot. A failure leaves the transaction open for the next `begin`
/// to end.
fn end(conn: &Connection) {
    if conn.is_autocommit() {
        return;
    }
    if let Err(e) = conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([])) {
        log::warn!("ending a read transaction failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read_x(conn: &Connection) -> i64 {
        conn.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap()
    }

    /// A lock held elsewhere: the point read does not wait for it on the
    /// calling thread (no busy timeout there) but gives the work back, and
    /// the hop, which may wait, reads once the lock is gone. (A WAL file
    /// cannot be locked against readers this way while it is in use; a
    /// rollback-journal file can, and the point read meets it as it would
    /// meet a WAL recovery or a connection in exclusive locking mode.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_point_read_that_would_wait_for_a_lock_hops_instead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let locker = Connection::open(&path).unwrap();
        locker
            .execute_batch(
                "PRAGMA journal_mode = DELETE; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);",
            )
            .unwrap();
        let pool = ReadPool::new(crate::connection::reader_pool(&path, 2).unwrap());
        assert_eq!(pool.try_now(read_x).ok(), Some(7), "no lock: read here");

        locker
            .execute_batch("BEGIN EXCLUSIVE; UPDATE t SET x = 8;")
            .unwrap();
        let work = pool
            .try_now(read_x)
            .expect_err("locked: given back, not waited for");
        let hopped = tokio::spawn(pool.run(move |conn| Ok(work(conn))));
        locker.execute_batch("COMMIT").unwrap();
        assert_eq!(hopped.await.unwrap().unwrap(), 8);
        assert_eq!(
            pool.try_now(read_x).ok(),
            Some(8),
            "and the next reads here again"
        );
    }

    #[test]
    fn a_point_read_with_every_connection_in_use_is_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let pool = ReadPool::new(crate::connection::reader_pool(&path, 1).unwrap());
        let held = pool.inner.pool.get().unwrap();
        assert!(pool.try_now(read_x).is_err());
        drop(held);
        assert_eq!(pool.try_now(read_x).ok(), Some(1));
    }
}
