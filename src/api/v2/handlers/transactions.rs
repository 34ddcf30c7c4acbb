//! Transactions: post (all-or-nothing, once per reference id), read, list.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, ErrorStatus, V2Error};
use crate::api::v2::requests::{row_id, RangeQuery, TransactionBody};
use crate::api::v2::types::{
    Duplicate, Transaction, TransactionConflict, TransactionPage, TransactionRefused,
};
use crate::ledger::{FailReason, Ledger, Missing, TransactionOutcome};
use actix_web::{web, HttpResponse};

/// Applies ordered operations all-or-nothing. 201 `Completed`; a recorded
/// failure is the transaction with status `Failed` (409 or 400); a used
/// `referenceId` is 409 `DuplicateReferenceId` with the stored transaction.
#[utoipa::path(post, path = "/api/v2/transactions", tag = "transactions", request_body = TransactionBody,
    responses(
        (status = 201, body = Transaction),
        (status = 400, description = "Invalid request, or recorded as Failed with VALIDATION_ERROR", body = TransactionRefused),
        (status = 409, description = "Failed transaction, or DuplicateReferenceId", body = TransactionConflict),
        (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_transaction(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: web::Json<TransactionBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.poster()?;
    let request = body.into_inner().into_request()?;
    Ok(match ledger.post_transaction(poster, request).await? {
        TransactionOutcome::Completed(row) => HttpResponse::Created().json(Transaction::from(row)),
        TransactionOutcome::Failed(row, reason) => {
            let mut transaction = Transaction::from(row);
            transaction.message = Some(reason.message().to_owned());
            match reason {
                FailReason::Invalid(_) => HttpResponse::build(ErrorStatus::ValidationError.http())
                    .json(TransactionRefused::Failed(transaction)),
                FailReason::InsufficientFunds(_) | FailReason::WrongWalletStatus(_) => {
                    HttpResponse::Conflict().json(TransactionConflict::Failed(transaction))
                }
            }
        }
        TransactionOutcome::Duplicate(row) => {
            HttpResponse::Conflict().json(TransactionConflict::Duplicate(Duplicate {
                status: "DuplicateReferenceId",
                message: "this referenceId was used before; nothing was applied now. \
                      The stored transaction is attached"
                    .to_owned(),
                transaction: Transaction::from(row),
            }))
        }
    })
}

/// A transaction's current state.
#[utoipa::path(get, path = "/api/v2/transactions/{txId}", tag = "transactions",
    params(("txId" = String, Path)),
    responses((status = 200, body = Transaction), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_transaction(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.poster()?;
    let row = ledger
        .transaction(poster, row_id(&path, Missing::Transaction)?)
        .await?;
    Ok(HttpResponse::Ok().json(Transaction::from(row)))
}

/// The project's transactions in `[from, to)`, newest first.
#[utoipa::path(get, path = "/api/v2/transactions", tag = "transactions", params(RangeQuery),
    responses((status = 200, body = TransactionPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_transactions(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let rows = ledger.transactions(auth.poster()?, query.range(), page).await?;
    Ok(HttpResponse::Ok().json(TransactionPage::new(rows, page)))
}
