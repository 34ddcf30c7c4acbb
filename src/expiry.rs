//! The expiry worker: the server expires, by itself and as transactions of
//! their own, what runs out when its `expiresAt` passes —
//! - a hold: what remains of it is voided (status `Expired`;
//!   `wallet_core::Ledger::expire_due_holds`);
//! - a lot: what is left of it, not earmarked by an Open hold, leaves the
//!   wallet in an `Expire` entry (`wallet_core::Ledger::expire_due_lots`).
//!
//! Each pass is `Ledger::expire_due`: the due holds first, then the due lots
//! (a hold's expiry gives its earmarks back to their lots, and a part whose
//! lot is past its time expires in that same transaction).
//!
//! How it waits: it sleeps until the soonest expiry of an Open hold or of a
//! lot with something to expire (`Ledger::next_expiry`), but never longer
//! than [`POLL`] (250 ms), so a hold placed or a lot formed meanwhile — by
//! this process or by another process on the same database — is seen
//! within that time. A hold or a lot is therefore expired within about
//! 250 ms of its `expiresAt` (plus the write), well inside the promised
//! second; idle, the cost is a few indexed reads per [`POLL`] and process. The
//! wait never lets anything through late: a Capture at or after a hold's
//! `expiresAt` fails, and nothing is spent of a lot at or after its
//! `expiresAt`, whether or not the expiry was recorded yet (the planner
//! decides on the time), so the wait only delays the recording.
//!
//! - It starts with the server ([`crate::startup::Application::run_until_stopped`]),
//!   never in a CLI command, and its first pass runs at once: holds and lots
//!   that expired while the server was down are expired at start.
//! - It runs in maintenance mode too. An expiry is the server's own write,
//!   not a client's (the core posts it as the project's system authority,
//!   which the maintenance re-check does not stop), and what it records has
//!   already happened: from `expiresAt` on the hold is Expired and the lot's
//!   free value unspendable, recorded or not.
//! - Several processes on one database each run it. That is safe: each
//!   expiry locks its hold (or its lot's wallet) in its own write and plans
//!   against the locked state, so a hold or lot another process expired (or
//!   a client captured, voided or spent) first is left alone; exactly one
//!   expiry transaction is written.
//! - A failing pass is logged (once, until a pass works again) and retried
//!   after [`RETRY`]; nothing in it panics.
//! - [`ExpiryWorker::stop`] ends it cleanly: a pass that has begun finishes
//!   (each expiry is one atomic write either way), then the task ends and
//!   drops its handle on the store.

use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wallet_core::{Ledger, LedgerError};

/// Longest sleep between two passes.
pub const POLL: Duration = Duration::from_millis(250);

/// The wait after a pass failed (the database unavailable, say).
pub const RETRY: Duration = Duration::from_secs(1);

/// How long [`ExpiryWorker::stop`] lets a pass finish before it aborts it.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The running worker. Dropped without [`stop`](Self::stop), it is aborted.
pub struct ExpiryWorker {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ExpiryWorker {
    /// Starts the worker on the server's ledger (and its clock).
    pub fn start(ledger: Ledger) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(ledger, stopped));
        Self {
            stop,
            task: Some(task),
        }
    }

    /// Asks the worker to stop, and waits until it has (a pass that has
    /// begun finishes first, for up to ten seconds).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                log::warn!("the expiry worker did not stop within {STOP_GRACE:?}; aborting it");
                task.abort();
                let _ = task.await;
            }
        }
    }
}

impl Drop for ExpiryWorker {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn run(ledger: Ledger, mut stopped: watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        if *stopped.borrow() {
            break;
        }
        let wait = match pass(&ledger).await {
            Ok(wait) => {
                if failing {
                    failing = false;
                    log::info!("expiring holds and lots works again");
                }
                wait
            }
            Err(e) => {
                if !failing {
                    failing = true;
                    log::warn!("expiring holds and lots failed (retried every {RETRY:?}): {e}");
                }
                RETRY
            }
        };
        tokio::select! {
            biased;
            // A stop, or the worker's owner gone: either way, stop.
            _ = stopped.changed() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Expires every hold and lot that is due, and says how long to wait for
/// the next pass: until the soonest expiry, at most [`POLL`].
async fn pass(ledger: &Ledger) -> Result<Duration, LedgerError> {
    let (holds, lots) = ledger.expire_due().await?;
    if holds > 0 {
        log::info!("expired {holds} hold(s)");
    }
    if lots > 0 {
        log::info!("expired {lots} lot(s)");
    }
    let next = ledger.next_expiry().await?;
    Ok(wait_for(next, ledger.now(), holds + lots))
}

/// The wait before the next pass, given the soonest expiry of an Open hold
/// or of a lot with something to expire, the time, and how many the last
/// pass expired.
fn wait_for(next: Option<i64>, now: i64, expired: usize) -> Duration {
    match next {
        // More are due than one pass takes: go on at once. If the last pass
        // expired none of those due (another process was expiring them),
        // wait a little rather than spin.
        Some(at) if at <= now => {
            if expired > 0 {
                Duration::ZERO
            } else {
                Duration::from_millis(10)
            }
        }
        Some(at) => {
            Duration::from_millis(u64::try_from(at.saturating_sub(now)).unwrap_or(u64::MAX)).min(POLL)
        }
        None => POLL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_until_the_next_expiry_and_never_longer_than_the_poll() {
        let ms = Duration::from_millis;
        let cases = [
            (None, 0, ms(250), "nothing expires"),
            (
                Some(1_100),
                1_000,
                ms(100),
                "the next expiry is sooner than the poll",
            ),
            (Some(1_001), 1_000, ms(1), "one millisecond away"),
            (
                Some(60_000),
                1_000,
                ms(250),
                "far away: polled, for holds and lots formed meanwhile",
            ),
            (Some(i64::MAX), i64::MIN + 1, ms(250), "no overflow"),
        ];
        for (next, now, expected, case) in cases {
            assert_eq!(wait_for(next, now, 0), expected, "{case}");
        }
        assert_eq!(
            wait_for(Some(900), 1_000, 256),
            Duration::ZERO,
            "more due: at once"
        );
        assert_eq!(
            wait_for(Some(900), 1_000, 0),
            ms(10),
            "due but taken by another: no spin"
        );
    }
}
