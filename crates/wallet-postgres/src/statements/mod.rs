//! Every SQL statement of the port, as plain functions of a connection.
//!
//! One file per part of the model, as in wallet-sqlite; [`rows`] turns rows
//! into the core's nouns. Every statement is a fixed text, prepared once per
//! connection, with its inputs bound as parameters; lists are bound as one
//! array parameter (`= ANY($n)`), so no SQL text is ever built from input.
//!
//! What makes them correct with several writers (other worker threads,
//! other server processes) at READ COMMITTED:
//! - nothing writes a balance, a held value or a total it read: `debit`,
//!   `credit`, `adjust_held` and `add_authority_total` move them by a
//!   delta, guarded in their `WHERE`;
//! - what a job plans on is locked first (`lock_holds`, `lock_items`,
//!   `lock_customers`, then `lock_wallets`, each in id order;
//!   `lock_customer`), a hold changes only while it is Open, an item only
//!   while it is Active and a lot only while it is Open; a wallet's lock
//!   guards its lots (`lots`);
//! - claims are `INSERT ... ON CONFLICT DO NOTHING` on the unique index
//!   that decides them (a reference id, a customer id, a default wallet, a
//!   hold id, an item id, a project's system authority);
//! - the credential rows a write re-checks are read `FOR SHARE`
//!   (`*_for_write`), so a revocation waits for the writes that hold them;
//! - a project's event head is its writes' last lock (`events`), so its
//!   events are numbered in commit order; webhooks' leases and queue moves
//!   are compare-and-set `UPDATE`s (`webhooks`).

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
