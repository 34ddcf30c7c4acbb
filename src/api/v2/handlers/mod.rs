//! API v2 handlers: extract, call the ledger, map the result. Each carries
//! its OpenAPI description, so the served document cannot drift.

pub mod customers;
pub mod events;
pub mod holds;
pub mod items;
pub mod lots;
pub mod project;
pub mod transactions;
pub mod wallets;
pub mod webhooks;
