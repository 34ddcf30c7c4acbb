//! `wallet-service bench` runs end to end: every workload, briefly and small,
//! against the in-process server, and the scale mode on a tiny ledger. Only
//! the audits are asserted (money conserved, `check` ok, exit 0): figures
//! depend on the machine and are never asserted.

mod common;

use common::{run_with_timeout, BIN};
use std::process::Command;
use std::time::Duration;

/// Generous: a debug build, a loaded CI machine, a one-second run.
const TIMEOUT: Duration = Duration::from_secs(180);

fn bench(args: &[&str]) -> common::Finished {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .arg("bench")
        .args(args);
    run_with_timeout(&mut cmd, TIMEOUT)
}

fn assert_audited(run: &common::Finished, what: &str) {
    assert!(run.ok(), "{what}: bench failed\n{}", run.describe());
    assert!(
        run.stdout.contains("money conserved"),
        "{what}: no money audit\n{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("check: ok"),
        "{what}: no passing check\n{}",
        run.describe()
    );
    assert!(
        run.stdout.contains("latency: p50"),
        "{what}: no latency\n{}",
        run.describe()
    );
}

#[test]
fn every_workload_runs_and_conserves_money() {
    let cases: &[&[&str]] = &[
        &["--workload", "transfer"],
        &["--workload", "entry"],
        &["--workload", "balance"],
        &["--workload", "mixed"],
        &["--workload", "batch", "--batch-size", "20"],
    ];
    for extra in cases {
        let mut args = vec!["--wallets", "200", "--duration", "1", "--clients", "4"];
        args.extend_from_slice(extra);
        let run = bench(&args);
        assert_audited(&run, &extra.join(" "));
        assert!(
            run.stdout.contains("errors: 0"),
            "{}: requests failed\n{}",
            extra.join(" "),
            run.describe()
        );
    }
}

#[test]
fn scale_mode_preloads_a_consistent_ledger_and_reports_its_size() {
    let run = bench(&[
        "--scale",
        "--wallets",
        "300",
        "--preload-entries",
        "2000",
        "--duration",
        "1",
        "--clients",
        "2",
    ]);
    assert_audited(&run, "--scale");
    for figure in [
        "bytes per entry",
        "v1 GET /wallet",
        "v1 GET /entry/inventory",
        "entries (first page)",
    ] {
        assert!(
            run.stdout.contains(figure),
            "--scale: no {figure:?}\n{}",
            run.describe()
        );
    }
    assert!(
        run.stdout.contains("2000 entries"),
        "--scale: the preload made a different number of entries\n{}",
        run.describe()
    );
}

#[test]
fn bad_options_are_refused_before_anything_runs() {
    for args in [
        &["--duration", "0"][..],
        &["--clients", "0"],
        &["--workload", "batch", "--batch-size", "9000"],
        &["--scale", "--url", "http://127.0.0.1:9"],
        &["--url", "http://127.0.0.1:9"],
    ] {
        let run = bench(args);
        assert!(!run.ok(), "{args:?} was accepted\n{}", run.describe());
    }
}
