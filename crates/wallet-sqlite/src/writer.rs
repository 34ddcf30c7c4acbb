//! The single writer: one thread owns the write connection and commits
//! queued jobs in groups.
//!
//! SQLite takes one writer at a time and a durable commit costs one fsync, so
//! a commit per request caps a server at the disk's fsync rate. Instead the
//! thread takes every job that is waiting, opens one `BEGIN IMMEDIATE`
//! transaction, runs each job in its own `SAVEPOINT`, commits once, and only
//! then answers them all. When the server is idle a group is one job and
//! nothing waits for a timer; under load jobs queue up during each fsync and
//! the next group grows to match: the batch size adapts to the load by itself.
//!
//! A job's verdict decides its savepoint: `Keep` releases it, `Discard` rolls
//! it back (its neighbours stay), `Retry` rolls it back and runs the job again
//! on the clean state, at most [`MAX_RUNS`] times. Because checks and writes
//! of a job run inside the one writer, nothing else writes in between: no
//! overdraft, no lost update.

use crate::error::{DbError, DbResult};
use crate::tx::SqlTx;
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use wallet_core::port::{BoxFuture, Verdict, WriteJob};
use wallet_core::StoreError;

mod checkpoint;
#[cfg(test)]
mod tests;

pub(crate) use checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT};

/// Jobs queued or running beyond this many make `submit` wait: back-pressure
/// instead of unbounded memory.
const QUEUE_DEPTH: usize = 16 * 1024;

/// The most times one job runs. A `Retry` means the job met a change it had
/// not planned on; with one writer that cannot come from a neighbour, so a
/// job still asking after this many runs is stuck, and its last answer stands.
pub const MAX_RUNS: u32 = 8;

/// What the thread runs for one queued job.
enum Work {
    Port(WriteJob),
    /// Tests reach the connection itself, to inject what a job cannot (a
    /// full disk). Not in production builds.
    #[cfg(test)]
    Connection(Box<dyn FnMut(&Connection) -> Verdict + Send>),
}

struct Queued {
    work: Work,
    reply: oneshot::Sender<Result<(), StoreError>>,
    /// Why the writer discarded the job against its verdict (it panicked, or
    /// said `Keep` after a storage error): its answer even if the group
    /// commits, since nothing of it applied.
    overruled: Option<StoreError>,
    /// The job's place under [`QUEUE_DEPTH`], given back once it is answered.
    _room: OwnedSemaphorePermit,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) commits: AtomicU64,
    pub(crate) jobs: AtomicU64,
    pub(crate) largest_group: AtomicU64,
    pub(crate) retries: AtomicU64,
}

pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<Queued>,
    room: Arc<Semaphore>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

/// The answer to a job the writer can no longer take.
fn stopped() -> StoreError {
    StoreError::Unavailable("the writer has stopped".to_owned())
}

impl Writer {
    /// Starts the thread on `conn`; `checkpointer` is rung after each commit
    /// and stops with the thread.
    pub(crate) fn start(conn: Connection, max_batch: usize, checkpointer: Checkpointer) -> DbResult<Self> {
        let (queue, jobs) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("ledger-writer".to_owned())
            .spawn(move || run(conn, jobs, max_batch.max(1), &thread_counters, checkpointer))?;
        Ok(Self {
            queue,
            room: Arc::new(Semaphore::new(QUEUE_DEPTH)),
            thread: Mutex::new(Some(thread)),
            counters,
        })
    }

    pub(crate) fn submit(&self, job: WriteJob) -> BoxFuture<Result<(), StoreError>> {
        self.enqueue(Work::Port(job))
    }

    /// Runs `work` on the write connection as one job of a group.
    #[cfg(test)]
    pub(crate) fn on_connection(
        &self,
        work: impl FnMut(&Connection) -> Verdict + Send + 'static,
    ) -> BoxFuture<Result<(), StoreError>> {
        self.enqueue(Work::Connection(Box::new(work)))
    }

    /// The future holds only a weak handle on the queue: a future nobody
    /// polls cannot keep the writer alive when the backend is dropped.
    fn enqueue(&self, work: Work) -> BoxFuture<Result<(), StoreError>> {
        let queue = self.queue.downgrade();
        let room = Arc::clone(&self.room);
        Box::pin(async move {
            let room = room.acquire_owned().await.map_err(|_| stopped())?;
            let (reply, answer) = oneshot::channel();
            let queued = Queued {
                work,
                reply,
                overruled: None,
                _room: room,
            };
            let sent = queue.upgrade().is_some_and(|queue| queue.send(queued).is_ok());
            if !sent {
                return Err(stopped());
            }
            answer.await.unwrap_or_else(|_| Err(stopped()))
        })
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Drop for Writer {
    /// Lets the thread finish the jobs already queued, then waits for it, so
    /// every answered write is committed before the process exits.
    fn drop(&mut self) {
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.queue, closed));
        let handle = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(handle) = handle else { return };
        // A job that held the last handle on the backend drops it on the
        // writer thread itself: that thread ends by itself once the queue
        // is drained, and must not wait for itself.
        if handle.thread().id() == std::thread::current().id() {
            return;
        }
        if handle.join().is_err() {
            log::error!("the ledger writer thread panicked");
        }
    }
}

