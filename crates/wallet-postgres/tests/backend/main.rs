//! The PostgreSQL backend through its public API and the port, one test
//! binary (one link) for all, on a throwaway cluster this binary starts
//! (`wallet_testkit::PgCluster`). The backend-neutral promises are the
//! conformance suite's (`tests/conformance.rs` at the top); these are
//! PostgreSQL's own: migrations, the primitives' SQL under several writers,
//! holds and credit limits in SQL and across processes, items in SQL and
//! across processes, lots in SQL, across processes and in the writer's
//! groups, the
//! group-committing writer, export and import; events (the head's lock
//! across processes, LISTEN/NOTIFY, webhooks' leases, tampering).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod bulk;
mod checkpoint;
mod dump;
mod events;
mod holds;
mod items;
mod lots;
mod lots_race;
mod migrations;
mod primitives;
mod tls;
mod writer;
