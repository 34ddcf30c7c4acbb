//! The read pool: connections from an r2d2 pool, each read job in one
//! `REPEATABLE READ, READ ONLY` transaction (one snapshot for the whole job,
//! as on SQLite), run in `spawn_blocking` so a slow query never holds an
//! async thread.

use crate::conn::{Manager, PgConn};
use crate::error::{map_pg, DbResult};
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
    pool: r2d2::Pool<Manager>,
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
    /// Opens the pool; its first connection is opened now, so a database
    /// that cannot be reached fails here.
    pub(crate) fn new(manager: Manager, size: u32) -> DbResult<Self> {
        let pool = r2d2::Pool::builder()
            .max_size(size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                waits: AtomicU64::new(0),
                wait_micros: AtomicU64::new(0),
            }),
        })
    }

    /// Runs `work` on a pooled connection inside one read transaction. The
    /// returned future starts the work when first polled (it needs a tokio
    /// runtime then, not when it is made).
    pub(crate) fn run<T, F>(&self, work: F) -> impl Future<Output = Result<T, StoreError>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConn) -> T + Send + 'static,
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
    fn run<T>(&self, work: impl FnOnce(&mut PgConn) -> T) -> DbResult<T> {
        let asked = Instant::now();
        let mut conn = self.pool.get()?;
        let waited = asked.elapsed();
        if waited > POOL_WAIT {
            self.waits.fetch_add(1, Ordering::Relaxed);
            let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
            self.wait_micros.fetch_add(micros, Ordering::Relaxed);
        }
        conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| crate::error::DbError(map_pg(&e)))?;
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut conn)));
        // A read-only transaction has nothing to commit; ending it frees
        // the snapshot (and clears a failed statement's state). Even after
        // a panic: the connection goes back to the pool.
        let ended = conn.batch("ROLLBACK");
        let out = out.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        ended.map_err(|e| crate::error::DbError(map_pg(&e)))?;
        Ok(out)
    }
}
