//! A user who outgrows SQLite moves a project to PostgreSQL with two
//! commands, and can move it back: SQLite → `export` → `import` into
//! PostgreSQL → `export` → `import` into SQLite, all through the real
//! command line. At every stop `check` is green, the export holds the same
//! records (ids kept), every wallet has the same balance, and the project
//! answers over HTTP exactly as it did on SQLite.

use crate::app::{TestApp, TestBackend, TestDatabase};
use crate::reliability_export::{cli, describe, fixture, path_str, view};
use std::collections::BTreeMap;
use std::path::Path;
use wallet_core::dump::DumpRecord;

/// The records of an export file, without its header (the time of export).
fn records(file: &Path) -> Vec<DumpRecord> {
    let text = std::fs::read_to_string(file).expect("export file");
    text.lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Every wallet's balance in an export, by id.
fn balances(records: &[DumpRecord]) -> BTreeMap<i64, i64> {
    records
        .iter()
        .filter_map(|record| match record {
            DumpRecord::Wallet(w) => Some((w.id, w.balance)),
            _ => None,
        })
        .collect()
}

/// `import` then `check` on `into`; both must succeed.
async fn import_and_check(into: &TestDatabase, file: &Path) {
    let imported = cli(into.arg(), &["import", "--file", path_str(file)]).await;
    assert!(
        imported.status.success(),
        "import into {:?}: {}",
        into.backend(),
        describe(&imported)
    );
    let checked = cli(into.arg(), &["check"]).await;
    assert!(
        checked.status.success() && String::from_utf8_lossy(&checked.stderr).contains("ok:"),
        "check on {:?}: {}",
        into.backend(),
        describe(&checked)
    );
}

async fn export(from: &TestApp, file: &Path) {
    let exported = cli(
        from.db_arg(),
        &["export", "--project", "game", "--out", path_str(file)],
    )
    .await;
    assert!(
        exported.status.success(),
        "export from {:?}: {}",
        from.backend(),
        describe(&exported)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_moves_from_sqlite_to_postgresql_and_back_unchanged() {
    let sqlite = TestApp::spawn(TestBackend::Sqlite).await;
    sqlite.create_project("game").await;
    let f = fixture(&sqlite, "game").await;
    let before = view(&sqlite, &f).await;
    let files = tempfile::tempdir().unwrap();
    let [from_sqlite, from_postgres, back] =
        ["from-sqlite.jsonl", "from-postgres.jsonl", "back.jsonl"].map(|name| files.path().join(name));
    export(&sqlite, &from_sqlite).await;
    let original = records(&from_sqlite);
    assert!(
        balances(&original).len() >= 4,
        "the fixture's wallets: {original:?}"
    );

    // Into PostgreSQL.
    let postgres = TestBackend::Postgres.fresh_database();
    import_and_check(&postgres, &from_sqlite).await;
    let postgres = TestApp::spawn_on(postgres, |_| {}).await;
    assert_eq!(
        view(&postgres, &f).await,
        before,
        "PostgreSQL answers as SQLite did"
    );
    export(&postgres, &from_postgres).await;
    let moved = records(&from_postgres);
    assert_eq!(balances(&moved), balances(&original), "every wallet's balance");
    assert_eq!(moved, original, "the same records, ids kept");

    // And back into SQLite.
    let sqlite_again = TestBackend::Sqlite.fresh_database();
    import_and_check(&sqlite_again, &from_postgres).await;
    let sqlite_again = TestApp::spawn_on(sqlite_again, |_| {}).await;
    assert_eq!(
        view(&sqlite_again, &f).await,
        before,
        "SQLite again answers the same"
    );
    export(&sqlite_again, &back).await;
    assert_eq!(balances(&records(&back)), balances(&original));
    assert_eq!(records(&back), original, "the same records after the round trip");

    // The moved project goes on: new rows get new ids on PostgreSQL (its
    // sequences were moved past the imported ids), and the ledger holds.
    let wallet = f.c.customer_wallet(&postgres, "newcomer").await;
    assert!(
        !balances(&original).contains_key(&wallet.parse::<i64>().expect("a numeric wallet id")),
        "a new wallet id ({wallet}) is not an imported one"
    );
    f.c.tx_ok(
        &postgres,
        vec![crate::app::v2::transfer(&f.wallets[0], &wallet, 1)],
    )
    .await;
    postgres.assert_invariants().await;
    for app in [postgres, sqlite_again, sqlite] {
        app.stop().await;
    }
}
