//! The HTTP suite of `tests/api` on PostgreSQL: the same module files,
//! with every `app::spawn_app` on a fresh database of a throwaway cluster
//! that this binary starts on 127.0.0.1 (`wallet_testkit::PgCluster`; its
//! watchdog stops it and removes its directory when the binary ends, also
//! when a test fails or the binary is killed). No PostgreSQL on the machine
//! fails these tests, never skips them. The cluster runs without `fsync`
//! (`wallet_testkit::app::TestBackend`): nothing here is about a crash, and
//! the conformance suite and `wallet-postgres`' tests keep the defaults.
//!
//! Left out, because they are about the SQLite file itself:
//! - `reliability_backup`: `backup` copies a SQLite file and `restore`
//!   replaces one, checked by reading the copy with rusqlite. On
//!   PostgreSQL both commands exit 2, name `pg_dump`/`pg_restore` and
//!   change nothing: `cli::every_command_works_on_a_postgresql_database_beside_a_running_server`.
//! - `default_wallet_upgrade`: a file at SQLite's schema step 1, from
//!   before the default-wallet rule. PostgreSQL's first schema step already
//!   has the rule; its migrations are tested in `wallet-postgres`.
//!
//! Of its own, on two real server processes (the binary, not in-process
//! apps) and the command line:
//! - `processes`: two `wallet-service serve` processes on one database: a
//!   spend storm split across them, one referenceId sent to both, a
//!   revocation, the maintenance switch and an admin session seen by both,
//!   `check` green after the load.
//! - `migrate`: a project moved SQLite → PostgreSQL → SQLite with `export`,
//!   `import` and `check`.
//! - `cli`: every command on `--db postgres://…`.
//! - `events_processes`: two apps on one database: one gapless feed under
//!   writes on both, a long-poll on one answered by a write on the other,
//!   a webhook delivered each event once across them.
#![allow(clippy::unwrap_used)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

/// The backend every `app::spawn_app` of this binary runs on.
const BACKEND: wallet_testkit::app::TestBackend = wallet_testkit::app::TestBackend::Postgres;

#[path = "../api/app.rs"]
mod app;
#[path = "../common/mod.rs"]
mod common;
#[path = "../api/events_feed.rs"]
mod events_feed;
#[path = "../api/events_support.rs"]
mod events_support;
#[path = "../api/webhooks.rs"]
mod webhooks;

mod events_processes;

#[path = "../api/admin.rs"]
mod admin;
#[path = "../api/admin_dashboard.rs"]
mod admin_dashboard;
#[path = "../api/admin_holds.rs"]
mod admin_holds;
#[path = "../api/admin_items.rs"]
mod admin_items;
#[path = "../api/admin_login.rs"]
mod admin_login;
#[path = "../api/big_totals.rs"]
mod big_totals;
#[path = "../api/customer_keys.rs"]
mod customer_keys;
#[path = "../api/default_wallet.rs"]
mod default_wallet;
#[path = "../api/edge_body_timeout.rs"]
mod edge_body_timeout;
#[path = "../api/edge_input.rs"]
mod edge_input;
#[path = "../api/edge_routing.rs"]
mod edge_routing;
#[path = "../api/export_roundtrip.rs"]
mod export_roundtrip;
#[path = "../api/multi_process.rs"]
mod multi_process;
#[path = "../api/openapi.rs"]
mod openapi;
#[path = "../api/persistence.rs"]
mod persistence;
#[path = "../api/progress.rs"]
mod progress;
#[path = "../api/recheck_under_load.rs"]
mod recheck_under_load;
#[path = "../api/reliability_bad_input.rs"]
mod reliability_bad_input;
#[path = "../api/reliability_export.rs"]
mod reliability_export;
#[path = "../api/reliability_rate_limit.rs"]
mod reliability_rate_limit;
#[path = "../api/reliability_security.rs"]
mod reliability_security;
#[path = "../api/revocation_at_write.rs"]
mod revocation_at_write;
#[path = "../api/v1_auth.rs"]
mod v1_auth;
#[path = "../api/v1_bad_input.rs"]
mod v1_bad_input;
#[path = "../api/v1_concurrency.rs"]
mod v1_concurrency;
#[path = "../api/v1_item_data.rs"]
mod v1_item_data;
#[path = "../api/v1_protocol.rs"]
mod v1_protocol;
#[path = "../api/v2_auth.rs"]
mod v2_auth;
#[path = "../api/v2_bad_input.rs"]
mod v2_bad_input;
#[path = "../api/v2_batch.rs"]
mod v2_batch;
#[path = "../api/v2_catalog.rs"]
mod v2_catalog;
#[path = "../api/v2_credit_balance.rs"]
mod v2_credit_balance;
#[path = "../api/v2_customer_privacy.rs"]
mod v2_customer_privacy;
#[path = "../api/v2_holds.rs"]
mod v2_holds;
#[path = "../api/v2_holds_expiry.rs"]
mod v2_holds_expiry;
#[path = "../api/v2_holds_races.rs"]
mod v2_holds_races;
#[path = "../api/v2_idempotency.rs"]
mod v2_idempotency;
#[path = "../api/v2_isolation.rs"]
mod v2_isolation;
#[path = "../api/v2_items.rs"]
mod v2_items;
#[path = "../api/v2_items_access.rs"]
mod v2_items_access;
#[path = "../api/v2_items_errors.rs"]
mod v2_items_errors;
#[path = "../api/v2_items_trade.rs"]
mod v2_items_trade;
#[path = "../api/v2_items_v1.rs"]
mod v2_items_v1;
#[path = "../api/v2_lots.rs"]
mod v2_lots;
#[path = "../api/v2_lots_expiry.rs"]
mod v2_lots_expiry;
#[path = "../api/v2_transactions.rs"]
mod v2_transactions;
#[path = "../api/v2_wallets.rs"]
mod v2_wallets;

mod cli;
mod migrate;
mod processes;
