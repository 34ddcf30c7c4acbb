//! `backup` and `restore` of a SQLite file through the real command line,
//! against a database the (in-process) server is using. SQLite only: on
//! PostgreSQL both commands exit 2 and point at `pg_dump`/`pg_restore`
//! (`tests/api_postgres/cli.rs`).
//!
//! Promises: a backup is consistent while writes go on, private (0600) and
//! never overwrites; a restore is refused while the database is in use and
//! refuses a backup that fails the checks.

use crate::app::v2::{ctx, issue, next_ref, Ctx};
use crate::app::{spawn_app, spawn_app_at, TestApp};
use crate::reliability_export::{cli, describe, mode, path_str};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    let taken = cli(app.sqlite_path(), &["backup", "--out", path_str(&backup)]).await;
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
    let again = cli(app.sqlite_path(), &["backup", "--out", path_str(&backup)]).await;
    assert!(!again.status.success(), "a backup never overwrites a file");
    assert_eq!(std::fs::metadata(&backup).unwrap().len(), size);

    // Changes after the backup, then a restore while the server runs: refused.
    let balance_at_backup = balance_in(&backup, &w);
    let later = c.tx_ok(&app, vec![issue(&w, 1_000_000)]).await;
    let refused = cli(app.sqlite_path(), &["restore", "--from", path_str(&backup)]).await;
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
    let db = app.sqlite_path().to_owned();
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

#[tokio::test]
async fn a_backup_shows_its_pages_and_check_phases_on_a_terminal_only() {
    let app = spawn_app().await;
    crate::reliability_export::fixture(&app, "default").await;
    let dir = tempfile::tempdir().unwrap();
    let (piped_file, tty_file) = (dir.path().join("piped.db"), dir.path().join("tty.db"));

    let piped = cli(app.sqlite_path(), &["backup", "--out", path_str(&piped_file)]).await;
    assert!(piped.status.success(), "{}", describe(&piped));
    assert!(piped.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "no progress on a pipe: {stderr:?}");
    assert_eq!(
        lines[0],
        format!(
            "backup of {} written to {} ({} bytes)",
            app.sqlite_path().display(),
            piped_file.display(),
            std::fs::metadata(&piped_file).unwrap().len()
        )
    );
    assert!(lines[1].starts_with("check of the backup: ok: "), "{stderr:?}");

    let drawn =
        crate::progress::cli_on_terminal(app.sqlite_path(), &["backup", "--out", path_str(&tty_file)]).await;
    let lines = crate::progress::progress_lines(&drawn, "backup");
    let pages = std::fs::metadata(&tty_file).unwrap().len() / 4096;
    assert!(
        lines.iter().any(|l| l.starts_with("backup: copying pages …")),
        "{drawn}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("backup: copying pages: {pages} ("))),
        "the pages copied ({pages}): {drawn}"
    );
    assert!(
        lines.iter().any(|l| l.contains(" (1/")),
        "the check's phases: {drawn}"
    );
}
