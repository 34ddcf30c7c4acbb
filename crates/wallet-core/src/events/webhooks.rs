//! Webhooks: endpoints that receive a project's events, each through its
//! own queue, in `seq` order, one at a time, at least once.
//!
//! An endpoint's queue is its [`WebhookProgress`]: every event with `seq <=
//! cursor` is settled for it (delivered, or dead after its retries ran
//! out); the next matching event after the cursor is the one being tried.
//! [`settle`] is what one attempt does to it, pure, so the retry rules are
//! tested without a clock or a network.

use super::EventType;
use crate::model::Millis;
use crate::text::PublicId;

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: PublicId,
    pub project_id: String,
    pub url: String,
    /// The types it receives; `None`: every type (future ones too).
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    /// Random and not secret: the endpoint's signing secret is derived from
    /// it and the server's key, and is itself never stored.
    pub salt: String,
    pub created_at: Millis,
    pub progress: WebhookProgress,
}

impl Webhook {
    /// Whether the endpoint receives events of `kind`.
    pub fn wants(&self, kind: EventType) -> bool {
        self.types.as_ref().is_none_or(|types| types.contains(&kind))
    }
}

/// An endpoint to register. It receives the events committed after it: its
/// cursor starts at the project's head when the registration commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub id: PublicId,
    pub project_id: String,
    pub url: String,
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub salt: String,
    pub created_at: Millis,
}

/// Where an endpoint's queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookProgress {
    /// Every event with `seq <= cursor` is settled for this endpoint.
    pub cursor: i64,
    /// Failed attempts made at the event after the cursor (0: none yet).
    pub failures: u32,
    /// When the first of them was made.
    pub first_failure_at: Option<Millis>,
    /// The next attempt is not made before this time.
    pub next_attempt_at: Millis,
}

impl WebhookProgress {
    /// A queue that starts after `cursor`, ready now.
    pub fn at(cursor: i64, now: Millis) -> Self {
        Self {
            cursor,
            failures: 0,
            first_failure_at: None,
            next_attempt_at: now,
        }
    }
}

/// The status of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// The next attempt, not made yet (shown, never stored).
    Pending,
    /// A 2xx answer within the timeout.
    Delivered,
    /// Anything else; retried at `nextAttemptAt`.
    Failed,
    /// The last attempt failed and the retries ran out: the endpoint moved on.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Delivered => "Delivered",
            DeliveryStatus::Failed => "Failed",
            DeliveryStatus::Dead => "Dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Pending" => Some(DeliveryStatus::Pending),
            "Delivered" => Some(DeliveryStatus::Delivered),
            "Failed" => Some(DeliveryStatus::Failed),
            "Dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub webhook: PublicId,
    pub event_seq: i64,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    pub status: DeliveryStatus,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// Why it failed (no answer, a timeout, a refused address, a non-2xx).
    pub error: Option<String>,
    pub at: Millis,
    /// When it is tried again (`Failed` only).
    pub next_attempt_at: Option<Millis>,
}

/// What an endpoint's deliveries say about it (the admin page's health).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookHealth {
    /// The last attempt that was `Delivered`.
    pub last_delivered_at: Option<Millis>,
    /// The last attempt of any status.
    pub last_attempt_at: Option<Millis>,
    /// Failed attempts in a row at the event being tried now.
    pub failing: u32,
    /// Events that went `Dead` for it.
    pub dead: u64,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer within the timeout.
    Delivered { http_status: u16 },
    /// Anything else.
    Failed { http_status: Option<u16>, error: String },
}

/// When an endpoint's failed event is tried again: about 5 s, 30 s, 2 min,
/// 10 min, 1 h, then every 6 h, each delay moved by up to ±`jitter` of
/// itself; once `give_up_after` has passed since the first failure, the next
/// failure is the last (`Dead`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySchedule {
    pub delays: Vec<Millis>,
    pub then_every: Millis,
    pub give_up_after: Millis,
    /// 0.0..=1.0: the fraction of a delay the jitter may add or take.
    pub jitter: f64,
}

const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;

impl RetrySchedule {
    /// The Standard Webhooks-style schedule the server uses.
    pub fn standard() -> Self {
        Self {
            delays: vec![5 * SECOND, 30 * SECOND, 2 * MINUTE, 10 * MINUTE, HOUR],
            then_every: 6 * HOUR,
            give_up_after: 72 * HOUR,
            jitter: 0.2,
        }
    }

    /// Every time divided by `factor` (tests run the whole schedule in
    /// seconds); `factor` below 1 is taken as 1.
    pub fn scaled_down(factor: u32) -> Self {
        let factor = Millis::from(factor.max(1));
        let standard = Self::standard();
        Self {
            delays: standard.delays.iter().map(|d| (d / factor).max(1)).collect(),
            then_every: (standard.then_every / factor).max(1),
            give_up_after: (standard.give_up_after / factor).max(1),
            jitter: standard.jitter,
        }
    }

    /// The delay after the `failures`th failure (1-based), moved by `spread`
    /// (−1.0..=1.0, the caller's random draw) times the jitter.
    pub fn delay(&self, failures: u32, spread: f64) -> Millis {
        let index = usize::try_from(failures.saturating_sub(1)).unwrap_or(usize::MAX);
        let base = self.delays.get(index).copied().unwrap_or(self.then_every).max(1);
        let spread = spread.clamp(-1.0, 1.0) * self.jitter.clamp(0.0, 1.0);
        // Delays are far below 2^52 ms: exact in f64.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let moved = (base as f64 * (1.0 + spread)).round() as Millis;
        moved.max(1)
    }
}

