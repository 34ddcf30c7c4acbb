//! `backup`, `restore`, `export` and `import` through the real command line,
//! against a database the (in-process) server is using.
//!
//! Promises: a backup is consistent while writes go on, private (0600) and
//! never overwrites; a restore is refused while the database is in use and
//! refuses a backup that fails the checks; an exported project imported into
//! a fresh database answers exactly as before (same ids, balances, entries,
//! credentials); an import that would break an invariant changes nothing.

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use wallet_testkit::app::v2::{ctx, issue, next_ref, redeem, transfer, Ctx};
use wallet_testkit::app::{json_of, spawn_app, spawn_app_at, TestApp, TestAuthority};

/// Runs `wallet-service --db DB ARGS…` off the async threads.
async fn cli(db: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wallet-service"));
    command
        .env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .arg("--db")
        .arg(db)
        .args(args);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A project with every kind of row: two assets, customers (one suspended),
/// customer and system wallets, completed and failed transactions, API v1
/// entries with items (one used), a customer key and a revoked access key.
struct Fixture {
    c: Ctx,
    authority: TestAuthority,
    customer_key: String,
    wallets: Vec<String>,
}

async fn fixture(app: &TestApp, project: &str) -> Fixture {
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
    let revoke = cli(&app.db, &["key", "revoke", revoked.rsplit_once('_').unwrap().0]).await;
    assert!(revoke.status.success(), "{}", describe(&revoke));
    Fixture {
        c,
        authority,
        customer_key,
        wallets: vec![alice, bob, alice_gold, fees],
    }
}

/// Everything the project answers over HTTP, to compare two servers.
async fn view(app: &TestApp, f: &Fixture) -> Value {
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

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("game.jsonl");
    let exported = cli(
        &app.db,
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
        &app.db,
        &["export", "--project", "game", "--out", path_str(&file)],
    )
    .await;
    assert!(!again.status.success(), "an export never overwrites a file");

    let fresh = dir.path().join("fresh").join("wallet.db");
    let imported = cli(&fresh, &["import", "--file", path_str(&file)]).await;
    assert!(imported.status.success(), "import: {}", describe(&imported));
    let moved = spawn_app_at(&fresh).await;
    let after = view(&moved, &f).await;
    assert_eq!(
        after, before,
        "the imported project answers exactly as the original"
    );
    moved.assert_invariants().await;
    let check = cli(&fresh, &["check"]).await;
    assert!(check.status.success(), "{}", describe(&check));

    // The same project again, into a database that holds it: refused, unchanged.
    let twice = cli(&fresh, &["import", "--file", path_str(&file)]).await;
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
        &app.db,
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
    for (case, tampered, expected) in &cases {
        let path = dir.path().join("tampered.jsonl");
        std::fs::write(&path, tampered).unwrap();
        let fresh = dir.path().join("fresh.db");
        let imported = cli(&fresh, &["import", "--file", path_str(&path)]).await;
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
        assert!(
            !fresh.exists(),
            "{case}: no database is left behind where there was none"
        );
    }
    // Into a database that exists, a refused import leaves it as it was.
    let existing = dir.path().join("existing.db");
    // Created as the server's first start does (`project list` refuses a missing file).
    drop(wallet_service::startup::open_sqlite(&existing).unwrap());
    let path = dir.path().join("tampered.jsonl");
    std::fs::write(&path, &cases[0].1).unwrap();
    let refused = cli(&existing, &["import", "--file", path_str(&path)]).await;
    assert!(!refused.status.success());
    let listed = cli(&existing, &["project", "list"]).await;
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains("game"),
        "nothing of the refused import stayed"
    );
    println!("import: {} tampered files refused", cases.len() + 1);
    drop(f);
    app.stop().await;
}

