//! API v2: the multi-asset ledger (Cloud Wallet model). See `docs/api-v2.md`.

mod auth;
mod constraints;
mod error;
pub(crate) mod event_types;
pub(crate) mod handlers;
mod openapi;
pub(crate) mod requests;
pub(crate) mod types;

pub use error::{ErrorStatus, V2Error};
pub use openapi::document;

use super::Limits;
use actix_web::{web, HttpResponse};
use handlers::{customers, events, holds, items, lots, project, transactions, wallets, webhooks};

pub fn configure(cfg: &mut web::ServiceConfig, limits: Limits) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(limits.max_body_bytes)
            .error_handler(|e, _| V2Error::from(e).into()),
    )
    .app_data(web::PayloadConfig::default().limit(limits.max_body_bytes))
    .app_data(web::QueryConfig::default().error_handler(|e, _| V2Error::from(e).into()))
    .app_data(web::PathConfig::default().error_handler(|e, _| V2Error::from(e).into()))
    .service(web::resource("/openapi.json").route(web::get().to(openapi::serve)))
    .service(web::resource("/project").route(web::get().to(project::get_project)))
    .service(
        web::resource("/assets")
            .route(web::post().to(project::create_asset))
            .route(web::get().to(project::list_assets)),
    )
    .service(
        web::resource("/assets/{assetId}")
            .route(web::get().to(project::get_asset))
            .route(web::delete().to(project::delete_asset)),
    )
    .service(web::resource("/assets/{assetId}/name").route(web::put().to(project::rename_asset)))
    .service(
        web::resource("/customers")
            .route(web::post().to(customers::create_customer))
            .route(web::get().to(customers::list_customers)),
    )
    .service(
        web::resource("/customers/{customerId}")
            .route(web::get().to(customers::get_customer))
            .route(web::put().to(customers::put_customer))
            .route(web::delete().to(customers::delete_customer)),
    )
    .service(
        web::resource("/customers/{customerId}/suspend").route(web::post().to(customers::suspend_customer)),
    )
    .service(
        web::resource("/customers/{customerId}/resume").route(web::post().to(customers::resume_customer)),
    )
    .service(
        web::resource("/customers/{customerId}/keys")
            .route(web::post().to(customers::create_key))
            .route(web::get().to(customers::list_keys)),
    )
    .service(
        web::resource("/customers/{customerId}/keys/{keyId}").route(web::delete().to(customers::revoke_key)),
    )
    .service(
        web::resource("/customers/{customerId}/wallets").route(web::get().to(wallets::list_customer_wallets)),
    )
    .service(web::resource("/customers/{customerId}/items").route(web::get().to(items::list_customer_items)))
    .service(
        web::resource("/wallets")
            .route(web::post().to(wallets::create_wallet))
            .route(web::get().to(wallets::list_own_wallets)),
    )
    .service(
        web::resource("/system-wallets")
            .route(web::post().to(wallets::create_system_wallet))
            .route(web::get().to(wallets::list_system_wallets)),
    )
    .service(web::resource("/wallets/{walletId}").route(web::get().to(wallets::get_wallet)))
    .service(web::resource("/wallets/{walletId}/name").route(web::put().to(wallets::rename_wallet)))
    .service(web::resource("/wallets/{walletId}/description").route(web::put().to(wallets::describe_wallet)))
    .service(web::resource("/wallets/{walletId}/status").route(web::put().to(wallets::set_wallet_status)))
    .service(web::resource("/wallets/{walletId}/entries").route(web::get().to(wallets::list_entries)))
    .service(web::resource("/wallets/{walletId}/holds").route(web::get().to(holds::list_wallet_holds)))
    .service(web::resource("/wallets/{walletId}/lots").route(web::get().to(lots::list_wallet_lots)))
    .service(web::resource("/wallets/{walletId}/balance").route(web::get().to(holds::balance_at)))
    .service(web::resource("/wallets/{walletId}/credit-limit").route(web::put().to(holds::set_credit_limit)))
    .service(web::resource("/holds/{holdId}").route(web::get().to(holds::get_hold)))
    .service(web::resource("/items").route(web::get().to(items::list_stock_items)))
    .service(web::resource("/items/{itemId}").route(web::get().to(items::get_item)))
    .service(web::resource("/items/{itemId}/history").route(web::get().to(items::item_history)))
    .service(
        web::resource("/transactions")
            .route(web::post().to(transactions::post_transaction))
            .route(web::get().to(transactions::list_transactions)),
    )
    .service(
        web::resource("/transactions/batch")
            // A batch of 8,000 transactions needs a larger body than one request.
            .app_data(
                web::JsonConfig::default()
                    .limit(limits.max_batch_body_bytes)
                    .error_handler(|e, _| V2Error::from(e).into()),
            )
            .route(web::post().to(transactions::post_batch)),
    )
    .service(web::resource("/transactions/{txId}").route(web::get().to(transactions::get_transaction)))
    .service(web::resource("/events").route(web::get().to(events::feed)))
    .service(web::resource("/events/stream").route(web::get().to(events::stream)))
    .service(
        web::resource("/webhooks")
            .route(web::post().to(webhooks::create_webhook))
            .route(web::get().to(webhooks::list_webhooks)),
    )
    .service(
        web::resource("/webhooks/{webhookId}")
            .route(web::get().to(webhooks::get_webhook))
            .route(web::delete().to(webhooks::delete_webhook)),
    )
    .service(
        web::resource("/webhooks/{webhookId}/deliveries").route(web::get().to(webhooks::list_deliveries)),
    )
    .service(web::resource("/webhooks/{webhookId}/replay").route(web::post().to(webhooks::replay_webhook)))
    // A path no resource matches: an empty 404 that `json_error_body` turns
    // into this API's error body.
    .default_service(web::to(HttpResponse::NotFound));
}
