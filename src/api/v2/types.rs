//! API v2 bodies: what clients send and get, with their OpenAPI schemas.

mod items;

pub use items::{Item, ItemHistoryStep, ItemStatus};

use crate::api::json::{nullable, raw_present};
use crate::auth::CustomerKeyInfo;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use wallet_core::model::{self, Page, PageRequest};
pub use wallet_core::model::{
    CustomerStatus, EntryKind as EntryType, HoldStatus, LotStatus, TransactionStatus, WalletStatus,
};

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
    /// Posted value, in the asset's smallest parts; below zero only down to
    /// `-creditLimit`.
    pub balance: i64,
    /// What the wallet's Open holds still reserve.
    pub held: i64,
    /// `balance - held + creditLimit`: what a Redeem, a Transfer or a new
    /// Hold may take. Never below zero.
    pub available: i64,
    /// How far below zero the balance may go (0: not at all).
    pub credit_limit: i64,
    pub created_at: i64,
    /// The value of the wallet's Open lots, summed per `expiresAt`, soonest
    /// first: at most 10 rows (the sooner ones), empty when it has no lot.
    #[schema(max_items = 10)]
    pub expiring: Vec<Expiring>,
}

/// Value of a wallet that expires at one time: what its Open lots of that
/// `expiresAt` still hold (earmarked parts included).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Expiring {
    /// Epoch milliseconds.
    pub expires_at: i64,
    #[schema(minimum = 1)]
    pub amount: i64,
}

impl From<model::Expiring> for Expiring {
    fn from(e: model::Expiring) -> Self {
        Self {
            expires_at: e.expires_at,
            amount: e.amount,
        }
    }
}

impl From<model::Wallet> for Wallet {
    fn from(w: model::Wallet) -> Self {
        let available = w.available();
        Self {
            id: w.id.to_string(),
            customer_id: w.owner.map(|o| o.id),
            asset_id: w.asset_id.to_string(),
            name: w.name,
            description: w.description,
            status: w.status,
            balance: w.balance,
            held: w.held,
            available,
            credit_limit: w.credit_limit,
            created_at: w.created_at,
            expiring: w.expiring.into_iter().map(Expiring::from).collect(),
        }
    }
}

/// Value of one wallet that expires at `expiresAt`: formed by an Issue with
/// an `expiresAt`, or by a Transfer or Capture that moved value of another
/// lot (keeping its expiry). Spent soonest-expiring first, never at or after
/// `expiresAt`; what is left then (not earmarked) expires.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lot {
    pub id: String,
    pub wallet_id: String,
    /// What formed it.
    #[schema(minimum = 1)]
    pub amount: i64,
    /// What is left of it (part of the wallet's balance): from 0 to `amount`;
    /// above 0 exactly while `Open`.
    #[schema(minimum = 0)]
    pub remaining: i64,
    /// The part of `remaining` that Open holds reserve: from 0 to
    /// `remaining`. It does not expire while they are Open.
    #[schema(minimum = 0)]
    pub earmarked: i64,
    /// Epoch milliseconds.
    pub expires_at: i64,
    /// `Open` while something remains; `Spent` when all was spent before
    /// `expiresAt`, `Expired` when its value ran out at or after it.
    pub status: LotStatus,
    pub created_at: i64,
    /// The transaction that formed it.
    pub transaction_id: String,
}

