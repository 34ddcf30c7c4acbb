//! What clients send to API v2: the request bodies, as the server reads them
//! and a client writes them. One definition serves both, so they cannot
//! drift. The server's validation of them into domain values lives with the
//! server (`src/api/v2/requests.rs`).

use super::{nullable, raw_present, OperationType, WalletStatus};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAssetBody {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 16, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub code: String,
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 1, maximum = 1_000_000_000_000_000_000_i64)
    )]
    pub fractions: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DescriptionBody {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdateBody {
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResumeBody {
    /// The wallets to open again; the customer's other wallets stay suspended.
    pub wallet_ids: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewKeyBody {
    /// Epoch milliseconds after which the key is refused; none = no expiry.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewWalletBody {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub customer_id: String,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[1-9][0-9]{0,18}$"))]
    pub asset_id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSystemWalletBody {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[1-9][0-9]{0,18}$"))]
    pub asset_id: String,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub name: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusObject {
    pub status: WalletStatus,
}

/// `"Open"` or `{"status": "Open"}`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum StatusBody {
    Plain(WalletStatus),
    Object(StatusObject),
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransactionBody {
    /// Unique per project, 1-30 characters: a retry with it never applies twice.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub reference_id: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = super::operation_schema::operations))]
    pub operations: Vec<OperationBody>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1 to 8,000 independent transactions.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 8000))]
    pub transactions: Vec<TransactionBody>,
}

/// `PUT /wallets/{walletId}/credit-limit`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreditLimitBody {
    /// How far below zero the balance may go: an integer count of the
    /// asset's smallest parts, from 0 to 2^62.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 4_611_686_018_427_387_904_i64))]
    pub credit_limit: Box<RawValue>,
}

/// One operation. Which fields each type takes:
/// - `Issue`: `destination`, `amount`, optional `expiresAt` (epoch ms, in
///   the future: the value then forms a lot that expires at that time);
/// - `Redeem`: `source`, `amount`;
/// - `Transfer`: `source`, `destination`, `amount`;
/// - `Hold`: `source`, `amount`, optional `destination` (then every Capture
///   goes there), `expiresAt` (epoch ms, in the future) and `holdId` (1-30
///   characters, unique in the project; default: one the server makes);
/// - `Capture`: `hold`, optional `amount` (default: all that remains) and
///   `destination` (required when the hold names none, else the same);
/// - `Void`: `hold`;
/// - `GrantItem`: `itemType`, optional `customerId` (absent or null: the
///   project's stock), `properties` (any JSON value, at most 16 KiB) and
///   `itemId` (1-64 characters, unique in the project; default: one the
///   server makes);
/// - `TransferItem`: `item`, `to` (required: a customer id, or null for the
///   project's stock), optional `from` (the owner it must have now; null:
///   stock; absent: no check);
/// - `ConsumeItem`: `item`, optional `from` (as for TransferItem);
/// - `SetItemProperties`: `item`, `properties` (required; replaces them).
///
/// Any other field is a 400 `VALIDATION_ERROR`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationBody {
    #[serde(rename = "type")]
    pub kind: OperationType,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[1-9][0-9]{0,18}$"))]
    pub source: Option<String>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[1-9][0-9]{0,18}$"))]
    pub destination: Option<String>,
    /// A positive integer count of the asset's smallest parts.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, minimum = 1))]
    pub amount: Option<Box<RawValue>>,
    /// The hold a Capture or Void works on.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub hold: Option<String>,
    /// A Hold's id: 1-30 characters, unique in the project.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 30, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub hold_id: Option<String>,
    /// When a Hold's reservation ends by itself, or when an Issue's value
    /// expires (it forms a lot): epoch milliseconds, in the future.
    pub expires_at: Option<i64>,
    /// A GrantItem's kind of thing (`"sword"`): 1-64 characters without
    /// control characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
        )
    )]
    pub item_type: Option<String>,
    /// A GrantItem's owner: a customer id, or null (or absent) for the
    /// project's stock.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"))]
    pub customer_id: Option<Option<String>>,
    /// Any JSON value, at most 16 KiB (16,384 bytes) of JSON text as sent,
    /// nested at most 64 levels deep; kept exactly (numbers keep every digit).
    #[serde(
        default,
        deserialize_with = "raw_present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub properties: Option<Box<RawValue>>,
    /// A GrantItem's id for the new item: 1-64 characters without control or
    /// invisible characters, unique in the project.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub item_id: Option<String>,
    /// The item a TransferItem, ConsumeItem or SetItemProperties works on.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")
    )]
    pub item: Option<String>,
    /// Where a TransferItem moves the item: a customer id, or null for the
    /// project's stock. Required.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"))]
    pub to: Option<Option<String>>,
    /// The owner the item must have now: a customer id, or null for the
    /// project's stock (absent: no check).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"))]
    pub from: Option<Option<String>>,
}

/// `POST /webhooks`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// `http` or `https`; not a loopback, private, link-local or metadata
    /// address (unless the server allows private networks).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[ \t]*[Hh][Tt][Tt][Pp][Ss]?://"))]
    pub url: String,
    /// The event types it receives; omitted or null: all (future types too).
    pub types: Option<Vec<String>>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 1000, pattern = r"^[^\u0000-\u0008\u000B-\u001F\u007F-\u009F]*$")
    )]
    pub description: Option<String>,
}

/// `POST /webhooks/{id}/replay`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// Every matching event with a `seq` greater than this is sent again.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub after: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `null` and absent differ for `customerId`, `to`, `from` and
    /// `properties`: what a client writes, the server reads back the same.
    #[test]
    fn an_operation_reads_back_as_written() {
        for json in [
            r#"{"type":"ConsumeItem","source":null,"destination":null,"amount":null,"hold":null,"holdId":null,"expiresAt":null,"itemType":null,"itemId":null,"item":"i"}"#,
            r#"{"type":"ConsumeItem","source":null,"destination":null,"amount":null,"hold":null,"holdId":null,"expiresAt":null,"itemType":null,"itemId":null,"item":"i","from":null}"#,
            r#"{"type":"GrantItem","source":null,"destination":null,"amount":null,"hold":null,"holdId":null,"expiresAt":null,"itemType":"s","customerId":"c","properties":null,"itemId":null,"item":null}"#,
            r#"{"type":"Issue","source":null,"destination":"1","amount":10,"hold":null,"holdId":null,"expiresAt":null,"itemType":null,"itemId":null,"item":null}"#,
        ] {
            let body: OperationBody = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                serde_json::to_string(&body).unwrap_or_else(|e| panic!("{e}")),
                json
            );
        }
    }
}
