//! The ledger's entities and their statuses, as the core and every backend
//! see them. `docs/model.md` describes them and the invariants they keep.

use crate::ids::{
    AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId, EntryId, LotId, TransactionId, WalletId,
};
use crate::text::{CustomerId, HoldId, ItemId, ItemProperties, ItemType};
use serde::{Deserialize, Serialize};

/// A point in time: Unix epoch milliseconds, as every `*_at` is stored.
pub type Millis = i64;

macro_rules! status {
    ($(#[$doc:meta])* $name:ident as $schema:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = $schema))]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name clients and the database use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }

            /// The status named `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status!(
    /// A customer's standing. Deleted is final; a deleted customer's id is
    /// never reused.
    CustomerStatus as CustomerStatus { Active, Suspended, Deleted }
);

status!(
    /// A wallet's standing. Only Open wallets take part in transactions;
    /// Closed is final and needs a zero balance.
    WalletStatus as WalletStatus { Open, Suspended, Closed }
);

status!(
    /// What became of a transaction. Transactions apply synchronously, so
    /// these are the only two stored.
    TransactionStatus as TransactionStatus { Completed, Failed }
);

status!(
    /// The operation an entry records. Holds, voids and expiries of holds
    /// write no entry: they move `held`, not the balance. `Expire` is the
    /// server's: a lot's value that ran out (negative).
    EntryKind as EntryType { Issue, Redeem, Transfer, Capture, Expire }
);

status!(
    /// Where a hold stands. Only an Open hold reserves value; the others are
    /// final.
    HoldStatus as HoldStatus { Open, Captured, Voided, Expired }
);

status!(
    /// Where a lot stands. Open while it holds value; Spent when it was all
    /// spent before its `expires_at`, Expired when it ran out at or after it.
    LotStatus as LotStatus { Open, Spent, Expired }
);

status!(
    /// What one operation did to a lot after it formed (a lot forms with its
    /// `amount`; its history is that and these steps). `Spend`: value left
    /// the wallet from it (a Redeem, a Transfer, or a Capture beyond its
    /// hold's earmarks); `Earmark`: a Hold reserved part of it; `Release`:
    /// a Void or a hold's expiry gave that part back; `Capture`: a Capture
    /// moved an earmarked part; `Expire`: its time ran out.
    LotStepKind as LotStepType { Spend, Earmark, Release, Capture, Expire }
);

impl LotStepKind {
    /// How the step moves the lot's `(remaining, earmarked)` by `amount`.
    pub fn effect(self, amount: i64) -> (i64, i64) {
        match self {
            LotStepKind::Spend | LotStepKind::Expire => (-amount, 0),
            LotStepKind::Earmark => (0, amount),
            LotStepKind::Release => (0, -amount),
            LotStepKind::Capture => (-amount, -amount),
        }
    }
}

status!(
    /// Where an item stands. Consumed is final: a consumed item never
    /// changes again.
    ItemStatus as ItemStatus { Active, Consumed }
);

status!(
    /// The operation that made one step of an item's history.
    ItemStepKind as ItemStepType { GrantItem, TransferItem, ConsumeItem, SetItemProperties }
);

/// A tenant. Every credential belongs to exactly one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    /// The asset API v1 counts in.
    pub default_asset: AssetId,
    pub created_at: Millis,
}

/// A new asset's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAsset {
    pub code: String,
    pub name: String,
    pub fractions: i64,
}

impl NewAsset {
    /// Most smallest parts a unit may have (10^18: still exact in i64).
    pub const MAX_FRACTIONS: i64 = 1_000_000_000_000_000_000;

