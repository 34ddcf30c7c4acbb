//! The SQLite backend through its public API and the port, one test binary
//! (one link) for all. The backend-neutral promises are the conformance
//! suite's (`tests/conformance.rs` at the top); these are SQLite's own:
//! migrations, opening, the primitives' SQL, verdicts, maintenance.
#![allow(clippy::unwrap_used)]

mod common;

mod big_totals;
mod checkpoint;
mod events;
mod holds;
mod holds_export;
mod items;
mod items_export;
mod lots;
mod lots_export;
mod maintenance;
mod open;
mod point_reads;
mod primitives;
mod schema;
mod verdicts;
