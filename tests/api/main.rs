//! HTTP tests of the real application on SQLite, one test binary (one
//! link) for all. `tests/api_postgres` runs the same modules on
//! PostgreSQL, all but the SQLite-only ones it lists; a module asks
//! `app::spawn_app` for its app and never names the backend.
#![allow(clippy::unwrap_used)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

/// The backend every `app::spawn_app` of this binary runs on.
const BACKEND: wallet_testkit::app::TestBackend = wallet_testkit::app::TestBackend::Sqlite;

mod app;
#[path = "../common/mod.rs"]
mod common;
mod events_support;

mod admin;
mod admin_dashboard;
mod admin_holds;
mod admin_items;
mod admin_login;
mod big_totals;
mod customer_keys;
mod default_wallet;
mod edge_body_timeout;
mod edge_input;
mod edge_routing;
mod events_feed;
mod export_roundtrip;
mod multi_process;
mod openapi;
mod openapi_constraints;
mod packaging;
mod persistence;
mod progress;
mod recheck_under_load;
mod reliability_bad_input;
mod reliability_export;
mod reliability_rate_limit;
mod reliability_security;
mod revocation_at_write;
mod rust_client;
mod v1_auth;
mod v1_bad_input;
mod v1_concurrency;
mod v1_item_data;
mod v1_protocol;
mod v2_auth;
mod v2_bad_input;
mod v2_batch;
mod v2_catalog;
mod v2_credit_balance;
mod v2_customer_privacy;
mod v2_holds;
mod v2_holds_expiry;
mod v2_holds_races;
mod v2_idempotency;
mod v2_isolation;
mod v2_items;
mod v2_items_access;
mod v2_items_errors;
mod v2_items_trade;
mod v2_items_v1;
mod v2_lots;
mod v2_lots_expiry;
mod v2_transactions;
mod v2_wallets;
mod webhooks;

// SQLite only: about the file itself (see tests/api_postgres for why, and
// for the PostgreSQL counterparts).
mod default_wallet_upgrade;
mod events_cli;
mod reliability_backup;