    /// The default asset of a new project: whole points, as API v1 counts.
    pub fn default_points() -> Self {
        Self {
            code: "PTS".to_owned(),
            name: "Points".to_owned(),
            fractions: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: AssetId,
    pub code: String,
    pub name: String,
    /// Smallest parts per unit (100 for cents).
    pub fractions: i64,
    /// A wallet was opened in it once: it can no longer be deleted.
    pub used: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub rowid: CustomerRowId,
    /// The caller-chosen id (API v1's `user_id`).
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: CustomerStatus,
    pub created_at: Millis,
}

/// The customer who owns a wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub rowid: CustomerRowId,
    pub id: String,
    pub status: CustomerStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    pub id: WalletId,
    pub project_id: String,
    pub asset_id: AssetId,
    /// `None` for a system wallet (fees, issuance pools, escrow).
    pub owner: Option<Owner>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: WalletStatus,
    /// Posted value in the asset's smallest parts; below zero only down to
    /// `-credit_limit`.
    pub balance: i64,
    /// What the wallet's Open holds still reserve.
    pub held: i64,
    /// How far below zero the balance may go (0: not at all).
    pub credit_limit: i64,
    pub created_at: Millis,
    /// The Open lots' remaining value, summed per `expires_at`, soonest
    /// first, at most [`Expiring::MAX_ROWS`] rows. The ledger fills it in the
    /// reads it answers clients with; a write's own reads of the wallets it
    /// locks leave it empty (the planner reads the lots themselves).
    pub expiring: Vec<Expiring>,
}

/// Value of a wallet that expires at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiring {
    pub expires_at: Millis,
    pub amount: i64,
}

impl Expiring {
    /// Most rows a wallet shows.
    pub const MAX_ROWS: usize = 10;
}

/// Value of one wallet that expires at `expires_at`: what an Issue with an
/// expiry formed, or what a Transfer or Capture brought from another lot
/// (keeping its expiry). Spent soonest-expiring first; never spent at or
/// after `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: LotId,
    pub wallet: WalletId,
    /// What formed it.
    pub amount: i64,
    /// What is left of it: part of the wallet's balance.
    pub remaining: i64,
    /// The part of `remaining` Open holds reserved: it does not expire
    /// while they are Open.
    pub earmarked: i64,
    pub expires_at: Millis,
    pub status: LotStatus,
    pub created_at: Millis,
    /// The transaction that formed it.
    pub transaction: TransactionId,
    pub updated_at: Millis,
}

/// One step of a lot's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotStep {
    pub transaction: TransactionId,
    pub kind: LotStepKind,
    /// Positive: how much the step moved (see [`LotStepKind::effect`]).
    pub amount: i64,
    pub created_at: Millis,
}

/// The part of a lot an Open hold reserves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earmark {
    pub lot: LotId,
    pub amount: i64,
}

impl Wallet {
    /// What a Redeem, a Transfer or a new Hold may take:
    /// `balance - held + credit_limit`.
    pub fn available(&self) -> i64 {
        available(self.balance, self.held, self.credit_limit)
    }

    pub fn owner_rowid(&self) -> Option<CustomerRowId> {
        self.owner.as_ref().map(|o| o.rowid)
    }
}

/// `balance - held + credit_limit`, saturated to the `i64` range (the
/// invariant keeps it at or above zero; a huge limit could pass `i64::MAX`).
pub fn available(balance: i64, held: i64, credit_limit: i64) -> i64 {
    let available = i128::from(balance) - i128::from(held) + i128::from(credit_limit);
    i64::try_from(available).unwrap_or(if available < 0 { i64::MIN } else { i64::MAX })
}

/// Value reserved in a wallet, to be captured (moved to a destination) or
/// released (voided, or expired at `expires_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub id: HoldId,
    pub source: WalletId,
    pub destination: Option<WalletId>,
    pub asset: AssetId,
    pub amount: i64,
    pub captured: i64,
    /// What the hold still reserves: `amount - captured` while Open, 0 once
    /// it is Captured, Voided or Expired.
    pub remaining: i64,
    pub status: HoldStatus,
    pub expires_at: Option<Millis>,
    pub created_at: Millis,
    /// The transaction that placed it.
    pub transaction: TransactionId,
    pub updated_at: Millis,
}

/// A unique thing a customer (or the project's stock) owns: a sword with
/// its stats, a ticket with a seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: ItemId,
    pub item_type: ItemType,
    /// `None` when none were given (shown as `null`).
    pub properties: Option<ItemProperties>,
    /// `None` = the project's stock.
    pub owner: Option<ItemOwner>,
    pub status: ItemStatus,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// The API v1 entry that granted it, if it came from one.
    pub v1_entry: Option<EntryId>,
}

/// The customer who owns an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOwner {
    pub rowid: CustomerRowId,
    pub id: CustomerId,
}

/// What to list of an owner's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub item_type: Option<ItemType>,
    pub status: Option<ItemStatus>,
}

