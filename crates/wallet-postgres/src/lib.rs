//! wallet-postgres: the ledger's storage port on one PostgreSQL database,
//! correct with several server processes on it at once (READ COMMITTED,
//! row locks, guarded updates and claims; no SERIALIZABLE).
//!
//! ```text
//!   wallet_core::Store ──► PostgresBackend (Backend)
//!                            ├─ write ─► writer: N threads, one connection each,
//!                            │           a SAVEPOINT per job, one COMMIT per group
//!                            └─ read ──► pool: r2d2 connections, one REPEATABLE READ
//!                                        READ ONLY transaction per job, in spawn_blocking
//!            both run jobs on PgTx (ReadTx + WriteTx) ─► statements (all SQL)
//! ```
//!
//! - [`PostgresBackend`] (`backend`): connects ([`PgOptions`]; with
//!   `create = false` a database without the schema is refused:
//!   [`OpenError`]), runs the `migrations` and implements
//!   [`wallet_core::port::Backend`]; `Store::new(Arc::new(b))` is all a
//!   caller needs.
//! - `writer`: the group-committing workers (with `cache`: the locked
//!   wallets' balances, held values and totals, written once per group,
//!   under the same guards as the statements); a job's
//!   [`Verdict`](wallet_core::port::Verdict) keeps, discards or reruns it (a
//!   job runs at most [`MAX_RUNS`] times; a rerun leads the worker's next
//!   transaction). `pool`: the read connections.
//! - `tx`: the port's statement sets over a connection; a job that swallowed
//!   a storage error is never committed. `statements`: every SQL statement,
//!   prepared once per connection (`conn`). `error`: SQLSTATEs onto the
//!   core's [`StoreError`](wallet_core::StoreError), in one place.
//! - `migrations`: `migrations/0001_schema.sql` and later numbered steps
//!   (`0002_holds.sql`: holds, credit limits, the system authority;
//!   `0003_items.sql`: items and their history, API v1's items moved into
//!   them; `0004_lots.sql`: lots, their history and holds' earmarks;
//!   `0005_events.sql`: events, each project's head, webhooks),
//!   recorded in `schema_migrations`.
//! - `watch`: the LISTEN thread behind `Backend::watch_events`, ringing
//!   the events bell when another process commits events.
//! - `check`: the model's invariants in SQL. `export`: a project as
//!   [`DumpRecord`](wallet_core::dump::DumpRecord)s. [`Import`]: a project
//!   into a database, all or nothing.
//! - `bulk`: [`BulkLoader`], the benchmark's preload with `COPY`, and
//!   [`prepare_bench_database`], which databases a benchmark may take.
#![forbid(unsafe_code)]

mod backend;
mod bulk;
mod cache;
mod check;
mod conn;
mod error;
mod export;
mod import;
mod migrations;
mod pool;
mod statements;
mod tls;
mod tx;
mod watch;
mod writer;

pub use backend::{OpenError, PgOptions, PostgresBackend};
pub use bulk::{prepare_bench_database, AssetTotals, BenchDatabase, BulkLoader, BulkTx};
pub use import::{Import, MaintenanceError};
pub use writer::{LATER_JOB_LOCK_WAIT, MAX_RUNS};
