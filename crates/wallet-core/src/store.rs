//! [`Store`]: a backend behind typed `read` and `write` calls.
//!
//! The port is object-safe (jobs are boxed closures that answer a
//! [`Verdict`]); this wrapper gives the ledger closures that return their
//! own `Result<T, E>`, keeps the last run's result of a job the backend may
//! have run more than once, and turns the backend's verdict into it.

use crate::port::{Backend, BackendStats, ReadJob, ReadTx, Verdict, WriteTx};
use crate::{LedgerError, StoreError};
use std::sync::{Arc, Mutex, PoisonError};

/// A database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    bell: Bell,
}

/// Rung when events commit: feed waits and streams subscribe before they
/// read, then wait for the next ring, so an event committed between the
/// read and the wait is not missed. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Bell {
    rings: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Bell {
    fn default() -> Self {
        Self {
            rings: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl Bell {
    /// Wakes every subscriber.
    pub fn ring(&self) {
        self.rings.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver whose `changed()` resolves at the next ring.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.rings.subscribe()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.kind())
            .finish()
    }
}

/// An error a job may return: it can carry a [`StoreError`], and a
/// retryable one makes the backend run the job again.
pub trait JobError: From<StoreError> + Send + 'static {
    fn store_error(&self) -> Option<&StoreError>;
}

impl JobError for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

impl JobError for LedgerError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            LedgerError::Storage(e) => Some(e),
            _ => None,
        }
    }
}

/// The result slot a job fills on each run.
type Slot<T, E> = Arc<Mutex<Option<Result<T, E>>>>;

/// `work` as a backend's read job, and the slot its outcome lands in.
fn read_job<T, E, F>(work: F) -> (ReadJob, Slot<T, E>)
where
    F: FnOnce(&mut dyn ReadTx) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let slot: Slot<T, E> = Arc::default();
    let job_slot = Arc::clone(&slot);
    let job: ReadJob = Box::new(move |tx: &mut dyn ReadTx| {
        *job_slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(work(tx));
    });
    (job, slot)
}

fn take<T, E>(slot: &Slot<T, E>) -> Option<Result<T, E>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// What a read job answered, or why it did not run.
fn read_outcome<T, E: From<StoreError>>(done: Result<(), StoreError>, slot: &Slot<T, E>) -> Result<T, E> {
    match (done, take(slot)) {
        (Ok(()), Some(outcome)) => outcome,
        (Err(e), _) => Err(E::from(e)),
        (Ok(()), None) => Err(E::from(StoreError::Internal("a read job did not run".to_owned()))),
    }
}

impl Store {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            bell: Bell::default(),
        }
    }

    /// The bell rung when events commit, here or (through the backend's
    /// [`Backend::watch_events`]) in another process.
    pub fn bell(&self) -> &Bell {
        &self.bell
    }

    /// Has the backend ring the bell for other processes' events.
    pub fn watch_events(&self) -> Result<(), StoreError> {
        self.backend.watch_events(self.bell.clone())
    }

    /// Runs `work` in a write transaction. If it returns `Err`, everything it
    /// wrote is rolled back (and its neighbours in a group are unaffected).
    /// Resolves after the commit: a success is durable. `work` may run more
    /// than once if the backend retries a conflict; only the last run counts.
    pub async fn write<T, E, F>(&self, mut work: F) -> Result<T, E>
    where
        F: FnMut(&mut dyn WriteTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: JobError,
    {
        let slot: Slot<T, E> = Arc::default();
        let job_slot = Arc::clone(&slot);
        let job = Box::new(move |tx: &mut dyn WriteTx| {
            let outcome = work(tx);
            let verdict = match &outcome {
                Ok(_) => Verdict::Keep,
                Err(e) if matches!(e.store_error(), Some(StoreError::Retryable(_))) => Verdict::Retry,
                Err(_) => Verdict::Discard,
            };
            *job_slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            verdict
        });
        let committed = self.backend.write(job).await;
        match (committed, take(&slot)) {
            (Ok(()), Some(outcome)) => outcome,
            // The job failed on its own and wrote nothing: its reason stands.
            (Err(_), Some(Err(own))) => Err(own),
            (Err(e), _) => Err(E::from(e)),
            (Ok(()), None) => Err(E::from(StoreError::Internal(
                "a write job did not run".to_owned(),
            ))),
        }
    }

    /// Runs `work` on one read-only snapshot.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn ReadTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (job, slot) = read_job(work);
        let done = self.backend.read(job).await;
        read_outcome(done, &slot)
    }

    /// [`Store::read`] for a bounded read (see [`Backend::read_point`]): a
    /// few indexed point lookups, which a backend may run on the calling
    /// thread.
    pub async fn read_point<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn ReadTx) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (job, slot) = read_job(work);
        let done = self.backend.read_point(job).await;
        read_outcome(done, &slot)
    }

    pub fn stats(&self) -> BackendStats {
        self.backend.stats()
    }

    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }
}
