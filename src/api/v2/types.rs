//! API v2 bodies: what clients send and get, with their OpenAPI schemas.

use crate::auth::CustomerKeyInfo;
use serde::Serialize;
use utoipa::ToSchema;
// The API's objects and their pages live in wallet_core::wire: what events
// carry and what a client reads too.
pub use wallet_core::wire::{
    Asset, AssetPage, BalanceAt, Customer, CustomerKey, CustomerKeyPage, CustomerPage, Duplicate, EntryPage,
    Expiring, Hold, HoldPage, HoldStatus, Item, ItemHistoryPage, ItemPage, ItemStatus, LotPage, LotStatus,
    OperationType, Project, Transaction, TransactionPage, Wallet, WalletPage, WalletStatus,
};

/// Any reply of `POST /transactions` other than a plain success: a
/// transaction (`Completed`, or `Failed` with `error` and `message`), a
/// `DuplicateReferenceId`, or an error refused before anything was attempted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TransactionReply {
    Transaction(Transaction),
    Duplicate(Duplicate),
    Error(super::error::ErrorBody),
}

/// One transaction's result in a batch: what `POST /transactions` would have
/// answered for it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    pub http_status: u16,
    pub body: TransactionReply,
}

impl From<(actix_web::http::StatusCode, TransactionReply)> for BatchResult {
    fn from((status, body): (actix_web::http::StatusCode, TransactionReply)) -> Self {
        Self {
            http_status: status.as_u16(),
            body,
        }
    }
}

impl BatchResult {
    pub fn error(e: super::error::V2Error) -> Self {
        Self {
            http_status: e.http.as_u16(),
            body: TransactionReply::Error(super::error::ErrorBody {
                status: e.status,
                message: e.message,
            }),
        }
    }
}

/// The results of a batch, in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReply {
    pub results: Vec<BatchResult>,
}

impl From<CustomerKeyInfo> for CustomerKey {
    fn from(k: CustomerKeyInfo) -> Self {
        Self {
            id: k.id,
            customer_id: k.customer_id,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            token: None,
        }
    }
}
