//! `export` and `import` through the real command line, against a database
//! the (in-process) server is using, on either backend.
//!
//! Promises: an exported project imported into a fresh database answers
//! exactly as before (same ids, balances, entries, credentials); the export
//! is private and never overwrites; an import that would break an invariant
//! is refused and changes nothing. (From one backend into the other:
//! `tests/api_postgres/migrate.rs`; backup and restore of a SQLite file:
//! `reliability_backup`.)

use crate::app::v2::{ctx, next_ref, redeem, transfer, Ctx};
use crate::app::{fresh_database, json_of, spawn_app, TestApp, TestAuthority};
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use wallet_service::config::{Database, Settings};

/// Runs `wallet-service --db DB ARGS…` off the async threads (`db`: a
/// SQLite path or a PostgreSQL URL, e.g. `TestApp::db_arg`).
pub async fn cli(db: impl AsRef<OsStr>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wallet-service"));
    command
        .env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .arg("--db")
        .arg(db.as_ref())
        .args(args);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap()
}

pub fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A project with every kind of row: two assets, customers (one suspended),
/// customer and system wallets, completed and failed transactions, API v1
/// entries with items (one used), a customer key and a revoked access key.
pub struct Fixture {
    pub c: Ctx,
    pub authority: TestAuthority,
    pub customer_key: String,
    pub wallets: Vec<String>,
}

pub async fn fixture(app: &TestApp, project: &str) -> Fixture {
    let c = ctx(app, project).await;
    let authority = app.create_authority(project).await;
    let gold = c.asset(app, "GOLD", 100).await;
    let alice = c.customer_wallet(app, "alice").await;
    let bob = c.customer_wallet(app, "bob").await;
    let alice_gold = c.wallet(app, "alice", &gold).await;
    let fees = c.system_wallet(app, &c.asset).await;
    c.fund(app, &alice, 1_000).await;
    c.fund(app, &alice_gold, 5_000).await;
    c.tx_ok(
        app,
        vec![
            transfer(&alice, &bob, 300),
            transfer(&bob, &fees, 30),
            redeem(&alice, 50),
        ],
    )
    .await;
    let failed = c.tx(app, &next_ref("fail"), vec![redeem(&bob, 1_000_000)]).await;
    assert_eq!(failed.0, 409, "{}", failed.1);
    let hat = app
        .post_entry(
            &authority.token,
            &json!({ "user_id": "carol", "amount": 7, "reason": "quest", "item": { "name": "Hat", "data": { "color": "red" } } }),
        )
        .await;
    let (status, hat) = json_of(hat).await;
    assert_eq!(status, 200, "{hat}");
    let hat_id = hat["entry"]["entry_id"].as_str().unwrap().to_owned();
    app.entry(&authority.token, "carol", -2).await;
    let used = app
        .client
        .post(app.url(&format!("/api/v1/entry/{hat_id}/inventory/use")))
        .header("Authorization", &authority.token)
        .send()
        .await
        .unwrap();
    assert_eq!(used.status().as_u16(), 200);
    c.customer(app, "dave").await;
    c.call(app, "POST", "/customers/dave/suspend", json!({}), 200)
        .await;
    let key = c.call(app, "POST", "/customers/alice/keys", json!({}), 201).await;
    let customer_key = key["token"].as_str().unwrap().to_owned();
    let revoked = app.access_key(project).await;
    let revoke = cli(
        app.db_arg(),
        &["key", "revoke", revoked.rsplit_once('_').unwrap().0],
    )
    .await;
    assert!(revoke.status.success(), "{}", describe(&revoke));
    Fixture {
        c,
        authority,
        customer_key,
        wallets: vec![alice, bob, alice_gold, fees],
    }
}

