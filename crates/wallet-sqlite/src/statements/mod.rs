//! Every SQL statement of the port, as plain functions of a connection.
//!
//! One file per part of the model; [`rows`] turns rows into the core's
//! nouns. The functions take `&Connection` so the writer, the read pool and
//! the maintenance tools (import, export) run the same statements. Every
//! statement is prepared once per connection (`prepare_cached`) and takes
//! its inputs as bound parameters; list filters are one JSON parameter, so
//! no SQL text is ever built from input.

pub(crate) mod catalog;
pub(crate) mod credentials;
pub(crate) mod events;
pub(crate) mod holds;
pub(crate) mod items;
pub(crate) mod ledger;
pub(crate) mod lots;
pub(crate) mod overview;
pub(crate) mod rows;
pub(crate) mod settings;
pub(crate) mod v1;
pub(crate) mod wallets;
pub(crate) mod webhooks;

#[cfg(test)]
mod plans;