/// One step of an item's history: what an operation did to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStep {
    /// `None` only for an item used through API v1 before history was kept
    /// (a step the migration wrote).
    pub transaction: Option<TransactionId>,
    pub kind: ItemStepKind,
    /// The owner before the step (`None` = stock, or nothing before a grant).
    pub from: Option<CustomerId>,
    /// The owner after it (`None` = stock).
    pub to: Option<CustomerId>,
    /// The properties after the step.
    pub properties: Option<ItemProperties>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub wallet_id: WalletId,
    pub transaction_id: TransactionId,
    pub kind: EntryKind,
    /// Signed: positive into the wallet, negative out of it.
    pub amount: i64,
    pub balance_after: i64,
    pub reason: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: TransactionId,
    pub reference_id: Option<String>,
    pub status: TransactionStatus,
    /// The failure's code (`INSUFFICIENT_FUNDS`, ...) of a Failed one.
    pub error: Option<String>,
    pub description: Option<String>,
    /// The operations as requested, as JSON text.
    pub operations: Option<String>,
    pub created_at: Millis,
}

/// How an authority proves itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorityCredential {
    /// An ES256 public key (PEM); the private key exists only in the
    /// client's config file.
    PublicKey(String),
    /// The SHA-256 digest of an opaque access key.
    TokenDigest(Vec<u8>),
}

/// A trusted application of one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub rowid: AuthorityRowId,
    pub public_id: String,
    pub project_id: String,
    pub name: String,
    pub credential: AuthorityCredential,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
    /// The project's default asset (API v1's currency).
    pub default_asset: AssetId,
}

impl Authority {
    /// The ES256 public key, for a key-pair authority.
    pub fn public_key_pem(&self) -> Option<&str> {
        match &self.credential {
            AuthorityCredential::PublicKey(pem) => Some(pem),
            AuthorityCredential::TokenDigest(_) => None,
        }
    }
}

/// A read-only credential of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerKey {
    pub rowid: CustomerKeyRowId,
    pub public_id: String,
    pub project_id: String,
    pub customer: CustomerRowId,
    pub customer_id: String,
    pub token_digest: Vec<u8>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    /// A deleted customer's keys open nothing.
    pub customer_deleted: bool,
}

/// An operator's login, kept in the database so every server process knows
/// it (and a restart keeps it). Only digests are stored: the cookie's value
/// and the password hash the session was opened under (a new password ends
/// every session opened under another).
#[derive(Clone, PartialEq, Eq)]
pub struct AdminSession {
    /// SHA-256 of the session cookie's value.
    pub token_digest: Vec<u8>,
    /// SHA-256 of the admin password's stored hash when the session opened.
    pub password_stamp: Vec<u8>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

impl AdminSession {
    /// The stamp of a stored password hash (its SHA-256): what a session
    /// remembers of the password it was opened under. Every new password is
    /// hashed with a fresh salt, so even setting the same password again
    /// changes the stamp and ends the sessions.
    pub fn stamp_of(password_hash: &str) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        Sha256::digest(password_hash.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSession")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A page of a list: `page` counts from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub size: u32,
}

impl PageRequest {
    /// Every row at once (for rules that must see all of a customer's wallets).
    pub const ALL: PageRequest = PageRequest {
        page: 0,
        size: u32::MAX,
    };

    pub fn offset(self) -> i64 {
        i64::from(self.page) * i64::from(self.size)
    }
}

/// One page of rows and the number of rows in all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

/// A half-open time range: `from <= t < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Millis,
    pub to: Millis,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        from: i64::MIN,
        to: i64::MAX,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in WalletStatus::ALL {
            assert_eq!(WalletStatus::parse(s.as_str()), Some(*s));
        }
        for s in CustomerStatus::ALL {
            assert_eq!(CustomerStatus::parse(s.as_str()), Some(*s));
        }
        for s in EntryKind::ALL {
            assert_eq!(EntryKind::parse(s.as_str()), Some(*s));
        }
        for s in LotStatus::ALL {
            assert_eq!(LotStatus::parse(s.as_str()), Some(*s));
        }
        for s in LotStepKind::ALL {
            assert_eq!(LotStepKind::parse(s.as_str()), Some(*s));
        }
        assert_eq!(WalletStatus::parse("open"), None, "names are exact");
    }
}
