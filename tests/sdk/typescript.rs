//! The TypeScript client (`clients/typescript`) against the real binary:
//! its committed `openapi.json` is what the server serves and its
//! `src/schema.d.ts` what openapi-typescript makes of it (else: stale, run
//! `npm run generate`); `npm ci` installs the pinned tools, `tsc` type-checks
//! the wrapper, and node's test runner drives a server started here on port
//! 0 (`test/client.test.mjs`), then the README's example runs
//! (`npm run quickstart`, `examples/quickstart.ts`). Needs node and npm (and
//! the npm registry, or its cache, for `npm ci`): without them the test
//! fails, never skips.

#![allow(clippy::unwrap_used)]

use crate::common::{run_with_timeout, wallet_service, Finished, Server, CLI_TIMEOUT};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const NPM_CI_TIMEOUT: Duration = Duration::from_secs(600);
const NODE_TIMEOUT: Duration = Duration::from_secs(180);

fn npm(dir: &Path, args: &[&str], timeout: Duration) -> Finished {
    run_with_timeout(
        Command::new("npm")
            .current_dir(dir)
            .args(["--no-audit", "--no-fund", "--no-update-notifier"])
            .args(args),
        timeout,
    )
}

/// GET `url` (the served document).
fn get(url: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {url}");
        response.text().await.unwrap()
    })
}

#[test]
fn typescript_client_is_fresh_type_checks_and_drives_the_server() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package = manifest_dir.join("clients").join("typescript");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let base = format!("http://127.0.0.1:{}", server.port);

    // (a) Stale check, part one: the committed document is the served one.
    let served = get(&format!("{base}/api/v2/openapi.json"));
    let committed = std::fs::read_to_string(package.join("openapi.json")).unwrap();
    assert!(
        committed == format!("{served}\n"),
        "clients/typescript/openapi.json is not what the server serves: \
         run `npm run generate` in clients/typescript (see its README)"
    );

    // (b) The pinned tools, then part two of the stale check and the types.
    let ci = npm(&package, &["ci"], NPM_CI_TIMEOUT);
    assert!(
        ci.ok(),
        "`npm ci` in clients/typescript failed (node and npm are required):\n{}",
        ci.describe()
    );
    let fresh = run_with_timeout(
        Command::new("node")
            .current_dir(&package)
            .arg("scripts/check-fresh.mjs"),
        NODE_TIMEOUT,
    );
    assert!(fresh.ok(), "{}", fresh.describe());
    let types = npm(&package, &["run", "typecheck"], NODE_TIMEOUT);
    assert!(types.ok(), "`tsc --noEmit` failed:\n{}", types.describe());

    // (c) node --test against the server.
    let key = run_with_timeout(
        wallet_service(&db).args(["key", "create", "--project", "default"]),
        CLI_TIMEOUT,
    );
    assert!(key.ok(), "`key create` failed:\n{}", key.describe());
    let tests = run_with_timeout(
        Command::new("npm")
            .current_dir(&package)
            .env("WALLET_BASE_URL", &base)
            .env("WALLET_KEY", key.stdout.trim())
            .args(["--no-update-notifier", "test"]),
        NODE_TIMEOUT,
    );
    // (d) The README's TypeScript example (`examples/quickstart.ts`), run as
    // the README says.
    let quickstart = run_with_timeout(
        Command::new("npm")
            .current_dir(&package)
            .env("WALLET_BASE_URL", &base)
            .env("WALLET_KEY", key.stdout.trim())
            .args(["--no-update-notifier", "run", "-s", "quickstart"]),
        NODE_TIMEOUT,
    );
    let logs = server.stop_and_collect_logs();
    assert!(
        quickstart.ok() && quickstart.stdout.contains("balance: 1000 (available 1000)"),
        "`npm run quickstart` (the README's TypeScript example) failed:\n{}\n{logs}",
        quickstart.describe()
    );
    assert!(
        tests.ok(),
        "the TypeScript client's tests failed:\n{}\n{logs}",
        tests.describe()
    );
    assert!(
        tests.stdout.contains("# pass 2") && tests.stdout.contains("# fail 0"),
        "node --test ran other than the 2 tests:\n{}",
        tests.describe()
    );
    print!("{}", tests.stdout);

    let check = run_with_timeout(wallet_service(&db).arg("check"), CLI_TIMEOUT);
    assert!(
        check.ok(),
        "`check` failed after the client's tests:\n{}",
        check.describe()
    );
}
