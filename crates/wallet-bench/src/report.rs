//! Printing what a run measured, in a shape both people and scripts
//! (`bench/compare.sh`, the smoke test) can read: `key: value` lines.
//! Each printout is built as text first, so its shape is tested.

use super::load::Totals;
use super::WorkloadKind;
use std::fmt::Write;
use std::process::ExitCode;
use wallet_core::check::{CheckMode, CheckReport};
use wallet_core::port::BackendStats;

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`) in KiB, where there is one.
pub(super) fn rss_kib(field: &str) -> Option<u64> {
    status_kib(&std::fs::read_to_string("/proc/self/status").ok()?, field)
}

/// `field:   1234 kB` of a `/proc/<pid>/status` text, in KiB.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets the peak RSS (`VmHWM`) so that a later reading covers only what
/// follows, e.g. the measured phase after a preload. Linux ≥ 4.0; elsewhere
/// the reading keeps the earlier peak, which is reported as such.
pub(super) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

/// Throughput, latency percentiles and errors of one run. `unit` names what
/// an op is (`transfers`, `reads`, ...).
pub(super) fn print_totals(name: &str, unit: &str, clients: usize, totals: &Totals) {
    print!("{}", totals_text(name, unit, clients, totals));
}

// Writing into a String cannot fail: the `fmt::Result`s below are ignored.
fn totals_text(name: &str, unit: &str, clients: usize, totals: &Totals) -> String {
    let secs = totals.elapsed.as_secs_f64().max(1e-9);
    let h = &totals.latency;
    let mut out = String::new();
    let _ = writeln!(out, "== {name}");
    let _ = writeln!(out, "clients: {clients}");
    let _ = writeln!(out, "duration: {secs:.1} s");
    let _ = writeln!(out, "requests: {}", totals.requests);
    let _ = writeln!(out, "throughput: {:.0} {unit}/s", totals.ops as f64 / secs);
    if totals.requests != totals.ops {
        let _ = writeln!(out, "requests/s: {:.0}", totals.requests as f64 / secs);
    }
    let _ = writeln!(
        out,
        "latency: p50 {}  p90 {}  p99 {}  max {}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    );
    let _ = writeln!(out, "errors: {}", totals.error_count());
    for (kind, n) in &totals.errors {
        let _ = writeln!(out, "  {kind}: {n}");
    }
    out
}

pub(super) fn print_writer(stats: &BackendStats) {
    println!("{}", writer_line(stats));
}

fn writer_line(stats: &BackendStats) -> String {
    let per_commit = stats.jobs as f64 / (stats.commits.max(1)) as f64;
    let mut line = format!(
        "writer: {} commits, {} jobs ({per_commit:.1} per commit), largest group {}",
        stats.commits, stats.jobs, stats.largest_group
    );
    if stats.retries > 0 {
        let _ = write!(line, ", {} run again after a conflict", stats.retries);
    }
    line
}

/// Memory of this process (server and load generator when in-process).
pub(super) fn print_rss(peak_during_run_kib: Option<u64>) {
    if let Some(kib) = peak_during_run_kib {
        println!("server rss (largest sample during the run): {} MB", kib / 1024);
    }
    if let Some(kib) = rss_kib("VmHWM") {
        println!("server rss peak (VmHWM): {} MB", kib / 1024);
    }
}

/// Prints the invariant check; returns whether it passed.
pub(super) fn print_check(report: &CheckReport) -> bool {
    let (ok, text) = check_text(report);
    print!("{text}");
    ok
}

fn check_text(report: &CheckReport) -> (bool, String) {
    let ok = report.is_ok();
    let mode = match report.mode {
        CheckMode::Full => "full",
        CheckMode::Incremental => "incremental",
    };
    let mut out = format!(
        "check: {} ({} wallets, {} entries, {} transactions; {mode})\n",
        if ok { "ok" } else { "FAILED" },
        report.wallets,
        report.entries,
        report.transactions
    );
    if !ok {
        let _ = writeln!(out, "{report:#?}");
    }
    (ok, out)
}

/// Transfers and reads must leave the sum of balances unchanged; v1 entries
/// must move it by exactly the amounts acknowledged. Prints the verdict;
/// returns whether the audit passed.
pub(super) fn money(workload: WorkloadKind, before: i128, after: i128, totals: &Totals) -> bool {
    let (ok, line) = money_line(workload, before, after, totals);
    println!("{line}");
    ok
}

fn money_line(workload: WorkloadKind, before: i128, after: i128, totals: &Totals) -> (bool, String) {
    let expected = match workload {
        WorkloadKind::Entry => before + i128::from(totals.acknowledged),
        _ => before,
    };
    if workload == WorkloadKind::Entry && totals.unanswered > 0 && after != expected {
        let line = format!(
            "money: undetermined ({} entries got no answer and may have applied): before {before}, \
             after {after}, acknowledged {:+}",
            totals.unanswered, totals.acknowledged
        );
        return (true, line);
    }
    if after == expected {
        let line =
            format!("money conserved: sum of balances before {before}, after {after} (expected {expected})");
        (true, line)
    } else {
        let line = format!(
            "money NOT conserved: sum of balances before {before}, after {after}, expected {expected}"
        );
        (false, line)
    }
}

pub(super) fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests;
