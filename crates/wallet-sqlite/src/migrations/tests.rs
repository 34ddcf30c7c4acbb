//! Step 5 on a database the binary before it (steps 1 to 4) wrote: every
//! row survives with its id, the indexes and triggers are back, foreign keys
//! are checked, and holds and credit work on the old wallets. Step 6
//! (items) on a step-5 database: `step_six`; step 7 (lots) on a step-6
//! one: `step_seven`; step 8 (events) on a step-7 one: `step_eight`.
#![allow(clippy::unwrap_used)]

use super::{migrate, schema_steps, STEPS};
use crate::{SqliteBackend, SqliteOptions};
use rusqlite::types::Value;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::model::{AuthorityCredential, HoldStatus};
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::{AuthorityCaller, Caller};
use wallet_core::text::{HoldId, ProjectId, PublicId, ReferenceId, Text};
use wallet_core::{Ledger, Store, TransactionOutcome};

mod step_eight;
mod step_nine;
mod step_seven;
mod step_six;

/// Rows as the binary before holds wrote them: two authorities (one
/// revoked), a customer with a key, her wallet, a Closed one and a system
/// wallet, an Issue and a Transfer pair with their running totals (one past
/// i64), an item, an admin session and a setting.
const STEP_FOUR_ROWS: &str = "
    INSERT INTO projects (id, name, default_asset, created_at) VALUES ('default', 'Default project', 1, 0);
    INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
        VALUES (1, 'default', 'PTS', 'Points', 1, 1, 0);
    INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest, created_at, revoked_at)
        VALUES (1, 'ak_old', 'default', 'old', NULL, x'00', 0, NULL),
               (2, 'au_pem', 'default', 'sdk', '-----BEGIN PUBLIC KEY-----', NULL, 0, 7);
    INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES (1, 'default', 'alice', 'Active', 0);
    INSERT INTO customer_keys (id, public_id, customer_id, token_digest, created_at) VALUES (1, 'ck_1', 1, x'01', 0);
    INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, name, status, balance, created_at) VALUES
        (3, 'default', 1, 1, 1, 'main', 'Open', 30, 0),
        (5, 'default', 1, 1, 0, NULL, 'Closed', 0, 0),
        (8, 'default', 1, NULL, 0, 'fees', 'Open', 10, 0);
    INSERT INTO transactions (id, project_id, reference_id, authority_id, status, operations, created_at) VALUES
        (11, 'default', 'r-1', 1, 'Completed', '[]', 1),
        (12, 'default', 'r-2', 1, 'Completed', '[]', 2),
        (13, 'default', 'r-3', 1, 'Failed', '[]', 3);
    INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at) VALUES
        (21, 3, 11, 1, 'Issue', 40, 40, 'hello', 1),
        (22, 3, 12, 1, 'Transfer', -10, 30, NULL, 2),
        (23, 8, 12, 1, 'Transfer', 10, 10, NULL, 2);
    INSERT INTO items (entry_id, name, data, used) VALUES (21, 'Hat', '{\"level\":1}', 1);
    INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES (3, 1, 30, 0), (8, 1, 10, 0);
    INSERT INTO admin_sessions (token_digest, password_stamp, created_at, expires_at) VALUES (x'aa', x'bb', 0, 99);
    INSERT INTO settings (key, value) VALUES ('maintenance', 'off');";

/// A database file at step 4, written by that step's statements.
fn step_four_database(path: &Path, rows: &str) {
    let conn = Connection::open(path).unwrap();
    for step in &STEPS[..4] {
        conn.execute_batch(step).unwrap();
    }
    // Foreign keys off, so a test can write a broken file on purpose.
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA user_version = 4; BEGIN; {rows} COMMIT;"
    ))
    .unwrap();
}

