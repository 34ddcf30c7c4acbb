//! End-to-end test with the real, unmodified Python SDK (`wallet-sdk-Noah-Huppert` 1.1.0).
//!
//! Starts the real binary on a fresh database, creates two authorities with the CLI,
//! runs `tests/sdk/e2e.py` (which drives every SDK method, revokes one authority
//! with the CLI, and checks with an access key it makes with the CLI that API v2's
//! items are the SDK's: `create_entry(item=...)`, `get_inventory` and `use_item`
//! agree with `GET /items` and `GET /items/{id}/history`), then stops the server
//! with SIGTERM and runs `wallet-service check`.
//!
//! The virtualenv lives at `target/sdk-venv` and is created (with pip, from PyPI)
//! when missing or broken. Needs `python3` with the `venv` module on the PATH.
//!
//! Module `typescript`: the TypeScript client of API v2 the same way.

mod common;
#[path = "sdk/typescript.rs"]
mod typescript;

use common::{run_with_timeout, sdk_python, wallet_service, Server, BIN, CLI_TIMEOUT};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const E2E_TIMEOUT: Duration = Duration::from_secs(120);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

fn create_authority(db: &Path, name: &str, port: u16, out: &Path) {
    let created = run_with_timeout(
        wallet_service(db)
            .args(["authority", "create", name, "--api-base-url"])
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("--out")
            .arg(out),
        CLI_TIMEOUT,
    );
    assert!(
        created.ok(),
        "`authority create {name}` failed:\n{}",
        created.describe()
    );
    let mode = std::fs::metadata(out)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", out.display()))
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} must have mode 0600, has {:o}",
        out.display(),
        mode & 0o777
    );
    let text = std::fs::read_to_string(out).unwrap_or_else(|e| panic!("reading {}: {e}", out.display()));
    assert!(
        text.contains(r#""config_schema_version": "0.1.0""#),
        "{} lacks \"config_schema_version\": \"0.1.0\":\n{text}",
        out.display()
    );
}

#[test]
fn python_sdk_drives_every_method() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = sdk_python(manifest_dir);
    let script = manifest_dir.join("tests").join("sdk").join("e2e.py");
    assert!(script.exists(), "{} is missing", script.display());

    let tmp = tempfile::tempdir().expect("creating a temporary directory");
    let db = tmp.path().join("wallet.db");
    let config_a = tmp.path().join("a.json");
    let config_b = tmp.path().join("b.json");

    let mut server = Server::start(&db);
    eprintln!("server listening on port {}", server.port);
    create_authority(&db, "sdk-a", server.port, &config_a);
    create_authority(&db, "sdk-b", server.port, &config_b);

    let e2e = run_with_timeout(
        Command::new(&python)
            .env("PYTHONUNBUFFERED", "1")
            .arg(&script)
            .arg(&config_a)
            .arg(&config_b)
            .arg(BIN)
            .arg(&db),
        E2E_TIMEOUT,
    );
    if !e2e.ok() {
        let logs = server.stop_and_collect_logs();
        panic!("tests/sdk/e2e.py failed:\n{}\n{logs}", e2e.describe());
    }
    print!("{}", e2e.stdout);
    assert!(
        e2e.stdout.contains("checks passed"),
        "e2e.py exited 0 without its summary line:\n{}",
        e2e.describe()
    );

    // Graceful shutdown on SIGTERM.
    match server.terminate(SHUTDOWN_TIMEOUT) {
        Some(status) => {
            if !status.success() {
                let logs = server.stop_and_collect_logs();
                panic!("the server exited with {status} after SIGTERM, expected 0:\n{logs}");
            }
        }
        None => {
            let logs = server.stop_and_collect_logs();
            panic!("the server did not exit within {SHUTDOWN_TIMEOUT:?} of SIGTERM:\n{logs}");
        }
    }

    // Every ledger invariant holds on what the SDK left behind.
    let check = run_with_timeout(wallet_service(&db).arg("check"), CLI_TIMEOUT);
    assert!(
        check.ok(),
        "`wallet-service check` found a problem:\n{}",
        check.describe()
    );
    println!("wallet-service check: {}", check.stderr.trim());
}

/// The README's Python example ("Three ways in"), as written: the config
/// file `authority create` writes, then the block run by the SDK's Python.
#[test]
fn the_readme_python_example_runs_as_written() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = sdk_python(manifest_dir);
    let readme = std::fs::read_to_string(manifest_dir.join("README.md")).expect("reading README.md");
    let (start, end) = ("<!-- example:python:start -->", "<!-- example:python:end -->");
    let from = readme
        .find(start)
        .expect("README has the Python example's start marker");
    let to = readme
        .find(end)
        .expect("README has the Python example's end marker");
    let block = readme[from + start.len()..to]
        .split_once("```python\n")
        .expect("a ```python block")
        .1
        .rsplit_once("```")
        .expect("the block is closed")
        .0
        .to_owned();

    let tmp = tempfile::tempdir().expect("creating a temporary directory");
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    create_authority(&db, "my-game", server.port, &tmp.path().join("my-game.json"));
    let run = run_with_timeout(
        Command::new(&python)
            .current_dir(tmp.path())
            .env("PYTHONUNBUFFERED", "1")
            .args(["-c", &block]),
        E2E_TIMEOUT,
    );
    let logs = server.stop_and_collect_logs();
    assert!(
        run.ok(),
        "the README's Python example failed:\n{}\n{logs}",
        run.describe()
    );
    assert_eq!(
        run.stdout.trim(),
        "[{'user_id': 'bob', 'total': 70}]",
        "what the README says it prints"
    );
}
