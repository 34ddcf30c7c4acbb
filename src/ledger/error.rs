use crate::domain::InvalidValue;
use crate::storage::StorageError;
use thiserror::Error;

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
    Item,
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
            Missing::Item => "entry with an item",
        })
    }
}

/// Why a credential that was good when its request arrived no longer is,
/// found inside the write. The APIs answer it exactly as they refuse such a
/// credential when a request arrives (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapse {
    /// Revoked, or its customer deleted.
    Revoked,
    Expired,
}

/// Why the ledger refused or failed an operation. Every variant but
/// `Storage` is the client's doing and changes nothing.
#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("{0}")]
    Invalid(String),
    /// A balance would go below zero.
    #[error("not enough funds: the balance would go below zero")]
    InsufficientFunds,
    /// A balance or running total would pass the largest integer.
    #[error("the balance would pass the largest amount a wallet can hold")]
    Overflow,
    #[error("{0} not found")]
    NotFound(Missing),
    /// The caller may not see or do this.
    #[error("access denied: {0}")]
    AccessDenied(&'static str),
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
    /// The caller's credential lapsed before its write ran; nothing was written.
    #[error("{}", match .0 { Lapse::Revoked => "unknown or revoked key", Lapse::Expired => "the token has expired" })]
    Credential(Lapse),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<InvalidValue> for LedgerError {
    fn from(e: InvalidValue) -> Self {
        LedgerError::Invalid(e.0)
    }
}
