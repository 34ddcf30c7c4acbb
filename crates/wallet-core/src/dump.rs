//! The rows of a project as an export carries them: one JSON object per
//! row, tagged by `type`, with credentials as the server holds them (public
//! keys and SHA-256 digests in hex, never a private key or a token).
//!
//! [`ImportCheck`] is the validation every backend's import runs on each
//! record before writing it, so both refuse the same files alike.

use serde::{Deserialize, Serialize};

mod import;

pub use import::{ImportCheck, InvalidRecord};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectDump {
    pub id: String,
    pub name: String,
    pub default_asset: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetDump {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub fractions: i64,
    pub used: bool,
    pub created_at: i64,
}

/// An authority's public data: its public key, or the SHA-256 digest of its
/// access key (hex). Never a private key: the server has none. The
/// project's system authority (`system`, which posts expiries and the
/// operator's voids) has neither.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorityDump {
    pub rowid: i64,
    pub id: String,
    pub name: String,
    pub public_key_pem: Option<String>,
    pub token_digest: Option<String>,
    /// Absent from exports made before holds: false.
    #[serde(default)]
    pub system: bool,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerDump {
    pub rowid: i64,
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerKeyDump {
    pub rowid: i64,
    pub id: String,
    /// The customer's rowid.
    pub customer: i64,
    pub token_digest: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WalletDump {
    pub id: i64,
    pub asset: i64,
    /// The owner's rowid; `None` for a system wallet.
    pub customer: Option<i64>,
    pub is_default: bool,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub balance: i64,
    /// Absent from exports made before holds: 0, like the limit.
    #[serde(default)]
    pub held: i64,
    #[serde(default)]
    pub credit_limit: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionDump {
    pub id: i64,
    pub reference_id: Option<String>,
    /// The poster's rowid.
    pub authority: i64,
    pub status: String,
    pub error: Option<String>,
    pub description: Option<String>,
    /// The operations as requested, JSON text as stored.
    pub operations: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntryDump {
    pub id: i64,
    pub wallet: i64,
    pub transaction: i64,
    pub authority: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// An item, with its public id and its own row id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemDump {
    pub rowid: i64,
    pub id: String,
    pub item_type: String,
    /// JSON text as stored; `None` when none were given.
    pub properties: Option<String>,
    /// The owner's rowid; `None`: the project's stock.
    pub customer: Option<i64>,
    pub status: String,
    /// The API v1 entry that granted it.
    pub v1_entry: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An item as exports made before API v2's items wrote it: the item of an
/// API v1 entry. Imported as an item owned by the entry's user, with id
/// [`V1ItemDump::item_id`], a GrantItem step in the entry's transaction,
/// and, if it was used, a ConsumeItem step with no transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct V1ItemDump {
    pub entry: i64,
    pub name: String,
    pub data: Option<String>,
    pub used: bool,
}

impl V1ItemDump {
    /// The id an item of an API v1 entry gets when it did not have one: the
    /// same one the database migration gives it.
    pub fn item_id(&self) -> String {
        format!("v1_{}", self.entry)
    }
}

/// An `item` record of either shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ItemRecord {
    Item(ItemDump),
    V1(V1ItemDump),
}

/// One step of an item's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemStepDump {
    pub rowid: i64,
    /// The item's rowid.
    pub item: i64,
    /// `None` for a step the migration of API v1 items wrote.
    pub transaction: Option<i64>,
    pub kind: String,
    /// Owners' rowids before and after; `None`: stock (or nothing, before a
    /// grant).
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub properties: Option<String>,
    pub created_at: i64,
}

/// A hold, with its public id and its own row id (kept on import, like
/// every id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldDump {
    pub rowid: i64,
    pub id: String,
    /// The source wallet's id.
    pub source: i64,
    pub destination: Option<i64>,
    pub asset: i64,
    pub amount: i64,
    pub captured: i64,
    pub remaining: i64,
    pub status: String,
    pub expires_at: Option<i64>,
    /// The transaction that placed it.
    pub transaction: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A lot (after the holds in a file: its earmarks name both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LotDump {
    pub id: i64,
    pub wallet: i64,
    pub amount: i64,
    pub remaining: i64,
    pub earmarked: i64,
    pub expires_at: i64,
    pub status: String,
    pub transaction: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One step of a lot's history (`kind` a `LotStepKind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LotStepDump {
    pub rowid: i64,
    pub lot: i64,
    pub transaction: i64,
    pub kind: String,
    pub amount: i64,
    pub created_at: i64,
}

/// The part of a lot an Open hold (by its row id) reserves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarmarkDump {
    pub hold: i64,
    pub lot: i64,
    pub amount: i64,
}

/// One row of a project, in the order an export writes them (every row
/// after the rows it refers to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DumpRecord {
    Project(ProjectDump),
    Asset(AssetDump),
    Authority(AuthorityDump),
    Customer(CustomerDump),
    CustomerKey(CustomerKeyDump),
    Wallet(WalletDump),
    Transaction(TransactionDump),
    Entry(EntryDump),
    Item(ItemRecord),
    ItemStep(ItemStepDump),
    Hold(HoldDump),
    Lot(LotDump),
    LotStep(LotStepDump),
    Earmark(EarmarkDump),
}

/// How many rows of each kind went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DumpCounts {
    pub assets: u64,
    pub authorities: u64,
    pub customers: u64,
    pub customer_keys: u64,
    pub wallets: u64,
    pub transactions: u64,
    pub entries: u64,
    pub items: u64,
    pub item_steps: u64,
    pub holds: u64,
    pub lots: u64,
    pub lot_steps: u64,
    pub earmarks: u64,
}

impl DumpCounts {
    /// Counts one more row of its kind.
    pub fn add(&mut self, record: &DumpRecord) {
        let counter = match record {
            DumpRecord::Project(_) => return,
            DumpRecord::Asset(_) => &mut self.assets,
            DumpRecord::Authority(_) => &mut self.authorities,
            DumpRecord::Customer(_) => &mut self.customers,
            DumpRecord::CustomerKey(_) => &mut self.customer_keys,
            DumpRecord::Wallet(_) => &mut self.wallets,
            DumpRecord::Transaction(_) => &mut self.transactions,
            DumpRecord::Entry(_) => &mut self.entries,
            DumpRecord::Item(_) => &mut self.items,
            DumpRecord::ItemStep(_) => &mut self.item_steps,
            DumpRecord::Hold(_) => &mut self.holds,
            DumpRecord::Lot(_) => &mut self.lots,
            DumpRecord::LotStep(_) => &mut self.lot_steps,
            DumpRecord::Earmark(_) => &mut self.earmarks,
        };
        *counter += 1;
    }
}

/// Lower-case hex, for the digests of opaque keys.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_through_hex() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(hex(&bytes), "00017f80ff");
        assert_eq!(unhex("00017f80ff"), Some(bytes.to_vec()));
        for bad in ["0", "zz", "0g", "é0"] {
            assert_eq!(unhex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn records_are_tagged_and_refuse_unknown_fields() {
        let line = r#"{"type":"item","entry":7,"name":"Hat","data":null,"used":false}"#;
        let record: DumpRecord = serde_json::from_str(line).expect("parses");
        assert_eq!(serde_json::to_string(&record).expect("serializes"), line);
        let extra = r#"{"type":"item","entry":7,"name":"Hat","data":null,"used":false,"x":1}"#;
        assert!(serde_json::from_str::<DumpRecord>(extra).is_err());
    }

    #[test]
    fn an_item_record_is_of_either_shape() {
        let old = r#"{"type":"item","entry":7,"name":"Hat","data":"{\"size\":3}","used":true}"#;
        let Ok(DumpRecord::Item(ItemRecord::V1(v1))) = serde_json::from_str::<DumpRecord>(old) else {
            panic!("an old item record parses as an API v1 item");
        };
        assert_eq!(v1.item_id(), "v1_7");
        let new = r#"{"type":"item","rowid":1,"id":"sword-1","itemType":"sword","properties":"{\"atk\":12345678901234567890}","customer":3,"status":"Active","v1Entry":null,"createdAt":5,"updatedAt":6}"#;
        let record: DumpRecord = serde_json::from_str(new).expect("a new item record parses");
        assert!(matches!(record, DumpRecord::Item(ItemRecord::Item(_))));
        assert_eq!(serde_json::to_string(&record).expect("serializes"), new);
        let mixed = r#"{"type":"item","rowid":1,"id":"s","itemType":"sword","properties":null,"customer":null,"status":"Active","v1Entry":null,"createdAt":5,"updatedAt":6,"used":true}"#;
        assert!(serde_json::from_str::<DumpRecord>(mixed).is_err());
    }
}
