//! Plain rows read from or written to the database.

/// A new asset's definition.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub code: String,
    pub name: String,
    pub fractions: i64,
}

impl NewAsset {
    /// The default asset of a new project: whole points, as API v1 counts.
    pub fn default_points() -> Self {
        Self {
            code: "PTS".to_owned(),
            name: "Points".to_owned(),
            fractions: 1,
        }
    }
}

/// An authority as the authentication step needs it.
#[derive(Debug, Clone)]
pub struct AuthorityRow {
    pub rowid: i64,
    pub public_id: String,
    pub project_id: String,
    pub name: String,
    /// `None` for an access-key authority.
    pub public_key_pem: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The project's default asset (API v1's currency).
    pub default_asset: i64,
}

/// A customer's rowid and status, read inside a write.
#[derive(Debug, Clone, Copy)]
pub struct CustomerState {
    pub rowid: i64,
    pub status: CustomerStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerStatus {
    Active,
    Suspended,
    Deleted,
}

impl CustomerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "Active",
            CustomerStatus::Suspended => "Suspended",
            CustomerStatus::Deleted => "Deleted",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "Active" => Some(CustomerStatus::Active),
            "Suspended" => Some(CustomerStatus::Suspended),
            "Deleted" => Some(CustomerStatus::Deleted),
            _ => None,
        }
    }
}

/// A wallet's rowid, status and balance, read inside a write.
#[derive(Debug, Clone, Copy)]
pub struct WalletState {
    pub rowid: i64,
    pub asset_id: i64,
    pub status: WalletStatus,
    pub balance: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletStatus {
    Open,
    Suspended,
    Closed,
}

impl WalletStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WalletStatus::Open => "Open",
            WalletStatus::Suspended => "Suspended",
            WalletStatus::Closed => "Closed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "Open" => Some(WalletStatus::Open),
            "Suspended" => Some(WalletStatus::Suspended),
            "Closed" => Some(WalletStatus::Closed),
            _ => None,
        }
    }
}

/// The kind of operation an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Issue,
    Redeem,
    Transfer,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Issue => "Issue",
            EntryKind::Redeem => "Redeem",
            EntryKind::Transfer => "Transfer",
        }
    }
}

/// A new line for one wallet's ledger.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub wallet: i64,
    pub transaction: i64,
    pub authority: i64,
    pub kind: EntryKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: Option<&'a str>,
    pub created_at: i64,
}

/// A new transaction record.
#[derive(Debug, Clone)]
pub struct NewTransaction<'a> {
    pub project_id: &'a str,
    pub reference_id: Option<&'a str>,
    pub authority: i64,
    pub completed: bool,
    pub error: Option<&'a str>,
    pub description: Option<&'a str>,
    pub operations: Option<&'a str>,
    pub created_at: i64,
}

/// An API v1 entry with its optional item, as the SDK sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct V1EntryRow {
    pub entry_id: i64,
    pub authority_id: String,
    pub user_id: String,
    pub created_at: i64,
    pub amount: i64,
    pub reason: String,
    pub item: Option<ItemRow>,
}

/// An inventory item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub name: String,
    /// JSON text, as the authority gave it.
    pub data: Option<String>,
    pub used: bool,
}

/// One line of the v1 inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryRow {
    pub entry_id: i64,
    pub authority_id: String,
    pub user_id: String,
    pub item: ItemRow,
}

/// A v1 wallet total: the sum of the listed authorities' entries in the
/// user's default wallet. A balance fits i64, but a sum over some of its
/// authorities need not (one issued MAX twice while another redeemed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletTotalRow {
    pub user_id: String,
    pub total: i128,
}

/// A running total of `authority_totals` as its two columns: `total` holds
/// the low 64 bits (as a signed integer) and `total_high` the rest, so the
/// exact value is `total_high * 2^64 + total`. Every total within i64 has
/// `total_high = 0` and `total` equal to it, so rows written before schema
/// step 3 read the same. `None` past about ±2^127, which takes 2^63 entries.
pub fn split_total(total: i128) -> Option<(i64, i64)> {
    // Truncation to the low 64 bits is the point here.
    let low = total as i64;
    let high = total.checked_sub(i128::from(low))? >> 64;
    Some((low, i64::try_from(high).ok()?))
}

