//! `wallet-service bench`: measures a server the way its users load it.
//!
//! By default it starts the real application in this process on a
//! temporary database, preloads wallets through the bulk loader, and drives
//! it over loopback HTTP with C keep-alive clients for a set time; `--url`
//! measures a running server instead, set up through its API. Either way it
//! prints throughput, HDR latency percentiles and errors, then audits the
//! ledger: money conserved, and (in-process) `wallet-service check`.
//!
//! - [`http`]: the lean HTTP/1.1 client; [`workload`]: what is sent.
//! - [`load`]: clients, deadline, progress; [`report`]: the printout.
//! - [`target`], [`preload`], [`remote`]: the server and its data.
//! - [`scale`]: the large-ledger latency and size figures.

mod http;
mod load;
mod preload;
mod remote;
mod report;
mod scale;
mod target;
mod workload;

use crate::config::Settings;
use load::Totals;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use workload::{Fixture, Generator, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkloadKind {
    /// v2 POST /transactions, one Transfer between random wallets.
    Transfer,
    /// v1 POST /entry signed by an authority's JWT.
    Entry,
    /// v2 GET /wallets/{id}.
    Balance,
    /// 90% balance reads, 10% transfers.
    Mixed,
    /// v2 POST /transactions/batch of --batch-size transfers.
    Batch,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Measure a running server; without it, one is started in this process
    /// on a temporary database.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// An API v2 access key of the server at --url.
    #[arg(long, value_name = "ACCESS_KEY")]
    pub key: Option<String>,
    /// The SDK client config of an authority of the server at --url (for `entry`).
    #[arg(long, value_name = "FILE")]
    pub authority_config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "transfer")]
    pub workload: WorkloadKind,
    /// Wallets to create [default: 100000; 1000000 with --scale].
    #[arg(long)]
    pub wallets: Option<usize>,
    /// Concurrent clients, one connection each [default: 64; 8 with --scale,
    /// where latency, not throughput, is measured].
    #[arg(long)]
    pub clients: Option<usize>,
    /// Seconds to run (each query, with --scale).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Transfers per request of the `batch` workload.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Entries in the preloaded ledger, funding entries included
    /// [default: one per wallet; 10000000 with --scale].
    #[arg(long)]
    pub preload_entries: Option<u64>,
    /// Preload a large ledger, then measure single-user queries, bytes per
    /// entry and memory.
    #[arg(long)]
    pub scale: bool,
}

impl BenchArgs {
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.duration >= 1, "--duration must be at least 1 second");
        anyhow::ensure!(self.clients != Some(0), "--clients must be at least 1");
        anyhow::ensure!(
            (1..=8000).contains(&self.batch_size),
            "--batch-size must be 1 to 8000"
        );
        anyhow::ensure!(
            self.wallets.is_none_or(|w| w >= 2),
            "--wallets must be at least 2"
        );
        Ok(())
    }

    fn kind(&self) -> Kind {
        match self.workload {
            WorkloadKind::Transfer => Kind::Transfer,
            WorkloadKind::Entry => Kind::Entry,
            WorkloadKind::Balance => Kind::Balance,
            WorkloadKind::Mixed => Kind::Mixed,
            WorkloadKind::Batch => Kind::Batch(self.batch_size),
        }
    }

    fn unit(&self) -> &'static str {
        match self.workload {
            WorkloadKind::Transfer | WorkloadKind::Batch => "transfers",
            WorkloadKind::Entry => "entries",
            WorkloadKind::Balance => "reads",
            WorkloadKind::Mixed => "requests",
        }
    }
}

/// Runs the benchmark; exits 1 if money was not conserved or `check` failed.
/// Ctrl-C (or SIGTERM) abandons it at once, temporary database included:
/// the in-process server's own handler would only stop serving, and the
/// run would go on against a stopped server.
pub async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<ExitCode> {
    args.validate()?;
    let bench = async {
        if args.scale {
            return scale::run(settings, &args).await;
        }
        match &args.url {
            Some(url) => remote::run(url, &args).await,
            None => local_run(settings, &args).await,
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

async fn local_run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    quiet_request_log();
    let prepared = target::prepare(settings).await?;
    let wallets = args.wallets.unwrap_or(100_000);
    let plan = preload::Plan {
        project: &prepared.project,
        asset: prepared.asset,
        authority: prepared.authority,
        wallets,
        entries: args.preload_entries.unwrap_or(0).max(wallets as u64),
    };
    let preloaded = preload::run(&prepared.settings.db, &plan)?;
    let access = format!("Bearer {}", prepared.access_key);
    let jwt = prepared.signer.jwt()?;
    let local = target::Local::start(prepared).await?;
    let fixture = Fixture {
        endpoint: Arc::clone(&local.endpoint),
        access,
        jwt: Some(jwt),
        users: preloaded.wallets.len(),
        wallets: preloaded.wallets,
        user_prefix: preload::USER_PREFIX.to_owned(),
        tag: run_tag(),
    };
    let before = local.totals().await?;
    let clients = args.clients.unwrap_or(64);
    let totals = measure(
        Arc::new(fixture),
        args.kind(),
        clients,
        args.duration,
        "bench",
        true,
    )
    .await?;
    let after = local.totals().await?;
    report::print_totals(&format!("{:?}", args.workload), args.unit(), clients, &totals);
    report::print_writer(&local.writer_stats());
    report::print_rss(totals.peak_rss_kib);
    let conserved = report::money(args.workload, before.balance_sum, after.balance_sum, &totals);
    let checked = report::print_check(&local.check().await?);
    local.stop().await?;
    Ok(report::exit_code(conserved && checked))
}
