//! Holds, credit limits and balances in time (`docs/api-v2.md`, "Holds").
//! Holds are placed, captured and voided by `POST /transactions`; these are
//! their reads, a wallet's credit limit, and its balance at a past time.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{row_id, BalanceQuery, CreditLimit, CreditLimitBody, HoldsQuery};
use crate::api::v2::types::{BalanceAt, Hold, HoldPage, Wallet};
use actix_web::{web, HttpResponse};
use wallet_core::ids::WalletId;
use wallet_core::policy::Action;
use wallet_core::text::HoldId;
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// A wallet id in a path: one that cannot exist is not found, or, to a
/// customer key, not its own.
fn wallet_id(auth: &Auth, path: &str) -> Result<WalletId, V2Error> {
    row_id(path, Missing::Wallet).map_err(|_| auth.not_found(Missing::Wallet))
}

/// A hold. An access key reads any of its project's; a customer key only
/// those of its own wallets (others, and missing ones, are the same 403).
#[utoipa::path(get, path = "/api/v2/holds/{holdId}", tag = "holds",
    params(("holdId" = String, Path, min_length = 1, max_length = 30, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Hold), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_hold(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let id = HoldId::parse(&path).map_err(|_| auth.not_found(Missing::Hold))?;
    let hold = ledger.hold(&auth.0, id).await?;
    Ok(HttpResponse::Ok().json(Hold::from(hold)))
}

/// The holds of a wallet (as their source), newest first, of one status or
/// all.
#[utoipa::path(get, path = "/api/v2/wallets/{walletId}/holds", tag = "holds",
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$"), HoldsQuery),
    responses((status = 200, body = HoldPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_wallet_holds(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<HoldsQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let holds = ledger
        .wallet_holds(&auth.0, wallet_id(&auth, &path)?, query.status, page)
        .await?;
    Ok(HttpResponse::Ok().json(HoldPage::new(holds, page)))
}

/// The wallet's posted balance after every entry created at or before `at`
/// (0 before its first).
#[utoipa::path(get, path = "/api/v2/wallets/{walletId}/balance", tag = "holds",
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$"), BalanceQuery),
    responses((status = 200, body = BalanceAt), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn balance_at(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<BalanceQuery>,
) -> Result<HttpResponse, V2Error> {
    let wallet = wallet_id(&auth, &path)?;
    let balance = ledger.balance_at(&auth.0, wallet, query.at).await?;
    Ok(HttpResponse::Ok().json(BalanceAt {
        wallet_id: wallet.to_string(),
        at: query.at,
        balance,
    }))
}

/// Sets how far below zero the wallet's balance may go. A limit below what
/// the wallet already uses (`-(balance - held)`) is 409 `CONFLICT`.
#[utoipa::path(put, path = "/api/v2/wallets/{walletId}/credit-limit", tag = "holds",
    request_body = CreditLimitBody,
    params(("walletId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Wallet), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn set_credit_limit(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<CreditLimitBody>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ManageWallets)?;
    let limit = body.limit()?;
    let wallet = ledger
        .set_credit_limit(caller, wallet_id(&auth, &path)?, limit)
        .await?;
    Ok(HttpResponse::Ok().json(Wallet::from(wallet)))
}
