//! The dashboard of a project: its overview (the charts' numbers), the
//! search by referenceId, transaction id, customer id and item id, and the
//! live feed of its events (API v2's Server-Sent Events stream, for the
//! admin session).

use super::{ok, operator};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::admin::session::{self, COOKIE};
use crate::api::v2::handlers::events::{last_event_id, sse, StillAllowed};
use crate::api::v2::types::{Customer, Item, Transaction};
use crate::webhooks::Stopping;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use wallet_core::overview::{self, AssetOverview, WebhookOverview};
use wallet_core::wire::Delivery;
use wallet_core::Ledger;

/// The longest search text: longer than any id (ids are at most 200
/// characters), so a longer one is a mistake worth a 400.
const MAX_SEARCH: usize = 200;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The start of the first day, the start of the first minute, and the
    /// end (exclusive) of both series, epoch milliseconds (UTC).
    days_from: i64,
    minutes_from: i64,
    to: i64,
    /// The project's last event `seq`: where the live feed starts.
    head: i64,
    assets: Vec<AssetRow>,
    /// 60 minutes, oldest first.
    minutes: Vec<Minute>,
    webhooks: Vec<WebhookRow>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AssetRow {
    id: String,
    code: String,
    name: String,
    fractions: i64,
    /// Issued − redeemed − expired: the sum of its wallets' balances.
    supply: i128,
    wallets: u64,
    open_holds: u64,
    /// What its Open holds still reserve.
    held: i128,
    /// 30 UTC days, oldest first (today last), zeros included.
    days: Vec<Day>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Day {
    day: i64,
    issued: i128,
    redeemed: i128,
    expired: i128,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Minute {
    minute: i64,
    transactions: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookRow {
    id: String,
    url: String,
    /// Every event up to this `seq` is settled for it.
    cursor: i64,
    /// Events after the cursor (an upper bound when it takes some types).
    backlog: i64,
    failing: u32,
    dead: u64,
    last_delivered_at: Option<i64>,
    last_attempt_at: Option<i64>,
    last_delivery: Option<Delivery>,
}

impl From<AssetOverview> for AssetRow {
    fn from(a: AssetOverview) -> Self {
        Self {
            id: a.asset.id.to_string(),
            code: a.asset.code,
            name: a.asset.name,
            fractions: a.asset.fractions,
            supply: a.supply,
            wallets: a.wallets,
            open_holds: a.open_holds,
            held: a.held,
            days: a
                .days
                .into_iter()
                .map(|d| Day {
                    day: d.day,
                    issued: d.issued,
                    redeemed: d.redeemed,
                    expired: d.expired,
                })
                .collect(),
        }
    }
}

impl From<WebhookOverview> for WebhookRow {
    fn from(w: WebhookOverview) -> Self {
        Self {
            id: w.webhook.id.as_str().to_owned(),
            cursor: w.webhook.progress.cursor,
            url: w.webhook.url,
            backlog: w.backlog,
            failing: w.health.failing,
            dead: w.health.dead,
            last_delivered_at: w.health.last_delivered_at,
            last_attempt_at: w.health.last_attempt_at,
            last_delivery: w.last_delivery.map(Delivery::from),
        }
    }
}

impl From<overview::Overview> for Overview {
    fn from(o: overview::Overview) -> Self {
        Self {
            days_from: o.window.days_from,
            minutes_from: o.window.minutes_from,
            to: o.window.to,
            head: o.head,
            assets: o.assets.into_iter().map(AssetRow::from).collect(),
            minutes: o
                .minutes
                .into_iter()
                .map(|(minute, transactions)| Minute { minute, transactions })
                .collect(),
            webhooks: o.webhooks.into_iter().map(WebhookRow::from).collect(),
        }
    }
}

/// The project's overview now.
pub async fn overview(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let overview = ledger.overview(&caller).await?;
    Ok(ok().json(Overview::from(overview)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
}

/// One thing a search found. `kind` says which, `matched` by what.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Hit {
    Transaction {
        /// `referenceId` or `id`.
        matched: &'static str,
        transaction: Transaction,
    },
    Customer {
        matched: &'static str,
        customer: Customer,
    },
    Item {
        matched: &'static str,
        item: Item,
    },
}

#[derive(Serialize)]
pub struct SearchReply {
    q: String,
    results: Vec<Hit>,
}

/// Searches the project for `q`: a transaction's `referenceId` or id, a
/// customer id, an item id. Every kind it names is listed (none: `[]`).
pub async fn search(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let q = query.into_inner().q.trim().to_owned();
    if q.is_empty() {
        return Err(AdminError::bad_request("q must not be empty"));
    }
    if q.chars().count() > MAX_SEARCH {
        return Err(AdminError::bad_request(format!(
            "q must be at most {MAX_SEARCH} characters"
        )));
    }
    let hits = ledger.search(&caller, q.clone()).await?;
    let mut results = Vec::new();
    if let Some(t) = hits.by_reference {
        results.push(Hit::Transaction {
            matched: "referenceId",
            transaction: t.into(),
        });
    }
    if let Some(t) = hits.transaction {
        results.push(Hit::Transaction {
            matched: "id",
            transaction: t.into(),
        });
    }
    if let Some(c) = hits.customer {
        results.push(Hit::Customer {
            matched: "id",
            customer: c.into(),
        });
    }
    if let Some(i) = hits.item {
        results.push(Hit::Item {
            matched: "id",
            item: i.into(),
        });
    }
    Ok(ok().json(SearchReply { q, results }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    after: Option<i64>,
}

/// The project's events as Server-Sent Events, for the admin session: after
/// `Last-Event-ID` (a reconnect) or `after`, else from the next new event.
pub async fn stream(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    stopping: web::Data<Stopping>,
    path: web::Path<String>,
    query: web::Query<StreamQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let last_event_id = last_event_id(&request).map_err(AdminError::bad_request)?;
    let start = match last_event_id.or(query.after) {
        Some(a) if a < 0 => return Err(AdminError::bad_request("after must be 0 or more")),
        Some(a) => a,
        None => ledger.event_head(&caller).await?,
    };
    // The session is checked again before every batch and keep-alive: a
    // logout, an expiry or a new admin password ends the stream.
    let still_allowed: Option<StillAllowed> = request.cookie(COOKIE).map(|cookie| {
        let (ledger, token) = (ledger.get_ref().clone(), cookie.value().to_owned());
        let check: StillAllowed = Box::new(move || {
            let (ledger, token) = (ledger.clone(), token.clone());
            Box::pin(async move { matches!(session::find(&ledger, &token).await, Ok(Some(_))) })
        });
        check
    });
    Ok(sse(
        ledger.get_ref().clone(),
        caller,
        start,
        Vec::new(),
        stopping.get_ref().clone(),
        still_allowed,
    ))
}
