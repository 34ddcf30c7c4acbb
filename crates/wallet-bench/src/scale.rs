//! `bench --scale`: a large ledger (1M wallets, 10M entries by default),
//! then the latency of the queries a user's screen makes, the database's
//! bytes per entry, and the server's memory while it answers.
//!
//! Latency is measured with few clients (8 by default): with 64 the figure
//! would be queueing on two cores, not the cost of one query.

use crate::local;
use crate::target::{Server, Target};
use crate::workload::Kind;
use crate::{measure, report, BenchArgs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use wallet_core::check::CheckMode;

const SCALE_WALLETS: usize = 1_000_000;
const SCALE_ENTRIES: u64 = 10_000_000;
const SCALE_CLIENTS: usize = 8;

/// The measured queries: a name for the report and what the clients send.
const QUERIES: [(&str, Kind); 3] = [
    ("v1 GET /wallet?user_ids=<one user>", Kind::V1Wallet),
    ("v1 GET /entry/inventory?user_ids=<one user>", Kind::V1Inventory),
    ("v2 GET /wallets/{id}/entries (first page)", Kind::EntriesPage),
];

pub(crate) async fn run(target: &impl Target, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.url.is_none(),
        "--scale preloads its own database with the bulk loader; it cannot use --url"
    );
    let wallets = args.wallets.unwrap_or(SCALE_WALLETS);
    let entries = args.preload_entries.unwrap_or(SCALE_ENTRIES);
    let local = local::start(target, wallets, entries, 0, false).await?;
    println!("database: {}", local.database);
    println!(
        "preload: {} wallets, {} entries in {:.1} s",
        local.fixture.wallets.len(),
        local.entries,
        local.preload_time.as_secs_f64()
    );
    let bytes = local.server.database_bytes().await?;
    println!(
        "database: {} MB, {:.0} bytes per entry",
        bytes / 1_000_000,
        bytes as f64 / local.entries.max(1) as f64
    );
    let before = local.balance_sum().await?;
    // The preload's own memory is not the server's: measure from here on.
    let reset = report::reset_peak_rss();
    let clients = args.clients.unwrap_or(SCALE_CLIENTS);
    let mut peak = None;
    for (name, kind) in QUERIES {
        let fixture = Arc::clone(&local.fixture);
        let totals = measure(fixture, kind, clients, args.duration, "scale", true).await?;
        report::print_totals(name, "requests", clients, &totals);
        peak = peak.max(totals.peak_rss_kib);
    }
    if !reset {
        println!("(the peak below includes the preload: /proc/self/clear_refs is not writable)");
    }
    report::print_rss(peak);
    let after = local.balance_sum().await?;
    let conserved = after == before;
    println!(
        "money {}: sum of balances before {before}, after {after}",
        if conserved { "conserved" } else { "NOT conserved" },
    );
    // The full check records a checkpoint; transfers follow (what a
    // server's day adds), and the incremental check checks only those.
    let started = Instant::now();
    let checked = report::print_check(&local.server.check(true).await?);
    println!("full check took {:.1} s", started.elapsed().as_secs_f64());
    let fixture = Arc::clone(&local.fixture);
    let totals = measure(fixture, Kind::Transfer, clients, args.duration, "scale", true).await?;
    report::print_totals("transfers after the checkpoint", "transfers", clients, &totals);
    let started = Instant::now();
    let incremental = local.server.check(false).await?;
    let checked_since = report::print_check(&incremental);
    println!(
        "incremental check took {:.1} s ({} transfers since the checkpoint)",
        started.elapsed().as_secs_f64(),
        totals.ops
    );
    let after_transfers = local.balance_sum().await?;
    let still = after_transfers == before;
    println!(
        "money {} by the transfers: sum of balances {after_transfers}",
        if still { "conserved" } else { "NOT conserved" },
    );
    local.stop().await?;
    Ok(report::exit_code(
        conserved && checked && checked_since && still && incremental.mode == CheckMode::Incremental,
    ))
}
