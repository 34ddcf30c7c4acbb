//! wallet-service: a wallet and ledger server, one binary over one SQLite file
//! (or a PostgreSQL database, for more than one machine).
//!
//! ```text
//!   HTTP ── api::{v1, v2, admin} ──► wallet_core::Ledger ──► policy, planner
//!   CLI ─── cli ─► auth (keys, JWTs)        │
//!                                           ▼
//!                              wallet_core::Store (the port) ──► wallet_sqlite
//!                                                              └─► wallet_postgres
//! ```
//!
//! This package is the server around the ledger: the HTTP APIs, turning
//! credentials into callers, configuration, the command line and start-up.
//! The ledger's nouns and rules are in `wallet-core`; every SQL statement is
//! in the backend crates.
//!
//! - [`api`]: thin HTTP handlers, one module per API.
//! - [`auth`]: authorities' keys, access and customer keys, JWT verification.
//! - [`domain`]: the values parsed at the edge (re-exported from the core)
//!   and the admin password's policy.
//! - [`ops`]: backup, restore, export and import of database files.
//! - [`expiry`]: the worker that expires holds and lots when their time runs out.
//! - [`startup`], [`config`], [`cli`]: wiring.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod expiry;
pub mod ops;
pub mod startup;
pub mod webhooks;

#[cfg(test)]
mod boundaries;
