//! wallet-bench: `wallet-service bench`, measuring a server the way its
//! users load it.
//!
//! By default it starts the real application in this process (through
//! [`Target`], which the server implements) on a temporary SQLite file or
//! on the PostgreSQL database `--db` names, preloads wallets with the
//! backend's bulk loader ([`BulkLoad`]), and drives it over loopback HTTP
//! with C keep-alive clients for a set time; `--url` measures a running
//! server instead, set up through its API. Either way it prints throughput,
//! HDR latency percentiles and errors, then audits the ledger: money
//! conserved, and (in-process) `wallet-service check`.
//!
//! ```text
//!   BenchArgs ─► run ─┬─ local / scale ─► Target (the server) + preload (BulkLoad)
//!                     └─ remote (--url) ─► the server's public API
//!                 both ─► load: clients × workload over http ─► report
//! ```
//!
//! - [`args`]: the command line; [`target`]: the port to the server.
//! - `http`: the lean HTTP/1.1 client; `workload`: what is sent.
//! - `load`: clients, deadline, progress; `report`: the printout.
//! - `local`, `preload`, `remote`: the runs and their data.
//! - `scale`: the large-ledger latency and size figures.
#![forbid(unsafe_code)]

pub mod args;
mod http;
mod load;
mod local;
mod preload;
mod receiver;
mod remote;
mod report;
mod scale;
pub mod target;
mod workload;

pub use args::{BenchArgs, WorkloadKind};
pub use target::{AssetTotals, BulkLoad, BulkRows, Prepared, Server, Signer, Target};

use load::Totals;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use workload::{Fixture, Generator, Kind};

/// Runs the benchmark; exits 1 if money was not conserved or `check` failed.
/// `target` starts the in-process server; a run with `--url` never uses it.
/// Ctrl-C (or SIGTERM) abandons it at once, temporary database included:
/// the in-process server's own handler would only stop serving, and the
/// run would go on against a stopped server.
pub async fn run(target: &impl Target, args: BenchArgs) -> anyhow::Result<ExitCode> {
    args.validate()?;
    let bench = async {
        if args.scale {
            return scale::run(target, &args).await;
        }
        match &args.url {
            Some(url) => remote::run(url, &args).await,
            None => local::run(target, &args).await,
        }
    };
    tokio::select! {
        result = bench => result,
        () = interrupted() => {
            eprintln!("bench: interrupted");
            Ok(ExitCode::from(130))
        }
    }
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // Without a handler the default action (exit) applies.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A one-line-per-request log would measure stderr, not the ledger: an
/// in-process server logs warnings only, unless `RUST_LOG` asks otherwise.
fn quiet_request_log() {
    if std::env::var_os("RUST_LOG").is_none() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// Six hex digits that keep reference ids, asset codes and user ids of this
/// run apart from any earlier run against the same server.
fn run_tag() -> String {
    format!("{:06x}", rand::random::<u32>() & 0xff_ffff)
}

async fn measure(
    fixture: Arc<Fixture>,
    kind: Kind,
    clients: usize,
    duration: u64,
    label: &str,
    watch_rss: bool,
) -> anyhow::Result<Totals> {
    let generators = (0..clients)
        .map(|client| Generator::new(kind, Arc::clone(&fixture), client))
        .collect();
    let endpoint = Arc::clone(&fixture.endpoint);
    load::run(
        endpoint,
        generators,
        Duration::from_secs(duration),
        label,
        watch_rss,
    )
    .await
}
