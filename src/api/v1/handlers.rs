//! API v1 handlers: extract, call the ledger, map the result.

use super::auth::Authority;
use super::types::*;
use super::{V1Error, API_VERSION};
use crate::api::maintenance::Maintenance;
use actix_web::{web, HttpResponse};
use serde_json::json;
use wallet_core::ids::EntryId;
use wallet_core::text::CustomerId;
use wallet_core::v1::{InventoryFilter, WalletTotalsFilter};
use wallet_core::{Ledger, LedgerError, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V1Error>;

/// The SDK calls this before every request, so it touches no database: the
/// maintenance switch is read from memory.
pub async fn health(maintenance: web::Data<Maintenance>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "ok": !maintenance.enabled(), "version": API_VERSION }))
}

pub async fn get_wallets(
    Authority(poster): Authority,
    ledger: web::Data<Ledger>,
    query: web::Query<WalletQuery>,
) -> Result<HttpResponse, V1Error> {
    let user_ids = parse_list(query.user_ids.as_deref(), "user_ids")?;
    if let Some(ids) = &user_ids {
        for id in ids {
            CustomerId::parse(id).map_err(|e| V1Error::BadRequest(e.0))?;
        }
    }
    let filter = WalletTotalsFilter {
        user_ids,
        authority_ids: parse_list(query.authority_ids.as_deref(), "authority_ids")?,
    };
    let wallets = ledger.v1_wallet_totals(&poster, filter).await?;
    let wallets = wallets
        .into_iter()
        .map(|w| WalletTotalJson {
            user_id: w.user_id,
            total: w.total,
        })
        .collect();
    Ok(HttpResponse::Ok().json(WalletsResponse { wallets }))
}

pub async fn create_entry(
    Authority(poster): Authority,
    ledger: web::Data<Ledger>,
    body: Json<CreateEntryBody>,
) -> Result<HttpResponse, V1Error> {
    let request = body.into_inner().into_request()?;
    let entry = ledger.post_v1_entry(&poster, request).await?;
    Ok(HttpResponse::Ok().json(EntryResponse { entry: entry.into() }))
}

pub async fn get_inventory(
    Authority(poster): Authority,
    ledger: web::Data<Ledger>,
    query: web::Query<InventoryQuery>,
) -> Result<HttpResponse, V1Error> {
    let entry_ids = parse_list(query.entry_ids.as_deref(), "entry_ids")?.map(|ids| {
        // An id that is not one of ours can match nothing; it stays a filter.
        ids.iter().filter_map(|id| EntryId::parse(id)).collect::<Vec<_>>()
    });
    let filter = InventoryFilter {
        entry_ids,
        user_ids: parse_list(query.user_ids.as_deref(), "user_ids")?,
        authority_ids: parse_list(query.authority_ids.as_deref(), "authority_ids")?,
        used: parse_used(query.used.as_deref())?,
    };
    let inventory = ledger.v1_inventory(&poster, filter).await?;
    let inventory = inventory.into_iter().map(InventoryJson::from).collect();
    Ok(HttpResponse::Ok().json(InventoryResponse { inventory }))
}

pub async fn use_item(
    Authority(poster): Authority,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V1Error> {
    let entry = EntryId::parse(&path).ok_or(V1Error::Ledger(LedgerError::NotFound(Missing::ItemEntry)))?;
    let entry = ledger.use_v1_item(&poster, entry).await?;
    Ok(HttpResponse::Ok().json(EntryResponse { entry: entry.into() }))
}
