//! Step 9 on a database the binary before checkpoints (steps 1 to 8)
//! wrote: every row stays as it was, the checkpoint tables come empty, the
//! first `check` is a full one and records a checkpoint, the next starts
//! from it.

use super::step_seven::{caller, STEP_SIX_ROWS, TABLES};
use super::{dump, schema_objects};
use crate::migrations::{schema_steps, STEPS};
use crate::{SqliteBackend, SqliteOptions};
use rusqlite::Connection;
use std::sync::Arc;
use wallet_core::check::CheckMode;
use wallet_core::clock::ManualClock;
use wallet_core::{Ledger, Store};

#[tokio::test]
async fn a_step_eight_database_keeps_every_row_through_step_nine_and_checks_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let conn = Connection::open(&path).unwrap();
    for step in &STEPS[..8] {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA user_version = 8; BEGIN; {STEP_SIX_ROWS} COMMIT;"
    ))
    .unwrap();
    let every_row = |conn: &Connection| -> Vec<_> {
        TABLES
            .iter()
            .map(|table| dump(conn, &format!("SELECT * FROM {table} ORDER BY 1")))
            .collect()
    };
    let before = every_row(&conn);
    drop(conn);

    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema_steps(), "step 9 applied");
    assert_eq!(version, 9);
    assert_eq!(every_row(&conn), before, "every row as it was");
    let objects = schema_objects(&conn);
    for expected in [
        "table check_checkpoint",
        "table check_checkpoint_assets",
        "table check_checkpoint_heads",
    ] {
        assert!(objects.iter().any(|o| o == expected), "{expected} in {objects:?}");
    }
    let none: i64 = conn
        .query_row("SELECT count(*) FROM check_checkpoint", [], |r| r.get(0))
        .unwrap();
    assert_eq!(none, 0, "no checkpoint until a check records one");

    let ledger = Ledger::with_clock(Store::new(Arc::new(backend)), Arc::new(ManualClock::at(10)));
    let _ = caller(&ledger).await;
    let (first, recorded) = ledger
        .check_from_checkpoint(false, wallet_core::progress::quiet())
        .await
        .unwrap();
    assert!(first.is_ok(), "{first:#?}");
    assert_eq!(first.mode, CheckMode::Full);
    assert!(recorded);
    let (second, _) = ledger
        .check_from_checkpoint(false, wallet_core::progress::quiet())
        .await
        .unwrap();
    assert!(second.is_ok(), "{second:#?}");
    assert_eq!(second.mode, CheckMode::Incremental);
}