/// An attempt settled: its row, and the endpoint's queue after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub delivery: Delivery,
    pub progress: WebhookProgress,
}

/// What attempt `outcome` at event `seq` (the next one after the cursor)
/// does to an endpoint's queue, at `now`: a delivery moves the cursor past
/// the event; a failure schedules the next attempt, or, once the schedule
/// gave up, marks the event `Dead` and moves on.
pub fn settle(
    webhook: &Webhook,
    seq: i64,
    outcome: Attempt,
    now: Millis,
    schedule: &RetrySchedule,
    spread: f64,
) -> Settled {
    let progress = webhook.progress;
    let attempt = progress.failures.saturating_add(1);
    let base = Delivery {
        webhook: webhook.id.clone(),
        event_seq: seq,
        attempt,
        status: DeliveryStatus::Delivered,
        http_status: None,
        error: None,
        at: now,
        next_attempt_at: None,
    };
    match outcome {
        Attempt::Delivered { http_status } => Settled {
            delivery: Delivery {
                http_status: Some(http_status),
                ..base
            },
            progress: WebhookProgress::at(seq, now),
        },
        Attempt::Failed { http_status, error } => {
            let first = progress.first_failure_at.unwrap_or(now);
            let gave_up = now.saturating_sub(first) >= schedule.give_up_after;
            if gave_up {
                Settled {
                    delivery: Delivery {
                        status: DeliveryStatus::Dead,
                        http_status,
                        error: Some(error),
                        ..base
                    },
                    progress: WebhookProgress::at(seq, now),
                }
            } else {
                let next = now.saturating_add(schedule.delay(attempt, spread));
                Settled {
                    delivery: Delivery {
                        status: DeliveryStatus::Failed,
                        http_status,
                        error: Some(error),
                        next_attempt_at: Some(next),
                        ..base
                    },
                    progress: WebhookProgress {
                        cursor: progress.cursor,
                        failures: attempt,
                        first_failure_at: Some(first),
                        next_attempt_at: next,
                    },
                }
            }
        }
    }
}

/// A run of attempts at one endpoint's queue, made one after another in
/// `seq` order and recorded together in one write (`WriteTx::record_run`):
/// each attempt is settled by [`settle`] on the queue as the attempts
/// before it left it, so a run records exactly what recording each attempt
/// on its own would have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub webhook: PublicId,
    /// Where the queue stood when the run started: the record is a no-op
    /// unless it still stands there (a replay or another owner moved it).
    pub from_cursor: i64,
    /// The attempts, in the order they were made (none: the run only moves
    /// the cursor past events the endpoint does not take).
    pub deliveries: Vec<Delivery>,
    /// The queue after them.
    pub progress: WebhookProgress,
}

impl Run {
    /// A run starting where `webhook`'s queue stands.
    pub fn new(webhook: &Webhook) -> Self {
        Self {
            webhook: webhook.id.clone(),
            from_cursor: webhook.progress.cursor,
            deliveries: Vec::new(),
            progress: webhook.progress,
        }
    }

    /// One attempt recorded on its own.
    pub fn single(from_cursor: i64, settled: Settled) -> Self {
        Self {
            webhook: settled.delivery.webhook.clone(),
            from_cursor,
            deliveries: vec![settled.delivery],
            progress: settled.progress,
        }
    }

    /// Settles attempt `outcome` at event `seq` (the next matching one
    /// after the run's cursor so far) and adds it; returns its status.
    pub fn settle(
        &mut self,
        webhook: &Webhook,
        seq: i64,
        outcome: Attempt,
        now: Millis,
        schedule: &RetrySchedule,
        spread: f64,
    ) -> DeliveryStatus {
        let mut at = webhook.clone();
        at.progress = self.progress;
        let settled = settle(&at, seq, outcome, now, schedule, spread);
        let status = settled.delivery.status;
        self.deliveries.push(settled.delivery);
        self.progress = settled.progress;
        status
    }

    /// Moves the cursor to `seq` when every event up to it was looked at
    /// and none the endpoint takes is left unsettled (no failure waits for
    /// its retry): events it does not take are passed over. Never back.
    pub fn pass_over_to(&mut self, seq: i64) {
        if self.progress.failures == 0 && seq > self.progress.cursor {
            self.progress.cursor = seq;
        }
    }

    /// Whether recording it moves or records anything.
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty() && self.progress.cursor == self.from_cursor
    }
}

/// What a run reads of an endpoint's queue: the project's head, read
/// first, then the next events the endpoint takes after its cursor, oldest
/// first. Every event up to `head` was committed before the events were
/// read, so when the page is not full it holds every event the endpoint
/// takes up to `head`: the others up to it can be passed over.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookPage {
    pub head: i64,
    pub events: Vec<super::Event>,
    /// Whether the page holds as many events as were asked for (more may
    /// follow).
    pub full: bool,
}

impl WebhookPage {
    /// How far the cursor may move once every event of the page is
    /// delivered: past the events it does not take up to the head, or to
    /// its last event when more may follow.
    pub fn looked_at(&self) -> i64 {
        let last = self.events.last().map_or(i64::MIN, |e| e.seq);
        if self.full {
            last
        } else {
            last.max(self.head)
        }
    }
}
