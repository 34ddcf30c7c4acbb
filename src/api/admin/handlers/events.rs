//! The project's events and webhooks on the admin page: the live feed (the
//! same long-poll as API v2's `GET /events`), each webhook's health, and
//! replay.

use super::{ok, operator, reply};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::v2::event_types::{EventPage, Webhook};
use crate::api::v2::handlers::events::{long_poll, DEFAULT_LIMIT, MAX_WAIT_SECONDS};
use crate::webhooks::Stopping;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use wallet_core::events::{EventQuery, WebhookHealth};
use wallet_core::text::PublicId;
use wallet_core::{Ledger, LedgerError, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, AdminError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    after: Option<i64>,
    limit: Option<u32>,
    /// Seconds (0–30) to hold an empty answer.
    wait: Option<u32>,
}

/// Events after `after`, oldest first; with `wait`, a long poll.
pub async fn list_events(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    stopping: web::Data<Stopping>,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(AdminError::bad_request("wait must be from 0 to 30 seconds"));
    }
    let request = EventQuery {
        after: query.after.unwrap_or(0),
        limit: query.limit.unwrap_or(DEFAULT_LIMIT),
        types: Vec::new(),
    };
    let page = long_poll(&ledger, &caller, request, wait, stopping.get_ref()).await?;
    Ok(ok().json(EventPage {
        events: page.events,
        next: page.next,
    }))
}

#[derive(Serialize)]
pub struct Head {
    seq: i64,
}

/// The `seq` of the project's last event: where the page's feed starts.
pub async fn head(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    Ok(ok().json(Head {
        seq: ledger.event_head(&caller).await?,
    }))
}

/// A webhook with what its deliveries say of it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRow {
    #[serde(flatten)]
    webhook: Webhook,
    /// Every event up to this `seq` is settled for it (delivered or dead).
    cursor: i64,
    health: Health,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    last_delivered_at: Option<i64>,
    last_attempt_at: Option<i64>,
    failing: u32,
    dead: u64,
}

impl From<WebhookHealth> for Health {
    fn from(h: WebhookHealth) -> Self {
        Self {
            last_delivered_at: h.last_delivered_at,
            last_attempt_at: h.last_attempt_at,
            failing: h.failing,
            dead: h.dead,
        }
    }
}

#[derive(Serialize)]
pub struct WebhookRows {
    items: Vec<WebhookRow>,
    total: usize,
}

/// The project's webhooks, oldest first, each with its health.
pub async fn list_webhooks(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let mut items = Vec::new();
    for webhook in ledger.webhooks(&caller).await? {
        let health = ledger.webhook_health(&caller, webhook.id.clone()).await?;
        items.push(WebhookRow {
            cursor: webhook.progress.cursor,
            webhook: Webhook::from(webhook),
            health: health.into(),
        });
    }
    Ok(ok().json(WebhookRows {
        total: items.len(),
        items,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    after: i64,
}

/// Sends every matching event after `after` again to the webhook.
pub async fn replay(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    body: Json<ReplayBody>,
) -> Result<HttpResponse, AdminError> {
    let (project, id) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let id = PublicId::parse(&id).map_err(|_| LedgerError::NotFound(Missing::Webhook))?;
    ledger.replay_webhook(&caller, id, body.after).await?;
    Ok(reply(HttpResponse::Accepted()).finish())
}
