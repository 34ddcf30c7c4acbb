//! Webhooks: registration (the secret shown once), listing, deletion, an
//! endpoint's deliveries and replay. Delivery itself is the worker's
//! (`wallet-webhooks`).

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, ErrorStatus, V2Error};
use crate::api::v2::event_types::{
    DeliveriesQuery, DeliveryPage, NewWebhookBody, ReplayBody, Webhook, WebhookCreated, WebhookList,
};
use crate::api::v2::requests::{description, optional, page};
use crate::webhooks::Webhooks;
use actix_web::{web, HttpResponse};
use wallet_core::events::{DeliveryStatus, EventType};
use wallet_core::policy::Action;
use wallet_core::text::PublicId;
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// A webhook id in a path: one that cannot exist is not found.
fn path_webhook(id: &str) -> Result<PublicId, V2Error> {
    PublicId::parse(id)
        .ok()
        .filter(|id| id.as_str().starts_with("wh_"))
        .ok_or_else(|| V2Error::not_found(Missing::Webhook))
}

/// Registers an endpoint. It receives the events committed after it (older
/// ones through replay). The reply is the only one with its `secret`. A
/// 400 when the URL's host does not resolve, or resolves to a loopback,
/// private, link-local or metadata address.
#[utoipa::path(post, path = "/api/v2/webhooks", tag = "webhooks", request_body = NewWebhookBody,
    responses((status = 201, body = WebhookCreated), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_webhook(
    auth: Auth,
    ledger: web::Data<Ledger>,
    webhooks: web::Data<Webhooks>,
    body: Json<NewWebhookBody>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWebhooks)?;
    let body = body.into_inner();
    let Some(key) = webhooks.key.as_ref() else {
        return Err(V2Error::new(
            ErrorStatus::Conflict,
            "webhooks are off: this server has no secret_key_file (with PostgreSQL, set the same one on every process)",
        ));
    };
    let url = body.url.trim().to_owned();
    let checked = webhooks
        .policy
        .parse_url(&url)
        .map_err(|e| V2Error::invalid(e.0))?;
    webhooks
        .policy
        .check_resolved(&checked)
        .await
        .map_err(|e| V2Error::invalid(e.0))?;
    let types = match body.types {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(V2Error::invalid(
                "types must name at least one event type (omit it for all)",
            ))
        }
        Some(list) => {
            let mut types = list
                .iter()
                .map(|t| t.parse::<EventType>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| V2Error::invalid(format!("types: {e}")))?;
            types.sort_unstable();
            types.dedup();
            Some(types)
        }
    };
    let description = optional(body.description.as_deref(), description)?;
    let webhook = ledger.create_webhook(caller, url, types, description).await?;
    let secret = key.webhook_secret(webhook.id.as_str(), &webhook.salt);
    Ok(HttpResponse::Created().json(WebhookCreated {
        id: webhook.id.as_str().to_owned(),
        url: webhook.url,
        types: webhook.types,
        description: webhook.description,
        secret: secret.to_whsec(),
        created_at: webhook.created_at,
    }))
}

/// The project's webhooks (never their secrets).
#[utoipa::path(get, path = "/api/v2/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_webhooks(auth: Auth, ledger: web::Data<Ledger>) -> Result<HttpResponse, V2Error> {
    let webhooks = ledger.webhooks(auth.may(Action::ManageWebhooks)?).await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: webhooks.into_iter().map(Webhook::from).collect(),
    }))
}

/// One webhook (never its secret).
#[utoipa::path(get, path = "/api/v2/webhooks/{webhookId}", tag = "webhooks",
    params(("webhookId" = String, Path, pattern = "^wh_[A-Za-z0-9_-]{0,27}$")),
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_webhook(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWebhooks)?;
    let webhook = ledger.webhook(caller, path_webhook(&path)?).await?;
    Ok(HttpResponse::Ok().json(Webhook::from(webhook)))
}

/// Deletes a webhook and its deliveries.
#[utoipa::path(delete, path = "/api/v2/webhooks/{webhookId}", tag = "webhooks",
    params(("webhookId" = String, Path, pattern = "^wh_[A-Za-z0-9_-]{0,27}$")),
    responses((status = 204), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_webhook(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWebhooks)?;
    ledger.delete_webhook(caller, path_webhook(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook's delivery attempts, newest first; the first page starts with
/// the next attempt due (`Pending`) when an event waits.
#[utoipa::path(get, path = "/api/v2/webhooks/{webhookId}/deliveries", tag = "webhooks",
    params(("webhookId" = String, Path, pattern = "^wh_[A-Za-z0-9_-]{0,27}$"), DeliveriesQuery),
    responses((status = 200, body = DeliveryPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_deliveries(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWebhooks)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            DeliveryStatus::parse(s)
                .ok_or_else(|| V2Error::invalid("status must be Pending, Delivered, Failed or Dead"))?,
        ),
    };
    let paging = page(query.page, query.page_size)?;
    let deliveries = ledger
        .deliveries(caller, path_webhook(&path)?, status, paging)
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryPage::new(deliveries, paging)))
}

/// Sends every matching event after `after` again, in order (the webhook's
/// queue moves back to it).
#[utoipa::path(post, path = "/api/v2/webhooks/{webhookId}/replay", tag = "webhooks",
    params(("webhookId" = String, Path, pattern = "^wh_[A-Za-z0-9_-]{0,27}$")), request_body = ReplayBody,
    responses((status = 202), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replay_webhook(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<ReplayBody>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWebhooks)?;
    let id = path_webhook(&path)?;
    if body.after < 0 {
        return Err(V2Error::invalid("after must be 0 or more"));
    }
    ledger.replay_webhook(caller, id, body.after).await?;
    // The worker wakes on the bell.
    ledger.event_bell().ring();
    Ok(HttpResponse::Accepted().finish())
}
