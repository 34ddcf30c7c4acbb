//! wallet-testkit: what every storage backend of the ledger is tested with.
//! A dev-dependency only: production code carries no test hooks.
//!
//! ```text
//!   tests/conformance.rs ── conformance_suite!(sqlite, SqliteHarness::default())
//!        │                     one #[tokio::test] per conformance function: sqlite_<name>
//!        ▼
//!   conformance::<name>(TestDb) ──► Fixture ──► wallet_core::Ledger ──► Store ──► Backend
//!                                                                 FaultyBackend ──┘ (faults)
//! ```
//!
//! - [`harness`]: a [`Harness`] makes one fresh, empty database per test
//!   ([`TestDb`]); [`SqliteHarness`] does it in a temp dir, [`PgHarness`]
//!   in the test binary's throwaway PostgreSQL cluster.
//! - [`conformance`]: the model's promises (`docs/model.md`), written once
//!   against the port and driven through [`wallet_core::Ledger`];
//!   [`conformance_suite!`] instantiates all of them for a backend.
//! - [`fixture`]: projects, authorities, customers and wallets made the way
//!   the server makes them, and short request builders.
//! - [`answers`]: the one place that names the ledger's answers the suite
//!   matches on, so a rename in the core is a one-line change here.
//! - [`faults`]: [`FaultyBackend`], a decorator over any backend that makes
//!   its write primitives fail on command.
//! - `app` (feature `app`): `TestApp`, the real application on port 0
//!   over a temp-dir database, with an HTTP client, token signing and the
//!   API v2 fixtures the root package's HTTP tests share.
//! - [`pg_cluster`]: [`PgCluster`], a throwaway PostgreSQL cluster on
//!   127.0.0.1 (one per test binary, a fresh database per test), torn down
//!   by a watchdog process even when the test binary is killed.
#![forbid(unsafe_code)]

pub mod answers;
#[cfg(feature = "app")]
pub mod app;
pub mod conformance;
pub mod faults;
pub mod fixture;
pub mod harness;
pub mod pg_cluster;
mod suite;

pub use faults::{Faults, FaultyBackend};
pub use fixture::Fixture;
pub use harness::{Harness, PgHarness, SqliteHarness, TestDb};
pub use pg_cluster::{PgCluster, PgClusterError, PgDatabase};

/// What [`conformance_suite!`] needs from the crates it expands into.
#[doc(hidden)]
pub mod __private {
    pub use pastey;
}
