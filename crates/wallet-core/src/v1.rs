//! API v1's views of the ledger: a user's entries in their default wallet of
//! the project's default asset, with the items attached to them.

use crate::ids::EntryId;
use crate::model::Millis;

/// An API v1 entry with its optional item, as the SDK sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Entry {
    pub entry_id: EntryId,
    pub authority_id: String,
    pub user_id: String,
    pub created_at: Millis,
    pub amount: i64,
    pub reason: String,
    pub item: Option<Item>,
}

/// An inventory item given with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    /// The data exactly as the authority sent it (JSON text); `None` when it
    /// sent none.
    pub data: Option<String>,
    pub used: bool,
}

/// One line of the v1 inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryLine {
    pub entry_id: EntryId,
    pub authority_id: String,
    pub user_id: String,
    pub item: Item,
}

/// A user's total in the v1 wallet query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTotal {
    pub user_id: String,
    /// A sum over some authorities' entries, which may pass `i64` even
    /// though the wallet's balance cannot.
    pub total: i128,
}

/// Filters of the v1 wallet query. `None` = no filter; `Some(empty)` matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalletTotalsFilter {
    pub user_ids: Option<Vec<String>>,
    pub authority_ids: Option<Vec<String>>,
}

/// Filters of the v1 inventory query. `None` = no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryFilter {
    pub entry_ids: Option<Vec<EntryId>>,
    pub user_ids: Option<Vec<String>>,
    pub authority_ids: Option<Vec<String>>,
    pub used: Option<bool>,
}
