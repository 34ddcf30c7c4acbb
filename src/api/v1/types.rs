//! API v1 request and response bodies, exactly as the SDK sends and expects them.

use super::V1Error;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use wallet_core::amount::Amount;
use wallet_core::text::{CustomerId, InvalidValue, ItemName, ItemProperties, Text};
use wallet_core::v1::{InventoryLine, Item, V1Entry};
use wallet_core::{V1EntryRequest, V1Item};

/// Most ids one list filter may name.
const MAX_LIST_LEN: usize = 1000;
/// Longest accepted `reason`.
const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEntryBody {
    user_id: String,
    amount: i64,
    reason: String,
    #[serde(default)]
    item: Option<ItemBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    name: String,
    /// Kept as the raw JSON text sent: a parsed value would round integers
    /// beyond u64 to floats and respell numbers (`1e3` as `1000.0`). `null`
    /// is kept too (`Some("null")`); only an absent `data` is `None`.
    #[serde(default, deserialize_with = "present")]
    data: Option<Box<RawValue>>,
}

/// A field that is present, even as `null`: `Option`'s own deserializer
/// would turn `null` into `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// The item's data as stored: the text as sent, once it is known to parse
/// within serde_json's nesting limit (128), so an absurdly deep value is
/// refused here instead of stored for every later reader to choke on.
fn item_data(raw: &RawValue) -> Result<ItemProperties, V1Error> {
    serde_json::from_str::<serde_json::Value>(raw.get())
        .map_err(|e| V1Error::BadRequest(format!("item data: {e}")))?;
    ItemProperties::parse_unbounded(raw.get()).map_err(|e| V1Error::BadRequest(format!("item data: {e}")))
}

impl CreateEntryBody {
    pub fn into_request(self) -> Result<V1EntryRequest, V1Error> {
        let bad = |e: InvalidValue| V1Error::BadRequest(e.0);
        Ok(V1EntryRequest {
            user: CustomerId::parse(&self.user_id).map_err(bad)?,
            amount: Amount::parse(self.amount).map_err(bad)?,
            reason: Text::parse(&self.reason, "reason", MAX_REASON_CHARS).map_err(bad)?,
            item: self
                .item
                .map(|item| {
                    Ok::<_, V1Error>(V1Item {
                        name: ItemName::parse(&item.name).map_err(bad)?,
                        data: item.data.as_deref().map(item_data).transpose()?,
                    })
                })
                .transpose()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletQuery {
    pub user_ids: Option<String>,
    pub authority_ids: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    pub entry_ids: Option<String>,
    pub user_ids: Option<String>,
    pub authority_ids: Option<String>,
    pub used: Option<String>,
}

/// A comma list filter: absent or empty = no filter (the SDK always sends
/// every list, empty when unused).
pub fn parse_list(raw: Option<&str>, what: &str) -> Result<Option<Vec<String>>, V1Error> {
    let Some(raw) = raw else { return Ok(None) };
    let items: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if items.len() > MAX_LIST_LEN {
        return Err(V1Error::BadRequest(format!(
            "{what} may name at most {MAX_LIST_LEN} ids"
        )));
    }
    Ok((!items.is_empty()).then_some(items))
}

/// `used=true|false`; absent or empty = no filter.
pub fn parse_used(raw: Option<&str>) -> Result<Option<bool>, V1Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(V1Error::BadRequest("used must be true or false".to_owned())),
    }
}

#[derive(Debug, Serialize)]
pub struct ItemJson {
    name: String,
    used: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Box<RawValue>>,
}

impl From<Item> for ItemJson {
    fn from(item: Item) -> Self {
        Self {
            name: item.name,
            used: item.used,
            // Stored as the authority sent it, so it parses back.
            data: item.data.and_then(|d| RawValue::from_string(d).ok()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EntryJson {
    entry_id: String,
    authority_id: String,
    user_id: String,
    /// Unix seconds as a JSON float, always with a fractional part: the SDK
    /// validates it with `float` and refuses an integer.
    created_on: f64,
    amount: i64,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<ItemJson>,
}

impl From<V1Entry> for EntryJson {
    fn from(e: V1Entry) -> Self {
        Self {
            entry_id: e.entry_id.to_string(),
            authority_id: e.authority_id,
            user_id: e.user_id,
            created_on: e.created_at as f64 / 1000.0,
            amount: e.amount,
            reason: e.reason,
            item: e.item.map(ItemJson::from),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EntryResponse {
    pub entry: EntryJson,
}

#[derive(Debug, Serialize)]
pub struct WalletTotalJson {
    pub user_id: String,
    /// An exact JSON integer, also beyond i64 (a sum over some authorities
    /// may be); the SDK reads it as a Python int.
    pub total: i128,
}

#[derive(Debug, Serialize)]
pub struct WalletsResponse {
    pub wallets: Vec<WalletTotalJson>,
}

#[derive(Debug, Serialize)]
pub struct InventoryResponse {
    pub inventory: Vec<InventoryJson>,
}

#[derive(Debug, Serialize)]
pub struct InventoryJson {
    entry_id: String,
    authority_id: String,
    user_id: String,
    item: ItemJson,
}

impl From<InventoryLine> for InventoryJson {
    fn from(row: InventoryLine) -> Self {
        Self {
            entry_id: row.entry_id.to_string(),
            authority_id: row.authority_id,
            user_id: row.user_id,
            item: row.item.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(parse_list(None, "x").ok(), Some(None));
        assert_eq!(parse_list(Some(""), "x").ok(), Some(None));
        assert_eq!(parse_list(Some(",,"), "x").ok(), Some(None));
        assert_eq!(
            parse_list(Some("a,b"), "x").ok(),
            Some(Some(vec!["a".to_owned(), "b".to_owned()]))
        );
        assert!(parse_list(Some(&"a,".repeat(1001)), "x").is_err());
    }

    #[test]
    fn used_filter() {
        assert_eq!(parse_used(None).ok(), Some(None));
        assert_eq!(parse_used(Some("true")).ok(), Some(Some(true)));
        assert_eq!(parse_used(Some("false")).ok(), Some(Some(false)));
        assert!(parse_used(Some("yes")).is_err());
    }

    #[test]
    fn created_on_is_always_a_float() {
        let row = V1Entry {
            entry_id: wallet_core::ids::EntryId::new(1),
            authority_id: "au_x".into(),
            user_id: "u".into(),
            created_at: 1_763_852_400_000,
            amount: 1,
            reason: String::new(),
            item: None,
        };
        let json = serde_json::to_string(&EntryJson::from(row)).unwrap_or_default();
        assert!(json.contains("\"created_on\":1763852400.0"), "{json}");
    }
}
