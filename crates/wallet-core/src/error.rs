//! The core's two error types: what a store reports, and what the ledger
//! answers. The API edges map the second onto HTTP.

use crate::planner::FailReason;
use crate::text::InvalidValue;
use thiserror::Error;

/// A failure of the storage underneath, in backend-neutral terms. Backends
/// map their own codes (SQLite's, PostgreSQL's SQLSTATEs) onto these.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The write met a concurrent one (a serialization failure, a deadlock,
    /// a guarded update whose row changed since it was read). The job did
    /// nothing; running it again may succeed. Backends retry these a bounded
    /// number of times before reporting them.
    #[error("the write conflicted with another one: {0}")]
    Retryable(String),
    /// A unique constraint refused a row the job did not expect to collide.
    #[error("a unique constraint refused the write: {0}")]
    UniqueViolation(String),
    /// The store cannot take writes (or reads) now: disk full, read-only,
    /// connection lost, shutting down. Clients may try later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The schema is not one this binary knows.
    #[error("{0}")]
    Schema(String),
    /// A stored value is not valid (a status the core does not know, ...).
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// Anything else the store reported.
    #[error("storage error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// Why a credential that was good when its request arrived no longer is,
/// found inside the write. Worded as a credential refused on arrival is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Lapse {
    /// Revoked, or its customer deleted.
    #[error("unknown or revoked key")]
    Revoked,
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
}

/// What a request named that does not exist (in the caller's project).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Project,
    Asset,
    Customer,
    Wallet,
    Transaction,
    Authority,
    Key,
    /// API v1: an entry that carries an item.
    ItemEntry,
    Item,
    Hold,
    Webhook,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Project => "project",
            Missing::Asset => "asset",
            Missing::Customer => "customer",
            Missing::Wallet => "wallet",
            Missing::Transaction => "transaction",
            Missing::Authority => "authority",
            Missing::Key => "key",
            Missing::ItemEntry => "entry with an item",
            Missing::Item => "item",
            Missing::Hold => "hold",
            Missing::Webhook => "webhook",
        })
    }
}

/// Why the ledger refused or failed a request. Every variant but `Storage`
/// is the client's doing and changed nothing.
#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("{0}")]
    Invalid(String),
    /// The planner refused an API v1 entry (API v2 records its failures as
    /// Failed transactions instead). The API edge words the reason.
    #[error("the entry cannot apply: {0:?}")]
    Rejected(FailReason),
    #[error("{0} not found")]
    NotFound(Missing),
    /// The caller may not see or do this.
    #[error("access denied: {0}")]
    AccessDenied(&'static str),
    /// The credential stopped being valid (revoked, expired, its customer
    /// deleted) before the write committed. The APIs answer it exactly as
    /// they refuse such a credential when a request arrives (401).
    #[error("{0}")]
    Credential(Lapse),
    /// The request conflicts with the current state (an item already used, a
    /// code already taken).
    #[error("{0}")]
    Conflict(String),
    /// A customer or wallet is not in a status that allows this.
    #[error("{0}")]
    WrongStatus(String),
    /// A wallet status change that is not allowed.
    #[error("{0}")]
    ChangeWalletStatus(String),
    #[error("the asset is used by a wallet and cannot be deleted")]
    AssetIsUsed,
    #[error("the customer has wallets that are not closed")]
    CustomerHasActiveWallets,
    /// The service takes no writes now (the maintenance switch).
    #[error("the service is in maintenance: it takes no writes now; nothing was changed")]
    Maintenance,
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl From<InvalidValue> for LedgerError {
    fn from(e: InvalidValue) -> Self {
        LedgerError::Invalid(e.0)
    }
}