/// The exact running total from its two columns (see [`split_total`]).
pub fn join_total(low: i64, high: i64) -> i128 {
    (i128::from(high) << 64) + i128::from(low)
}

/// Whether an item could be marked used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemUse {
    Marked,
    AlreadyUsed,
    NoSuchItem,
}

/// What `check` found on the database. Empty lists mean every invariant holds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    pub wallets: i64,
    pub entries: i64,
    pub transactions: i64,
    /// Wallets whose balance differs from the sum of their entries, or whose
    /// last entry's balance_after differs from the balance.
    pub balance_mismatches: Vec<String>,
    pub negative_balances: Vec<String>,
    /// Assets where sum of balances != issued - redeemed.
    pub asset_mismatches: Vec<String>,
    /// Transfers whose two sides are in different assets or projects, or do
    /// not cancel out.
    pub transfer_mismatches: Vec<String>,
    /// Failed transactions that left entries behind.
    pub failed_with_entries: Vec<String>,
    /// Per-authority totals that differ from the sum of that authority's entries.
    pub authority_total_mismatches: Vec<String>,
    pub integrity: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.balance_mismatches.is_empty()
            && self.negative_balances.is_empty()
            && self.asset_mismatches.is_empty()
            && self.transfer_mismatches.is_empty()
            && self.failed_with_entries.is_empty()
            && self.authority_total_mismatches.is_empty()
            && self.integrity.is_empty()
    }
}

/// A page of a list: `page` counts from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub size: u32,
}

impl PageRequest {
    pub(super) fn offset(self) -> i64 {
        i64::from(self.page) * i64::from(self.size)
    }
}

/// One page of rows and the number of rows in all pages.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// A half-open time range in epoch milliseconds: `from <= t < to`.
#[derive(Debug, Clone, Copy)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub name: String,
    pub default_asset: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct AssetRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub fractions: i64,
    pub used: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub rowid: i64,
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: CustomerStatus,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct WalletRow {
    pub id: i64,
    pub project_id: String,
    pub asset_id: i64,
    /// The owner's rowid and id; `None` for a system wallet.
    pub customer: Option<(i64, String)>,
    pub customer_status: Option<CustomerStatus>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: WalletStatus,
    pub balance: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: i64,
    pub wallet_id: i64,
    pub transaction_id: i64,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct TransactionRow {
    pub id: i64,
    pub reference_id: Option<String>,
    pub completed: bool,
    pub error: Option<String>,
    pub description: Option<String>,
    /// The operations as JSON text.
    pub operations: Option<String>,
    pub created_at: i64,
}

/// An access-key authority, as authentication needs it.
#[derive(Debug, Clone)]
pub struct KeyAuthorityRow {
    pub authority: AuthorityRow,
    pub token_digest: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct CustomerKeyRow {
    pub id: String,
    pub project_id: String,
    pub customer: i64,
    pub customer_id: String,
    pub token_digest: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// A deleted customer's keys open nothing.
    pub customer_deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn running_totals_split_and_join_exactly(hi in any::<i64>(), lo in any::<u64>()) {
            // Every i128 up to about ±2^127: far past what 2^63 entries can reach.
            let total = (i128::from(hi) << 64) | i128::from(lo);
            if let Some((low, high)) = split_total(total) {
                prop_assert_eq!(join_total(low, high), total);
            } else {
                prop_assert!(total > i128::MAX - (1 << 63), "only the very top is refused: {}", total);
            }
        }

        #[test]
        fn a_total_within_i64_is_its_own_low_column(total in any::<i64>()) {
            prop_assert_eq!(split_total(i128::from(total)), Some((total, 0)));
        }
    }
}
