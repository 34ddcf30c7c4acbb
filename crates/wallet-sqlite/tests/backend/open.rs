//! `create = false`: a command that must find a database refuses a path
//! without one, and leaves the disk exactly as it was.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use wallet_core::StoreError;
use wallet_sqlite::{OpenError, SqliteBackend, SqliteOptions};

fn existing_only(path: &Path) -> SqliteOptions {
    let mut options = SqliteOptions::new(path);
    options.create = false;
    options
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("lists") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            let bytes = if path.is_file() {
                std::fs::read(&path).expect("reads")
            } else {
                Vec::new()
            };
            files.insert(path.display().to_string(), bytes);
        }
    }
    files
}

/// Another program's SQLite database: a table, no wallet-service schema.
fn foreign_database(path: &Path) {
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');"))
        .expect("writes");
}

#[test]
fn a_path_without_a_wallet_database_is_refused_and_left_as_it_was() {
    type Arrange = fn(&Path);
    let cases: [(&str, &str, Arrange, &str); 5] = [
        ("wallet.db", "no file", |_| {}, "no database at "),
        ("sub/dir/wallet.db", "no folder either", |_| {}, "no database at "),
        (
            "empty.db",
            "an empty file",
            |p| std::fs::write(p, b"").expect("writes"),
            "is not a wallet-service database",
        ),
        (
            "notes.txt",
            "not a database at all",
            |p| std::fs::write(p, b"just some text, long enough to be read as a header").expect("writes"),
            "is not a wallet-service database",
        ),
        (
            "other.db",
            "another program's database",
            foreign_database,
            "is not a wallet-service database",
        ),
    ];
    for (name, what, arrange, message) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        arrange(&path);
        let before = snapshot(dir.path());

        let refused = SqliteBackend::open(&existing_only(&path));

        let Err(OpenError::Missing(text)) = &refused else {
            panic!("{what}: {:?}", refused.map(|_| "opened"));
        };
        assert!(text.contains(message), "{what}: {text}");
        assert!(
            text.contains(&path.display().to_string()),
            "{what}: says where: {text}"
        );
        assert_eq!(snapshot(dir.path()), before, "{what}: nothing created or changed");
    }
}

#[test]
fn a_missing_database_prints_mains_message_and_converts_to_unavailable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wallet.db");
    let refused = SqliteBackend::open(&existing_only(&path))
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        format!(
            "no database at {}; `wallet-service serve` creates one on its first start \
             (check --db, WALLET_DB or `db` in the config file)",
            path.display()
        )
    );
    assert!(StoreError::from(refused).is_unavailable());
}

#[tokio::test]
async fn an_existing_database_opens_without_create_and_is_brought_up_to_date() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (fresh, old) = (dir.path().join("fresh.db"), dir.path().join("old.db"));
    drop(SqliteBackend::open(&SqliteOptions::new(&fresh)).expect("the first start creates it"));
    SqliteBackend::open(&existing_only(&fresh)).expect("opens what exists");

    common::step_one_database(&old);
    SqliteBackend::open(&existing_only(&old)).expect("a step-1 database is one of ours");
    assert_eq!(
        common::default_marks(&old),
        vec![(1, true), (2, false), (3, true), (4, true)],
        "and is migrated as on any open"
    );
}
