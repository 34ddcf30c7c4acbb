//! The admin page end to end in real headless Chromium (Debian's `chromium`).
//!
//! Starts the real binary on a fresh database, then `tests/admin_browser/drive.cjs`
//! (playwright-core, installed from npm into `target/admin-e2e` with the pinned
//! lock file, launching `/usr/bin/chromium`; no browser is ever downloaded):
//! a wrong password is refused, the generated password logs in, an authority is
//! created on the page and its client config file downloaded, the Python SDK
//! uses that file to create an entry, and the page finds the customer and shows
//! the balance; a wallet with a hold (placed here through the ledger, on the
//! server's own database file) shows held and available, and the page voids
//! the hold (refused while maintenance is on) and sets a credit limit.
//! Screenshots at desktop and phone width land in `target/admin-e2e/`.
//!
//! Needs `/usr/bin/chromium` (`apt-get install chromium chromium-driver`; `.ci/run`
//! does it), Node.js ≥ 20 with npm, python3, and the npm registry and PyPI.

mod common;

use common::{drain, sdk_python, Server, CLI_TIMEOUT};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const NPM_TIMEOUT: Duration = Duration::from_secs(600);
const DRIVER_TIMEOUT: Duration = Duration::from_secs(240);
const PLAYWRIGHT_CORE_VERSION: &str = "1.65.1";
/// The customer whose wallet has holds (`arrange_holds`), as the driver knows it.
const HOLD_USER: &str = "hold-user";
/// The customer whose wallet has lots (`arrange_holds`).
const LOT_USER: &str = "lot-user";
/// What expired today (`arrange_holds`): the dashboard's daily chart shows it.
const EXPIRING: i64 = 25;

/// A child process in its own process group; on drop the whole group is
/// killed, so a failing or hanging run never leaves Node or Chromium behind.
struct ProcessGroup {
    child: Option<Child>,
    what: String,
}

impl ProcessGroup {
    fn spawn(cmd: &mut Command) -> ProcessGroup {
        let what = format!("{cmd:?}");
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
        ProcessGroup {
            child: Some(child),
            what,
        }
    }

    /// Waits up to `timeout`; returns (exited successfully, timed out, stdout, stderr).
    fn wait(mut self, timeout: Duration) -> (bool, bool, String, String) {
        let child = self.child.as_mut().expect("the child runs until wait");
        let stdout = drain(child.stdout.take().expect("stdout was piped"));
        let stderr = drain(child.stderr.take().expect("stderr was piped"));
        let deadline = Instant::now() + timeout;
        let (success, timed_out) = loop {
            match child.try_wait() {
                Ok(Some(status)) => break (status.success(), false),
                Ok(None) if Instant::now() >= deadline => break (false, true),
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => panic!("waiting for {}: {e}", self.what),
            }
        };
        // Ends what the driver left running (the browser) before the pipes are read to the end.
        self.kill_group();
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        (success, timed_out, stdout, stderr)
    }

    fn kill_group(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group's id is the child's pid (process_group(0)).
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Runs a short tool command, failing the test with `hint` if it cannot.
fn run_tool(cmd: &mut Command, timeout: Duration, hint: &str) -> String {
    let what = format!("{cmd:?}");
    let (ok, timed_out, stdout, stderr) = ProcessGroup::spawn(cmd).wait(timeout);
    assert!(
        ok,
        "{what} failed{}. {hint}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        if timed_out {
            " (killed after the timeout)"
        } else {
            ""
        }
    );
    stdout
}

/// Installs the pinned playwright-core into `target/admin-e2e` (skipped when the
/// installed copy matches the lock file) and returns the package's folder.
fn playwright_core(manifest_dir: &Path, work: &Path) -> PathBuf {
    let node = run_tool(
        Command::new("node").arg("--version"),
        CLI_TIMEOUT,
        "Node.js 20 or later with npm is required (Debian: apt-get install nodejs npm).",
    );
    eprintln!("node {}", node.trim());
    let sources = manifest_dir.join("tests").join("admin_browser");
    let lock = std::fs::read(sources.join("package-lock.json"))
        .expect("reading tests/admin_browser/package-lock.json");
    let package = work.join("node_modules").join("playwright-core");
    let installed_version = std::fs::read_to_string(package.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned));
    let same_lock = std::fs::read(work.join("package-lock.json")).is_ok_and(|old| old == lock);
    if same_lock && installed_version.as_deref() == Some(PLAYWRIGHT_CORE_VERSION) {
        return package;
    }
    eprintln!(
        "installing playwright-core {PLAYWRIGHT_CORE_VERSION} into {}",
        work.display()
    );
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(sources.join(file), work.join(file)).unwrap_or_else(|e| panic!("copying {file}: {e}"));
    }
    run_tool(
        Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(work),
        NPM_TIMEOUT,
        "Installing playwright-core from the npm registry failed (npm and network access to the npm registry are required).",
    );
    package
}

