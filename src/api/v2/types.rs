//! API v2 bodies: what clients send and get, with their OpenAPI schemas.

use crate::auth::CustomerKeyInfo;
use serde::Serialize;
use utoipa::ToSchema;
use wallet_core::model::{Page, PageRequest};
// The API's objects live in wallet_core::wire: what events carry too.
pub use wallet_core::wire::{
    Asset, BalanceAt, Customer, Entry, Expiring, Hold, HoldStatus, Item, ItemHistoryStep, ItemStatus, Lot,
    LotStatus, OperationType, Project, Transaction, Wallet, WalletStatus,
};

/// The reply to a `referenceId` used before: the stored transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicate {
    /// Always `DuplicateReferenceId`.
    pub status: &'static str,
    pub message: String,
    pub transaction: Transaction,
}

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

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerKey {
    pub id: String,
    pub customer_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The key itself: present only in the reply that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
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

macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(Debug, Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            pub items: Vec<$item>,
            pub page: u32,
            pub page_size: u32,
            /// Items in all pages.
            pub total: i64,
        }

        impl $name {
            pub fn new<R>(paged: Page<R>, page: PageRequest) -> Self
            where
                $item: From<R>,
            {
                Self {
                    items: paged.items.into_iter().map(<$item>::from).collect(),
                    page: page.page,
                    page_size: page.size,
                    total: paged.total,
                }
            }
        }
    };
}

page_type!(AssetPage, Asset);
page_type!(CustomerPage, Customer);
page_type!(WalletPage, Wallet);
page_type!(EntryPage, Entry);
page_type!(TransactionPage, Transaction);
page_type!(HoldPage, Hold);
page_type!(LotPage, Lot);
page_type!(CustomerKeyPage, CustomerKey);
page_type!(ItemPage, Item);
page_type!(ItemHistoryPage, ItemHistoryStep);
