//! The writers: `writers` threads, each owning one connection, take queued
//! jobs in groups and commit each group once.
//!
//! A durable commit costs a WAL flush (and, with synchronous replication, a
//! round trip to a standby), so a commit per request caps a server at that
//! rate. A worker takes every job that is waiting (up to `max_batch`), opens
//! one READ COMMITTED transaction, runs each job in its own `SAVEPOINT`,
//! commits once, and only then answers them all. Idle, a group is one job;
//! under load the groups grow with it.
//!
//! A job's verdict decides its savepoint: `Keep` releases it, `Discard` rolls
//! it back (its neighbours stay), `Retry` rolls it back and runs the job
//! again, at most [`MAX_RUNS`] times in all. A job answers `Retry` when it
//! met another writer: a deadlock, a lock it could not get in time, a claim
//! another writer made first. So it is not run again in the same
//! transaction (whose earlier jobs may hold what the other writer waits
//! for): the group stops there and commits what it has, and the job leads
//! this worker's next group, with the jobs not yet run behind it.
//!
//! Events: a job only stages its events; after the group's last job, the
//! group locks the heads of the projects it has events for (in project id
//! order) and appends them (`statements::events::append_staged`), then
//! commits. The heads are the last locks a group takes and it waits for
//! nothing after them, so they take part in no deadlock.
//!
//! Deadlocks between groups: each job locks its wallets in id order, but
//! a group holds the locks of all its jobs, so two groups can hold what the
//! other's next job wants. Only the first job of a group waits for a lock
//! as long as a lock can take (the session's `lock_timeout`); every later
//! job waits at most [`LATER_JOB_LOCK_WAIT`], then fails `55P03`
//! (`Retryable`) and leads the next group instead. A group that waits
//! therefore holds only its first job's locks, taken in id order, so groups
//! do not deadlock on wallets; PostgreSQL's deadlock detector breaks any
//! other cycle (`40P01`, retried the same way).
//!
//! Balances and running totals of the wallets a group locked move in the
//! group's cache and are written once, before the COMMIT (see `cache`):
//! a fee wallet credited by every job costs one write per group.
//!
//! If the COMMIT fails, every job of the group is answered with the error:
//! nothing of it applied.

use crate::cache::GroupCache;
use crate::conn::{PgConn, Role, Target};
use crate::error::{map_pg, DbResult};
use crate::tx::PgTx;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use wallet_core::port::{BoxFuture, Verdict, WriteJob};
use wallet_core::StoreError;

/// Jobs queued or running beyond this many make `submit` wait: back-pressure
/// instead of unbounded memory.
const QUEUE_DEPTH: usize = 16 * 1024;

/// The most times one job runs. A job still answering `Retry` after this
/// many runs meets the same conflict every time; its last answer stands.
pub const MAX_RUNS: u32 = 8;

/// How long a job after the first of a group waits for a lock before it
/// gives up and leads the next group instead (see the module's notes).
pub const LATER_JOB_LOCK_WAIT: &str = "5ms";

struct Queued {
    job: WriteJob,
    reply: oneshot::Sender<Result<(), StoreError>>,
    /// Why the writer discarded the job against its verdict (it panicked, or
    /// said `Keep` after a storage error): its answer even if the group
    /// commits, since nothing of it applied.
    overruled: Option<StoreError>,
    /// How many times the job has run.
    runs: u32,
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

type SharedQueue = Arc<Mutex<mpsc::UnboundedReceiver<Queued>>>;

pub(crate) struct Writer {
    queue: mpsc::UnboundedSender<Queued>,
    room: Arc<Semaphore>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

/// The answer to a job the writer can no longer take.
fn stopped() -> StoreError {
    StoreError::Unavailable("the writer has stopped".to_owned())
}

impl Writer {
    /// Opens one connection per worker (so a database that cannot be
    /// reached fails here, not at the first write) and starts the workers.
    pub(crate) fn start(target: &Target, writers: usize, max_batch: usize) -> DbResult<Self> {
        let conns = (0..writers.max(1))
            .map(|_| target.connect(Role::Writer))
            .collect::<DbResult<Vec<_>>>()?;
        let (queue, jobs) = mpsc::unbounded_channel();
        let jobs: SharedQueue = Arc::new(Mutex::new(jobs));
        let counters = Arc::new(Counters::default());
        let mut threads = Vec::with_capacity(conns.len());
        for (n, conn) in conns.into_iter().enumerate() {
            let worker = Worker {
                conn: Some(conn),
                target: target.clone(),
                jobs: Arc::clone(&jobs),
                max_batch: max_batch.max(1),
                counters: Arc::clone(&counters),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("ledger-writer-{n}"))
                    .spawn(move || worker.run())?,
            );
        }
        Ok(Self {
            queue,
            room: Arc::new(Semaphore::new(QUEUE_DEPTH)),
            threads: Mutex::new(threads),
            counters,
        })
    }

