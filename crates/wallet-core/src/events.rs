//! Events: what the outbox records of every committed change, in the same
//! transaction as the change, numbered per project 1, 2, 3, … with no gaps,
//! each hash-chained to the one before.
//!
//! - [`EventType`]: the dotted type names (`transaction.completed`, …).
//! - [`Event`]: one stored event, served as `{seq, id, type, projectId,
//!   createdAt, data, hash}`.
//! - [`canonical`]: the canonical JSON the hash is taken over, and
//!   [`Event::chained`]: `hash = sha256_hex(previous hash ‖ canonical JSON of
//!   the event without hash)`.
//! - [`Draft`]: an event a write job records, numbered and hashed when the
//!   job's outbox is flushed ([`chain`]).
//! - webhooks: [`Webhook`], [`Delivery`], the retry schedule
//!   ([`RetrySchedule`]) and what an attempt does to an endpoint's queue
//!   ([`settle`]).

pub mod canonical;
mod types;
mod webhooks;

pub use types::{EventType, UnknownEventType};
pub use webhooks::{
    settle, Attempt, Delivery, DeliveryStatus, NewWebhook, RetrySchedule, Run, Settled, Webhook,
    WebhookHealth, WebhookPage, WebhookProgress,
};

use crate::ids::CustomerRowId;
use crate::model::Millis;
use serde::ser::SerializeStruct;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// The `hash` before a project's first event: 64 `0` characters.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as stored and served.
#[derive(Debug, Clone)]
pub struct Event {
    /// 1, 2, 3, … per project, in commit order, with no gaps.
    pub seq: i64,
    pub project_id: String,
    pub kind: EventType,
    pub created_at: Millis,
    /// The event's data, in canonical JSON ([`canonical::canonical`]).
    pub data: Box<RawValue>,
    /// Lowercase hex SHA-256 of the previous event's hash followed by this
    /// event's canonical JSON (without `hash`).
    pub hash: String,
    /// The customers the event touches (their wallets, holds, items, or the
    /// customer itself): whose customer keys may stream it. Not served.
    /// `asset.*` events name none and reach every customer
    /// ([`EventType::is_public`]).
    pub customers: Vec<CustomerRowId>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
            && self.project_id == other.project_id
            && self.kind == other.kind
            && self.created_at == other.created_at
            && self.data.get() == other.data.get()
            && self.hash == other.hash
            && self.customers == other.customers
    }
}

impl Eq for Event {}

impl Event {
    /// `"<projectId>:<seq>"`: the event's id, and the `webhook-id` of its
    /// deliveries.
    pub fn id(&self) -> String {
        format!("{}:{}", self.project_id, self.seq)
    }

    /// The event without `hash` in canonical JSON: keys sorted (`createdAt`,
    /// `data`, `id`, `projectId`, `seq`, `type`), no whitespace; `data` is
    /// canonical already.
    pub fn canonical_body(&self) -> String {
        let mut out = String::with_capacity(self.data.get().len() + 128);
        out.push_str("{\"createdAt\":");
        out.push_str(&self.created_at.to_string());
        out.push_str(",\"data\":");
        out.push_str(self.data.get());
        out.push_str(",\"id\":");
        canonical::push_string(&mut out, &self.id());
        out.push_str(",\"projectId\":");
        canonical::push_string(&mut out, &self.project_id);
        out.push_str(",\"seq\":");
        out.push_str(&self.seq.to_string());
        out.push_str(",\"type\":");
        canonical::push_string(&mut out, self.kind.as_str());
        out.push('}');
        out
    }

    /// The hash this event must carry after `previous` (the previous event's
    /// hash, or [`GENESIS`]).
    pub fn expected_hash(&self, previous: &str) -> String {
        chain_hash(previous, &self.canonical_body())
    }

    /// Whether a customer key of `customer` may see this event.
    pub fn reaches(&self, customer: CustomerRowId) -> bool {
        self.kind.is_public() || self.customers.contains(&customer)
    }

