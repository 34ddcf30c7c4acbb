//! A run against the server started in this process: a database made by
//! the [`Target`] (a temporary SQLite file, or the PostgreSQL database
//! `--db` names), preloaded with its bulk loader, then measured and audited
//! (money conserved, `check`).

use crate::http::Endpoint;
use crate::receiver::Receiver;
use crate::target::{Server, Target};
use crate::workload::{Fixture, Kind};
use crate::{measure, preload, quiet_request_log, remote, report, run_tag, BenchArgs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use wallet_core::ids::AssetId;

/// A preloaded server running in this process, and what its clients share.
pub(crate) struct Local<S> {
    pub server: S,
    /// The asset every preloaded wallet holds: the money audit sums it.
    pub asset: AssetId,
    pub fixture: Arc<Fixture>,
    /// Entries the preload made, funding entries included.
    pub entries: u64,
    /// Which database and backend (no password).
    pub database: String,
    pub preload_time: Duration,
    /// Holds the database; removed when the run ends, after `stop`.
    _dir: TempDir,
}

/// Prepares a database through `target`, preloads `wallets` wallets and
/// `entries` entries, and starts the server on it; `fee_wallet`: with a
/// system wallet for the fees of `transfer-fee`, made through the API.
pub(crate) async fn start<T: Target>(
    target: &T,
    wallets: usize,
    entries: u64,
    lots: usize,
    fee_wallet: bool,
) -> anyhow::Result<Local<T::Server>> {
    quiet_request_log();
    let dir = tempfile::Builder::new().prefix("wallet-bench").tempdir()?;
    let prepared = target.prepare(dir.path()).await?;
    let plan = preload::Plan {
        project: prepared.project.as_str(),
        asset: prepared.asset,
        authority: prepared.authority,
        wallets,
        entries: entries.max(wallets as u64),
        lots,
    };
    let started = Instant::now();
    // Off the async thread: a blocking database client may not run on it.
    // Nothing else runs yet, so waiting here holds nothing up.
    let preloaded = std::thread::scope(|scope| {
        scope
            .spawn(|| preload::run(target.loader(&prepared)?, &plan))
            .join()
    })
    .map_err(|_| anyhow::anyhow!("the preload panicked"))??;
    let preload_time = started.elapsed();
    let jwt = prepared.signer.jwt()?;
    let server = target.start(&prepared).await?;
    let endpoint = Arc::new(Endpoint::parse(&server.url())?);
    let access = format!("Bearer {}", prepared.access_key);
    let fee_wallet = if fee_wallet {
        Some(
            remote::system_wallet(
                &remote::v2_client(&endpoint, &access)?,
                &prepared.asset.to_string(),
            )
            .await?,
        )
    } else {
        None
    };
    let fixture = Arc::new(Fixture {
        endpoint,
        access,
        jwt: Some(jwt),
        users: preloaded.wallets.len(),
        wallets: preloaded.wallets,
        fee_wallet,
        user_prefix: preload::USER_PREFIX.to_owned(),
        tag: run_tag(),
    });
    Ok(Local {
        server,
        asset: prepared.asset,
        fixture,
        entries: preloaded.entries,
        database: prepared.database,
        preload_time,
        _dir: dir,
    })
}

impl<S: Server> Local<S> {
    pub async fn balance_sum(&self) -> anyhow::Result<i128> {
        Ok(self.server.asset_totals(self.asset).await?.balance_sum)
    }

    /// Stops the server, then removes its temporary directory (a
    /// PostgreSQL database stays, for the next run to empty).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.server.stop().await
    }
}

pub(crate) async fn run(target: &impl Target, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let wallets = args.wallets.unwrap_or(100_000);
    let fee_wallet = args.kind() == Kind::TransferFee;
    let local = start(
        target,
        wallets,
        args.preload_entries.unwrap_or(0),
        args.lots,
        fee_wallet,
    )
    .await?;
    println!("database: {}", local.database);
    if args.lots > 0 {
        println!(
            "lots: {} open lots in each of {} wallets",
            args.lots,
            local.fixture.wallets.len()
        );
    }
    let receiver = match args.webhook {
        None => None,
        Some(kind) => {
            let receiver = Receiver::start(kind).await?;
            receiver
                .register(&local.fixture.endpoint, &local.fixture.access)
                .await?;
            println!(
                "webhook: a receiver that is {kind:?} at http://{}/hook",
                receiver.addr
            );
            Some(receiver)
        }
    };
    let before = local.balance_sum().await?;
    let clients = args.clients.unwrap_or(64);
    let fixture = Arc::clone(&local.fixture);
    let totals = measure(fixture, args.kind(), clients, args.duration, "bench", true).await?;
    let after = local.balance_sum().await?;
    report::print_totals(&format!("{:?}", args.workload), args.unit(), clients, &totals);
    report::print_writer(&local.server.stats());
    report::print_rss(totals.peak_rss_kib);
    if let Some(receiver) = &receiver {
        println!(
            "webhook: {} deliveries received during the run",
            receiver.received()
        );
    }
    let conserved = report::money(args.workload, before, after, &totals);
    let checked = report::print_check(&local.server.check(true).await?);
    local.stop().await?;
    Ok(report::exit_code(conserved && checked))
}
