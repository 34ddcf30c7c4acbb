//! API v2: the multi-asset ledger (Cloud Wallet model). See `docs/api-v2.md`.

mod auth;
mod error;
mod handlers;
mod openapi;
mod requests;
mod types;

pub use error::{ErrorStatus, V2Error};
pub use openapi::document;

use super::Limits;
use actix_web::web;
use handlers::{customers, project, transactions, wallets};

pub fn configure(cfg: &mut web::ServiceConfig, limits: Limits) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(limits.max_body_bytes)
            .error_handler(|e, _| V2Error::from(e).into()),
    )
    .app_data(web::PayloadConfig::default().limit(limits.max_body_bytes))
    .app_data(web::QueryConfig::default().error_handler(|e, _| V2Error::from(e).into()))
    .app_data(web::PathConfig::default().error_handler(|e, _| V2Error::from(e).into()))
    .route("/openapi.json", web::get().to(openapi::serve))
    .route("/project", web::get().to(project::get_project))
    .route("/assets", web::post().to(project::create_asset))
    .route("/assets", web::get().to(project::list_assets))
    .route("/assets/{assetId}", web::get().to(project::get_asset))
    .route("/assets/{assetId}", web::delete().to(project::delete_asset))
    .route("/assets/{assetId}/name", web::put().to(project::rename_asset))
    .route("/customers", web::post().to(customers::create_customer))
    .route("/customers", web::get().to(customers::list_customers))
    .route("/customers/{customerId}", web::get().to(customers::get_customer))
    .route("/customers/{customerId}", web::put().to(customers::put_customer))
    .route(
        "/customers/{customerId}",
        web::delete().to(customers::delete_customer),
    )
    .route(
        "/customers/{customerId}/suspend",
        web::post().to(customers::suspend_customer),
    )
    .route(
        "/customers/{customerId}/resume",
        web::post().to(customers::resume_customer),
    )
    .route(
        "/customers/{customerId}/keys",
        web::post().to(customers::create_key),
    )
    .route(
        "/customers/{customerId}/keys",
        web::get().to(customers::list_keys),
    )
    .route(
        "/customers/{customerId}/keys/{keyId}",
        web::delete().to(customers::revoke_key),
    )
    .route(
        "/customers/{customerId}/wallets",
        web::get().to(wallets::list_customer_wallets),
    )
    .route("/wallets", web::post().to(wallets::create_wallet))
    .route("/wallets", web::get().to(wallets::list_own_wallets))
    .route("/system-wallets", web::post().to(wallets::create_system_wallet))
    .route("/system-wallets", web::get().to(wallets::list_system_wallets))
    .route("/wallets/{walletId}", web::get().to(wallets::get_wallet))
    .route("/wallets/{walletId}/name", web::put().to(wallets::rename_wallet))
    .route(
        "/wallets/{walletId}/description",
        web::put().to(wallets::describe_wallet),
    )
    .route(
        "/wallets/{walletId}/status",
        web::put().to(wallets::set_wallet_status),
    )
    .route(
        "/wallets/{walletId}/entries",
        web::get().to(wallets::list_entries),
    )
    .route("/transactions", web::post().to(transactions::post_transaction))
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
    .route("/transactions", web::get().to(transactions::list_transactions))
    .route(
        "/transactions/{txId}",
        web::get().to(transactions::get_transaction),
    );
}
