//! Step 8 on a database the binary before events (steps 1 to 7) wrote:
//! every row stays as it was, the event and webhook tables come, and the
//! first write after the upgrade starts the project's chain at seq 1 (no
//! event for what was there before), which verifies.

use super::step_seven::{caller, STEP_SIX_ROWS, TABLES};
use super::{dump, schema_objects};
use crate::migrations::{schema_steps, STEPS};
use crate::{SqliteBackend, SqliteOptions};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::events::{EventQuery, EventType};
use wallet_core::ids::WalletId;
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::text::ReferenceId;
use wallet_core::{Ledger, Store, TransactionOutcome};

/// A database file at step 7, with the rows of `step_seven`'s step 6.
fn step_seven_database(path: &Path) {
    let conn = Connection::open(path).unwrap();
    for step in &STEPS[..7] {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA user_version = 7; BEGIN; {STEP_SIX_ROWS} COMMIT;"
    ))
    .unwrap();
}

fn every_row(conn: &Connection) -> Vec<Vec<Vec<rusqlite::types::Value>>> {
    TABLES
        .iter()
        .chain(&["lots", "lot_steps", "hold_lots"])
        .map(|table| dump(conn, &format!("SELECT * FROM {table} ORDER BY 1")))
        .collect()
}

#[tokio::test]
async fn a_step_seven_database_keeps_every_row_through_step_eight_and_starts_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    step_seven_database(&path);
    let before = every_row(&Connection::open(&path).unwrap());

    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema_steps(), "step 8 applied");
    assert_eq!(version, 9, "and step 9 after it");
    assert_eq!(every_row(&conn), before, "every row as it was");
    let objects = schema_objects(&conn);
    for expected in [
        "table events",
        "table event_heads",
        "table webhooks",
        "table webhook_deliveries",
        "trigger events_no_update",
        "trigger events_no_delete",
        "index webhooks_due",
        "index webhook_deliveries_by_webhook",
        "index webhook_deliveries_by_status",
    ] {
        assert!(objects.iter().any(|o| o == expected), "{expected} in {objects:?}");
    }

    let ledger = Ledger::with_clock(Store::new(Arc::new(backend)), Arc::new(ManualClock::at(10)));
    let caller = caller(&ledger).await;
    let query = EventQuery {
        after: 0,
        limit: 10,
        types: Vec::new(),
    };
    assert!(ledger
        .events(&caller, query.clone())
        .await
        .unwrap()
        .events
        .is_empty());
    let issue = Operation::Issue {
        destination: WalletId::new(3),
        amount: Quantity::new(5).unwrap(),
        expires_at: None,
    };
    let request = TransactionRequest::new(ReferenceId::parse("after").unwrap(), vec![issue], None).unwrap();
    let outcome = ledger.post_transaction(&caller, request).await.unwrap();
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{outcome:?}"
    );
    let events = ledger.events(&caller, query).await.unwrap().events;
    let kinds: Vec<(i64, EventType)> = events.iter().map(|e| (e.seq, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (1, EventType::TransactionCompleted),
            (2, EventType::WalletBalanceChanged)
        ]
    );
    assert!(
        events[1].data.get().contains("\"balance\":45"),
        "{}",
        events[1].data.get()
    );
    let reports = ledger.verify(None, None).await.unwrap();
    assert!(reports.iter().all(|r| r.mismatch.is_none()), "{reports:?}");
    assert!(ledger.check().await.unwrap().is_ok());
}