fn dump(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let width = stmt.column_count();
    let rows = stmt
        .query_map([], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Every table's rows in the columns step 4 had, in id order (but the
/// items, which step 6 moves to a table of their own: see `step_six`).
const OLD_COLUMNS: &[&str] = &[
    "SELECT id, public_id, project_id, name, public_key_pem, token_digest, created_at, revoked_at
     FROM authorities ORDER BY id",
    "SELECT id, project_id, asset_id, customer_id, is_default, name, description, status, balance, created_at
     FROM wallets ORDER BY id",
    "SELECT id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at
     FROM entries ORDER BY id",
    "SELECT * FROM authority_totals ORDER BY wallet_id",
    "SELECT * FROM transactions ORDER BY id",
    "SELECT * FROM customer_keys ORDER BY id",
    "SELECT * FROM admin_sessions",
    "SELECT * FROM settings ORDER BY key",
];

fn schema_objects(conn: &Connection) -> Vec<String> {
    dump(
        conn,
        "SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY 1",
    )
    .into_iter()
    .map(|row| match &row[0] {
        Value::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    })
    .collect()
}

#[tokio::test]
async fn a_step_four_database_keeps_every_row_and_id_through_step_five() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    step_four_database(&path, STEP_FOUR_ROWS);
    let before: Vec<_> = {
        let conn = Connection::open(&path).unwrap();
        OLD_COLUMNS.iter().map(|sql| dump(&conn, sql)).collect()
    };

    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema_steps(), "steps 5 and on applied");
    for (sql, rows) in OLD_COLUMNS.iter().zip(&before) {
        assert_eq!(&dump(&conn, sql), rows, "{sql}");
    }
    assert_eq!(
        dump(&conn, "SELECT held, credit_limit FROM wallets ORDER BY id"),
        vec![vec![Value::Integer(0), Value::Integer(0)]; 3],
        "nothing held, no credit"
    );
    assert_eq!(
        dump(&conn, "SELECT DISTINCT system FROM authorities"),
        vec![vec![Value::Integer(0)]]
    );
    let objects = schema_objects(&conn);
    for expected in [
        "index authorities_system",
        "index entries_by_transaction",
        "index entries_by_wallet_time",
        "index holds_by_source",
        "index holds_by_transaction",
        "index holds_due",
        "index wallets_by_customer",
        "index wallets_default_per_asset",
        "index wallets_system",
        "table holds",
        "trigger entries_no_delete",
        "trigger entries_no_update",
    ] {
        assert!(objects.iter().any(|o| o == expected), "{expected} in {objects:?}");
    }
    assert!(
        !objects.iter().any(|o| o.contains("_new")),
        "no table left half-renamed: {objects:?}"
    );
    assert!(
        conn.execute("UPDATE entries SET amount = 0 WHERE id = 21", [])
            .is_err(),
        "entries are still append-only"
    );
    assert!(conn.execute("DELETE FROM entries WHERE id = 21", []).is_err());
    assert!(
        dump(&conn, "PRAGMA foreign_key_check").is_empty(),
        "every reference still reaches its row"
    );

    // The upgraded wallets work: credit, a hold captured, one expired.
    let clock = Arc::new(ManualClock::at(1_000));
    let ledger = Ledger::with_clock(Store::new(Arc::new(backend)), clock.clone());
    let report = ledger.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    let authority = ledger
        .create_authority(
            ProjectId::default_project(),
            Text::parse("new", "name", 200).unwrap(),
            PublicId::parse("ak_new").unwrap(),
            AuthorityCredential::TokenDigest(vec![9; 32]),
        )
        .await
        .unwrap();
    let caller = Caller::Authority(AuthorityCaller {
        authority: authority.rowid,
        public_id: authority.public_id,
        project_id: authority.project_id,
        default_asset: authority.default_asset,
        expires_at: None,
    });
    let (main, fees) = (
        wallet_core::ids::WalletId::new(3),
        wallet_core::ids::WalletId::new(8),
    );
    ledger.set_credit_limit(&caller, main, 5).await.unwrap();
    let q = |n| Quantity::new(n).unwrap();
    let operations = vec![
        Operation::Hold {
            source: main,
            amount: q(20),
            destination: Some(fees),
            expires_at: None,
            hold_id: HoldId::parse("escrow").unwrap(),
        },
        Operation::Capture {
            hold: HoldId::parse("escrow").unwrap(),
            amount: Some(q(20)),
            destination: None,
        },
        Operation::Hold {
            source: main,
            amount: q(2),
            destination: None,
            expires_at: Some(2_000),
            hold_id: HoldId::parse("brief").unwrap(),
        },
        // All that is available: 30 - 20 captured - 2 held + 5 of credit.
        Operation::Redeem {
            source: main,
            amount: q(13),
        },
    ];
    let request = TransactionRequest::new(ReferenceId::parse("r-new").unwrap(), operations, None).unwrap();
    let outcome = ledger.post_transaction(&caller, request).await.unwrap();
    let TransactionOutcome::Completed(_, touched) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        touched
            .holds
            .iter()
            .map(|h| (h.id.as_str(), h.status))
            .collect::<Vec<_>>(),
        [("brief", HoldStatus::Open), ("escrow", HoldStatus::Captured)]
    );
    let wallet = ledger.wallet(&caller, main).await.unwrap();
    assert_eq!(
        (wallet.balance, wallet.held, wallet.available()),
        (-3, 2, 0),
        "below zero, on credit"
    );
    clock.set(2_000);
    assert_eq!(ledger.expire_due_holds().await.unwrap(), 1);
    let wallet = ledger.wallet(&caller, main).await.unwrap();
    assert_eq!((wallet.balance, wallet.held, wallet.available()), (-3, 0, 2));
    let report = ledger.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn foreign_keys_are_back_on_after_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    step_four_database(&path, STEP_FOUR_ROWS);
    let mut conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    migrate(&mut conn).unwrap();
    let on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
    assert!(on, "the connection is left as it was given");
    assert!(
        conn.execute(
            "INSERT INTO holds (project_id, public_id, source_id, asset_id, amount, captured,
                                         remaining, status, transaction_id, created_at, updated_at)
                      VALUES ('default', 'h', 99, 1, 1, 0, 1, 'Open', 11, 0, 0)",
            []
        )
        .is_err(),
        "a hold of a wallet that is not there"
    );
}

#[test]
fn a_step_that_would_leave_a_dangling_reference_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    // An entry of a wallet that is not there (written with foreign keys off,
    // as SQLite allows by default).
    let rows = format!(
        "{STEP_FOUR_ROWS}
         INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
             VALUES (24, 99, 11, 1, 'Issue', 1, 1, 1);"
    );
    step_four_database(&path, &rows);
    let mut conn = Connection::open(&path).unwrap();
    let refused = migrate(&mut conn).map_err(|e| wallet_core::StoreError::from(e).to_string());
    assert!(
        matches!(&refused, Err(m) if m.contains("refer to nothing") && m.contains("entries")),
        "{refused:?}"
    );
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 4, "rolled back");
    assert!(
        conn.prepare("SELECT held FROM wallets").is_err(),
        "the old tables stand"
    );
}