/// In project `default`, through the ledger on the running server's
/// database (SQLite takes a second process's writes; no HTTP API places
/// holds yet): customer `hold-user` with a wallet of 500 points, from which
/// hold `escrow-done` (100) was captured into `hold-payee`'s wallet and hold
/// `escrow-open` (200, expiring in a day) is Open. So the wallet shows
/// balance 400, held 200, available 200. Items: `hold-user` owns `sword-1`
/// (granted with properties a float would change, changed, sold to
/// `hold-payee` and bought back: four steps) and `potion-1`, consumed.
/// Lots: `lot-user`'s wallet got 100 plain, 60 expiring in 10 days and 40
/// in 20 days, then redeemed 50 (taken from the sooner lot: 10 left of it)
/// and placed hold `lot-hold` of 20 (earmarking 10 of each lot): balance
/// 150, held 20, expiring 10 and 40. For the dashboard: `hold-payee` sends
/// 30 to `dash-user`, and gets a lot of 25 that expires at once.
fn arrange_holds(db: &Path) {
    use wallet_core::operation::Operation;
    use wallet_core::policy::Caller;
    use wallet_core::text::{ItemId, ItemProperties, ItemType};
    use wallet_core::{Ledger, TransactionOutcome};
    use wallet_service::auth::Credentials;
    use wallet_service::config::Settings;
    use wallet_testkit::fixture::{
        capture, customer_id, default_asset, hold, issue, project_id, request, text, transfer,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the ledger");
    runtime.block_on(async {
        let settings = Settings {
            db: db.to_path_buf().into(),
            ..Settings::default()
        };
        let store =
            wallet_service::startup::open_backend(&settings, false).expect("the server's database opens");
        let credentials = Credentials::new(store.clone());
        let ledger = Ledger::new(store);
        let key = credentials
            .create_access_key(project_id("default"), text("browser-test-holds"))
            .await
            .expect("an access key")
            .token;
        let caller: Caller = credentials
            .authenticate(Some(&format!("Bearer {key}")))
            .await
            .expect("the access key authenticates");
        let mut wallets = Vec::new();
        for customer in [HOLD_USER, "hold-payee", LOT_USER, "dash-user"] {
            ledger
                .upsert_customer(&caller, customer_id(customer), None, None)
                .await
                .expect("the customer is created");
            let wallet = ledger
                .create_wallet(
                    &caller,
                    Some(customer_id(customer)),
                    default_asset(&caller),
                    None,
                    None,
                )
                .await
                .expect("the wallet opens");
            wallets.push(wallet.id);
        }
        let (source, payee, lots, dash) = (wallets[0], wallets[1], wallets[2], wallets[3]);
        let in_a_day = wallet_core::clock::system_now() + 86_400_000;
        let expiring = |amount: i64, days: i64| Operation::Issue {
            destination: lots,
            amount: wallet_core::operation::Quantity::new(amount).expect("an amount"),
            expires_at: Some(in_a_day + (days - 1) * 86_400_000),
        };
        let item = |name: &str| ItemId::parse(name).expect("an item id");
        let properties = |json: &str| ItemProperties::parse(json).expect("properties");
        let grant = |name: &str, json: &str| Operation::GrantItem {
            item_type: ItemType::parse(name.split('-').next().unwrap_or(name)).expect("a type"),
            customer_id: Some(customer_id(HOLD_USER)),
            properties: Some(properties(json)),
            item_id: item(name),
        };
        let to = |name: &str, customer: &str| Operation::TransferItem {
            item: item(name),
            to: Some(customer_id(customer)),
            from: None,
        };
        let steps = [
            vec![issue(source, 500)],
            vec![hold("escrow-done", source, 100, Some(payee), None)],
            vec![capture("escrow-done", None)],
            vec![hold("escrow-open", source, 200, Some(payee), Some(in_a_day))],
            vec![
                grant("sword-1", r#"{"atk":123456789012345678901234567890,"crit":1.50}"#),
                grant("potion-1", r#"{"heal":25}"#),
            ],
            vec![Operation::SetItemProperties {
                item: item("sword-1"),
                properties: properties(r#"{"atk":123456789012345678901234567890,"crit":1.50,"level":2}"#),
            }],
            vec![to("sword-1", "hold-payee")],
            vec![
                to("sword-1", HOLD_USER),
                Operation::ConsumeItem {
                    item: item("potion-1"),
                    from: None,
                },
            ],
            vec![issue(lots, 100), expiring(60, 10), expiring(40, 20)],
            vec![Operation::Redeem {
                source: lots,
                amount: wallet_core::operation::Quantity::new(50).expect("an amount"),
            }],
            vec![hold("lot-hold", lots, 20, None, None)],
        ];
        for (i, operations) in steps.into_iter().enumerate() {
            let outcome = ledger
                .post_transaction(&caller, request(&format!("browser-holds-{i}"), operations))
                .await
                .expect("the transaction is answered");
            assert!(
                matches!(outcome, TransactionOutcome::Completed(..)),
                "arranging the holds, step {i}: {outcome:?}"
            );
        }

        // For the dashboard: a transfer, and a lot of 25 that expires today.
        let soon = wallet_core::clock::system_now() + 1_500;
        let dashboard = [
            vec![transfer(payee, dash, 30)],
            vec![Operation::Issue {
                destination: payee,
                amount: wallet_core::operation::Quantity::new(EXPIRING).expect("an amount"),
                expires_at: Some(soon),
            }],
        ];
        for (i, operations) in dashboard.into_iter().enumerate() {
            let outcome = ledger
                .post_transaction(&caller, request(&format!("browser-dashboard-{i}"), operations))
                .await
                .expect("the transaction is answered");
            assert!(
                matches!(outcome, TransactionOutcome::Completed(..)),
                "arranging the dashboard, step {i}: {outcome:?}"
            );
        }
        // The expiry use case the server's worker runs (whichever runs it
        // first expires the lot; the other finds nothing due).
        while wallet_core::clock::system_now() <= soon {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ledger.expire_due_lots().await.expect("the due lots expire");
        let expired = ledger
            .wallet_lots(
                &caller,
                payee,
                Some(wallet_core::model::LotStatus::Expired),
                wallet_core::model::PageRequest::ALL,
            )
            .await
            .expect("the lots read");
        assert_eq!(
            expired.items.len(),
            1,
            "the lot of {EXPIRING} expired: {expired:?}"
        );
    });
}

/// Width and height of a PNG file, from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "{} is not a PNG file",
        path.display()
    );
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

#[test]
fn admin_page_in_headless_chromium() {
    // Arrange: tools, a fresh server, its generated admin password.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's browser with `apt-get install chromium chromium-driver` (.ci/run does)"
    );
    let work = manifest_dir.join("target").join("admin-e2e");
    std::fs::create_dir_all(&work).unwrap_or_else(|e| panic!("creating {}: {e}", work.display()));
    for old in [
        "desktop.png",
        "phone.png",
        "dashboard.png",
        "dashboard-phone.png",
        "desktop-full.png",
        "phone-full.png",
        "failure.png",
    ] {
        let _ = std::fs::remove_file(work.join(old));
    }
    let python = sdk_python(manifest_dir);
    let playwright = playwright_core(manifest_dir, &work);

    let tmp = tempfile::tempdir().expect("creating a temporary directory");
    let db = tmp.path().join("wallet.db");
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir(&downloads).expect("creating the download folder");
    let mut server = Server::start(&db);
    let password_file = tmp.path().join("admin-password.txt");
    let password = std::fs::read_to_string(&password_file).unwrap_or_else(|e| {
        let logs = server.stop_and_collect_logs();
        panic!(
            "the server did not write {}: {e}\n{logs}",
            password_file.display()
        )
    });
    let password = password.trim();
    assert!(!password.is_empty(), "{} is empty", password_file.display());
    arrange_holds(&db);

    // Act: the browser session.
    let driver = manifest_dir.join("tests").join("admin_browser").join("drive.cjs");
    let admin_url = format!("http://127.0.0.1:{}/admin/", server.port);
    eprintln!("driving Chromium against {admin_url}");
    let (ok, timed_out, stdout, stderr) = ProcessGroup::spawn(
        Command::new("node")
            .arg(&driver)
            .env("ADMIN_URL", &admin_url)
            .env("ADMIN_PASSWORD", password)
            .env("HOLD_USER", HOLD_USER)
            .env("LOT_USER", LOT_USER)
            .env("EXPIRED_TODAY", EXPIRING.to_string())
            .env("PLAYWRIGHT_CORE", &playwright)
            .env("CHROMIUM", CHROMIUM)
            .env("SDK_PYTHON", &python)
            .env(
                "SDK_SCRIPT",
                manifest_dir
                    .join("tests")
                    .join("admin_browser")
                    .join("sdk_entry.py"),
            )
            .env("DOWNLOAD_DIR", &downloads)
            .env("SCREENSHOT_DIR", &work),
    )
    .wait(DRIVER_TIMEOUT);
    if !ok {
        let logs = server.stop_and_collect_logs();
        let failure = work.join("failure.png");
        let picture = if failure.exists() {
            format!(" (the page at that moment: {})", failure.display())
        } else {
            String::new()
        };
        let killed = if timed_out {
            " (killed after the timeout)"
        } else {
            ""
        };
        panic!(
            "the browser run failed{killed}{picture}:\n--- driver stdout ---\n{stdout}\n--- driver stderr ---\n{stderr}\n{logs}"
        );
    }

    print!("{stdout}");

    // Assert: the driver's own checks passed, the download is the config, the pictures exist.
    assert!(
        stdout.contains("admin browser checks passed"),
        "the driver exited 0 without its summary line:\n{stdout}\n{stderr}"
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&downloads)
        .expect("listing the download folder")
        .map(|entry| entry.expect("a download folder entry").path())
        .collect();
    assert_eq!(
        files.len(),
        1,
        "expected exactly one downloaded file, found {files:?}"
    );
    let text = std::fs::read_to_string(&files[0]).expect("reading the downloaded config");
    let config: serde_json::Value = serde_json::from_str(&text).expect("the downloaded config is JSON");
    let authority_id = config["authority_id"]
        .as_str()
        .expect("the config names its authority_id");
    assert_eq!(
        files[0].file_name().and_then(|n| n.to_str()),
        Some(format!("{authority_id}.json").as_str()),
        "the download is not named after the authority"
    );
    assert_eq!(config["config_schema_version"], "0.1.0", "config file: {text}");
    assert_eq!(
        config["api_base_url"],
        format!("http://127.0.0.1:{}", server.port),
        "config file: {text}"
    );
    for (name, width, height) in [
        ("desktop.png", 1280, 800),
        ("phone.png", 390, 844),
        ("dashboard.png", 1280, 800),
        ("dashboard-phone.png", 390, 844),
    ] {
        let size = png_size(&work.join(name));
        assert_eq!(size, (width, height), "{name} has the wrong size");
        println!("screenshot {} ({width}×{height})", work.join(name).display());
    }
}
