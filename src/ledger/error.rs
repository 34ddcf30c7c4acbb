use crate::domain::InvalidValue;
use crate::storage::StorageError;
use thiserror::Error;

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
    NotFound(&'static str),
    /// The request conflicts with the current state (e.g. an item already used).
    #[error("{0}")]
    Conflict(String),
    /// A customer or wallet is not in a status that allows this.
    #[error("{0}")]
    WrongStatus(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<InvalidValue> for LedgerError {
    fn from(e: InvalidValue) -> Self {
        LedgerError::Invalid(e.0)
    }
}
