//! A wallet's holds and lots, the operator's void, and a wallet's credit
//! limit.

use super::{ok, operator};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::admin::types::{Hold, HoldPage, LotPage, Wallet};
use crate::api::v2::requests::row_id;
use crate::api::v2::types::Transaction;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use wallet_core::model::{HoldStatus, LotStatus};
use wallet_core::text::HoldId;
use wallet_core::{Ledger, LedgerError, Missing, TransactionOutcome};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, AdminError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HoldsQuery {
    /// A hold's or a lot's status (`Open`, `Captured`, `Voided`, `Expired`;
    /// `Open`, `Spent`, `Expired`); all when absent.
    status: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
}

/// A wallet's holds (as source), newest first.
pub async fn list_holds(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    query: web::Query<HoldsQuery>,
) -> Result<HttpResponse, AdminError> {
    let (project, wallet) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let status = query.status.as_deref().map(hold_status).transpose()?;
    let request = crate::api::v2::requests::PageQuery {
        page: query.page,
        page_size: query.page_size,
    }
    .page()?;
    let holds = ledger
        .wallet_holds(&caller, row_id(&wallet, Missing::Wallet)?, status, request)
        .await?;
    Ok(ok().json(HoldPage::new(holds, request)))
}

/// A wallet's lots, soonest expiry first (the order value leaves it in).
pub async fn list_lots(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    query: web::Query<HoldsQuery>,
) -> Result<HttpResponse, AdminError> {
    let (project, wallet) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            LotStatus::parse(text).ok_or_else(|| {
                let names: Vec<&str> = LotStatus::ALL.iter().map(|s| s.as_str()).collect();
                AdminError::bad_request(format!("status must be one of {}", names.join(", ")))
            })
        })
        .transpose()?;
    let request = crate::api::v2::requests::PageQuery {
        page: query.page,
        page_size: query.page_size,
    }
    .page()?;
    let lots = ledger
        .wallet_lots(&caller, row_id(&wallet, Missing::Wallet)?, status, request)
        .await?;
    Ok(ok().json(LotPage::new(lots, request)))
}

fn hold_status(text: &str) -> Result<HoldStatus, AdminError> {
    HoldStatus::parse(text).ok_or_else(|| {
        let names: Vec<&str> = HoldStatus::ALL.iter().map(|s| s.as_str()).collect();
        AdminError::bad_request(format!("status must be one of {}", names.join(", ")))
    })
}

/// The hold to void, named in the body: a caller-chosen hold id may be `..`
/// or hold a `/`, which no URL path carries intact.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VoidBody {
    hold_id: String,
}

/// The operator voids an Open hold: what remains is released, in a
/// transaction of the project's system authority (`referenceId` null,
/// described `hold <id> voided by the operator`), which is the record of
/// who did it. Refused in maintenance, as every transaction is.
pub async fn void_hold(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<VoidBody>,
) -> Result<HttpResponse, AdminError> {
    let project = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let id = HoldId::parse(&body.hold_id)?;
    let outcome = ledger.void_hold_as_operator(&caller, id.clone()).await?;
    let TransactionOutcome::Completed(transaction, touched) = outcome else {
        // Without a reference id a planned failure is an error, never a
        // Failed transaction; and nothing else answers a void.
        return Err(LedgerError::Conflict(format!("hold {id} was not voided")).into());
    };
    let hold = touched
        .holds
        .into_iter()
        .find(|h| h.id == id)
        .ok_or_else(|| LedgerError::Conflict(format!("hold {id} was not voided")))?;
    log::info!(
        "the operator voided hold {id} of project {project} (transaction {})",
        transaction.id
    );
    Ok(ok().json(serde_json::json!({
        "hold": Hold::from(hold),
        "transaction": Transaction::from(transaction),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreditLimitBody {
    credit_limit: i64,
}

/// Sets how far below zero a wallet's balance may go. Below what the wallet
/// already uses → 409; the operator's setting, so it works in maintenance
/// (like suspending a customer).
pub async fn set_credit_limit(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    body: Json<CreditLimitBody>,
) -> Result<HttpResponse, AdminError> {
    let (project, wallet) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let wallet = row_id(&wallet, Missing::Wallet)?;
    let limit = body.credit_limit;
    let row = ledger.set_credit_limit(&caller, wallet, limit).await?;
    log::info!("the operator set the credit limit of wallet {wallet} of project {project} to {limit}");
    Ok(ok().json(Wallet::from(row)))
}
