//! The use cases of the ledger: what both APIs, the admin API and the CLI
//! call. Each one asks the [policy](crate::policy) whether the caller may,
//! and runs as one job of the [`Store`]: a write job re-checks the caller's
//! credential in the same transaction as its writes, plans with the
//! [planner](crate::planner) on the state it locked, and applies the plan
//! with the port's guarded primitives.

mod access;
mod catalog;
mod credentials;
mod posting;
mod v1;

pub use posting::{TransactionOutcome, V1EntryRequest, V1Item};

use crate::check::CheckReport;
use crate::clock::{Clock, SystemClock};
use crate::port::BackendStats;
use crate::{LedgerError, Store};
use std::sync::Arc;

/// The ledger over one store. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// The settings key of the maintenance switch.
const MAINTENANCE: &str = "maintenance";
/// The settings key of the admin password's argon2id hash.
const ADMIN_PASSWORD: &str = "admin_password_hash";

impl Ledger {
    /// A ledger on the system clock.
    pub fn new(store: Store) -> Self {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    /// A ledger on a given clock (tests set the time).
    pub fn with_clock(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn now(&self) -> crate::model::Millis {
        self.clock.now()
    }

    /// Verifies every invariant of the model on the whole store.
    pub async fn check(&self) -> Result<CheckReport, LedgerError> {
        self.store.read(|r| Ok(r.check()?)).await
    }

    /// The store's counters, for metrics.
    pub fn stats(&self) -> BackendStats {
        self.store.stats()
    }

    /// `sqlite` or `postgres`.
    pub fn backend_kind(&self) -> &'static str {
        self.store.kind()
    }

    /// Whether the maintenance switch is on, as the store holds it.
    pub async fn maintenance(&self) -> Result<bool, LedgerError> {
        self.store
            .read(|r| Ok(r.setting(MAINTENANCE)?.as_deref() == Some("on")))
            .await
    }

    pub async fn set_maintenance(&self, on: bool) -> Result<(), LedgerError> {
        let value = if on { "on" } else { "off" };
        self.store
            .write(move |tx| -> Result<(), LedgerError> { Ok(tx.set_setting(MAINTENANCE, value)?) })
            .await
    }

    /// The admin password's stored hash (a PHC string), if one is set.
    pub async fn admin_password_hash(&self) -> Result<Option<String>, LedgerError> {
        self.store.read(|r| Ok(r.setting(ADMIN_PASSWORD)?)).await
    }

    /// Stores the admin password's hash; with `only_if_absent`, keeps an
    /// existing one. Returns whether it was stored.
    pub async fn set_admin_password_hash(
        &self,
        hash: String,
        only_if_absent: bool,
    ) -> Result<bool, LedgerError> {
        self.store
            .write(move |tx| -> Result<bool, LedgerError> {
                if only_if_absent {
                    Ok(tx.set_setting_if_absent(ADMIN_PASSWORD, &hash)?)
                } else {
                    tx.set_setting(ADMIN_PASSWORD, &hash)?;
                    Ok(true)
                }
            })
            .await
    }
}
