//! Item operations of a transaction request, and the queries of the item
//! lists.

use super::{page, OperationBody};
use crate::api::v2::error::V2Error;
use crate::api::v2::types::{ItemStatus, OperationType};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wallet_core::model::{ItemFilter, PageRequest};
use wallet_core::operation::Operation;
use wallet_core::text::{CustomerId, ItemId, ItemName, ItemProperties, ItemType};
use wallet_core::Missing;

/// The server's reading of an [`OperationBody`]'s item fields.
pub(super) trait ItemOperation {
    /// A GrantItem, TransferItem, ConsumeItem or SetItemProperties (the
    /// fields were checked against the type already). Ids that name an
    /// existing item or customer and cannot be one are not found, as for
    /// wallets and holds; a new item's id or type that is not valid is a
    /// validation error.
    fn item_operation(&self, i: usize) -> Result<Operation, V2Error>;

    /// `from`: absent = no check, null = must be stock, else that customer.
    fn from(&self) -> Result<Option<Option<CustomerId>>, V2Error>;
}

impl ItemOperation for OperationBody {
    fn item_operation(&self, i: usize) -> Result<Operation, V2Error> {
        let invalid =
            |e: wallet_core::text::InvalidValue| V2Error::invalid(format!("operation {i}: {}", e.0));
        let required = |name: &str| V2Error::invalid(format!("operation {i}: {name} is required"));
        let item = || -> Result<ItemId, V2Error> {
            let id = self.item.as_deref().ok_or_else(|| required("item"))?;
            ItemId::parse(id).map_err(|_| V2Error::not_found(Missing::Item))
        };
        let properties = || -> Result<Option<ItemProperties>, V2Error> {
            self.properties
                .as_deref()
                .map(|raw| ItemProperties::parse(raw.get()).map_err(invalid))
                .transpose()
        };
        Ok(match self.kind {
            OperationType::GrantItem => Operation::GrantItem {
                item_type: ItemType::parse(self.item_type.as_deref().ok_or_else(|| required("itemType"))?)
                    .map_err(invalid)?,
                customer_id: owner(self.customer_id.as_ref().and_then(Option::as_deref))?,
                properties: properties()?,
                item_id: match self.item_id.as_deref() {
                    Some(id) => ItemId::parse(id).map_err(invalid)?,
                    None => ItemId::random(),
                },
            },
            OperationType::TransferItem => Operation::TransferItem {
                item: item()?,
                to: match &self.to {
                    Some(to) => owner(to.as_deref())?,
                    None => {
                        return Err(V2Error::invalid(format!(
                            "operation {i}: to is required (a customer id, or null for the project's stock)"
                        )))
                    }
                },
                from: self.from()?,
            },
            OperationType::ConsumeItem => Operation::ConsumeItem {
                item: item()?,
                from: self.from()?,
            },
            OperationType::SetItemProperties => Operation::SetItemProperties {
                item: item()?,
                properties: properties()?.ok_or_else(|| required("properties"))?,
            },
            OperationType::Issue
            | OperationType::Redeem
            | OperationType::Transfer
            | OperationType::Hold
            | OperationType::Capture
            | OperationType::Void => {
                return Err(V2Error::invalid(format!(
                    "operation {i}: {:?} is not an item operation",
                    self.kind
                )))
            }
        })
    }

    fn from(&self) -> Result<Option<Option<CustomerId>>, V2Error> {
        self.from.as_ref().map(|from| owner(from.as_deref())).transpose()
    }
}

/// An owner named in an operation: `None` (stock) or a customer; an id that
/// cannot be one is not found.
fn owner(id: Option<&str>) -> Result<Option<CustomerId>, V2Error> {
    id.map(|id| CustomerId::parse(id).map_err(|_| V2Error::not_found(Missing::Customer)))
        .transpose()
}

/// An `itemType` filter. Items granted through API v1 take their item name
/// (up to 200 characters) as their type, so the filter takes up to 200.
fn type_filter(value: Option<&str>) -> Result<Option<ItemType>, V2Error> {
    value
        .map(|t| {
            ItemName::parse(t)
                .map(|name| ItemType::of_v1_item(&name))
                .map_err(|_| V2Error::invalid("itemType must be 1-200 characters without control characters"))
        })
        .transpose()
}

/// `GET /customers/{customerId}/items`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// Only items of this type; default: all.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub item_type: Option<String>,
    /// Only items of this status; default: all.
    pub status: Option<ItemStatus>,
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u32>,
}

impl ItemsQuery {
    pub fn filter(&self) -> Result<ItemFilter, V2Error> {
        item_filter(self.item_type.as_deref(), self.status)
    }

    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

/// The filter of an item list: a type (up to 200 characters, see
/// [`type_filter`]) and a status, each optional.
fn item_filter(item_type: Option<&str>, status: Option<ItemStatus>) -> Result<ItemFilter, V2Error> {
    Ok(ItemFilter {
        item_type: type_filter(item_type)?,
        status,
    })
}

/// Whose items `GET /items` lists: only `stock` (the project's own) for
/// now; a customer's are at `GET /customers/{customerId}/items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum StockOwner {
    #[serde(rename = "stock")]
    Stock,
}

/// `GET /items`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// Required; `stock` is the only value.
    #[param(inline)]
    pub owner: StockOwner,
    /// Only items of this type; default: all.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub item_type: Option<String>,
    /// Only items of this status; default: all.
    pub status: Option<ItemStatus>,
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<u32>,
}

