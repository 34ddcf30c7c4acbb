//! [`Watcher`]: rings the events bell when another process commits events.
//!
//! Every commit with events notifies `wallet_events` (`statements::events`;
//! PostgreSQL delivers it at commit, folded to one per project and
//! transaction). The watcher is one thread with its own connection that
//! `LISTEN`s there and rings the bell once for each batch of notifications
//! it receives. The bell only wakes waiters, who then read the feed, so a
//! ring too many costs a read and a ring too few is the only harm: when the
//! connection is lost, notifications sent meanwhile are lost with it, so
//! after reconnecting (with a backoff from 100 ms doubling up to 5 s) the
//! watcher rings once. It stops when dropped (the backend drops it), within
//! one [`POLL`].

use crate::conn::{off_async, PgConn, Role, Target};
use crate::error::DbResult;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use wallet_core::{Bell, StoreError};

/// The longest the thread waits for a notification before it looks at
/// whether it should stop.
const POLL: Duration = Duration::from_millis(200);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The listening thread; stopped and joined when dropped.
pub(crate) struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn listen(target: &Target) -> DbResult<PgConn> {
    let mut conn = target.connect(Role::Writer)?;
    conn.batch("LISTEN wallet_events")?;
    Ok(conn)
}

impl Watcher {
    /// Connects and listens now (so an unreachable database fails here),
    /// then watches on a thread of its own.
    pub(crate) fn start(target: &Target, bell: Bell) -> Result<Self, StoreError> {
        let conn = off_async(|| listen(target))?;
        let stop = Arc::new(AtomicBool::new(false));
        let run = Run {
            target: target.clone(),
            bell,
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("events-listener".to_owned())
            .spawn(move || run.watch(conn))
            .map_err(|e| StoreError::Internal(format!("cannot start the events listener: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the events listener panicked");
            }
        }
    }
}

struct Run {
    target: Target,
    bell: Bell,
    stop: Arc<AtomicBool>,
}

impl Run {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn watch(self, conn: PgConn) {
        let mut conn = Some(conn);
        let mut backoff = FIRST_BACKOFF;
        while !self.stopping() {
            match conn.as_mut() {
                Some(c) => {
                    if !self.wait(c) {
                        log::warn!("the events listener lost its connection; reconnecting");
                        conn = None;
                    }
                }
                None => match listen(&self.target) {
                    Ok(c) => {
                        log::info!("the events listener reconnected");
                        conn = Some(c);
                        backoff = FIRST_BACKOFF;
                        // What was notified while it was away is lost.
                        self.bell.ring();
                    }
                    Err(e) => {
                        log::warn!("the events listener cannot reconnect: {}", StoreError::from(e));
                        self.pause(backoff);
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                },
            }
        }
    }

    /// Waits up to [`POLL`] for notifications and rings once if any came;
    /// `false` when the connection is lost.
    fn wait(&self, conn: &mut PgConn) -> bool {
        use postgres::fallible_iterator::FallibleIterator;
        let mut notifications = conn.client.notifications();
        let first = notifications.timeout_iter(POLL).next();
        let got = match first {
            Ok(Some(_)) => {
                // Take what else is queued without waiting, then ring once.
                let mut pending = notifications.iter();
                loop {
                    match pending.next() {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(_) => {
                            self.bell.ring();
                            return false;
                        }
                    }
                }
                self.bell.ring();
                true
            }
            Ok(None) => true,
            Err(_) => false,
        };
        drop(notifications);
        got && !conn.is_closed()
    }

    /// Sleeps `pause`, waking early if told to stop.
    fn pause(&self, pause: Duration) {
        let step = Duration::from_millis(50);
        let mut slept = Duration::ZERO;
        while slept < pause && !self.stopping() {
            std::thread::sleep(step);
            slept += step;
        }
    }
}
