//! wallet-sqlite: the ledger's storage port on one SQLite file (WAL mode).
//!
//! ```text
//!   wallet_core::Store ──► SqliteBackend (Backend)
//!                            ├─ write ─► writer: one thread, BEGIN IMMEDIATE,
//!                            │           a SAVEPOINT per job, one COMMIT per group
//!                            └─ read ──► pool: read-only connections, one
//!                                        snapshot per job, in spawn_blocking
//!            both run jobs on SqlTx (ReadTx + WriteTx) ─► statements (all SQL)
//! ```
//!
//! - [`SqliteBackend`] (`backend`): opens the file (or, with
//!   `create = false`, refuses one that is not there: [`OpenError`]), runs
//!   the `migrations` and implements [`wallet_core::port::Backend`];
//!   `Store::new(Arc::new(b))` is all a caller needs.
//! - `writer`: the single writer and its group commit; a job's
//!   [`Verdict`](wallet_core::port::Verdict) keeps, discards or reruns its
//!   savepoint (a job runs at most [`MAX_RUNS`] times). `pool`: the read
//!   connections.
//! - `tx`: the port's statement sets over a connection; a job that swallowed
//!   a storage error is never committed. `statements`: every SQL statement,
//!   prepared once per connection. `error`: SQLite's errors onto the core's
//!   [`StoreError`](wallet_core::StoreError), in one place.
//! - `connection`: pragmas set once per connection. `migrations`:
//!   `schema.sql` as step 1, later steps keyed by `PRAGMA user_version`.
//! - `check`: the model's invariants in SQL. `export`: a project as
//!   [`DumpRecord`](wallet_core::dump::DumpRecord)s.
//! - `maintenance`: file-level tools ([`backup_into`], [`verify`],
//!   [`ExclusiveDb`] for restores, [`Import`]).
//!   [`BulkLoader`]: benchmark preloads.
#![forbid(unsafe_code)]

mod backend;
mod bulk;
mod check;
mod connection;
mod error;
mod export;
mod maintenance;
mod migrations;
mod pool;
mod statements;
mod tx;
mod writer;

pub use backend::{OpenError, SqliteBackend, SqliteOptions};
pub use bulk::{AssetTotals, BulkLoader, BulkTx};
pub use connection::{restrict_permissions, Durability};
pub use maintenance::{
    backup_into, backup_into_reporting, verify, verify_reporting, ExclusiveDb, Import, MaintenanceError,
};
pub use writer::MAX_RUNS;
