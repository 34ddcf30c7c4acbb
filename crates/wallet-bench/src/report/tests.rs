//! The printout's shape: `bench/compare.sh` reads `throughput:`'s second
//! field, the smoke test looks for the audit lines, people read the rest.

use super::*;
use std::time::Duration;

fn totals(ops: u64, requests: u64, secs: u64, latencies_micros: &[u64]) -> Totals {
    let mut totals = Totals::empty().expect("a histogram");
    totals.ops = ops;
    totals.requests = requests;
    totals.elapsed = Duration::from_secs(secs);
    for &micros in latencies_micros {
        totals.latency.saturating_record(micros);
    }
    totals
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key:?} line in\n{text}"))
}

#[test]
fn throughput_is_ops_per_second_in_the_field_compare_sh_reads() {
    let text = totals_text("Transfer", "transfers", 4, &totals(2500, 2500, 2, &[1000]));
    let line = field(&text, "throughput:");
    assert_eq!(line, " 1250 transfers/s");
    // What `awk '/^throughput:/ {print $2}'` takes.
    assert_eq!(line.split_whitespace().next(), Some("1250"));
    assert!(
        text.starts_with("== Transfer\nclients: 4\nduration: 2.0 s\nrequests: 2500\n"),
        "{text}"
    );
    assert!(
        !text.contains("requests/s"),
        "one op per request needs no second rate\n{text}"
    );
}

#[test]
fn batches_also_report_requests_per_second() {
    let text = totals_text("Batch", "transfers", 1, &totals(3000, 3, 3, &[500_000]));
    assert_eq!(field(&text, "throughput:"), " 1000 transfers/s");
    assert_eq!(field(&text, "requests/s:"), " 1");
}

#[test]
fn latency_percentiles_are_in_milliseconds() {
    // 90 answers at 1 ms, 9 at 1.5 ms, 1 at 2 ms: below 2,048 µs the
    // histogram (3 significant digits) holds values exactly.
    let mut micros = vec![1000; 90];
    micros.extend([1500; 9]);
    micros.push(2000);
    let text = totals_text("Balance", "reads", 2, &totals(100, 100, 1, &micros));
    assert_eq!(
        field(&text, "latency:"),
        " p50 1.00 ms  p90 1.00 ms  p99 1.50 ms  max 2.00 ms"
    );
}

#[test]
fn errors_are_counted_and_listed_by_kind() {
    let mut run = totals(8, 10, 1, &[1000]);
    run.errors.insert("HTTP 409 INSUFFICIENT_FUNDS".to_owned(), 1);
    run.errors.insert("timeout".to_owned(), 1);
    let text = totals_text("Transfer", "transfers", 1, &run);
    assert!(
        text.ends_with("errors: 2\n  HTTP 409 INSUFFICIENT_FUNDS: 1\n  timeout: 1\n"),
        "{text}"
    );
    let clean = totals_text("Transfer", "transfers", 1, &totals(1, 1, 1, &[1]));
    assert!(clean.ends_with("errors: 0\n"), "{clean}");
}

#[test]
fn an_empty_run_prints_without_dividing_by_zero() {
    let text = totals_text("Transfer", "transfers", 1, &totals(0, 0, 0, &[]));
    assert_eq!(field(&text, "throughput:"), " 0 transfers/s");
    let line = writer_line(&BackendStats::default());
    assert_eq!(
        line,
        "writer: 0 commits, 0 jobs (0.0 per commit), largest group 0"
    );
}

#[test]
fn the_writer_line_shows_jobs_per_commit() {
    let stats = BackendStats {
        commits: 4,
        jobs: 126,
        largest_group: 61,
        ..BackendStats::default()
    };
    assert_eq!(
        writer_line(&stats),
        "writer: 4 commits, 126 jobs (31.5 per commit), largest group 61"
    );
}

/// Several PostgreSQL writers meeting on a hot row run jobs again: the
/// count says why they lose to one.
#[test]
fn the_writer_line_shows_jobs_run_again_when_there_are_any() {
    let stats = BackendStats {
        commits: 4,
        jobs: 126,
        largest_group: 61,
        retries: 9,
        ..BackendStats::default()
    };
    assert_eq!(
        writer_line(&stats),
        "writer: 4 commits, 126 jobs (31.5 per commit), largest group 61, 9 run again after a conflict"
    );
}

#[test]
fn check_passes_only_without_violations_and_shows_them() {
    let mut report = CheckReport {
        wallets: 3,
        entries: 7,
        transactions: 5,
        ..CheckReport::default()
    };
    assert_eq!(
        check_text(&report),
        (
            true,
            "check: ok (3 wallets, 7 entries, 5 transactions; full)\n".to_owned()
        )
    );
    report.negative_balances.push("wallet 2: -1".to_owned());
    let (ok, text) = check_text(&report);
    assert!(!ok);
    assert!(text.starts_with("check: FAILED (3 wallets"), "{text}");
    assert!(
        text.contains("wallet 2: -1"),
        "the violation is not shown\n{text}"
    );
}

#[test]
fn money_audits_by_workload() {
    let mut entries = totals(3, 3, 1, &[1]);
    entries.acknowledged = 12;
    let mut lost = totals(3, 4, 1, &[1]);
    lost.acknowledged = 12;
    lost.unanswered = 1;
    let plain = totals(3, 3, 1, &[1]);
    let cases: &[(WorkloadKind, i128, i128, &Totals, bool, &str)] = &[
        (WorkloadKind::Transfer, 100, 100, &plain, true, "money conserved"),
        (
            WorkloadKind::Transfer,
            100,
            101,
            &plain,
            false,
            "money NOT conserved",
        ),
        (WorkloadKind::Batch, 100, 99, &plain, false, "money NOT conserved"),
        (WorkloadKind::Entry, 100, 112, &entries, true, "money conserved"),
        (
            WorkloadKind::Entry,
            100,
            100,
            &entries,
            false,
            "money NOT conserved",
        ),
        // An unanswered entry may have applied: neither verdict is sure.
        (WorkloadKind::Entry, 100, 115, &lost, true, "money: undetermined"),
        (WorkloadKind::Entry, 100, 112, &lost, true, "money conserved"),
        // Sums past i64 are exact.
        (
            WorkloadKind::Mixed,
            i128::from(i64::MAX) * 3,
            i128::from(i64::MAX) * 3,
            &plain,
            true,
            "money conserved",
        ),
    ];
    for (workload, before, after, run, ok, start) in cases {
        let (passed, line) = money_line(*workload, *before, *after, run);
        let what = format!("{workload:?} {before} -> {after}: {line}");
        assert_eq!(passed, *ok, "{what}");
        assert!(line.starts_with(start), "{what}");
    }
}

#[test]
fn proc_status_fields_parse_in_kib() {
    let status = "Name:\tbench\nVmHWM:\t  58012 kB\nVmRSS:\t   34100 kB\n";
    assert_eq!(status_kib(status, "VmRSS"), Some(34100));
    assert_eq!(status_kib(status, "VmHWM"), Some(58012));
    assert_eq!(status_kib(status, "VmSwap"), None);
    assert_eq!(status_kib("VmRSS:\tlots\n", "VmRSS"), None);
}
