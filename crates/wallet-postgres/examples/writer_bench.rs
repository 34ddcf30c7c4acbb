//! How many write jobs per second the group-committing writers take, with
//! and without a hot wallet (a fee wallet credited by every transfer).
//! Prints figures; asserts nothing about speed.
//!
//! ```text
//! cargo run --release -p wallet-postgres --example writer_bench -- \
//!     postgres://user@127.0.0.1:5432/db [writers] [tasks] [posts per task]
//! ```
//! The database must exist; the bench adds a project of its own to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::Instant;
use wallet_core::operation::TransactionRequest;
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::fixture::{request, transfer, Fixture};
use wallet_testkit::TestDb;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("a postgres:// URL").clone();
    let writers: usize = args.get(2).map_or(4, |a| a.parse().expect("writers"));
    let tasks: usize = args.get(3).map_or(64, |a| a.parse().expect("tasks"));
    let posts: usize = args.get(4).map_or(50, |a| a.parse().expect("posts"));

    let mut options = PgOptions::new(url);
    options.writers = writers;
    let backend = Arc::new(PostgresBackend::connect(&options).expect("connects"));
    let fx = Fixture::new(TestDb::new(backend.clone(), ()));
    let project = format!("bench{}", std::process::id());
    fx.project(&project).await;
    let caller = fx.authority(&project).await;
    let fee = fx.wallet(&caller, None).await;
    let mut wallets = Vec::new();
    for i in 0..tasks {
        let name = format!("c{i}");
        fx.customer(&caller, &name).await;
        wallets.push(fx.funded(&caller, Some(&name), 1_000_000).await);
    }
    let wallets = Arc::new(wallets);

    for hot in [false, true] {
        let before = fx.ledger.stats();
        let started = Instant::now();
        let mut handles = Vec::new();
        for task in 0..tasks {
            let (ledger, caller, wallets) = (fx.ledger.clone(), caller.clone(), wallets.clone());
            handles.push(tokio::spawn(async move {
                for post in 0..posts {
                    let (from, to) = (wallets[task], wallets[(task + post + 1) % wallets.len()]);
                    let mut operations = vec![transfer(from, to, 10)];
                    if hot {
                        operations.push(transfer(from, fee, 1));
                    }
                    let reference = format!("{hot}-{task}-{post}");
                    let req: TransactionRequest = request(&reference, operations);
                    ledger.post_transaction(&caller, req).await.expect("posts");
                }
            }));
        }
        for handle in handles {
            handle.await.expect("a task");
        }
        let elapsed = started.elapsed().as_secs_f64();
        let after = fx.ledger.stats();
        let jobs = after.jobs - before.jobs;
        let commits = after.commits - before.commits;
        println!(
            "writers={writers} tasks={tasks} hot_wallet={hot}: {jobs} jobs in {elapsed:.2}s = {:.0} jobs/s; \
             {commits} commits ({:.1} jobs/commit), largest group {}, retries {}",
            jobs as f64 / elapsed,
            jobs as f64 / commits.max(1) as f64,
            after.largest_group,
            after.retries - before.retries,
        );
    }
    assert!(fx.ledger.check().await.expect("check").is_ok(), "check holds");
}
