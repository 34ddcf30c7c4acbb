//! The delivery worker: one per server process, started with the server.
//!
//! - It wakes when events commit (the events bell, rung after each commit
//!   here, and on PostgreSQL for other processes' commits too), and on a
//!   timer ([`POLL`]) for retries that come due and for anything missed.
//! - Each pass reads the endpoints whose next attempt is due
//!   (`Ledger::due_webhooks`) and, for each that has work
//!   (`Ledger::webhook_has_work`: an event it takes, or [`PASS_OVER`]
//!   events it does not) and is not being worked on here, starts a task (at
//!   most [`MAX_ACTIVE`] at once): so a slow or dead endpoint holds only its
//!   own task, never another endpoint's deliveries, and never a write
//!   (writes only ring the bell). A task's endpoint leaves the active set
//!   when the task ends, however it ends (a drop guard: a panic too).
//! - A task takes the endpoint's lease (`Ledger::lease_webhook`, owner =
//!   this process, [`LEASE`] long), reads the endpoint again, and works its
//!   queue in runs. A run reads the next events (the head, then at most
//!   [`RUN_EVENTS`] events it takes: `Ledger::webhook_page`, one read),
//!   sends them in `seq` order, one at a time, over the client's kept-alive
//!   connection, settling each attempt (`wallet_core::events::settle`, with
//!   a random jitter spread) on the queue the attempts before it left; it
//!   stops at a failure (the retry is due later) or after [`RUN_TIME`], and
//!   records what it did in one write (`Ledger::record_run`: every
//!   attempt's row, the queue's new state, the lease renewed), so the
//!   deliveries and the cursor lag by about a second at most. A run that
//!   sent its whole page also moves the cursor past the events up to the
//!   head that the endpoint's `types` do not take. The task ends when the
//!   queue is empty, an attempt failed, or the queue was moved meanwhile (a
//!   replay; another process: the record is then a no-op). Several
//!   processes on one database share the endpoints through the leases: an
//!   endpoint is delivered by one of them at a time.
//! - Everything it knows is in the database: after a restart it resumes
//!   where each queue stood. Deliveries whose answers came but whose run's
//!   record did not commit (a crash in between: up to a run's worth) are
//!   sent again: at least once.
//! - [`WebhookWorker::stop`] asks it to stop: the runs in flight are
//!   abandoned (their record not written, so their events are sent again
//!   later).

use crate::key::ServerKey;
use crate::sender::Sender;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use wallet_core::events::{Attempt, DeliveryStatus, RetrySchedule, Run, Webhook};
use wallet_core::model::Millis;
use wallet_core::text::PublicId;
use wallet_core::{Ledger, LedgerError};

/// Longest wait between two passes.
pub const POLL: Duration = Duration::from_secs(1);
/// How many endpoints are delivered at once per process.
pub const MAX_ACTIVE: usize = 64;
/// How long a lease holds: longer than an attempt may take (10 s) with its
/// record, so a live owner keeps it; a dead one's lapses after it.
pub const LEASE: Millis = 30_000;
/// How many events one run reads and sends at most.
pub const RUN_EVENTS: u32 = 100;
/// How long one run sends before it records what it did (then one more
/// attempt at most): the cursor and the deliveries lag by about this.
pub const RUN_TIME: Duration = Duration::from_secs(1);
/// How many events an endpoint does not take (its `types`) may follow its
/// cursor before a run moves the cursor past them with nothing to send.
pub const PASS_OVER: i64 = 1000;
/// How many due endpoints one pass reads.
const DUE_LIMIT: u32 = 256;
/// The wait after a pass failed (the database unavailable, say).
const RETRY: Duration = Duration::from_secs(1);

/// What the worker runs with.
#[derive(Clone)]
pub struct WorkerConfig {
    pub key: ServerKey,
    pub sender: Sender,
    pub schedule: RetrySchedule,
    /// This process's name on the leases it takes.
    pub owner: String,
}

impl WorkerConfig {
    /// A random owner name, one per process.
    pub fn random_owner() -> String {
        format!("proc-{}", wallet_core::text::random_base32(16))
    }
}

/// The running worker. Dropped without [`stop`](Self::stop), it is aborted.
pub struct WebhookWorker {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl WebhookWorker {
    pub fn start(ledger: Ledger, config: WorkerConfig) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(ledger, config, stopped));
        Self {
            stop,
            task: Some(task),
        }
    }

    /// Stops the worker and its tasks, and waits until they have ended.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for WebhookWorker {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The endpoints this process is working on.
type Active = Arc<Mutex<HashSet<PublicId>>>;

