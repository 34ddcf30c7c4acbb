//! Step 7 on a database the binary before lots (steps 1 to 6) wrote: every
//! row stays as it was, the lot tables and their indexes come, and
//! `entries.kind` takes `Expire` — on the connection that migrated (the
//! writer) and on every other one — while still refusing what is not a
//! kind. A table not as steps 1 to 6 wrote it stops the step whole.

use super::{dump, schema_objects};
use crate::migrations::{migrate, schema_steps, STEPS};
use crate::{SqliteBackend, SqliteOptions};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::ids::WalletId;
use wallet_core::model::{AuthorityCredential, EntryKind, LotStatus, PageRequest, TimeRange};
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::{AuthorityCaller, Caller};
use wallet_core::text::{ProjectId, PublicId, ReferenceId, Text};
use wallet_core::{Ledger, Store, TransactionOutcome};

/// Rows as the binary before lots wrote them: alice's wallet with an Open
/// hold, a Capture into the fees wallet, and an item with its grant.
pub(super) const STEP_SIX_ROWS: &str = "
    INSERT INTO projects (id, name, default_asset, created_at) VALUES ('default', 'Default project', 1, 0);
    INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
        VALUES (1, 'default', 'PTS', 'Points', 1, 1, 0);
    INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest, created_at)
        VALUES (1, 'ak_old', 'default', 'old', NULL, x'00', 0);
    INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES (1, 'default', 'alice', 'Active', 0);
    INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, held, created_at) VALUES
        (3, 'default', 1, 1, 1, 'Open', 40, 5, 0),
        (8, 'default', 1, NULL, 0, 'Open', 10, 0, 0);
    INSERT INTO transactions (id, project_id, reference_id, authority_id, status, operations, created_at) VALUES
        (11, 'default', 'r-1', 1, 'Completed', '[]', 1),
        (12, 'default', 'r-2', 1, 'Completed', '[]', 2);
    INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at) VALUES
        (21, 3, 11, 1, 'Issue', 50, 50, NULL, 1),
        (22, 3, 12, 1, 'Capture', -10, 40, NULL, 2),
        (23, 8, 12, 1, 'Capture', 10, 10, NULL, 2);
    INSERT INTO holds (id, project_id, public_id, source_id, destination_id, asset_id, amount, captured, remaining,
                       status, expires_at, transaction_id, created_at, updated_at) VALUES
        (1, 'default', 'paid', 3, 8, 1, 10, 10, 0, 'Captured', NULL, 12, 2, 2),
        (2, 'default', 'open', 3, NULL, 1, 5, 0, 5, 'Open', NULL, 12, 2, 2);
    INSERT INTO items (id, project_id, public_id, item_type, properties, customer_id, status, created_at, updated_at)
        VALUES (1, 'default', 'sword', 'sword', '{\"n\":1}', 1, 'Active', 1, 1);
    INSERT INTO item_steps (id, item_id, transaction_id, kind, to_customer_id, properties, created_at)
        VALUES (1, 1, 11, 'GrantItem', 1, '{\"n\":1}', 1);
    INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES (3, 1, 40, 0), (8, 1, 10, 0);";

/// Every table the binary before lots had.
pub(super) const TABLES: &[&str] = &[
    "projects",
    "assets",
    "authorities",
    "customers",
    "customer_keys",
    "wallets",
    "transactions",
    "entries",
    "authority_totals",
    "holds",
    "items",
    "item_steps",
    "admin_sessions",
    "settings",
];

/// A database file at step 6, written by that step's statements.
fn step_six_database(path: &Path) {
    let conn = Connection::open(path).unwrap();
    for step in &STEPS[..6] {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA user_version = 6; BEGIN; {STEP_SIX_ROWS} COMMIT;"
    ))
    .unwrap();
}

fn every_row(conn: &Connection) -> Vec<Vec<Vec<rusqlite::types::Value>>> {
    TABLES
        .iter()
        .map(|table| dump(conn, &format!("SELECT * FROM {table} ORDER BY 1")))
        .collect()
}

