//! `wallet-service bench` runs end to end: every workload, briefly and small,
//! against the in-process server, on a temporary SQLite file and on a
//! PostgreSQL database of the tests' throwaway cluster, and the scale mode
//! on a tiny ledger. Only the audits are asserted (money conserved, `check`
//! ok, exit 0): figures depend on the machine and are never asserted.

mod common;

use common::{run_with_timeout, wallet_service, Server, BIN};
use std::process::Command;
use std::time::Duration;
use wallet_testkit::PgCluster;

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
        &["--workload", "transfer-fee"],
        &["--workload", "entry"],
        &["--workload", "balance"],
        &["--workload", "mixed"],
        &["--workload", "batch", "--batch-size", "20"],
        &["--workload", "hold"],
        &["--workload", "trade"],
        &["--workload", "ceiling"],
        &["--workload", "transfer", "--lots", "10"],
        &["--workload", "transfer", "--webhook", "ok"],
        &["--workload", "transfer", "--webhook", "dead"],
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
        if extra.contains(&"--lots") {
            assert!(
                run.stdout.contains("lots: 10 open lots in each of 200 wallets"),
                "the wallets got no lots\n{}",
                run.describe()
            );
        }
        if extra.contains(&"--webhook") {
            assert!(
                run.stdout.contains("webhook: a receiver that is")
                    && run.stdout.contains("deliveries received during the run"),
                "no webhook receiver\n{}",
                run.describe()
            );
        }
        if extra.contains(&"ok") {
            assert!(
                !run.stdout.contains("webhook: 0 deliveries"),
                "the ok receiver got nothing\n{}",
                run.describe()
            );
        }
    }
}

/// On PostgreSQL: every workload, one after the other on one database: the
/// preload (`COPY`), a hot fee wallet, and each later run on the database
/// the one before left, which the bench empties and reuses.
#[test]
fn every_workload_runs_on_a_postgres_database_and_reuses_its_own() {
    let db = PgCluster::shared().fresh_database();
    // `transfer-fee`'s fee wallet is the 201st; the later runs' 200 say that
    // nothing of the first survived into them.
    let cases: &[(&[&str], u32)] = &[
        (&["--workload", "transfer-fee"], 201),
        (&["--workload", "transfer"], 200),
        (&["--workload", "entry"], 200),
        (&["--workload", "balance"], 200),
        (&["--workload", "mixed"], 200),
        (&["--workload", "batch", "--batch-size", "20"], 200),
        (&["--workload", "hold"], 200),
        (&["--workload", "trade"], 200),
        (&["--workload", "transfer", "--lots", "10"], 200),
    ];
    for (run, (extra, wallets)) in cases.iter().enumerate() {
        let workload = extra.join(" ");
        let mut args = vec![
            "--db",
            db.url(),
            "--wallets",
            "200",
            "--preload-entries",
            "600",
            "--duration",
            "1",
            "--clients",
            "4",
        ];
        args.extend_from_slice(extra);
        let out = bench(&args);
        let what = format!("postgres, run {run}: {workload}");
        assert_audited(&out, &what);
        assert!(
            out.stdout.contains("errors: 0"),
            "{what}: requests failed\n{}",
            out.describe()
        );
        let expected = if run == 0 {
            "(was empty;"
        } else {
            "(an earlier bench's, emptied;"
        };
        assert!(
            out.stdout.contains("database: postgres ") && out.stdout.contains(expected),
            "{what}: not on the PostgreSQL database as {expected:?}\n{}",
            out.describe()
        );
        assert!(
            out.stdout.contains(&format!("check: ok ({wallets} wallets")),
            "{what}: `check` did not see the preloaded {wallets} wallets\n{}",
            out.describe()
        );
    }
}

/// A database the bench did not make is never touched: refused, and what
/// was in it is still there.
#[test]
fn bench_refuses_a_postgres_database_it_did_not_make() {
    let db = PgCluster::shared().fresh_database();
    let url = db.url().to_owned();
    let sql = |statement: &str| -> Vec<String> {
        let statement = statement.to_owned();
        let url = url.clone();
        // The blocking client brings a runtime of its own: a thread of its own.
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
            client
                .simple_query(&statement)
                .expect("runs")
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect()
        })
        .join()
        .expect("the SQL thread")
    };
    sql("CREATE TABLE precious (note text); INSERT INTO precious VALUES ('keep me')");
    let out = bench(&[
        "--db",
        db.url(),
        "--wallets",
        "20",
        "--duration",
        "1",
        "--clients",
        "1",
    ]);
    assert!(
        !out.ok(),
        "the bench ran on a database it did not make\n{}",
        out.describe()
    );
    assert!(
        out.stderr.contains("is not empty"),
        "no reason given\n{}",
        out.describe()
    );
    assert_eq!(
        sql("SELECT note FROM precious"),
        ["keep me"],
        "the bench changed the database"
    );
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
    // A full check, transfers after its checkpoint, then an incremental one.
    for line in [
        "; full)",
        "full check took",
        "; incremental)",
        "incremental check took",
    ] {
        assert!(
            run.stdout.contains(line),
            "--scale: no {line:?}\n{}",
            run.describe()
        );
    }
}

