//! API v1: the wire protocol of the Python SDK `wallet-sdk-Noah-Huppert` 1.1.0.

mod auth;
mod error;
mod handlers;
mod types;

pub use error::V1Error;

use super::Limits;
use actix_web::web;

/// The API version `/health` reports; the SDK requires `1.x.y` with x >= 1.
pub const API_VERSION: &str = "1.1.0";

pub fn configure(cfg: &mut web::ServiceConfig, limits: Limits) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(limits.max_body_bytes)
            .error_handler(|e, _| V1Error::from(e).into()),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| V1Error::from(e).into()))
    .app_data(web::PathConfig::default().error_handler(|e, _| V1Error::from(e).into()))
    .route("/health", web::get().to(handlers::health))
    .route("/wallet", web::get().to(handlers::get_wallets))
    .route("/entry", web::post().to(handlers::create_entry))
    .route("/entry/inventory", web::get().to(handlers::get_inventory))
    .route(
        "/entry/{entry_id}/inventory/use",
        web::post().to(handlers::use_item),
    )
    .default_service(web::to(super::not_found));
}
