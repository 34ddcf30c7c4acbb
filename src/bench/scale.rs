//! `bench --scale`: a large ledger (1M wallets, 10M entries by default),
//! then the latency of the queries a user's screen makes, the database's
//! bytes per entry, and the server's memory while it answers.
//!
//! Latency is measured with few clients (8 by default): with 64 the figure
//! would be queueing on two cores, not the cost of one query.

use super::workload::{Fixture, Kind};
use super::{measure, preload, quiet_request_log, report, run_tag, target, BenchArgs};
use crate::config::Settings;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

const SCALE_WALLETS: usize = 1_000_000;
const SCALE_ENTRIES: u64 = 10_000_000;
const SCALE_CLIENTS: usize = 8;

/// The measured queries: a name for the report and what the clients send.
const QUERIES: [(&str, Kind); 3] = [
    ("v1 GET /wallet?user_ids=<one user>", Kind::V1Wallet),
    ("v1 GET /entry/inventory?user_ids=<one user>", Kind::V1Inventory),
    ("v2 GET /wallets/{id}/entries (first page)", Kind::EntriesPage),
];

pub(super) async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.url.is_none(),
        "--scale preloads its own database with the bulk loader; it cannot use --url"
    );
    quiet_request_log();
    let prepared = target::prepare(settings).await?;
    let wallets = args.wallets.unwrap_or(SCALE_WALLETS);
    let plan = preload::Plan {
        project: &prepared.project,
        asset: prepared.asset,
        authority: prepared.authority,
        wallets,
        entries: args.preload_entries.unwrap_or(SCALE_ENTRIES).max(wallets as u64),
    };
    let started = Instant::now();
    let preloaded = preload::run(&prepared.settings.db, &plan)?;
    println!(
        "preload: {} wallets, {} entries in {:.1} s",
        preloaded.wallets.len(),
        preloaded.entries,
        started.elapsed().as_secs_f64()
    );
    let access = format!("Bearer {}", prepared.access_key);
    let jwt = prepared.signer.jwt()?;
    let local = target::Local::start(prepared).await?;
    let bytes = local.database_bytes().await?;
    println!(
        "database: {} MB, {:.0} bytes per entry",
        bytes / 1_000_000,
        bytes as f64 / preloaded.entries.max(1) as f64
    );
    let before = local.totals().await?;
    // The preload's own memory is not the server's: measure from here on.
    let reset = report::reset_peak_rss();
    let fixture = Arc::new(Fixture {
        endpoint: Arc::clone(&local.endpoint),
        access,
        jwt: Some(jwt),
        users: preloaded.wallets.len(),
        wallets: preloaded.wallets,
        user_prefix: preload::USER_PREFIX.to_owned(),
        tag: run_tag(),
    });
    let clients = args.clients.unwrap_or(SCALE_CLIENTS);
    let mut peak = None;
    for (name, kind) in QUERIES {
        let totals = measure(Arc::clone(&fixture), kind, clients, args.duration, "scale", true).await?;
        report::print_totals(name, "requests", clients, &totals);
        peak = peak.max(totals.peak_rss_kib);
    }
    if !reset {
        println!("(the peak below includes the preload: /proc/self/clear_refs is not writable)");
    }
    report::print_rss(peak);
    let after = local.totals().await?;
    let conserved = after.balance_sum == before.balance_sum;
    println!(
        "money {}: sum of balances before {}, after {}",
        if conserved { "conserved" } else { "NOT conserved" },
        before.balance_sum,
        after.balance_sum
    );
    let started = Instant::now();
    let checked = report::print_check(&local.check().await?);
    println!("check took {:.1} s", started.elapsed().as_secs_f64());
    local.stop().await?;
    Ok(report::exit_code(conserved && checked))
}
