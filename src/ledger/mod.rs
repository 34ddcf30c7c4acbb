//! The ledger core: the rules of money, and nothing of HTTP.
//!
//! Each operation runs as one job of the storage writer, so its checks (funds,
//! statuses, overflow) and its writes see one consistent state and apply
//! all-or-nothing. See `spec/model.md` for the invariants kept here.

mod error;
mod v1;

pub use error::LedgerError;
pub use v1::{NewItem, V1EntryRequest};

use crate::storage::{CheckReport, Store};

/// The authenticated poster of a write: an authority of one project.
#[derive(Debug, Clone)]
pub struct Poster {
    pub authority: i64,
    pub authority_id: String,
    pub project_id: String,
    /// The project's default asset (API v1's currency).
    pub default_asset: i64,
}

/// The ledger over one store. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    store: Store,
}

impl Ledger {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Verifies every invariant of the model on the whole database.
    pub async fn check(&self) -> Result<CheckReport, LedgerError> {
        self.store.read(|r| Ok(r.check()?)).await
    }
}

/// `a + b`, or `Overflow`: balances and totals never wrap.
fn checked_add(a: i64, b: i64) -> Result<i64, LedgerError> {
    a.checked_add(b).ok_or(LedgerError::Overflow)
}
