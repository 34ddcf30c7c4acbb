//! The API's objects as clients get them (camelCase JSON): what API v2
//! serves, what an event's `data` carries, and what a client reads back.
//! One definition serves all three, so the feed and the API cannot drift.
//! With the `openapi` feature each has its OpenAPI schema.

use crate::model::{self, ItemStepKind as ItemStepType};
pub use crate::model::{
    CustomerStatus, EntryKind as EntryType, HoldStatus, ItemStatus, LotStatus, TransactionStatus,
    WalletStatus,
};
use crate::text::ItemProperties;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[cfg(feature = "openapi")]
mod operation_schema;
mod replies;
mod requests;
pub use replies::{
    AssetPage, CustomerKey, CustomerKeyPage, CustomerPage, Delivery, DeliveryPage, Duplicate, EntryPage,
    EventDoc, HoldPage, ItemHistoryPage, ItemPage, LotPage, TransactionPage, WalletPage, Webhook,
    WebhookCreated, WebhookList,
};
pub use requests::{
    BatchBody, CreditLimitBody, CustomerBody, CustomerUpdateBody, DescriptionBody, NameBody, NewAssetBody,
    NewKeyBody, NewSystemWalletBody, NewWalletBody, NewWebhookBody, OperationBody, ReplayBody, ResumeBody,
    StatusBody, StatusObject, TransactionBody,
};

/// With `#[serde(default, deserialize_with = "nullable")]` an absent field
/// is `None`, a `null` one `Some(None)`: `Option`'s own deserializer would
/// make both `None`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A JSON value kept as its exact text, present even as `null` (`Some` of
/// the text `null`); only an absent field is `None`. Use with
/// `#[serde(default, deserialize_with = "raw_present")]`.
pub fn raw_present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub expiring: Vec<Expiring>,
}

/// Value of a wallet that expires at one time: what its Open lots of that
/// `expiresAt` still hold (earmarked parts included).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Expiring {
    /// Epoch milliseconds.
    pub expires_at: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
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
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Lot {
    pub id: String,
    pub wallet_id: String,
    /// What formed it.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub amount: i64,
    /// What is left of it (part of the wallet's balance): from 0 to `amount`;
    /// above 0 exactly while `Open`.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub remaining: i64,
    /// The part of `remaining` that Open holds reserve: from 0 to
    /// `remaining`. It does not expire while they are Open.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
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

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub customer_id: Option<Option<String>>,
    /// A GrantItem's or SetItemProperties' properties, exactly as sent.
    #[serde(
        default,
        deserialize_with = "raw_present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub to: Option<Option<String>>,
    /// The owner a TransferItem or ConsumeItem required (null: stock);
    /// absent when it asked for no check.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub from: Option<Option<String>>,
}

/// Value reserved in a source wallet, to be captured (moved to a
/// destination, in part or in full), voided, or expired at `expiresAt`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BalanceAt {
    pub wallet_id: String,
    /// As asked, epoch milliseconds.
    pub at: i64,
    /// The balance after every entry with `createdAt <= at` (0 before the
    /// first).
    pub balance: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A unique thing a customer (or the project's stock) owns: a sword with its
/// stats, a ticket with a seat. Every field is always present (`null` where
/// empty).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Chosen by the client at grant (`itemId`, unique in the project) or
    /// made by the server (`it_...`); API v1 items are `v1_<entryId>` when
    /// they were migrated, else server-made.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub id: String,
    /// What kind of thing it is (`"sword"`). Up to 64 characters through API
    /// v2; an item granted through API v1 takes its item name (up to 200).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub item_type: String,
    /// Any JSON value, exactly as it was sent (numbers keep every digit);
    /// `null` when none was given.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub properties: Option<ItemProperties>,
    /// The owner; null = the project's stock.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub customer_id: Option<String>,
    /// `Active`, or `Consumed` (final: a consumed item never changes again).
    pub status: ItemStatus,
    pub created_at: i64,
    /// When an operation last changed it (its `createdAt` until then).
    pub updated_at: i64,
    /// The API v1 entry that granted it; null for items granted through API
    /// v2.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub v1_entry_id: Option<String>,
}

impl From<model::Item> for Item {
    fn from(i: model::Item) -> Self {
        Self {
            id: i.id.into_inner(),
            item_type: i.item_type.into_inner(),
            properties: i.properties,
            customer_id: i.owner.map(|o| o.id.into_inner()),
            status: i.status,
            created_at: i.created_at,
            updated_at: i.updated_at,
            v1_entry_id: i.v1_entry.map(|e| e.to_string()),
        }
    }
}

/// One step of an item's history: what one operation did to it.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemHistoryStep {
    /// The transaction of the operation; null only for an API v1 use made
    /// before items had a history (written when the database was upgraded).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub transaction_id: Option<String>,
    /// The operation.
    #[serde(rename = "type")]
    pub kind: ItemStepType,
    /// The owner before the step: null for stock, and for a GrantItem.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub from: Option<String>,
    /// The owner after it: null for stock. A ConsumeItem keeps the owner
    /// (`from` = `to`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub to: Option<String>,
    /// The item's properties after the step.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub properties: Option<ItemProperties>,
    pub created_at: i64,
}

impl From<model::ItemStep> for ItemHistoryStep {
    fn from(s: model::ItemStep) -> Self {
        Self {
            transaction_id: s.transaction.map(|t| t.to_string()),
            kind: s.kind,
            from: s.from.map(crate::text::CustomerId::into_inner),
            to: s.to.map(crate::text::CustomerId::into_inner),
            properties: s.properties,
            created_at: s.created_at,
        }
    }
}

/// The data of a `wallet.balance_changed` event: a wallet a transaction
/// changed, as it is after the transaction.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BalanceChanged {
    pub wallet_id: String,
    /// Null for a system wallet.
    pub customer_id: Option<String>,
    pub asset_id: String,
    pub balance: i64,
    pub held: i64,
    /// `balance - held + creditLimit`.
    pub available: i64,
    pub transaction_id: String,
}
