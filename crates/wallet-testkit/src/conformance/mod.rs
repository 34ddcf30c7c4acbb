//! The conformance suite: the promises of `docs/model.md`, each written once
//! against the storage port and driven through [`wallet_core::Ledger`] (not
//! HTTP), so that every backend is held to the same ones.
//!
//! Each test is a `pub async fn name(db: TestDb)` on a fresh, empty
//! database; [`conformance_suite!`](crate::conformance_suite) runs them all
//! for one backend. A new test is a function here plus its name in the
//! list in `suite.rs`.
//!
//! - [`concurrency`]: racing spends never overdraw, transfers conserve,
//!   an item, a new customer and an asset code are each taken once.
//! - [`atomicity`]: a transaction applies whole or not at all.
//! - [`idempotency`]: a reference id applies once and spends even on failure.
//! - [`statuses`]: suspend, resume, close, delete, and used assets.
//! - [`isolation`]: nothing crosses projects or customers.
//! - [`credentials`]: a revoked or expired caller writes nothing.
//! - [`defaults`]: one default wallet per customer and asset, and no
//!   balance wraps.
//! - [`check`]: `check` holds after a mixed concurrent load.
//! - [`holds`]: racing holds, captures and voids; partial captures; expiry
//!   on the fixture's clock; holds go with their transaction.
//! - [`credit`]: balances below zero down to the credit limit, and no
//!   further.
//! - [`faults`]: a storage fault in the middle of a job applies nothing.
//! - [`items`]: a trade is all or nothing, racing sales and uses of one
//!   item have one winner, API v1 and v2 agree on items, a fault in an
//!   item transaction applies nothing; [`item_rules`]: who reads items,
//!   ids taken once, exact properties, Active owners, duplicates.
//! - [`lots`]: spending order, nothing spent at or after `expiresAt`,
//!   expiries once and on restart, expiry carried by moves, earmarks of
//!   holds, racing spends and expiries, `expiring`, who reads lots, exports.
//! - [`events`]: the outbox under concurrent writes (no gap, replays to
//!   the balances), each write path's events and data, none on a fault,
//!   per project, a customer's stream, webhooks' queues, pruning.
//! - [`overview`]: the admin dashboard's numbers on real data (UTC days,
//!   minutes, supply, holds, webhooks) and its search.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

pub mod atomicity;
pub mod check;
pub mod concurrency;
pub mod credentials;
pub mod credit;
pub mod defaults;
pub mod events;
pub mod faults;
pub mod holds;
pub mod idempotency;
pub mod isolation;
pub mod item_rules;
pub mod items;
pub mod lots;
pub mod overview;
pub mod statuses;

pub use atomicity::*;
pub use check::*;
pub use concurrency::*;
pub use credentials::*;
pub use credit::*;
pub use defaults::*;
pub use events::*;
pub use faults::*;
pub use holds::*;
pub use idempotency::*;
pub use isolation::*;
pub use item_rules::*;
pub use items::*;
pub use lots::*;
pub use overview::*;
pub use statuses::*;

use crate::harness::{Harness, TestDb};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// The longest one conformance test may take: a deadlock fails the test
/// instead of hanging the run.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs `test` on a fresh database of `harness`, within [`TIME_LIMIT`].
pub async fn run<H, F, Fut>(harness: &H, test: F)
where
    H: Harness,
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = harness.fresh().await;
    if tokio::time::timeout(TIME_LIMIT, test(db)).await.is_err() {
        panic!("the test did not finish within {TIME_LIMIT:?}");
    }
}

/// Runs `n` tasks at once (each on the runtime's workers, all released by
/// one barrier so they contend) and returns their results in task order.
pub async fn concurrently<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (start, work) = (Arc::clone(&start), task(i));
            tokio::spawn(async move {
                start.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.expect("a concurrent task panicked"));
    }
    results
}
