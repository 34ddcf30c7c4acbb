//! API v2's bodies of the events feed and of webhooks, with their OpenAPI
//! schemas. An event is served exactly as `wallet_core::events::Event`
//! serializes (`Event::to_json`); [`Event`] here only documents it.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wallet_core::events::{self, DeliveryStatus, EventType};
use wallet_core::model::{Page, PageRequest};
// The bodies a client sends are wallet_core's: what a client writes too.
pub use wallet_core::wire::{NewWebhookBody, ReplayBody};

/// One event, as the feed, the stream and webhooks serve it (keys sorted,
/// no whitespace).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
#[allow(dead_code)] // a schema only: events are served by `events::Event`
#[serde(rename_all = "camelCase")]
pub struct EventDoc {
    /// Epoch milliseconds of the commit.
    pub created_at: i64,
    /// What changed: the Transaction, Wallet, Customer, Hold, Item, Lot or
    /// Asset as after the change, or a balance change.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Lowercase hex SHA-256 of the previous event's hash followed by this
    /// event's canonical JSON without `hash`.
    pub hash: String,
    /// `<projectId>:<seq>`; the `webhook-id` of its deliveries.
    pub id: String,
    pub project_id: String,
    /// 1, 2, 3, … per project, with no gaps, in commit order.
    pub seq: i64,
    /// The event type (`transaction.completed`, …).
    #[serde(rename = "type")]
    #[schema(rename = "type", example = "transaction.completed")]
    pub kind: String,
}

/// One Server-Sent Events message of `GET /events/stream`, as an SSE
/// parser reads it (`id:`, `event:` and `data:` lines; the keep-alive
/// comments carry no message).
#[derive(Debug, Serialize, ToSchema)]
pub struct StreamMessage {
    /// The event's `seq`: what `Last-Event-ID` resumes after.
    pub id: String,
    /// The event's type (`transaction.completed`, …).
    pub event: String,
    /// The Event, as JSON on one line (as `GET /events` shows it).
    pub data: String,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Oldest first.
    #[schema(value_type = Vec<EventDoc>)]
    pub events: Vec<events::Event>,
    /// The `after` of the next call: the last `seq` returned, or the
    /// `after` given when none was.
    pub next: i64,
}

/// `GET /events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Events with a `seq` greater than this; default 0.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1-1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Comma-separated event types; default all.
    #[param(pattern = r"^ *(?:\{EventType\} *)?(?:, *(?:\{EventType\} *)?)*$")]
    pub types: Option<String>,
    /// Seconds (0-30) to hold an empty answer until an event arrives.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u32>,
}

/// `GET /events/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Events with a `seq` greater than this; the `Last-Event-ID` header
    /// wins over it; neither: only new events.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Comma-separated event types; default all.
    #[param(pattern = r"^ *(?:\{EventType\} *)?(?:, *(?:\{EventType\} *)?)*$")]
    pub types: Option<String>,
}

/// A registered webhook.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// The types it receives; null: all.
    #[schema(value_type = Option<Vec<String>>)]
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub created_at: i64,
}

impl From<events::Webhook> for Webhook {
    fn from(w: events::Webhook) -> Self {
        Self {
            id: w.id.as_str().to_owned(),
            url: w.url,
            types: w.types,
            description: w.description,
            created_at: w.created_at,
        }
    }
}

/// The reply that registers a webhook: the only one that shows its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCreated {
    pub id: String,
    pub url: String,
    #[schema(value_type = Option<Vec<String>>)]
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    /// `whsec_<base64>`: the Standard Webhooks signing secret. Shown only
    /// here.
    pub secret: String,
    pub created_at: i64,
}

/// The webhooks of the project.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// One delivery attempt (or, `Pending`, the next one due).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub event_seq: i64,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    pub status: DeliveryStatus,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Epoch milliseconds of the attempt (`Pending`: when it is due).
    pub at: i64,
    /// When it is tried again.
    pub next_attempt_at: Option<i64>,
}

impl From<events::Delivery> for Delivery {
    fn from(d: events::Delivery) -> Self {
        Self {
            event_seq: d.event_seq,
            attempt: d.attempt,
            status: d.status,
            http_status: d.http_status,
            error: d.error,
            at: d.at,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

/// A page of a webhook's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub page: u32,
    pub page_size: u32,
    /// Items in all pages.
    pub total: i64,
}

impl DeliveryPage {
    pub fn new(paged: Page<events::Delivery>, page: PageRequest) -> Self {
        Self {
            items: paged.items.into_iter().map(Delivery::from).collect(),
            page: page.page,
            page_size: page.size,
            total: paged.total,
        }
    }
}

/// `GET /webhooks/{id}/deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `Pending`, `Delivered`, `Failed` or `Dead`; default all.
    #[param(value_type = Option<DeliveryStatus>)]
    pub status: Option<String>,
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u32>,
}