impl StockQuery {
    pub fn filter(&self) -> Result<ItemFilter, V2Error> {
        item_filter(self.item_type.as_deref(), self.status)
    }

    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ToOperation;
    use super::*;
    use crate::api::v2::error::ErrorStatus;

    fn operation(json: serde_json::Value) -> Result<Operation, ErrorStatus> {
        let body: OperationBody =
            serde_json::from_str(&json.to_string()).map_err(|_| ErrorStatus::ValidationError)?;
        body.to_operation(0).map_err(|e| e.status)
    }

    #[test]
    fn from_absent_null_and_named_are_three_different_things() {
        use serde_json::json;
        let cases = [
            (json!({"type": "ConsumeItem", "item": "sword"}), None),
            (
                json!({"type": "ConsumeItem", "item": "sword", "from": null}),
                Some(None),
            ),
            (
                json!({"type": "ConsumeItem", "item": "sword", "from": "alice"}),
                Some(Some("alice")),
            ),
        ];
        for (json, expected) in cases {
            let Ok(Operation::ConsumeItem { from, .. }) = operation(json.clone()) else {
                panic!("{json} is a ConsumeItem");
            };
            let from = from.as_ref().map(|f| f.as_ref().map(CustomerId::as_str));
            assert_eq!(from, expected, "{json}");
        }
    }

    #[test]
    fn item_operations_are_checked_field_by_field() {
        use serde_json::json;
        use ErrorStatus::*;
        let long = "x".repeat(65);
        let cases: Vec<(serde_json::Value, Result<(), ErrorStatus>)> = vec![
            (json!({"type": "GrantItem", "itemType": "sword"}), Ok(())),
            (
                json!({"type": "GrantItem", "itemType": "sword", "customerId": null}),
                Ok(()),
            ),
            (
                json!({"type": "GrantItem", "itemType": "sword", "properties": null}),
                Ok(()),
            ),
            (json!({"type": "GrantItem"}), Err(ValidationError)),
            (json!({"type": "GrantItem", "itemType": ""}), Err(ValidationError)),
            (
                json!({"type": "GrantItem", "itemType": long}),
                Err(ValidationError),
            ),
            (
                json!({"type": "GrantItem", "itemType": "s", "itemId": long}),
                Err(ValidationError),
            ),
            (
                json!({"type": "GrantItem", "itemType": "s", "itemId": ""}),
                Err(ValidationError),
            ),
            (
                json!({"type": "GrantItem", "itemType": "s", "from": null}),
                Err(ValidationError),
            ),
            (
                json!({"type": "GrantItem", "itemType": "s", "to": "bob"}),
                Err(ValidationError),
            ),
            (
                json!({"type": "GrantItem", "itemType": "s", "customerId": ""}),
                Err(CustomerNotFound),
            ),
            (json!({"type": "TransferItem", "item": "i", "to": null}), Ok(())),
            (
                json!({"type": "TransferItem", "item": "i", "to": "bob", "from": null}),
                Ok(()),
            ),
            (json!({"type": "TransferItem", "item": "i"}), Err(ValidationError)),
            (json!({"type": "TransferItem", "to": "bob"}), Err(ValidationError)),
            (
                json!({"type": "TransferItem", "item": "i", "to": "bob", "properties": {}}),
                Err(ValidationError),
            ),
            (
                json!({"type": "TransferItem", "item": "i", "to": "bob", "customerId": null}),
                Err(ValidationError),
            ),
            (
                json!({"type": "TransferItem", "item": long, "to": "bob"}),
                Err(ItemNotFound),
            ),
            (
                json!({"type": "TransferItem", "item": "i", "to": long}),
                Err(CustomerNotFound),
            ),
            (
                json!({"type": "ConsumeItem", "item": "i", "to": null}),
                Err(ValidationError),
            ),
            (
                json!({"type": "SetItemProperties", "item": "i", "properties": 1}),
                Ok(()),
            ),
            (
                json!({"type": "SetItemProperties", "item": "i", "properties": null}),
                Ok(()),
            ),
            (
                json!({"type": "SetItemProperties", "item": "i"}),
                Err(ValidationError),
            ),
            (
                json!({"type": "SetItemProperties", "item": "i", "properties": 1, "from": null}),
                Err(ValidationError),
            ),
            (
                json!({"type": "Issue", "destination": "1", "amount": 1, "item": "i"}),
                Err(ValidationError),
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(operation(json.clone()).map(|_| ()), expected, "{json}");
        }
    }

    #[test]
    fn properties_are_kept_exactly_and_bounded() {
        let exact = r#"{"n": 123456789012345678901234567890, "f": 1.50, "e": 1e3}"#;
        let body = format!(r#"{{"type": "SetItemProperties", "item": "i", "properties": {exact}}}"#);
        let body: OperationBody = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}"));
        let Ok(Operation::SetItemProperties { properties, .. }) = body.to_operation(0) else {
            panic!("a SetItemProperties");
        };
        assert_eq!(properties.as_str(), exact);

        let at_most = |n: usize| {
            // A JSON string of n bytes in all, quotes included.
            let text = format!("\"{}\"", "a".repeat(n - 2));
            let body = format!(r#"{{"type": "SetItemProperties", "item": "i", "properties": {text}}}"#);
            let body: OperationBody = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}"));
            body.to_operation(0).map(|_| ()).map_err(|e| e.status)
        };
        assert_eq!(at_most(16 * 1024), Ok(()));
        assert_eq!(at_most(16 * 1024 + 1), Err(ErrorStatus::ValidationError));
    }
}
