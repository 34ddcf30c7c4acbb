//! WAL checkpoints off the writer's thread.
//!
//! A commit appends pages to the WAL; a checkpoint copies them back into the
//! database file and syncs it. SQLite's auto-checkpoint does that inside the
//! commit that passes 1,000 pages, on the committing thread: with a single
//! writer, every few groups one of them also copied ~4 MB and waited for a
//! second fsync, and every job queued behind it waited too (`walCheckpoint`
//! was 5% of the writer's samples on `batch`, and its fsync is off-CPU time
//! the profile does not even show).
//!
//! Here a thread of its own, on a connection of its own, runs `PASSIVE`
//! checkpoints after commits (at most one per [`SPACING`]): they never block
//! the writer or a reader, and copy what is there. The writer keeps an
//! auto-checkpoint, raised to [`WRITER_AUTOCHECKPOINT`] pages, as the bound:
//! under a sustained load the background copy never quite reaches the log's
//! end (the writer keeps appending), so SQLite cannot restart the log, and
//! the writer's own checkpoint — which then has only the last pages left to
//! copy — lets it restart. Durability does not depend on any of this: a
//! commit is durable once its WAL frames are synced.

use crate::connection::BUSY_TIMEOUT;
use crate::error::DbResult;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The writer's own auto-checkpoint: the WAL's bound, about 32 MiB of pages.
pub(crate) const WRITER_AUTOCHECKPOINT: u32 = 8192;

/// The least time between two background checkpoints: each syncs the
/// database file, and a commit's fsync should not queue behind many.
const SPACING: Duration = Duration::from_millis(50);

/// Rings the checkpointing thread; ends it when dropped.
pub(crate) struct Checkpointer {
    bell: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens the thread's connection (read-write, the writer's durability)
    /// and starts it.
    pub(crate) fn start(path: &Path, synchronous: &str) -> DbResult<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch(&format!("PRAGMA synchronous = {synchronous};"))?;
        let (bell, rings) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".to_owned())
            .spawn(move || run(&conn, &rings))?;
        Ok(Self {
            bell: Some(bell),
            thread: Some(thread),
        })
    }

    /// After a commit: never blocks (a ring already pending covers this one).
    pub(crate) fn ring(&self) {
        if let Some(bell) = &self.bell {
            match bell.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => log::warn!("the WAL checkpoint thread has stopped"),
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.bell.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the WAL checkpoint thread panicked");
            }
        }
    }
}

fn run(conn: &Connection, rings: &Receiver<()>) {
    let mut last = Instant::now().checked_sub(SPACING).unwrap_or_else(Instant::now);
    while rings.recv().is_ok() {
        let since = last.elapsed();
        if since < SPACING {
            std::thread::sleep(SPACING - since);
        }
        last = Instant::now();
        // (busy, frames in the log, frames copied): nothing to act on; a
        // busy checkpoint (another one running) is simply tried again later.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            log::warn!("background WAL checkpoint failed: {e}");
        }
    }
}
