//! Lots: value of a wallet that expires (`docs/api-v2.md`, "Lots"). Issues
//! with an `expiresAt` form them and every spending operation takes from
//! them, in `POST /transactions`; the server expires them by itself
//! (`crate::expiry`). This is their read.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{row_id, LotsQuery};
use crate::api::v2::types::LotPage;
use actix_web::{web, HttpResponse};
use wallet_core::{Ledger, Missing};

/// A wallet's lots, soonest `expiresAt` first (the order they are spent
/// in; ties: the lot formed first), of one status or all. An access key
/// reads any wallet of its project; a customer key only its own (others,
/// and missing ones, are the same 403).
#[utoipa::path(get, path = "/api/v2/wallets/{walletId}/lots", tag = "lots",
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$"), LotsQuery),
    responses((status = 200, body = LotPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_wallet_lots(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<LotsQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let wallet = row_id(&path, Missing::Wallet).map_err(|_| auth.not_found(Missing::Wallet))?;
    let lots = ledger.wallet_lots(&auth.0, wallet, query.status, page).await?;
    Ok(HttpResponse::Ok().json(LotPage::new(lots, page)))
}