/// Everything the project answers over HTTP, to compare two servers.
pub async fn view(app: &TestApp, f: &Fixture) -> Value {
    let mut all = serde_json::Map::new();
    let mut get = |name: String, value: Value| {
        all.insert(name, value);
    };
    for path in [
        "/project",
        "/assets?pageSize=1000",
        "/customers?pageSize=1000",
        "/system-wallets?pageSize=1000",
        "/transactions?pageSize=1000",
        "/customers/alice/keys",
    ] {
        get(path.to_owned(), f.c.get_ok(app, path).await);
    }
    for w in &f.wallets {
        get(w.clone(), f.c.get_ok(app, &format!("/wallets/{w}")).await);
        get(
            format!("{w}/entries"),
            f.c.get_ok(app, &format!("/wallets/{w}/entries?pageSize=1000"))
                .await,
        );
    }
    for path in [
        "/api/v1/wallet?user_ids=carol,alice,bob",
        "/api/v1/entry/inventory",
    ] {
        let (status, body) = json_of(app.get(&f.authority.token, path).await).await;
        assert_eq!(status, 200, "{path}: {body}");
        get(path.to_owned(), body);
    }
    let (status, own) = app.v2("GET", "/wallets", Some(&f.customer_key), None).await;
    assert_eq!(status, 200, "the customer key works: {own}");
    get("customer key /wallets".to_owned(), own);
    Value::Object(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_project_imports_into_a_fresh_database_unchanged() {
    let app = spawn_app().await;
    app.create_project("game").await;
    let f = fixture(&app, "game").await;
    let noise = ctx(&app, "default").await;
    let other = noise.customer_wallet(&app, "not-exported").await;
    noise.fund(&app, &other, 9).await;
    let before = view(&app, &f).await;

    let fresh = fresh_database();
    let file = fresh.dir().join("game.jsonl");
    let exported = cli(
        app.db_arg(),
        &["export", "--project", "game", "--out", path_str(&file)],
    )
    .await;
    assert!(
        exported.status.success(),
        "export while serving: {}",
        describe(&exported)
    );
    assert_eq!(mode(&file), 0o600, "the export is private");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("PRIVATE KEY"), "no private key is exported");
    for token in [&f.c.key, &f.customer_key] {
        let secret = token.rsplit_once('_').unwrap().1;
        assert!(!text.contains(secret), "no token is exported");
    }
    assert!(!text.contains("not-exported"), "only the project's rows");
    let again = cli(
        app.db_arg(),
        &["export", "--project", "game", "--out", path_str(&file)],
    )
    .await;
    assert!(!again.status.success(), "an export never overwrites a file");

    let imported = cli(fresh.arg(), &["import", "--file", path_str(&file)]).await;
    assert!(imported.status.success(), "import: {}", describe(&imported));
    let moved = TestApp::spawn_on(fresh, |_| {}).await;
    let after = view(&moved, &f).await;
    assert_eq!(
        after, before,
        "the imported project answers exactly as the original"
    );
    moved.assert_invariants().await;
    let check = cli(moved.db_arg(), &["check"]).await;
    assert!(check.status.success(), "{}", describe(&check));
    // The first check is a full one and records a checkpoint; the next
    // starts from it; --full checks everything again. On a pipe, no
    // progress lines.
    let mode = |out: &Output| -> String {
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        report["mode"].as_str().expect("a mode").to_owned()
    };
    assert_eq!(mode(&check), "full", "{}", describe(&check));
    assert!(
        !String::from_utf8_lossy(&check.stderr).contains("check: "),
        "{}",
        describe(&check)
    );
    let incremental = cli(moved.db_arg(), &["check"]).await;
    assert!(incremental.status.success(), "{}", describe(&incremental));
    assert_eq!(mode(&incremental), "incremental", "{}", describe(&incremental));
    let full = cli(moved.db_arg(), &["check", "--full"]).await;
    assert!(full.status.success(), "{}", describe(&full));
    assert_eq!(mode(&full), "full", "{}", describe(&full));

    // The same project again, into a database that holds it: refused, unchanged.
    let twice = cli(moved.db_arg(), &["import", "--file", path_str(&file)]).await;
    assert!(!twice.status.success(), "a second import is refused");
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already exists"),
        "{}",
        describe(&twice)
    );
    assert_eq!(view(&moved, &f).await, before);
    moved.stop().await;
    app.stop().await;
}

