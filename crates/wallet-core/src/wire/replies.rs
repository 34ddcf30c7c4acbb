//! What API v2 answers besides the objects themselves: pages of them,
//! customer keys, a used `referenceId`, the events feed's events and the
//! webhooks. The server writes them and a client reads them: one definition.

use super::{Asset, Customer, Entry, Hold, Item, ItemHistoryStep, Lot, Transaction, Wallet};
use crate::events::{self, DeliveryStatus, EventType};
use crate::model::{Page, PageRequest};
use serde::{Deserialize, Serialize};

/// The reply to a `referenceId` used before: the stored transaction.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Duplicate {
    /// Always `DuplicateReferenceId`.
    pub status: String,
    pub message: String,
    pub transaction: Transaction,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CustomerKey {
    pub id: String,
    pub customer_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The key itself: present only in the reply that creates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(Debug, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One event, as the feed, the stream and webhooks serve it (keys sorted,
/// no whitespace).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Event))]
#[serde(rename_all = "camelCase")]
pub struct EventDoc {
    /// Epoch milliseconds of the commit.
    pub created_at: i64,
    /// What changed: the Transaction, Wallet, Customer, Hold, Item, Lot or
    /// Asset as after the change, or a balance change.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    /// Lowercase hex SHA-256 of the previous event's hash followed by this
    /// event's canonical JSON without `hash`.
    pub hash: String,
    /// `<projectId>:<seq>`; the `webhook-id` of its deliveries.
    pub id: String,
    pub project_id: String,
    /// 1, 2, 3, … per project, with no gaps, in commit order.
    pub seq: i64,
    /// The event type (`transaction.completed`, …).
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(rename = "type", example = "transaction.completed")
    )]
    pub kind: String,
}

/// A registered webhook.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// The types it receives; null: all.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub created_at: i64,
}

impl From<events::Webhook> for Webhook {
    fn from(w: events::Webhook) -> Self {
        Self {
            id: w.id.as_str().to_owned(),
            url: w.url,
            types: w.types,
            description: w.description,
            created_at: w.created_at,
        }
    }
}

/// The reply that registers a webhook: the only one that shows its secret.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookCreated {
    pub id: String,
    pub url: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub types: Option<Vec<EventType>>,
    pub description: Option<String>,
    /// `whsec_<base64>`: the Standard Webhooks signing secret. Shown only
    /// here.
    pub secret: String,
    pub created_at: i64,
}

/// The webhooks of the project.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// One delivery attempt (or, `Pending`, the next one due).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub event_seq: i64,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    pub status: DeliveryStatus,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Epoch milliseconds of the attempt (`Pending`: when it is due).
    pub at: i64,
    /// When it is tried again.
    pub next_attempt_at: Option<i64>,
}

impl From<events::Delivery> for Delivery {
    fn from(d: events::Delivery) -> Self {
        Self {
            event_seq: d.event_seq,
            attempt: d.attempt,
            status: d.status,
            http_status: d.http_status,
            error: d.error,
            at: d.at,
            next_attempt_at: d.next_attempt_at,
        }
    }
}

/// A page of a webhook's deliveries, newest first.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub page: u32,
    pub page_size: u32,
    /// Items in all pages.
    pub total: i64,
}

impl DeliveryPage {
    pub fn new(paged: Page<events::Delivery>, page: PageRequest) -> Self {
        Self {
            items: paged.items.into_iter().map(Delivery::from).collect(),
            page: page.page,
            page_size: page.size,
            total: paged.total,
        }
    }
}