fn run(
    conn: Connection,
    mut jobs: mpsc::UnboundedReceiver<Queued>,
    max_batch: usize,
    counters: &Counters,
    checkpointer: Checkpointer,
) {
    let mut group: Vec<Queued> = Vec::with_capacity(max_batch.min(4096));
    while let Some(first) = jobs.blocking_recv() {
        group.push(first);
        while group.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let outcome = commit_group(&conn, &mut group, counters).map_err(StoreError::from);
        match &outcome {
            Err(e) => log::error!("write group of {} job(s) failed: {e}", group.len()),
            Ok(()) => {
                let size = group.len() as u64;
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.jobs.fetch_add(size, Ordering::Relaxed);
                counters.largest_group.fetch_max(size, Ordering::Relaxed);
            }
        }
        for job in group.drain(..) {
            answer(job, &outcome);
        }
        checkpointer.ring();
    }
    log::debug!("ledger writer stopped");
}

/// Answers a job once its group's fate is known: only now is a success
/// durable. An overruled job wrote nothing (its savepoint was rolled back).
fn answer(job: Queued, group: &Result<(), StoreError>) {
    let answer = match (group, job.overruled) {
        (Err(e), _) => Err(e.clone()),
        (Ok(()), Some(why)) => Err(why),
        (Ok(()), None) => Ok(()),
    };
    // The caller may have gone away (client disconnected); the write stands.
    let _ = job.reply.send(answer);
}

fn commit_group(conn: &Connection, group: &mut [Queued], counters: &Counters) -> DbResult<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = group
        .iter_mut()
        .try_for_each(|job| run_job(conn, job, counters))
        .and_then(|()| Ok(conn.execute_batch("COMMIT")?));
    if result.is_err() && !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            log::error!("rollback after a failed write group failed: {e}");
        }
    }
    result
}

/// Runs one job in its savepoint until its verdict is final. An `Err` here
/// fails the whole group.
fn run_job(conn: &Connection, job: &mut Queued, counters: &Counters) -> DbResult<()> {
    // Cached: these run for every job, and parsing them each time shows up.
    let statement = |sql: &str| -> DbResult<()> {
        conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    };
    statement("SAVEPOINT job")?;
    let mut runs = 1;
    loop {
        let verdict = run_once(conn, job);
        // On some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite rolls the
        // whole transaction back by itself. Going on would run the next jobs
        // in autocommit mode: each would persist on its own while the group
        // reports failure. Stop: the group failed, and nothing of it applied.
        if conn.is_autocommit() {
            return Err(DbError(StoreError::Unavailable(
                "SQLite rolled the write transaction back after an error; nothing of it applied".to_owned(),
            )));
        }
        match verdict {
            Verdict::Keep => break,
            Verdict::Retry if runs < MAX_RUNS => {
                statement("ROLLBACK TO job")?;
                counters.retries.fetch_add(1, Ordering::Relaxed);
                runs += 1;
            }
            Verdict::Discard | Verdict::Retry => {
                statement("ROLLBACK TO job")?;
                break;
            }
        }
    }
    statement("RELEASE job")
}

/// One run of a job. A job that hit a storage error may not keep its
/// writes, whatever it answers: it is discarded and answered with that
/// error. A job that panics is discarded too.
fn run_once(conn: &Connection, job: &mut Queued) -> Verdict {
    match &mut job.work {
        Work::Port(work) => {
            let mut tx = SqlTx::writing(conn);
            let verdict = catch_unwind(AssertUnwindSafe(|| work(&mut tx)));
            match (verdict, tx.into_first_error()) {
                (Ok(Verdict::Keep), Some(swallowed)) => {
                    log::warn!("a write job said Keep after a storage error ({swallowed}); rolled back");
                    job.overruled = Some(swallowed);
                    Verdict::Discard
                }
                (Ok(verdict), _) => verdict,
                (Err(_), _) => {
                    log::error!("a write job panicked; its writes are rolled back");
                    job.overruled = Some(StoreError::Internal(
                        "the write job panicked; nothing of it applied".to_owned(),
                    ));
                    Verdict::Discard
                }
            }
        }
        #[cfg(test)]
        Work::Connection(work) => work(conn),
    }
}
