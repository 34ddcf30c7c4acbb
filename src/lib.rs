//! wallet-service: a wallet and ledger server, one binary over one SQLite file.
//!
//! ```text
//!   HTTP ── api::v1 (SDK wire protocol) ──┐
//!                                         ├─► ledger (rules of money) ─► storage (all SQL)
//!   CLI ─── cli ─► auth (keys, JWTs) ─────┘                               │
//!                                                   one writer thread (group commit)
//!                                                   + pool of read-only connections
//! ```
//!
//! - [`domain`]: values parsed once at the edge (ids, amounts, texts).
//! - [`storage`]: the only module with SQL; [`storage::Store`] owns the writer
//!   thread and the read pool.
//! - [`ledger`]: balances, statuses and all-or-nothing application; knows
//!   nothing of HTTP.
//! - [`auth`]: authorities' keys and JWT verification.
//! - [`api`]: thin HTTP handlers, one module per API.
//! - [`ops`]: backup, restore, export and import of database files.
//! - [`startup`], [`config`], [`cli`]: wiring.

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod ledger;
pub mod ops;
pub mod startup;
pub mod storage;
