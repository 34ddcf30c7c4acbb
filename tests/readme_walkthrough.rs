//! Runs the README's API v2 curl walk-through, as written, against the real
//! binary: the README stays true.

mod common;

use common::{run_with_timeout, Server, BIN};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The shell block between the walk-through markers in README.md.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("reading README.md");
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("README has the walk-through start marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("README has the walk-through end marker");
    let block = &readme[start..end];
    let body = block.split_once("```sh\n").expect("a ```sh block").1;
    body.rsplit_once("```").expect("the block is closed").0.to_owned()
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let script = walkthrough();
    assert!(
        script.contains("127.0.0.1:8080"),
        "the walk-through names the default address"
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    // The same commands, pointed at this test's server and database.
    let script = script.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", server.port));
    let bin_dir = Path::new(BIN).parent().expect("the binary has a folder");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = run_with_timeout(
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .env("PATH", path)
            .env("WALLET_DB", &db)
            .env_remove("WALLET_CONFIG")
            .env_remove("WALLET_LISTEN"),
        Duration::from_secs(60),
    );
    if !run.ok() {
        let logs = server.stop_and_collect_logs();
        panic!("the walk-through failed:\n{}\n{logs}", run.describe());
    }
    let out = &run.stdout;
    let expectations = [
        (r#""status":"Completed""#, "the top-up completes"),
        (r#""status":"DuplicateReferenceId""#, "the retry is recognised"),
        (r#""error":"INSUFFICIENT_FUNDS""#, "the overspend fails"),
        (r#""balance":850"#, "Alice holds 10.00 - 1.50"),
        (
            r#""type":"Transfer","amount":-150,"balanceAfter":850"#,
            "the fee entry, newest first",
        ),
        (r#""customerId":"alice""#, "the customer key lists Alice's wallet"),
        (
            r#""id":"sword-1","itemType":"sword","properties":{"atk": 12},"customerId":"alice","status":"Active""#,
            "the sold sword is Alice's, its properties exactly as sent",
        ),
        (r#""balance":350"#, "Alice paid 5.00 for it"),
        (
            r#""id":"default:1","projectId":"default","seq":1,"type":"asset.created"}"#,
            "the feed starts with the asset, seq 1",
        ),
        (
            "event: wallet.balance_changed",
            "Alice's stream carries her balance changes",
        ),
    ];
    for (needle, why) in expectations {
        assert!(out.contains(needle), "{why}: {needle} not in the output:\n{out}");
    }
    let issues = out.matches(r#""type":"Issue","amount":1000"#).count();
    assert_eq!(issues, 1, "the retried top-up was applied once:\n{out}");
}

/// The block between `<!-- example:<name>:start -->` and its end marker,
/// without its fence.
fn example(readme: &str, name: &str) -> String {
    let start = format!("<!-- example:{name}:start -->");
    let end = format!("<!-- example:{name}:end -->");
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has {start}"));
    let to = readme.find(&end).unwrap_or_else(|| panic!("README has {end}"));
    let block = &readme[from + start.len()..to];
    let body = block.split_once("```").expect("a fenced block").1;
    let body = body.split_once('\n').expect("the fence's language line").1;
    body.rsplit_once("```").expect("the block is closed").0.to_owned()
}

/// The README's Rust and TypeScript examples are the client examples the
/// tests run (`tests/api/rust_client.rs` runs `quickstart.rs`,
/// `tests/sdk/typescript.rs` runs `npm run quickstart`), so what the README
/// shows is what runs: each of its lines, in order, is a line of the file
/// (the Rust excerpt is the function's body, one indent less).
#[test]
fn the_readme_client_examples_are_the_ones_the_tests_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("reading README.md");
    for (name, file, indent) in [
        ("rust", "crates/wallet-client/examples/quickstart.rs", "    "),
        ("typescript", "clients/typescript/examples/quickstart.ts", ""),
    ] {
        let shown = example(&readme, name);
        let source =
            std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("reading {file}: {e}"));
        let indented: String = shown
            .lines()
            .map(|line| {
                if line.is_empty() {
                    "\n".to_owned()
                } else {
                    format!("{indent}{line}\n")
                }
            })
            .collect();
        assert!(
            shown.lines().count() >= 10 && source.contains(&indented),
            "the README's {name} example is not a part of {file} as written there:\n{shown}"
        );
    }
}