async fn run(ledger: Ledger, config: WorkerConfig, mut stopped: watch::Receiver<bool>) {
    let bell = ledger.event_bell();
    let active: Active = Arc::default();
    let finished = Arc::new(Notify::new());
    // Dropping the set (when the loop ends) aborts the tasks.
    let mut tasks = JoinSet::new();
    let mut failing = false;
    loop {
        if *stopped.borrow() {
            break;
        }
        // Subscribed before the pass reads: a commit during it rings again.
        let mut rings = bell.subscribe();
        rings.mark_unchanged();
        let wait = match pass(&ledger, &config, &active, &finished, &mut tasks).await {
            Ok(()) => {
                if failing {
                    failing = false;
                    log::info!("webhook deliveries work again");
                }
                POLL
            }
            Err(e) => {
                if !failing {
                    failing = true;
                    log::warn!("reading the webhooks' queues failed (retried every {RETRY:?}): {e}");
                }
                RETRY
            }
        };
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            biased;
            _ = stopped.changed() => break,
            _ = rings.changed() => {}
            () = finished.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    tasks.shutdown().await;
}

/// Starts a task for every due endpoint with an event waiting that is not
/// being worked on here, while fewer than [`MAX_ACTIVE`] run.
async fn pass(
    ledger: &Ledger,
    config: &WorkerConfig,
    active: &Active,
    finished: &Arc<Notify>,
    tasks: &mut JoinSet<()>,
) -> Result<(), LedgerError> {
    let due = ledger.due_webhooks(DUE_LIMIT).await?;
    for webhook in due {
        {
            let active = active.lock().unwrap_or_else(PoisonError::into_inner);
            if active.len() >= MAX_ACTIVE {
                break;
            }
            if active.contains(&webhook.id) {
                continue;
            }
        }
        // A read, not a write: idle endpoints cost no lease.
        if !ledger.webhook_has_work(&webhook, PASS_OVER).await? {
            continue;
        }
        active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(webhook.id.clone());
        let (ledger, config, active, finished) = (
            ledger.clone(),
            config.clone(),
            Arc::clone(active),
            Arc::clone(finished),
        );
        let working = Working {
            active,
            id: webhook.id.clone(),
            finished,
        };
        tasks.spawn(async move {
            let _working = working;
            let id = webhook.id.clone();
            if let Err(e) = deliver(&ledger, &config, webhook).await {
                log::warn!("delivering webhook {id}'s events failed: {e}");
            }
        });
    }
    Ok(())
}

/// Works one endpoint's queue while it holds the lease, in runs: each run
/// reads the next events ([`RUN_EVENTS`] at most, one read), sends them in
/// `seq` order and records what they came to in one write
/// ([`Ledger::record_run`], which renews the lease), until the queue is
/// empty, an attempt failed (the retry is due later) or the queue moved.
async fn deliver(ledger: &Ledger, config: &WorkerConfig, webhook: Webhook) -> Result<(), LedgerError> {
    if !ledger.lease_webhook(&webhook.id, &config.owner, LEASE).await? {
        return Ok(()); // another process has it
    }
    // Read again under the lease: its queue may have moved since.
    let Some(mut webhook) = ledger.webhook_state(&webhook.project_id, &webhook.id).await? else {
        return Ok(()); // deleted
    };
    let secret = config.key.webhook_secret(webhook.id.as_str(), &webhook.salt);
    let target = config.sender.target(&webhook.url);
    loop {
        if webhook.progress.next_attempt_at > ledger.now() {
            return Ok(());
        }
        let page = ledger.webhook_page(&webhook, RUN_EVENTS).await?;
        let mut run = Run::new(&webhook);
        let started = Instant::now();
        let mut whole_page = true;
        for event in &page.events {
            let timestamp = ledger.now().div_euclid(1000);
            let outcome = config.sender.send_to(&target, &secret, event, timestamp).await;
            if let Attempt::Failed { error, .. } = &outcome {
                log::info!("webhook {} event {}: {error}", webhook.id, event.id());
            }
            let spread = rand::random_range(-1.0..=1.0);
            let status = run.settle(
                &webhook,
                event.seq,
                outcome,
                ledger.now(),
                &config.schedule,
                spread,
            );
            if status == DeliveryStatus::Dead {
                log::warn!("webhook {} gave up on event {} (Dead)", webhook.id, event.id());
            }
            if status == DeliveryStatus::Failed || started.elapsed() >= RUN_TIME {
                whole_page = false;
                break;
            }
        }
        if whole_page {
            // Past the events it does not take too; with nothing sent, a
            // write only once they are many.
            let to = page.looked_at();
            if !page.events.is_empty() || to.saturating_sub(run.progress.cursor) >= PASS_OVER {
                run.pass_over_to(to);
            }
        }
        if run.is_empty() {
            return Ok(());
        }
        let sent = !run.deliveries.is_empty();
        let progress = run.progress;
        if !ledger.record_run(&config.owner, run, LEASE).await? {
            return Ok(()); // a replay or another process moved the queue
        }
        if !sent || progress.failures > 0 {
            return Ok(());
        }
        webhook.progress = progress;
    }
}

/// Takes an endpoint off the active set when its task ends, however it
/// ends (a panic or an abort too), and wakes the loop.
struct Working {
    active: Active,
    id: PublicId,
    finished: Arc<Notify>,
}

impl Drop for Working {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        self.finished.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_leaves_its_endpoint_inactive() {
        let active: Active = Arc::default();
        let finished = Arc::new(Notify::new());
        let id = PublicId::random("wh_");
        active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone());
        let working = Working {
            active: Arc::clone(&active),
            id,
            finished: Arc::clone(&finished),
        };
        let task = tokio::spawn(async move {
            let _working = working;
            panic!("a delivery task panics");
        });
        assert!(task.await.is_err(), "the task panicked");
        assert!(
            active.lock().unwrap_or_else(PoisonError::into_inner).is_empty(),
            "its endpoint is no longer active"
        );
        // And the loop was woken to look again.
        finished.notified().await;
    }
}
