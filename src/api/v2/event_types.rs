//! API v2's bodies of the events feed and of webhooks, with their OpenAPI
//! schemas. An event is served exactly as `wallet_core::events::Event`
//! serializes (`Event::to_json`); `wire::EventDoc` documents it (and a
//! client reads it).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wallet_core::events::{self, DeliveryStatus};
// The bodies a client sends and the replies it reads are wallet_core's.
pub use wallet_core::wire::{
    DeliveryPage, EventDoc, NewWebhookBody, ReplayBody, Webhook, WebhookCreated, WebhookList,
};

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
