//! The OpenAPI 3.1 document of API v2, generated from the handlers' and
//! bodies' annotations, and served without authentication.

use super::handlers::{customers, events, holds, items, lots, project, transactions, wallets, webhooks};
use actix_web::HttpResponse;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wallet-service API v2",
        version = "2.0.0",
        description = "A multi-asset ledger: projects, assets, customers, customer and system wallets, \
                       and transactions of ordered Issue/Redeem/Transfer/Hold/Capture/Void operations and \
                       GrantItem/TransferItem/ConsumeItem/SetItemProperties item operations applied \
                       all-or-nothing. Items are unique things (a sword, a ticket) owned by a customer or \
                       the project's stock, with properties kept exactly as sent. Holds reserve value until captured, voided or expired; value issued with an expiresAt forms lots, \
                       spent soonest-expiring first, carried by transfers and expired by the server; wallets may have \
                       a credit limit; a wallet's balance can be read at any past time. \
                       Amounts are integers counting an asset's smallest parts; times are epoch milliseconds. \
                       Every change is an event, numbered per project without gaps and hash-chained: read \
                       them as a feed (with long-poll), a Server-Sent Events stream, or Standard Webhooks \
                       deliveries."
    ),
    paths(
        project::get_project,
        project::create_asset,
        project::list_assets,
        project::get_asset,
        project::rename_asset,
        project::delete_asset,
        customers::create_customer,
        customers::put_customer,
        customers::list_customers,
        customers::get_customer,
        customers::suspend_customer,
        customers::resume_customer,
        customers::delete_customer,
        customers::create_key,
        customers::list_keys,
        customers::revoke_key,
        wallets::create_wallet,
        wallets::create_system_wallet,
        wallets::list_system_wallets,
        wallets::get_wallet,
        wallets::list_customer_wallets,
        wallets::list_own_wallets,
        wallets::rename_wallet,
        wallets::describe_wallet,
        wallets::set_wallet_status,
        wallets::list_entries,
        holds::get_hold,
        holds::list_wallet_holds,
        holds::balance_at,
        holds::set_credit_limit,
        lots::list_wallet_lots,
        items::get_item,
        items::list_customer_items,
        items::list_stock_items,
        items::item_history,
        transactions::post_transaction,
        transactions::post_batch,
        transactions::get_transaction,
        transactions::list_transactions,
        events::feed,
        events::stream,
        webhooks::create_webhook,
        webhooks::list_webhooks,
        webhooks::get_webhook,
        webhooks::delete_webhook,
        webhooks::list_deliveries,
        webhooks::replay_webhook,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access key (ak_...), a customer key (ck_...), or an ES256 JWT signed by an authority",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON text, built once, its `\p{..}` patterns spelled out
/// (see `constraints`).
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi().to_pretty_json().map_or_else(
            |e| format!("{{\"error\": \"{e}\"}}"),
            |json| super::constraints::expand(&json),
        )
    })
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}
