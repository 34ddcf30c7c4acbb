//! HTTP tests of the real application, one test binary (one link) for all.
#![allow(clippy::unwrap_used)]

mod admin;
mod admin_login;
mod customer_keys;
mod helpers;
mod openapi;
mod persistence;
mod reliability_backup;
mod reliability_bad_input;
mod reliability_rate_limit;
mod reliability_security;
mod v1_auth;
mod v1_bad_input;
mod v1_concurrency;
mod v1_protocol;
mod v2_auth;
mod v2_bad_input;
mod v2_batch;
mod v2_catalog;
mod v2_helpers;
mod v2_idempotency;
mod v2_isolation;
mod v2_transactions;
mod v2_wallets;