impl From<model::Lot> for Lot {
    fn from(l: model::Lot) -> Self {
        Self {
            id: l.id.to_string(),
            wallet_id: l.wallet.to_string(),
            amount: l.amount,
            remaining: l.remaining,
            earmarked: l.earmarked,
            expires_at: l.expires_at,
            status: l.status,
            created_at: l.created_at,
            transaction_id: l.transaction.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub wallet_id: String,
    pub transaction_id: String,
    /// `Expire`: the server's, value of a lot that ran out (negative).
    #[serde(rename = "type")]
    pub kind: EntryType,
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

/// The operation types a client posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OperationType {
    Issue,
    Redeem,
    Transfer,
    Hold,
    Capture,
    Void,
    GrantItem,
    TransferItem,
    ConsumeItem,
    SetItemProperties,
}

/// The operation types a stored transaction shows: those a client posts,
/// and `ExpireHold` and `ExpireLot`, which only the server posts (when a
/// hold's or a lot's `expiresAt` passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum RecordedOperationType {
    Issue,
    Redeem,
    Transfer,
    Hold,
    Capture,
    Void,
    ExpireHold,
    ExpireLot,
    GrantItem,
    TransferItem,
    ConsumeItem,
    SetItemProperties,
}

/// An operation as stored and shown: as it was requested (a Capture's
/// `amount` is absent when it asked for all that remained; what it took is
/// in the hold).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationView {
    #[serde(rename = "type")]
    pub kind: RecordedOperationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Absent for a Void, an expiry, and a Capture of all that remained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// The hold a Capture, Void or expiry works on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
    /// The id of the hold a Hold placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<String>,
    /// When a Hold's reservation ends by itself, or an Issue's value
    /// expires: epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The wallet of the lot an `ExpireLot` expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<String>,
    /// The lot an `ExpireLot` expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// A GrantItem's item type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// A GrantItem's owner: null for the project's stock.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<Option<String>>,
    /// A GrantItem's or SetItemProperties' properties, exactly as sent.
    #[serde(
        default,
        deserialize_with = "raw_present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Value)]
    pub properties: Option<Box<RawValue>>,
    /// The id of the item a GrantItem granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The item a TransferItem, ConsumeItem or SetItemProperties works on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Where a TransferItem moved the item: null for the project's stock.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub to: Option<Option<String>>,
    /// The owner a TransferItem or ConsumeItem required (null: stock);
    /// absent when it asked for no check.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub from: Option<Option<String>>,
}

/// Value reserved in a source wallet, to be captured (moved to a
/// destination, in part or in full), voided, or expired at `expiresAt`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    /// Chosen by the client (`holdId`, unique in the project) or made by the
    /// server (`hd_...`).
    pub id: String,
    pub source_wallet_id: String,
    /// Where a Capture moves the value; null: each Capture names it.
    pub destination_wallet_id: Option<String>,
    pub asset_id: String,
    /// What the Hold reserved.
    pub amount: i64,
    /// What Captures moved so far.
    pub captured: i64,
    /// What the hold still reserves: `amount - captured` while Open, 0 once
    /// Captured, Voided or Expired.
    pub remaining: i64,
    /// `Open` until captured in full (`Captured`), voided (`Voided`) or
    /// expired (`Expired`). From `expiresAt` on, a hold cannot be captured
    /// even while it still shows `Open` (the server records the expiry
    /// within a second).
    pub status: HoldStatus,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    /// The transaction that placed it.
    pub transaction_id: String,
    pub updated_at: i64,
}

impl From<model::Hold> for Hold {
    fn from(h: model::Hold) -> Self {
        Self {
            id: h.id.to_string(),
            source_wallet_id: h.source.to_string(),
            destination_wallet_id: h.destination.map(|d| d.to_string()),
            asset_id: h.asset.to_string(),
            amount: h.amount,
            captured: h.captured,
            remaining: h.remaining,
            status: h.status,
            expires_at: h.expires_at,
            created_at: h.created_at,
            transaction_id: h.transaction.to_string(),
            updated_at: h.updated_at,
        }
    }
}

/// A wallet's posted balance at a point in time.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceAt {
    pub wallet_id: String,
    /// As asked, epoch milliseconds.
    pub at: i64,
    /// The balance after every entry with `createdAt <= at` (0 before the
    /// first).
    pub balance: i64,
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
    /// In the replies of `POST /transactions` and of the batch: the holds
    /// the transaction placed or changed, as they are after it (empty when
    /// none, and for a Failed one). In a `DuplicateReferenceId` reply: the
    /// holds the stored transaction placed, as they are now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds: Option<Vec<Hold>>,
    /// In the same replies: the items the transaction granted, moved,
    /// consumed or changed, as they are after it (empty when none, and for a
    /// Failed one); in a `DuplicateReferenceId` reply, as they are now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Item>>,
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
            holds: None,
            items: None,
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
page_type!(HoldPage, Hold);
page_type!(LotPage, Lot);
page_type!(CustomerKeyPage, CustomerKey);
page_type!(ItemPage, Item);
page_type!(ItemHistoryPage, ItemHistoryStep);