/// `--url`: a running server, set up and audited through its API v2 (the
/// wallet-client crate): system wallets, customers' wallets (trade), a fee
/// wallet and lots.
#[test]
fn a_url_run_sets_up_and_audits_through_the_api() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("wallet.db");
    let mut server = Server::start(&db);
    let key = run_with_timeout(
        wallet_service(&db).args(["key", "create", "--project", "default"]),
        TIMEOUT,
    );
    assert!(key.ok(), "`key create` failed:\n{}", key.describe());
    let (url, key) = (
        format!("http://127.0.0.1:{}", server.port),
        key.stdout.trim().to_owned(),
    );
    for extra in [
        &["--workload", "transfer-fee"][..],
        &["--workload", "trade"],
        &["--workload", "transfer", "--lots", "2"],
    ] {
        let mut args = vec![
            "--url",
            &url,
            "--key",
            &key,
            "--wallets",
            "50",
            "--duration",
            "1",
            "--clients",
            "2",
        ];
        args.extend_from_slice(extra);
        let run = bench(&args);
        assert!(run.ok(), "{extra:?}: bench failed\n{}", run.describe());
        assert!(
            run.stdout.contains("money conserved") && run.stdout.contains("errors: 0"),
            "{extra:?}: no clean audit\n{}",
            run.describe()
        );
    }
    server.terminate(TIMEOUT);
}

#[test]
fn bad_options_are_refused_before_anything_runs() {
    for args in [
        &["--duration", "0"][..],
        &["--clients", "0"],
        &["--workload", "batch", "--batch-size", "9000"],
        &["--lots", "101"],
        &["--scale", "--url", "http://127.0.0.1:9"],
        &["--url", "http://127.0.0.1:9"],
        &["--webhook", "ok", "--url", "http://127.0.0.1:9", "--key", "k"],
    ] {
        let run = bench(args);
        assert!(!run.ok(), "{args:?} was accepted\n{}", run.describe());
    }
}

/// The preload's progress (wallets, transfers written) is drawn on a
/// terminal only: on a pipe the only `preload:` line is its summary; under
/// a pseudo-terminal (util-linux `script`, required) the counts appear. On
/// a temporary SQLite file and on a PostgreSQL database (`COPY`).
#[test]
fn the_preload_shows_progress_on_a_terminal_only() {
    let pg = PgCluster::shared().fresh_database();
    let small = [
        "--wallets",
        "20",
        "--preload-entries",
        "60",
        "--duration",
        "1",
        "--clients",
        "1",
    ];
    for db in [None, Some(pg.url())] {
        let mut args: Vec<&str> = db.map_or(vec![], |url| vec!["--db", url]);
        args.extend_from_slice(&small);
        let what = if db.is_some() { "PostgreSQL" } else { "SQLite" };
        let piped = bench(&args);
        assert!(piped.ok(), "{what}: {}", piped.describe());
        let preload: Vec<&str> = piped
            .stderr
            .lines()
            .filter(|l| l.starts_with("preload:"))
            .collect();
        assert_eq!(
            preload.len(),
            1,
            "{what}: only the summary on a pipe: {preload:?}"
        );
        assert!(
            preload[0].starts_with("preload: 20 wallets, "),
            "{what}: {preload:?}"
        );
        assert!(!piped.stdout.contains("preload:"), "{what}: nothing on stdout");

        let mut line = vec![format!("'{BIN}'"), "bench".to_owned()];
        line.extend(args.iter().map(|a| format!("'{a}'")));
        let mut cmd = Command::new("script");
        cmd.env_remove("WALLET_CONFIG")
            .env_remove("WALLET_DB")
            .env_remove("WALLET_LISTEN")
            .args(["-qfec", &line.join(" "), "/dev/null"]);
        let drawn = run_with_timeout(&mut cmd, TIMEOUT);
        assert!(
            drawn.ok(),
            "{what}: under a terminal (util-linux `script` needed): {}",
            drawn.describe()
        );
        // Control sequences aside, the phases' lines and counts.
        let plain: String = drawn.stdout.replace("\u{1b}[2K", "\n");
        let lines: Vec<&str> = plain.split(['\n', '\r']).map(str::trim).collect();
        for want in [
            "preload: wallets …",
            "preload: wallets: 20 (",
            "preload: transfers: 20 (",
        ] {
            assert!(
                lines.iter().any(|l| l.starts_with(want)),
                "{what}: {want}\n{plain}"
            );
        }
    }
}