/// Edits one line of an export; `None` drops it.
fn tamper(text: &str, pick: impl Fn(&Value) -> bool, edit: impl Fn(&mut Value) -> Option<()>) -> String {
    let mut done = false;
    let mut out = String::new();
    for line in text.lines() {
        let mut value: Value = serde_json::from_str(line).unwrap();
        if !done && pick(&value) {
            done = true;
            if edit(&mut value).is_none() {
                continue;
            }
        }
        out += &value.to_string();
        out.push('\n');
    }
    assert!(done, "the line to tamper with exists");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_export_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_project("game").await;
    let f = fixture(&app, "game").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("game.jsonl");
    let exported = cli(
        app.db_arg(),
        &["export", "--project", "game", "--out", path_str(&file)],
    )
    .await;
    assert!(exported.status.success(), "{}", describe(&exported));
    let text = std::fs::read_to_string(&file).unwrap();
    let is = |kind: &'static str| move |v: &Value| v["type"] == kind;
    let wallet_with_funds = |v: &Value| v["type"] == "wallet" && v["balance"].as_i64() > Some(0);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "a balance that does not match its entries",
            tamper(&text, wallet_with_funds, |v| {
                v["balance"] = json!(v["balance"].as_i64()? + 1);
                Some(())
            }),
            "balance",
        ),
        (
            "an entry left out",
            tamper(&text, is("entry"), |_| None),
            "balance",
        ),
        (
            "an issue turned negative",
            tamper(
                &text,
                |v| v["type"] == "entry" && v["kind"] == "Issue",
                |v| {
                    v["amount"] = json!(-v["amount"].as_i64()?);
                    Some(())
                },
            ),
            "Issue",
        ),
        (
            "an entry in a wallet outside the file",
            tamper(&text, is("entry"), |v| {
                v["wallet"] = json!(999_999);
                Some(())
            }),
            "not an earlier row",
        ),
        (
            "a transfer that does not cancel out",
            tamper(
                &text,
                |v| v["type"] == "entry" && v["kind"] == "Transfer",
                |v| {
                    v["amount"] = json!(v["amount"].as_i64()? * 2);
                    Some(())
                },
            ),
            "transaction",
        ),
        (
            "an unknown field",
            tamper(&text, is("customer"), |v| {
                v["vip"] = json!(true);
                Some(())
            }),
            "line",
        ),
        (
            "a broken line",
            text.replacen("{\"type\":\"asset\"", "{\"type\":\"asset\",", 1),
            "line",
        ),
        (
            "not an export",
            text.replacen("wallet-service-export", "something-else", 1),
            "line 1",
        ),
        (
            "a file cut before its project",
            text.lines().next().unwrap().to_owned() + "\n",
            "project",
        ),
    ];
    // A database that does not exist yet: a SQLite file not there, a
    // PostgreSQL database without the schema.
    let fresh = fresh_database();
    for (case, tampered, expected) in &cases {
        let path = dir.path().join("tampered.jsonl");
        std::fs::write(&path, tampered).unwrap();
        let imported = cli(fresh.arg(), &["import", "--file", path_str(&path)]).await;
        let stderr = String::from_utf8_lossy(&imported.stderr).into_owned();
        assert!(
            !imported.status.success(),
            "{case}: must be refused: {}",
            describe(&imported)
        );
        assert!(
            stderr.contains(expected),
            "{case}: the message names the problem ({expected}): {stderr}"
        );
        // No database is left behind where there was none: a maintenance
        // command still finds nothing to open.
        if let Database::Sqlite(file) = fresh.db() {
            assert!(!file.exists(), "{case}: no file is left behind");
        }
        let listed = cli(fresh.arg(), &["project", "list"]).await;
        assert!(
            !listed.status.success() && String::from_utf8_lossy(&listed.stderr).contains("creates"),
            "{case}: no database is left behind where there was none: {}",
            describe(&listed)
        );
    }
    // Into a database that exists, a refused import leaves it as it was.
    let existing = fresh_database();
    // Created as the server's first start does (`project list` refuses a missing database).
    let settings = Settings {
        db: existing.db().clone(),
        ..Settings::default()
    };
    drop(wallet_service::startup::open_store(&settings).unwrap());
    let path = dir.path().join("tampered.jsonl");
    std::fs::write(&path, &cases[0].1).unwrap();
    let refused = cli(existing.arg(), &["import", "--file", path_str(&path)]).await;
    assert!(!refused.status.success());
    let listed = cli(existing.arg(), &["project", "list"]).await;
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("game"),
        "nothing of the refused import stayed"
    );
    println!("import: {} tampered files refused", cases.len() + 1);
    drop(f);
    app.stop().await;
}