async fn post_load(app: Arc<TestApp>, key: String, wallet: String, n: usize) -> usize {
    let c = Ctx {
        key,
        asset: String::new(),
    };
    let mut ok = 0;
    for _ in 0..n {
        let (status, _) = c.tx(&app, &next_ref("load"), vec![issue(&wallet, 1)]).await;
        ok += usize::from(status == 201);
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_consistent_under_load_and_a_restore_waits_for_the_server() {
    let app = Arc::new(spawn_app().await);
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 100).await;
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("backup.db");

    // A backup taken while four clients write.
    let load: Vec<_> = (0..4)
        .map(|_| tokio::spawn(post_load(app.clone(), c.key.clone(), w.clone(), 60)))
        .collect();
    let taken = cli(&app.db, &["backup", "--out", path_str(&backup)]).await;
    for task in load {
        assert!(task.await.unwrap() > 0);
    }
    assert!(
        taken.status.success(),
        "backup while serving: {}",
        describe(&taken)
    );
    assert_eq!(mode(&backup), 0o600, "the backup is private");
    let report = wallet_sqlite::verify(&backup).unwrap();
    assert!(
        report.is_ok(),
        "the backup is one consistent snapshot: {report:#?}"
    );
    let size = std::fs::metadata(&backup).unwrap().len();
    let again = cli(&app.db, &["backup", "--out", path_str(&backup)]).await;
    assert!(!again.status.success(), "a backup never overwrites a file");
    assert_eq!(std::fs::metadata(&backup).unwrap().len(), size);

    // Changes after the backup, then a restore while the server runs: refused.
    let balance_at_backup = balance_in(&backup, &w);
    let later = c.tx_ok(&app, vec![issue(&w, 1_000_000)]).await;
    let refused = cli(&app.db, &["restore", "--from", path_str(&backup)]).await;
    assert!(!refused.status.success(), "restore while serving must be refused");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("in use"),
        "{}",
        describe(&refused)
    );
    let later_id = later["id"].as_str().unwrap().to_owned();
    assert_eq!(
        c.get(&app, &format!("/transactions/{later_id}")).await.0,
        200,
        "nothing was restored"
    );

    // A damaged or doctored backup is refused even with the server stopped.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 4096].fill(0xA5);
    std::fs::write(&damaged, bytes).unwrap();
    let doctored = dir.path().join("doctored.db");
    std::fs::copy(&backup, &doctored).unwrap();
    {
        let conn = rusqlite::Connection::open(&doctored).unwrap();
        conn.execute("UPDATE wallets SET balance = balance + 1 WHERE id = ?1", [&w])
            .unwrap();
    }
    let db = app.db.clone();
    let dir_guard = Arc::into_inner(app)
        .expect("no other user of the app")
        .stop()
        .await;
    for (case, bad) in [("damaged", &damaged), ("doctored", &doctored)] {
        let refused = cli(&db, &["restore", "--from", path_str(bad)]).await;
        assert!(
            !refused.status.success(),
            "a {case} backup must be refused: {}",
            describe(&refused)
        );
    }

    let restored = cli(&db, &["restore", "--from", path_str(&backup)]).await;
    assert!(
        restored.status.success(),
        "restore with the server stopped: {}",
        describe(&restored)
    );
    let saved: Vec<PathBuf> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".pre-restore-"))
        .collect();
    assert_eq!(saved.len(), 1, "the replaced database is kept: {saved:?}");
    assert_eq!(mode(&saved[0]), 0o600);
    let app = spawn_app_at(&db).await;
    let c = Ctx {
        key: c.key,
        asset: c.asset,
    };
    assert_eq!(
        c.balance(&app, &w).await,
        balance_at_backup,
        "the balance as it was in the backup"
    );
    assert_eq!(
        c.get(&app, &format!("/transactions/{later_id}")).await.0,
        404,
        "later changes are gone"
    );
    app.assert_invariants().await;
    app.stop().await;
    drop(dir_guard);
}

/// A wallet's balance read straight from a backup file.
fn balance_in(db: &Path, wallet: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("SELECT balance FROM wallets WHERE id = ?1", [wallet], |r| {
        r.get(0)
    })
    .unwrap()
}
