//! wallet-core: the ledger's nouns and rules, with no I/O.
//!
//! ```text
//!   api (HTTP) ──► Ledger (use cases) ──► policy::authorize   who may do what
//!                        │          └───► planner::plan       the balance rule (pure)
//!                        ▼
//!                      Store ──► port::Backend  (wallet-sqlite, wallet-postgres)
//! ```
//!
//! - [`ids`], [`amount`], [`text`]: values that can only hold valid data.
//! - [`model`]: the entities (projects, assets, customers, wallets,
//!   transactions, entries, credentials) and their statuses.
//! - [`operation`]: what a transaction asks for.
//! - [`planner`]: state + operations + now → a plan or a structured failure.
//! - [`policy`]: callers and the one authorization decision.
//! - [`port`]: the storage interface every backend implements; [`Store`]
//!   wraps it with typed jobs.
//! - [`Ledger`]: the use cases both APIs and the CLI call.
//! - [`overview`]: the admin dashboard's numbers of a project.
//! - [`progress`]: how long work reports its progress, showing nothing itself.

pub mod amount;
pub mod check;
pub mod clock;
pub mod dump;
mod error;
pub mod events;
pub mod ids;
mod ledger;
pub mod model;
pub mod operation;
pub mod overview;
pub mod planner;
pub mod policy;
pub mod port;
pub mod progress;
mod store;
pub mod text;
pub mod v1;
pub mod wire;

pub use error::{Lapse, LedgerError, Missing, StoreError};
pub use ledger::{
    AnchorSigner, Ledger, Touched, TransactionOutcome, V1EntryRequest, V1Item, MAX_CREDIT_LIMIT,
};
pub use store::{Bell, JobError, Store};
