//! API v2 bodies: what clients send and get, with their OpenAPI schemas.

use crate::auth::CustomerKeyInfo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wallet_core::model::{self, Page, PageRequest};
pub use wallet_core::model::{CustomerStatus, EntryKind as OperationType, TransactionStatus, WalletStatus};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    pub id: String,
    pub code: String,
    pub name: String,
    /// Smallest parts per unit: 100 for cents. Amounts count these parts.
    pub fractions: i64,
    /// Whether a wallet was ever opened in this asset (then it cannot be deleted).
    pub used: bool,
    pub created_at: i64,
}

impl From<model::Asset> for Asset {
    fn from(a: model::Asset) -> Self {
        Self {
            id: a.id.to_string(),
            code: a.code,
            name: a.name,
            fractions: a.fractions,
            used: a.used,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    /// The asset API v1 counts in.
    pub default_asset_id: String,
    pub assets: Vec<Asset>,
    pub created_at: i64,
}

impl Project {
    pub fn new(p: model::Project, assets: Vec<model::Asset>) -> Self {
        Self {
            id: p.id,
            name: p.name,
            default_asset_id: p.default_asset.to_string(),
            assets: assets.into_iter().map(Asset::from).collect(),
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: CustomerStatus,
    pub created_at: i64,
}

impl From<model::Customer> for Customer {
    fn from(c: model::Customer) -> Self {
        Self {
            id: c.id,
            name: c.name,
            description: c.description,
            status: c.status,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Wallet {
    pub id: String,
    /// The owner; null for a system wallet.
    pub customer_id: Option<String>,
    pub asset_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: WalletStatus,
    /// In the asset's smallest parts; never below zero.
    pub balance: i64,
    pub created_at: i64,
}

impl From<model::Wallet> for Wallet {
    fn from(w: model::Wallet) -> Self {
        Self {
            id: w.id.to_string(),
            customer_id: w.owner.map(|o| o.id),
            asset_id: w.asset_id.to_string(),
            name: w.name,
            description: w.description,
            status: w.status,
            balance: w.balance,
            created_at: w.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub wallet_id: String,
    pub transaction_id: String,
    #[serde(rename = "type")]
    pub kind: OperationType,
    /// Signed: positive into the wallet, negative out of it.
    pub amount: i64,
    pub balance_after: i64,
    pub created_at: i64,
    pub description: Option<String>,
}

impl From<model::Entry> for Entry {
    fn from(e: model::Entry) -> Self {
        Self {
            id: e.id.to_string(),
            wallet_id: e.wallet_id.to_string(),
            transaction_id: e.transaction_id.to_string(),
            kind: e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            created_at: e.created_at,
            description: e.reason,
        }
    }
}

/// An operation as stored and shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    #[serde(rename = "type")]
    pub kind: OperationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    /// Null for API v1 entries, which carry none.
    pub reference_id: Option<String>,
    pub status: TransactionStatus,
    pub operations: Vec<OperationView>,
    pub description: Option<String>,
    pub created_at: i64,
    /// Why it failed (an error status), only when `Failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A human-readable reason, in the reply that failed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<model::Transaction> for Transaction {
    fn from(t: model::Transaction) -> Self {
        Self {
            id: t.id.to_string(),
            reference_id: t.reference_id,
            status: t.status,
            operations: t
                .operations
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default(),
            description: t.description,
            created_at: t.created_at,
            error: t.error,
            message: None,
        }
    }
}

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
page_type!(CustomerKeyPage, CustomerKey);