    /// The future holds only a weak handle on the queue: a future nobody
    /// polls cannot keep the writers alive when the backend is dropped.
    pub(crate) fn submit(&self, job: WriteJob) -> BoxFuture<Result<(), StoreError>> {
        let queue = self.queue.downgrade();
        let room = Arc::clone(&self.room);
        Box::pin(async move {
            let room = room.acquire_owned().await.map_err(|_| stopped())?;
            let (reply, answer) = oneshot::channel();
            let queued = Queued {
                job,
                reply,
                overruled: None,
                runs: 0,
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
    /// Lets the workers finish the jobs already queued, then waits for them,
    /// so every answered write is committed before the process exits.
    fn drop(&mut self) {
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.queue, closed));
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for handle in threads {
            // A job that held the last handle on the backend drops it on a
            // worker thread: that thread ends by itself once the queue is
            // drained, and must not wait for itself.
            if handle.thread().id() == std::thread::current().id() {
                continue;
            }
            if handle.join().is_err() {
                log::error!("a ledger writer thread panicked");
            }
        }
    }
}

/// One worker thread's state.
struct Worker {
    /// `None` after the connection broke, until the next group reconnects.
    conn: Option<PgConn>,
    target: Target,
    jobs: SharedQueue,
    max_batch: usize,
    counters: Arc<Counters>,
}

/// What became of a group.
struct Settled {
    /// The group's fate, for the jobs that ran in it.
    outcome: Result<(), StoreError>,
    /// How many jobs from the front ran in this transaction; the rest (a
    /// job that asked to run again, and those behind it) lead the next one.
    ran: usize,
}

impl Worker {
    fn run(mut self) {
        let mut carried: VecDeque<Queued> = VecDeque::new();
        let mut group: Vec<Queued> = Vec::with_capacity(self.max_batch.min(4096));
        loop {
            group.extend(carried.drain(..));
            if !self.take(&mut group) {
                break;
            }
            let counters = Arc::clone(&self.counters);
            let settled = match self.connection() {
                Ok(conn) => commit_group(conn, &mut group, &counters),
                Err(e) => Settled {
                    outcome: Err(e),
                    ran: group.len(),
                },
            };
            if self.conn.as_ref().is_some_and(PgConn::is_closed) {
                self.conn = None;
            }
            match &settled.outcome {
                Err(e) => log::error!("write group of {} job(s) failed: {e}", settled.ran),
                Ok(()) => {
                    let size = settled.ran as u64;
                    self.counters.commits.fetch_add(1, Ordering::Relaxed);
                    self.counters.jobs.fetch_add(size, Ordering::Relaxed);
                    self.counters.largest_group.fetch_max(size, Ordering::Relaxed);
                }
            }
            carried.extend(group.drain(settled.ran..));
            for job in group.drain(..) {
                answer(job, &settled.outcome);
            }
        }
        log::debug!("ledger writer stopped");
    }

    /// Fills `group` with waiting jobs: blocks for the first one only if it
    /// is empty. `false` once the queue is closed and nothing is left.
    fn take(&self, group: &mut Vec<Queued>) -> bool {
        if group.is_empty() {
            let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            match jobs.blocking_recv() {
                Some(job) => group.push(job),
                None => return false,
            }
            fill(&mut jobs, group, self.max_batch);
        } else if let Ok(mut jobs) = self.jobs.try_lock() {
            // Carried jobs go first; another worker waiting for the queue
            // must not make them wait.
            fill(&mut jobs, group, self.max_batch);
        }
        true
    }

    fn connection(&mut self) -> Result<&mut PgConn, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(self.target.connect(Role::Writer)?);
        }
        self.conn.as_mut().ok_or_else(stopped)
    }
}

fn fill(jobs: &mut mpsc::UnboundedReceiver<Queued>, group: &mut Vec<Queued>, max_batch: usize) {
    while group.len() < max_batch {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
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

/// Runs the jobs of `group` in one transaction, each in its savepoint, up
/// to the first that asks to run again, and commits.
fn commit_group(conn: &mut PgConn, group: &mut [Queued], counters: &Counters) -> Settled {
    let mut ran = group.len();
    let mut cache = GroupCache::default();
    let result = (|| -> Result<(), StoreError> {
        // What the previous job's verdict asks, sent with the next
        // statement: one round trip per job boundary.
        let mut pending = String::from("BEGIN ISOLATION LEVEL READ COMMITTED; ");
        for (index, job) in group.iter_mut().enumerate() {
            if index == 1 {
                pending.push_str("SET LOCAL lock_timeout = '");
                pending.push_str(LATER_JOB_LOCK_WAIT);
                pending.push_str("'; ");
            }
            pending.push_str("SAVEPOINT job");
            conn.batch(&pending).map_err(|e| map_pg(&e))?;
            let verdict = run_once(conn, &mut cache, job);
            if conn.is_closed() {
                ran = index + 1;
                return Err(StoreError::Unavailable(
                    "the connection to PostgreSQL was lost; nothing of the write group applied".to_owned(),
                ));
            }
            if verdict == Verdict::Keep {
                cache.keep_job();
            } else {
                cache.undo_job();
            }
            match verdict {
                Verdict::Keep => pending = String::from("RELEASE SAVEPOINT job; "),
                Verdict::Retry if job.runs < MAX_RUNS => {
                    // Its locks go with its savepoint; it runs again first
                    // in the next transaction, after the jobs kept here
                    // (and the writer it met) have committed.
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    pending = String::from("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job; ");
                    ran = index;
                    break;
                }
                Verdict::Discard | Verdict::Retry => {
                    pending = String::from("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job; ");
                }
            }
        }
        if !cache.is_clean() {
            conn.batch(&pending).map_err(|e| map_pg(&e))?;
            cache.flush(conn)?;
            pending.clear();
        }
        let staged = cache.take_staged();
        if !staged.is_empty() {
            // The heads last, in project order: held from here to the COMMIT
            // only, and waited for as long as a lock can take (the group
            // holds nothing a head's holder waits for, so no deadlock).
            if group.len() > 1 {
                pending.push_str("SET LOCAL lock_timeout TO DEFAULT; ");
            }
            conn.batch(&pending).map_err(|e| map_pg(&e))?;
            pending.clear();
            crate::statements::events::append_staged(conn, staged)?;
        }
        pending.push_str("COMMIT");
        conn.batch(&pending).map_err(|e| map_pg(&e))
    })();
    let outcome = result.inspect_err(|_| {
        // After a failed COMMIT the transaction is over already; ROLLBACK
        // then only warns.
        if !conn.is_closed() {
            if let Err(rollback) = conn.batch("ROLLBACK") {
                log::error!("rollback after a failed write group failed: {rollback}");
            }
        }
    });
    Settled { outcome, ran }
}

/// One run of a job. A job that hit a storage error may not keep its
/// writes, whatever it answers: it is discarded and answered with that
/// error. A job that panics is discarded too.
fn run_once(conn: &mut PgConn, cache: &mut GroupCache, job: &mut Queued) -> Verdict {
    job.runs += 1;
    let mut tx = PgTx::writing(conn, cache);
    let verdict = catch_unwind(AssertUnwindSafe(|| (job.job)(&mut tx)));
    match (verdict, tx.into_first_error()) {
        (Ok(Verdict::Keep), Some(swallowed)) => {
            log::warn!("a write job said Keep after a storage error ({swallowed}); rolled back");
            job.overruled = Some(swallowed);
            Verdict::Discard
        }
        (Ok(verdict), _) => {
            job.overruled = None;
            verdict
        }
        (Err(_), _) => {
            log::error!("a write job panicked; its writes are rolled back");
            job.overruled = Some(StoreError::Internal(
                "the write job panicked; nothing of it applied".to_owned(),
            ));
            Verdict::Discard
        }
    }
}