    /// The event as served (keys sorted, `hash` among them, no whitespace):
    /// what a webhook receives and an SSE `data:` line carries.
    pub fn to_json(&self) -> String {
        // Serializing strings, integers and already-valid JSON cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Keys in canonical order, `hash` where it sorts.
        let mut e = s.serialize_struct("Event", 7)?;
        e.serialize_field("createdAt", &self.created_at)?;
        e.serialize_field("data", &self.data)?;
        e.serialize_field("hash", &self.hash)?;
        e.serialize_field("id", &self.id())?;
        e.serialize_field("projectId", &self.project_id)?;
        e.serialize_field("seq", &self.seq)?;
        e.serialize_field("type", self.kind.as_str())?;
        e.end()
    }
}

/// `hex(sha256(previous ‖ body))`.
pub fn chain_hash(previous: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(body.as_bytes());
    hex(&hasher.finalize())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Where a project's chain stands: its last event's `seq` and `hash` (0 and
/// [`GENESIS`] before the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHead {
    pub seq: i64,
    pub hash: String,
}

impl EventHead {
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// What `events prune` leaves of the events it dropped: the last one's `seq`
/// and `hash`, so the chain still verifies from there, signed with the
/// server's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub pruned_at: Millis,
    /// Lowercase hex HMAC-SHA256 of [`Anchor::signed_text`] under the
    /// server's key.
    pub signature: String,
}

impl Anchor {
    /// What the signature covers: `"<projectId>:<seq>:<hash>"`.
    pub fn signed_text(project: &str, seq: i64, hash: &str) -> String {
        format!("{project}:{seq}:{hash}")
    }
}

/// An event a write job records; [`chain`] numbers and hashes it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: EventType,
    /// Canonical JSON.
    pub data: Box<RawValue>,
    pub customers: Vec<CustomerRowId>,
}

impl Draft {
    /// A draft of `data`, put in canonical JSON. `data` is one of the API's
    /// objects, so it serializes.
    pub fn new(
        kind: EventType,
        data: &impl serde::Serialize,
        mut customers: Vec<CustomerRowId>,
    ) -> Result<Self, canonical::NotJson> {
        let text = serde_json::to_string(data).map_err(|_| canonical::NotJson)?;
        let data = canonical::canonical_raw(&text)?;
        customers.sort_unstable();
        customers.dedup();
        Ok(Self {
            kind,
            data,
            customers,
        })
    }
}

/// Numbers and hashes `drafts` after `head`, all dated `created_at`; returns
/// the events and the new head.
pub fn chain(
    head: &EventHead,
    project: &str,
    created_at: Millis,
    drafts: Vec<Draft>,
) -> (Vec<Event>, EventHead) {
    let mut previous = head.clone();
    let mut events = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let mut event = Event {
            seq: previous.seq + 1,
            project_id: project.to_owned(),
            kind: draft.kind,
            created_at,
            data: draft.data,
            hash: String::new(),
            customers: draft.customers,
        };
        event.hash = event.expected_hash(&previous.hash);
        previous = EventHead {
            seq: event.seq,
            hash: event.hash.clone(),
        };
        events.push(event);
    }
    (events, previous)
}

/// A page of the feed: events oldest first, and the `seq` to pass as
/// `after` for the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next: i64,
}

/// What a feed read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// Events with `seq > after`.
    pub after: i64,
    /// 1..=[`EventQuery::MAX_LIMIT`].
    pub limit: u32,
    /// Only these types; empty: all.
    pub types: Vec<EventType>,
}

impl EventQuery {
    pub const MAX_LIMIT: u32 = 1000;
}

/// The first place `verify` found the events or the ledger disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub seq: i64,
    pub reason: String,
}

/// What `verify` found in one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectVerification {
    pub project: String,
    /// Events checked.
    pub events: u64,
    /// Where the chain starts: 0, or the anchor of pruned events.
    pub from_seq: i64,
    pub mismatch: Option<Mismatch>,
}

#[cfg(test)]
mod tests;
