//! The single writer: one thread owns the write connection and commits
//! queued jobs in groups.
//!
//! SQLite takes one writer at a time and a durable commit costs one fsync, so
//! a commit per request caps a server at the disk's fsync rate. Instead the
//! thread takes every job that is waiting, runs each in its own savepoint
//! inside one transaction, commits once, and only then answers them all. When
//! the server is idle a group is one job and nothing waits for a timer; under
//! load jobs queue up during each fsync and the next group grows to match:
//! the batch size adapts to the load by itself.

use super::{StorageError, WriteTx};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting beyond this many make `submit` wait: back-pressure instead of
/// unbounded memory.
const QUEUE_DEPTH: usize = 16 * 1024;

/// A unit of work for the writer, type-erased so one queue carries them all.
trait Job: Send {
    /// Runs the work inside the open savepoint. Returns whether it succeeded
    /// (keep its writes) or failed (roll its savepoint back).
    fn run(&mut self, tx: &WriteTx<'_>) -> bool;
    /// Answers the caller once the group's fate is known.
    fn finish(self: Box<Self>, group: Result<(), &StorageError>);
}

struct TypedJob<T, E, F> {
    work: Option<F>,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> Job for TypedJob<T, E, F>
where
    F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<StorageError> + Send,
{
    fn run(&mut self, tx: &WriteTx<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(tx)))
            .unwrap_or_else(|_| Err(E::from(StorageError::WorkerPanicked)));
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, group: Result<(), &StorageError>) {
        let answer = match (group, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            // The job failed on its own and wrote nothing: its reason stands.
            (Err(_), Some(Err(own))) => Err(own),
            (Err(e), _) => Err(E::from(StorageError::CommitFailed(e.to_string()))),
            (Ok(()), None) => Err(E::from(StorageError::WriterStopped)),
        };
        // The caller may have gone away (client disconnected); the write stands.
        let _ = self.reply.send(answer);
    }
}

/// Counters of the writer, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct WriterStats {
    pub commits: u64,
    pub jobs: u64,
    pub largest_group: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    jobs: AtomicU64,
    largest_group: AtomicU64,
}

pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl Writer {
    pub(super) fn start(conn: Connection, max_batch: usize) -> Result<Self, StorageError> {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("ledger-writer".to_owned())
            .spawn(move || run(conn, jobs, max_batch.max(1), &thread_counters))?;
        Ok(Self {
            queue,
            thread: Mutex::new(Some(thread)),
            counters,
        })
    }

    pub(super) async fn submit<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob {
            work: Some(work),
            outcome: None,
            reply,
        });
        if self.queue.send(job).await.is_err() {
            return Err(E::from(StorageError::WriterStopped));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(E::from(StorageError::WriterStopped)))
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            jobs: self.counters.jobs.load(Ordering::Relaxed),
            largest_group: self.counters.largest_group.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Writer {
    /// Lets the thread finish the jobs already queued, then waits for it, so
    /// every answered write is committed before the process exits.
    fn drop(&mut self) {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.queue, closed));
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            if handle.join().is_err() {
                log::error!("the ledger writer thread panicked");
            }
        }
    }
}

fn run(conn: Connection, mut jobs: mpsc::Receiver<Box<dyn Job>>, max_batch: usize, counters: &Counters) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch.min(4096));
    while let Some(first) = jobs.blocking_recv() {
        group.push(first);
        while group.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let outcome = commit_group(&conn, &mut group);
        if let Err(e) = &outcome {
            log::error!("write group of {} job(s) failed: {e}", group.len());
        } else {
            let size = group.len() as u64;
            counters.commits.fetch_add(1, Ordering::Relaxed);
            counters.jobs.fetch_add(size, Ordering::Relaxed);
            counters.largest_group.fetch_max(size, Ordering::Relaxed);
        }
        for job in group.drain(..) {
            job.finish(outcome.as_ref().map(|_| ()));
        }
    }
    log::debug!("ledger writer stopped");
}

fn commit_group(conn: &Connection, group: &mut [Box<dyn Job>]) -> Result<(), StorageError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = run_jobs(conn, group).and_then(|()| Ok(conn.execute_batch("COMMIT")?));
    if result.is_err() && !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            log::error!("rollback after a failed write group failed: {e}");
        }
    }
    result
}

fn run_jobs(conn: &Connection, group: &mut [Box<dyn Job>]) -> Result<(), StorageError> {
    let tx = WriteTx::new(conn);
    // Cached: these run for every job, and parsing them each time shows up.
    let run = |sql: &str| -> Result<(), StorageError> {
        conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    };
    for job in group.iter_mut() {
        run("SAVEPOINT job")?;
        let ok = job.run(&tx);
        // On some errors (SQLITE_FULL, SQLITE_IOERR, ...) SQLite rolls the
        // whole transaction back by itself. Going on would run the next jobs
        // in autocommit mode: each would persist on its own while the group
        // reports failure. Stop: the group failed, and nothing of it applied.
        if conn.is_autocommit() {
            return Err(StorageError::CommitFailed(
                "SQLite rolled the transaction back after an error".to_owned(),
            ));
        }
        if !ok {
            run("ROLLBACK TO job")?;
        }
        run("RELEASE job")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::ProjectId;
    use crate::storage::{NewAsset, StorageError, Store, StoreOptions};
    use std::time::Duration;

    #[derive(Debug)]
    enum TestError {
        Refused,
        Storage(#[allow(dead_code)] StorageError),
    }

    impl From<StorageError> for TestError {
        fn from(e: StorageError) -> Self {
            TestError::Storage(e)
        }
    }

    fn project(n: usize) -> ProjectId {
        ProjectId::parse(&format!("p{n}")).expect("valid id")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_jobs_commit_as_one_group_and_a_failing_job_sinks_only_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&StoreOptions::new(dir.path().join("w.db"))).expect("store opens");

        // Hold the writer busy so the next jobs queue up behind it.
        let blocker = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|_| -> Result<(), TestError> {
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut jobs = Vec::new();
        for n in 0..20 {
            let store = store.clone();
            jobs.push(tokio::spawn(async move {
                store
                    .write(move |tx| -> Result<(), TestError> {
                        tx.create_project(&project(n), "p", &NewAsset::default_points(), 0)?;
                        // Every fifth job fails after writing: its writes must vanish.
                        if n % 5 == 0 {
                            return Err(TestError::Refused);
                        }
                        Ok(())
                    })
                    .await
            }));
        }
        assert!(blocker.await.expect("joined").is_ok());
        for (n, job) in jobs.into_iter().enumerate() {
            let result = job.await.expect("joined");
            assert_eq!(result.is_ok(), n % 5 != 0, "job {n}: {result:?}");
        }

        let stats = store.writer_stats();
        assert!(
            stats.largest_group >= 10,
            "jobs queued behind a busy writer share a commit: {stats:?}"
        );
        assert!(stats.commits < stats.jobs, "{stats:?}");
        for n in 0..20 {
            let id = project(n);
            let exists = store
                .write(move |tx| -> Result<bool, TestError> { Ok(tx.project_exists(&id)?) })
                .await
                .expect("read");
            assert_eq!(exists, n % 5 != 0, "project p{n}");
        }
    }
}
