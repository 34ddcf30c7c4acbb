//! wallet-testkit: what every storage backend of the ledger is tested with.
//! A dev-dependency only: production code carries no test hooks.
//!
//! ```text
//!   test(TestDb) ──► Fixture ──► wallet_core::Ledger ──► Store ──► Backend
//!                                            FaultyBackend ──┘ (faults)
//! ```
//!
//! - [`harness`]: a [`Harness`] makes one fresh, empty database per test
//!   ([`TestDb`]); [`SqliteHarness`] does it in a temp dir. A PostgreSQL
//!   harness implements the same trait.
//! - [`fixture`]: projects, authorities, customers and wallets made the way
//!   the server makes them, and short request builders.
//! - [`answers`]: the one place that names the ledger's answers the suite
//!   matches on, so a rename in the core is a one-line change here.
//! - [`faults`]: [`FaultyBackend`], a decorator over any backend that makes
//!   its write primitives fail on command.
#![forbid(unsafe_code)]

pub mod answers;
pub mod faults;
pub mod fixture;
pub mod harness;

pub use faults::{Faults, FaultyBackend};
pub use fixture::Fixture;
pub use harness::{Harness, SqliteHarness, TestDb};

