//! [`FaultyBackend`]: any backend, with write primitives that fail on command.
//!
//! Storage fails in the middle of things: a disk fills after a job wrote
//! half its rows, a connection drops before the commit. The ledger's promise
//! is that a job then applies nothing and its caller is told. This decorator
//! makes that happen on any backend, without a hook in production code: it
//! wraps each write job so that the job's [`WriteTx`] forwards every call to
//! the real one, except that, when told through the shared [`Faults`]
//! handle, write primitives answer [`StoreError::Unavailable`] instead of
//! running. Reads (and the read statements inside writes) always forward.
//!
//! A job that swallows an injected error and still says [`Verdict::Keep`] is
//! discarded and answered with that error, as the port requires of every
//! backend; with [`Faults::fail_commits`] a job runs in full and is then
//! refused at its commit. Either way the inner backend rolls the job back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tx::FaultyTx;
use wallet_core::port::{Backend, BackendStats, BoxFuture, ReadJob, Verdict, WriteJob, WriteTx};
use wallet_core::StoreError;

#[cfg(test)]
mod tests;
mod tx;

/// What the faults do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Off,
    /// Write primitives pass until `pass` more have run, then fail.
    FailAfter {
        pass: u64,
    },
    /// Jobs run in full; each commit is refused.
    FailCommits,
}

#[derive(Debug)]
struct Shared {
    mode: Mutex<Mode>,
    primitives: AtomicU64,
    injected: AtomicU64,
}

/// The handle that turns a [`FaultyBackend`]'s faults on and off. Clones
/// share the same faults.
#[derive(Debug, Clone)]
pub struct Faults(Arc<Shared>);

impl Faults {
    fn new() -> Self {
        Self(Arc::new(Shared {
            mode: Mutex::new(Mode::Off),
            primitives: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        }))
    }

    fn set(&self, mode: Mode) {
        *self.0.mode.lock().unwrap_or_else(PoisonError::into_inner) = mode;
    }

    /// Every write primitive fails from now on.
    pub fn fail_every_write(&self) {
        self.set(Mode::FailAfter { pass: 0 });
    }

    /// The `n`-th write primitive from now (1-based, counted across all jobs)
    /// and every one after it fail: `n - 1` still pass. So a job that makes
    /// several writes can be stopped after its first `n - 1`.
    pub fn fail_from_write(&self, n: u64) {
        self.set(Mode::FailAfter {
            pass: n.saturating_sub(1),
        });
    }

    /// Every job runs in full and is then refused at its commit: it applies
    /// nothing, and its caller gets `Unavailable`.
    pub fn fail_commits(&self) {
        self.set(Mode::FailCommits);
    }

    /// Stops failing.
    pub fn lift(&self) {
        self.set(Mode::Off);
    }

    /// Write primitives called so far (failed ones included).
    pub fn write_primitives(&self) -> u64 {
        self.0.primitives.load(Ordering::SeqCst)
    }

    /// Faults injected so far (failed primitives and refused commits).
    pub fn injected(&self) -> u64 {
        self.0.injected.load(Ordering::SeqCst)
    }

    /// Counts a write primitive; `Err` if it is to fail.
    fn admit(&self, primitive: &str) -> Result<(), StoreError> {
        self.0.primitives.fetch_add(1, Ordering::SeqCst);
        let mut mode = self.0.mode.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *mode {
            Mode::Off | Mode::FailCommits => Ok(()),
            Mode::FailAfter { pass } if *pass > 0 => {
                *pass -= 1;
                Ok(())
            }
            Mode::FailAfter { .. } => {
                self.0.injected.fetch_add(1, Ordering::SeqCst);
                Err(StoreError::Unavailable(format!("injected fault: {primitive}")))
            }
        }
    }

    /// `Err` if the commit of a job that kept its writes is to be refused.
    fn admit_commit(&self) -> Result<(), StoreError> {
        let mode = *self.0.mode.lock().unwrap_or_else(PoisonError::into_inner);
        if mode == Mode::FailCommits {
            self.0.injected.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Unavailable("injected fault: the commit".to_owned()));
        }
        Ok(())
    }
}

/// Any backend, whose writes fail when its [`Faults`] say so.
pub struct FaultyBackend {
    inner: Arc<dyn Backend>,
    faults: Faults,
}

impl std::fmt::Debug for FaultyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyBackend")
            .field("inner", &self.inner.kind())
            .field("faults", &self.faults)
            .finish()
    }
}

impl FaultyBackend {
    /// Wraps `inner`, with no fault on.
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Self {
            inner,
            faults: Faults::new(),
        }
    }

    /// The handle that turns faults on and off (clones share it).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }
}

impl Backend for FaultyBackend {
    fn write(&self, mut job: WriteJob) -> BoxFuture<Result<(), StoreError>> {
        let faults = self.faults.clone();
        // Why the last run of the job was discarded against its verdict.
        let overruled: Arc<Mutex<Option<StoreError>>> = Arc::default();
        let run_overruled = Arc::clone(&overruled);
        let wrapped: WriteJob = Box::new(move |tx: &mut dyn WriteTx| {
            let mut faulty = FaultyTx {
                inner: tx,
                faults: &faults,
                first_injected: None,
            };
            let verdict = job(&mut faulty);
            let why = match (verdict, faulty.first_injected) {
                (Verdict::Keep, Some(swallowed)) => Some(swallowed),
                (Verdict::Keep, None) => faults.admit_commit().err(),
                _ => None,
            };
            let verdict = if why.is_some() { Verdict::Discard } else { verdict };
            *run_overruled.lock().unwrap_or_else(PoisonError::into_inner) = why;
            verdict
        });
        let written = self.inner.write(wrapped);
        Box::pin(async move {
            written.await?;
            match overruled.lock().unwrap_or_else(PoisonError::into_inner).take() {
                Some(why) => Err(why),
                None => Ok(()),
            }
        })
    }

    fn read(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        self.inner.read(job)
    }

    fn read_point(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        self.inner.read_point(job)
    }

    fn stats(&self) -> BackendStats {
        self.inner.stats()
    }

    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn watch_events(&self, bell: wallet_core::Bell) -> Result<(), StoreError> {
        self.inner.watch_events(bell)
    }
}