pub(super) async fn caller(ledger: &Ledger) -> Caller {
    let authority = ledger
        .create_authority(
            ProjectId::default_project(),
            Text::parse("new", "name", 200).unwrap(),
            PublicId::parse("ak_new").unwrap(),
            AuthorityCredential::TokenDigest(vec![9; 32]),
        )
        .await
        .unwrap();
    Caller::Authority(AuthorityCaller {
        authority: authority.rowid,
        public_id: authority.public_id,
        project_id: authority.project_id,
        default_asset: authority.default_asset,
        expires_at: None,
    })
}

fn insert_entry(conn: &Connection, kind: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
         VALUES (3, 11, 1, ?1, -1, 39, 9)",
        [kind],
    )
}

#[tokio::test]
async fn a_step_six_database_keeps_every_row_through_step_seven_and_takes_expiries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    step_six_database(&path);
    let before = every_row(&Connection::open(&path).unwrap());

    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema_steps(), "step 7 applied");
    assert_eq!(every_row(&conn), before, "every row as it was");
    let objects = schema_objects(&conn);
    for expected in [
        "table lots",
        "table lot_steps",
        "table hold_lots",
        "index lots_by_wallet",
        "index lots_due",
        "index lot_steps_by_lot",
        "index entries_by_wallet_time",
        "index entries_by_transaction",
        "trigger entries_no_update",
        "trigger entries_no_delete",
        "trigger lots_no_delete",
        "trigger lot_steps_no_update",
        "trigger lot_steps_no_delete",
    ] {
        assert!(objects.iter().any(|o| o == expected), "{expected} in {objects:?}");
    }
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    assert!(dump(&conn, "PRAGMA foreign_key_check").is_empty());

    // Another connection sees the widened CHECK, which still refuses what
    // is not a kind; entries are still append-only.
    conn.execute_batch("BEGIN").unwrap();
    assert!(insert_entry(&conn, "Bogus").is_err(), "not a kind");
    insert_entry(&conn, "Expire").expect("an Expire entry is a kind now");
    conn.execute_batch("ROLLBACK").unwrap();
    assert!(conn
        .execute("UPDATE entries SET amount = 0 WHERE id = 21", [])
        .is_err());

    // The writer, which ran the step, takes an expiry.
    let clock = Arc::new(ManualClock::at(1_000));
    let ledger = Ledger::with_clock(Store::new(Arc::new(backend)), clock.clone());
    let caller = caller(&ledger).await;
    let wallet = WalletId::new(3);
    let issue = Operation::Issue {
        destination: wallet,
        amount: Quantity::new(7).unwrap(),
        expires_at: Some(2_000),
    };
    let request = TransactionRequest::new(ReferenceId::parse("r-lot").unwrap(), vec![issue], None).unwrap();
    let outcome = ledger.post_transaction(&caller, request).await.unwrap();
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{outcome:?}"
    );
    clock.set(2_000);
    assert_eq!(ledger.expire_due_lots().await.unwrap(), 1);
    let lots = ledger
        .wallet_lots(&caller, wallet, None, PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(lots.items[0].status, LotStatus::Expired);
    let entries = ledger
        .wallet_entries(&caller, wallet, TimeRange::ALL, PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        (entries.items[0].kind, entries.items[0].amount),
        (EntryKind::Expire, -7)
    );
    assert_eq!(ledger.wallet(&caller, wallet).await.unwrap().balance, 40);
    let report = ledger.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn an_entries_table_not_as_the_steps_wrote_it_stops_step_seven_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.db");
    step_six_database(&path);
    {
        // The same CHECK, spelled otherwise: the in-place edit cannot match.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_schema
             SET sql = replace(sql, '''Transfer'', ''Capture''', '''Transfer'',''Capture''')
             WHERE type = 'table' AND name = 'entries';
             PRAGMA writable_schema = OFF;",
        )
        .unwrap();
    }
    let mut conn = Connection::open(&path).unwrap();
    let refused = migrate(&mut conn).map_err(|e| wallet_core::StoreError::from(e).to_string());
    assert!(
        matches!(&refused, Err(m) if m.contains("could not widen the CHECK of entries.kind")),
        "{refused:?}"
    );
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 6, "rolled back");
    let conn = Connection::open(&path).unwrap();
    assert!(conn.prepare("SELECT id FROM lots").is_err(), "no lot tables");
    assert!(insert_entry(&conn, "Expire").is_err(), "the old CHECK stands");
}
