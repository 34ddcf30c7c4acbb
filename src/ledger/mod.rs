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

pub use error::{Lapse, LedgerError, Missing};
pub use transactions::{FailReason, Operation, TransactionOutcome, TransactionRequest};
pub use v1::{NewItem, V1EntryRequest};

use crate::clock;
use crate::storage::{CheckReport, CustomerStatus, Store, WriteTx};

/// The authenticated poster of a write: an authority of one project.
#[derive(Debug, Clone)]
pub struct Poster {
    pub authority: i64,
    pub authority_id: String,
    pub project_id: String,
    /// The project's default asset (API v1's currency).
    pub default_asset: i64,
    /// When the credential lapses (a JWT's `exp`, Unix ms); `None` if never.
    pub expires_at: Option<i64>,
}

impl Poster {
    /// The server's operator acting inside one project (the admin API): it
    /// reads and manages everything there, and posts no transactions (no
    /// entry may reference authority 0, so the database would refuse one).
    pub fn operator(project: &crate::storage::ProjectRow) -> Self {
        Self {
            authority: OPERATOR,
            authority_id: "admin".to_owned(),
            project_id: project.id.clone(),
            default_asset: project.default_asset,
            expires_at: None,
        }
    }

    /// Refuses the write unless the credential still holds, on the writer's
    /// own state. A request is authenticated when its head arrives, on a read
    /// snapshot; its body and its turn in the writer may come seconds later.
    /// Checked first in every write job, in the transaction that writes, so
    /// no write commits after the revocation of its credential commits.
    pub fn admit(&self, tx: &WriteTx<'_>) -> Result<(), LedgerError> {
        if self.authority == OPERATOR {
            return Ok(());
        }
        lapsed(self.expires_at)?;
        if !tx.read().authority_is_live(self.authority)? {
            return Err(LedgerError::Credential(Lapse::Revoked));
        }
        Ok(())
    }
}

/// The authority rowid of the operator, which is no credential.
const OPERATOR: i64 = 0;

/// How a customer proved itself.
#[derive(Debug, Clone)]
pub enum CustomerCredential {
    /// A customer key, by its public id.
    Key(String),
    /// An offline JWT signed by this authority (rowid).
    Token { authority: i64 },
}

/// A read-only caller bound to one customer (a customer key).
#[derive(Debug, Clone)]
pub struct CustomerViewer {
    pub project_id: String,
    pub customer: i64,
    pub customer_id: String,
    pub credential: CustomerCredential,
    /// When the credential lapses (Unix ms); `None` if never.
    pub expires_at: Option<i64>,
}

impl CustomerViewer {
    /// As [`Poster::admit`]: the key (or the signing authority) must not be
    /// revoked, the key not expired, the customer not deleted.
    pub fn admit(&self, tx: &WriteTx<'_>) -> Result<(), LedgerError> {
        lapsed(self.expires_at)?;
        let read = tx.read();
        let live = match &self.credential {
            CustomerCredential::Key(id) => match read.customer_key(id)? {
                Some(key) => {
                    lapsed(key.expires_at)?;
                    key.revoked_at.is_none() && !key.customer_deleted && key.customer == self.customer
                }
                None => false,
            },
            CustomerCredential::Token { authority } => {
                read.authority_is_live(*authority)?
                    && read
                        .customer_row(&self.project_id, &self.customer_id)?
                        .is_some_and(|c| c.rowid == self.customer && c.status != CustomerStatus::Deleted)
            }
        };
        if !live {
            return Err(LedgerError::Credential(Lapse::Revoked));
        }
        Ok(())
    }
}

/// `Expired` once `expires_at` has come.
fn lapsed(expires_at: Option<i64>) -> Result<(), LedgerError> {
    match expires_at {
        Some(at) if at <= clock::now_ms() => Err(LedgerError::Credential(Lapse::Expired)),
        _ => Ok(()),
    }
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

    /// As [`Poster::admit`], for either kind of caller.
    pub fn admit(&self, tx: &WriteTx<'_>) -> Result<(), LedgerError> {
        match self {
            Caller::Authority(p) => p.admit(tx),
            Caller::Customer(c) => c.admit(tx),
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
