//! The ledger core: the rules of money, and nothing of HTTP.
//!
//! Each write runs as one job of the storage writer, so its checks (funds,
//! statuses, overflow) and its writes see one consistent state and apply
//! all-or-nothing. Every operation is scoped to the caller's project; a
//! customer caller sees only its own customer. See `spec/model.md` for the
//! invariants kept here.

mod catalog;
mod error;
mod transactions;
mod v1;

pub use error::{LedgerError, Missing};
pub use transactions::{FailReason, Operation, TransactionOutcome, TransactionRequest};
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

impl Poster {
    /// The server's operator acting inside one project (the admin API): it
    /// reads and manages everything there, and posts no transactions (no
    /// entry may reference authority 0, so the database would refuse one).
    pub fn operator(project: &crate::storage::ProjectRow) -> Self {
        Self {
            authority: 0,
            authority_id: "admin".to_owned(),
            project_id: project.id.clone(),
            default_asset: project.default_asset,
        }
    }
}

/// A read-only caller bound to one customer (a customer key).
#[derive(Debug, Clone)]
pub struct CustomerViewer {
    pub project_id: String,
    pub customer: i64,
    pub customer_id: String,
}

/// Why a customer key may not see a customer, wallet or transaction.
const NOT_ITS_OWN: &str = "a customer key sees only its own customer and that customer's wallets";

/// Whoever made a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Authority(Poster),
    Customer(CustomerViewer),
}

impl Caller {
    pub fn project_id(&self) -> &str {
        match self {
            Caller::Authority(p) => &p.project_id,
            Caller::Customer(c) => &c.project_id,
        }
    }

    /// The authority, or `AccessDenied` for a customer (which never writes).
    pub fn poster(&self) -> Result<&Poster, LedgerError> {
        match self {
            Caller::Authority(p) => Ok(p),
            Caller::Customer(_) => Err(LedgerError::AccessDenied("customer keys are read-only")),
        }
    }

    /// What a caller is told about a customer, wallet or transaction it does
    /// not see: an authority, that it is not found; a customer key, only
    /// that it is not its own — the same whether it exists or not, so a key
    /// cannot probe which other customers and wallets exist.
    pub fn not_found(&self, what: Missing) -> LedgerError {
        match self {
            Caller::Authority(_) => LedgerError::NotFound(what),
            Caller::Customer(_) => LedgerError::AccessDenied(NOT_ITS_OWN),
        }
    }

    /// Whether the caller may see data of the customer with this rowid.
    fn may_see_customer(&self, customer: Option<i64>) -> bool {
        match self {
            Caller::Authority(_) => true,
            Caller::Customer(c) => customer == Some(c.customer),
        }
    }
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
