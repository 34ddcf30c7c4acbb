//! Customer and system wallets, their statuses and their entries.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{
    description, name, optional, row_id, DescriptionBody, NameBody, NewSystemWalletBody, NewWalletBody,
    PageQuery, ParseStatus, RangeQuery, StatusBody,
};
use crate::api::v2::types::{EntryPage, Wallet, WalletPage};
use actix_web::{web, HttpResponse};
use wallet_core::policy::Action;
use wallet_core::text::CustomerId;
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// A wallet id in a path: one that cannot exist is not found, or, to a
/// customer key, not its own.
fn wallet_id(auth: &Auth, path: &str) -> Result<wallet_core::ids::WalletId, V2Error> {
    row_id(path, Missing::Wallet).map_err(|_| auth.not_found(Missing::Wallet))
}

/// Opens a wallet for a customer.
#[utoipa::path(post, path = "/api/v2/wallets", tag = "wallets", request_body = NewWalletBody,
    responses((status = 201, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_wallet(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<NewWalletBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageWallets)?;
    let customer = CustomerId::parse(&body.customer_id).map_err(|_| V2Error::not_found(Missing::Customer))?;
    let wallet = ledger
        .create_wallet(
            poster,
            Some(customer),
            row_id(&body.asset_id, Missing::Asset)?,
            optional(body.name.as_deref(), name)?,
            optional(body.description.as_deref(), description)?,
        )
        .await?;
    Ok(HttpResponse::Created().json(Wallet::from(wallet)))
}

/// Opens a system wallet (no customer: fees, issuance pools, escrow).
#[utoipa::path(post, path = "/api/v2/system-wallets", tag = "wallets", request_body = NewSystemWalletBody,
    responses((status = 201, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_system_wallet(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<NewSystemWalletBody>,
) -> Result<HttpResponse, V2Error> {
    let wallet = ledger
        .create_wallet(
            auth.may(Action::ManageWallets)?,
            None,
            row_id(&body.asset_id, Missing::Asset)?,
            optional(body.name.as_deref(), name)?,
            optional(body.description.as_deref(), description)?,
        )
        .await?;
    Ok(HttpResponse::Created().json(Wallet::from(wallet)))
}

/// The project's system wallets.
#[utoipa::path(get, path = "/api/v2/system-wallets", tag = "wallets", params(PageQuery),
    responses((status = 200, body = WalletPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_system_wallets(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let wallets = ledger
        .system_wallets(auth.may(Action::ManageWallets)?, page)
        .await?;
    Ok(HttpResponse::Ok().json(WalletPage::new(wallets, page)))
}

/// A wallet's balance and details. A customer key reads only its own wallets.
#[utoipa::path(get, path = "/api/v2/wallets/{walletId}", tag = "wallets",
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_wallet(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let wallet = ledger.wallet(&auth.0, wallet_id(&auth, &path)?).await?;
    Ok(HttpResponse::Ok().json(Wallet::from(wallet)))
}

/// A customer's wallets. A customer key reads only its own.
#[utoipa::path(get, path = "/api/v2/customers/{customerId}/wallets", tag = "wallets",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"), PageQuery),
    responses((status = 200, body = WalletPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customer_wallets(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let customer = CustomerId::parse(&path).map_err(|_| auth.not_found(Missing::Customer))?;
    let wallets = ledger.customer_wallets(&auth.0, customer, page).await?;
    Ok(HttpResponse::Ok().json(WalletPage::new(wallets, page)))
}

/// The wallets of the customer key's own customer (customer keys only).
#[utoipa::path(get, path = "/api/v2/wallets", tag = "wallets", params(PageQuery),
    responses((status = 200, body = WalletPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_own_wallets(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let wallets = ledger
        .own_wallets(auth.may(Action::ListOwnWallets)?, page)
        .await?;
    Ok(HttpResponse::Ok().json(WalletPage::new(wallets, page)))
}

/// Renames a wallet. Also with the owner's customer key.
#[utoipa::path(put, path = "/api/v2/wallets/{walletId}/name", tag = "wallets", request_body = NameBody,
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rename_wallet(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<NameBody>,
) -> Result<HttpResponse, V2Error> {
    let wallet = ledger
        .label_wallet(&auth.0, wallet_id(&auth, &path)?, Some(name(&body.name)?), None)
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::from(wallet)))
}

/// Describes a wallet. Also with the owner's customer key.
#[utoipa::path(put, path = "/api/v2/wallets/{walletId}/description", tag = "wallets", request_body = DescriptionBody,
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn describe_wallet(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<DescriptionBody>,
) -> Result<HttpResponse, V2Error> {
    let text = description(&body.description)?;
    let wallet = ledger
        .label_wallet(&auth.0, wallet_id(&auth, &path)?, None, Some(text))
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::from(wallet)))
}

/// Open ↔ Suspended; → Closed only at balance 0; Closed is final.
#[utoipa::path(put, path = "/api/v2/wallets/{walletId}/status", tag = "wallets", request_body = StatusBody,
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_wallet_status(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageWallets)?;
    let status = StatusBody::parse(body.into_inner())?;
    let wallet = ledger
        .set_wallet_status(poster, wallet_id(&auth, &path)?, status)
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::from(wallet)))
}

/// A wallet's entries in `[from, to)`, newest first.
#[utoipa::path(get, path = "/api/v2/wallets/{walletId}/entries", tag = "wallets",
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$"), RangeQuery),
    responses((status = 200, body = EntryPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_entries(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let entries = ledger
        .wallet_entries(&auth.0, wallet_id(&auth, &path)?, query.range(), page)
        .await?;
    Ok(HttpResponse::Ok().json(EntryPage::new(entries, page)))
}
