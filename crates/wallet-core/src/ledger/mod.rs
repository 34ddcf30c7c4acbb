//! The use cases of the ledger: what both APIs, the admin API and the CLI
//! call. Each one asks the [policy](crate::policy) whether the caller may,
//! and runs as one job of the [`Store`]: a write job re-checks the caller's
//! credential in the same transaction as its writes, plans with the
//! [planner](crate::planner) on the state it locked, and applies the plan
//! with the port's guarded primitives.

mod access;
mod admin;
mod catalog;
mod credentials;
mod events;
mod holds;
mod items;
mod lots;
mod overview;
mod posting;
mod v1;

pub use events::AnchorSigner;
pub use holds::MAX_CREDIT_LIMIT;
pub use posting::{Touched, TransactionOutcome, V1EntryRequest, V1Item};

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

    /// `check` as the CLI runs it: from the last checkpoint unless `full`
    /// (or there is none), reporting each phase to `progress`; a check that finds
    /// no violation records what it covered as the next checkpoint. Returns
    /// the report and whether the checkpoint was recorded.
    pub async fn check_from_checkpoint(
        &self,
        full: bool,
        progress: std::sync::Arc<dyn crate::progress::Progress>,
    ) -> Result<(CheckReport, bool), LedgerError> {
        let report = self
            .store
            .read(move |r| {
                let from = if full { None } else { r.check_checkpoint()? };
                Ok::<_, LedgerError>(r.check_since(from.as_ref(), &*progress)?)
            })
            .await?;
        let next = match &report.next {
            Some(next) if report.is_ok() => next.clone(),
            _ => return Ok((report, false)),
        };
        let now = self.clock.now();
        let recorded = self
            .store
            .write(move |tx| {
                let mut next = next.clone();
                next.created_at = now;
                Ok::<_, LedgerError>(tx.record_check_checkpoint(&next)?)
            })
            .await?;
        Ok((report, recorded))
    }

    /// The store's counters, for metrics.
    pub fn stats(&self) -> BackendStats {
        self.store.stats()
    }

    /// `sqlite` or `postgres`.
    pub fn backend_kind(&self) -> &'static str {
        self.store.kind()
    }
}
