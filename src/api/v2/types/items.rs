//! Items as API v2 shows them: the Item object and one step of its history.

use serde::Serialize;
use utoipa::ToSchema;
use wallet_core::model;
pub use wallet_core::model::{ItemStatus, ItemStepKind as ItemStepType};
use wallet_core::text::ItemProperties;

/// A unique thing a customer (or the project's stock) owns: a sword with its
/// stats, a ticket with a seat. Every field is always present (`null` where
/// empty).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// Chosen by the client at grant (`itemId`, unique in the project) or
    /// made by the server (`it_...`); API v1 items are `v1_<entryId>` when
    /// they were migrated, else server-made.
    #[schema(min_length = 1, max_length = 64)]
    pub id: String,
    /// What kind of thing it is (`"sword"`). Up to 64 characters through API
    /// v2; an item granted through API v1 takes its item name (up to 200).
    #[schema(min_length = 1, max_length = 200)]
    pub item_type: String,
    /// Any JSON value, exactly as it was sent (numbers keep every digit);
    /// `null` when none was given.
    #[schema(value_type = Value)]
    pub properties: Option<ItemProperties>,
    /// The owner; null = the project's stock.
    #[schema(required = true)]
    pub customer_id: Option<String>,
    /// `Active`, or `Consumed` (final: a consumed item never changes again).
    pub status: ItemStatus,
    pub created_at: i64,
    /// When an operation last changed it (its `createdAt` until then).
    pub updated_at: i64,
    /// The API v1 entry that granted it; null for items granted through API
    /// v2.
    #[schema(required = true)]
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
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemHistoryStep {
    /// The transaction of the operation; null only for an API v1 use made
    /// before items had a history (written when the database was upgraded).
    #[schema(required = true)]
    pub transaction_id: Option<String>,
    /// The operation.
    #[serde(rename = "type")]
    pub kind: ItemStepType,
    /// The owner before the step: null for stock, and for a GrantItem.
    #[schema(required = true)]
    pub from: Option<String>,
    /// The owner after it: null for stock. A ConsumeItem keeps the owner
    /// (`from` = `to`).
    #[schema(required = true)]
    pub to: Option<String>,
    /// The item's properties after the step.
    #[schema(value_type = Value)]
    pub properties: Option<ItemProperties>,
    pub created_at: i64,
}

impl From<model::ItemStep> for ItemHistoryStep {
    fn from(s: model::ItemStep) -> Self {
        Self {
            transaction_id: s.transaction.map(|t| t.to_string()),
            kind: s.kind,
            from: s.from.map(wallet_core::text::CustomerId::into_inner),
            to: s.to.map(wallet_core::text::CustomerId::into_inner),
            properties: s.properties,
            created_at: s.created_at,
        }
    }
}
