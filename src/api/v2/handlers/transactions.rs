//! Transactions: post (all-or-nothing, once per reference id), read, list.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, ErrorStatus, V2Error};
use crate::api::v2::requests::{row_id, BatchBody, IntoRequest, RangeQuery, TransactionBody, MAX_BATCH};
use crate::api::v2::types::{
    BatchReply, BatchResult, Duplicate, Hold, Item, Transaction, TransactionPage, TransactionReply,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use wallet_core::planner::FailCode;
use wallet_core::policy::Action;
use wallet_core::{Ledger, Missing, Touched, TransactionOutcome};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// Applies ordered operations all-or-nothing. 201 `Completed`; a recorded
/// failure is the transaction with status `Failed` (409 or 400); a used
/// `referenceId` is 409 `DuplicateReferenceId` with the stored transaction.
/// Also a 400 for rules no schema can state: a transfer or hold between
/// one wallet and itself, an `expiresAt` not in the future.
#[utoipa::path(post, path = "/api/v2/transactions", tag = "transactions", request_body = TransactionBody,
    responses(
        (status = 201, body = Transaction),
        (status = 400, description = "Invalid request, or recorded as Failed with VALIDATION_ERROR", body = TransactionReply),
        (status = 409, description = "Failed transaction, or DuplicateReferenceId", body = TransactionReply),
        (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_transaction(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<TransactionBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::PostTransactions)?;
    let request = body.into_inner().into_request()?;
    let (status, reply) = reply(ledger.post_transaction(poster, request).await?);
    Ok(HttpResponse::build(status).json(reply))
}

/// What `POST /transactions` answers for an outcome: the status and the body,
/// which lists the holds and the items the transaction touched.
fn reply(outcome: TransactionOutcome) -> (StatusCode, TransactionReply) {
    let with_touched = |row, touched: Touched| Transaction {
        holds: Some(touched.holds.into_iter().map(Hold::from).collect()),
        items: Some(touched.items.into_iter().map(Item::from).collect()),
        ..Transaction::from(row)
    };
    match outcome {
        TransactionOutcome::Completed(row, touched) => (
            StatusCode::CREATED,
            TransactionReply::Transaction(with_touched(row, touched)),
        ),
        TransactionOutcome::Failed(row, failure) => {
            let mut transaction = with_touched(row, Touched::default());
            transaction.message = Some(crate::api::failure::describe(&failure));
            let status = match failure.reason.code() {
                FailCode::ValidationError => ErrorStatus::ValidationError.http(),
                FailCode::InsufficientFunds
                | FailCode::WrongWalletStatus
                | FailCode::WrongHoldStatus
                | FailCode::WrongItemStatus
                | FailCode::WrongItemOwner
                | FailCode::WrongCustomerStatus
                | FailCode::Conflict => StatusCode::CONFLICT,
            };
            (status, TransactionReply::Transaction(transaction))
        }
        TransactionOutcome::Duplicate(row, touched) => (
            StatusCode::CONFLICT,
            TransactionReply::Duplicate(Duplicate {
                status: "DuplicateReferenceId".to_owned(),
                message: "this referenceId was used before; nothing was applied now. \
                          The stored transaction is attached"
                    .to_owned(),
                transaction: with_touched(row, touched),
            }),
        ),
    }
}

/// Up to 8,000 independent transactions, each atomic with its own result,
/// committed together with one fsync.
#[utoipa::path(post, path = "/api/v2/transactions/batch", tag = "transactions", request_body = BatchBody,
    responses((status = 200, body = BatchReply), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_batch(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<BatchBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::PostTransactions)?;
    let items = body.into_inner().transactions;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(V2Error::invalid(format!(
            "a batch holds 1 to {MAX_BATCH} transactions"
        )));
    }
    // Requests refused before anything is attempted keep their place in the
    // results; the valid ones go to the ledger together.
    let mut results: Vec<Option<BatchResult>> = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    for item in items {
        match item.into_request() {
            Ok(request) => {
                valid.push(request);
                results.push(None);
            }
            Err(e) => results.push(Some(BatchResult::error(e))),
        }
    }
    let mut outcomes = ledger.post_batch(poster, valid).await?.into_iter();
    let results = results
        .into_iter()
        .map(|slot| match slot {
            Some(refused) => refused,
            None => match outcomes.next() {
                Some(Ok(outcome)) => BatchResult::from(reply(outcome)),
                Some(Err(e)) => BatchResult::error(V2Error::from(e)),
                None => BatchResult::error(V2Error::invalid("no result")),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(BatchReply { results }))
}

/// A transaction's current state.
#[utoipa::path(get, path = "/api/v2/transactions/{txId}", tag = "transactions",
    params(("txId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Transaction), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_transaction(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ReadTransactions)?;
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
    let rows = ledger
        .transactions(auth.may(Action::ReadTransactions)?, query.range(), page)
        .await?;
    Ok(HttpResponse::Ok().json(TransactionPage::new(rows, page)))
}
