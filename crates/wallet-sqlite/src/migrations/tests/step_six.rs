//! Step 6 on a database the binary before items (steps 1 to 5) wrote: API
//! v1's items, used and unused, become items with a history, exactly (data
//! text, owner, dates), the old table goes, and API v1 and v2 then agree on
//! them.

use super::{dump, schema_objects};
use crate::migrations::{migrate, schema_steps, STEPS};
use crate::{SqliteBackend, SqliteOptions};
use rusqlite::types::Value;
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::ids::{EntryId, TransactionId};
use wallet_core::model::{AuthorityCredential, ItemStatus, ItemStepKind, PageRequest};
use wallet_core::operation::{Operation, TransactionRequest};
use wallet_core::policy::{AuthorityCaller, Caller};
use wallet_core::text::{CustomerId, ItemId, ItemProperties, ProjectId, PublicId, ReferenceId, Text};
use wallet_core::v1::InventoryFilter;
use wallet_core::{Ledger, LedgerError, Store, TransactionOutcome};

/// A name of 200 characters: API v1 allows them, API v2's types stop at 64.
fn long_name() -> String {
    "n".repeat(200)
}

/// Rows as the binary before items wrote them: alice was given a Hat (used)
/// and a long-named thing without data, bob a Sword whose data has a number
/// no float holds, all through API v1.
fn step_five_rows() -> String {
    format!(
        "INSERT INTO projects (id, name, default_asset, created_at) VALUES ('default', 'Default project', 1, 0);
         INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
             VALUES (1, 'default', 'PTS', 'Points', 1, 1, 0);
         INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest, created_at)
             VALUES (1, 'ak_old', 'default', 'old', NULL, x'00', 0),
                    (2, 'au_sdk', 'default', 'sdk', '-----BEGIN PUBLIC KEY-----', NULL, 0);
         INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES
             (1, 'default', 'alice', 'Active', 0), (2, 'default', 'bob', 'Active', 0);
         INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, created_at) VALUES
             (3, 'default', 1, 1, 1, 'Open', 6, 0), (4, 'default', 1, 2, 1, 'Open', 0, 0);
         INSERT INTO transactions (id, project_id, authority_id, status, created_at) VALUES
             (11, 'default', 2, 'Completed', 1), (12, 'default', 2, 'Completed', 2),
             (13, 'default', 1, 'Completed', 3);
         INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason,
                              created_at) VALUES
             (21, 3, 11, 2, 'Issue', 5, 5, 'quest', 1001),
             (22, 4, 12, 2, 'Issue', 0, 0, 'gift', 1002),
             (23, 3, 13, 1, 'Issue', 1, 6, NULL, 1003);
         INSERT INTO items (entry_id, name, data, used) VALUES
             (21, 'Hat', '{{\"level\":1}}', 1),
             (22, 'Sword', '{{\"n\":123456789012345678901234567890,\"f\":1.50}}', 0),
             (23, '{long}', NULL, 0);
         INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES
             (3, 2, 5, 0), (3, 1, 1, 0), (4, 2, 0, 0);",
        long = long_name()
    )
}

/// A database file at step 5, written by that step's statements.
fn step_five_database(path: &Path, rows: &str) {
    let conn = Connection::open(path).unwrap();
    for step in &STEPS[..5] {
        conn.execute_batch(step).unwrap();
    }
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA user_version = 5; BEGIN; {rows} COMMIT;"
    ))
    .unwrap();
}

fn text(t: &str) -> Value {
    Value::Text(t.to_owned())
}

async fn caller(ledger: &Ledger) -> Caller {
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

#[tokio::test]
async fn a_step_five_database_keeps_every_api_v1_item_through_step_six() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    step_five_database(&path, &step_five_rows());

    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, schema_steps());
    let (i, null) = (Value::Integer, Value::Null);
    assert_eq!(
        dump(
            &conn,
            "SELECT id, project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                    created_at, updated_at FROM items ORDER BY id"
        ),
        vec![
            vec![
                i(1),
                text("default"),
                text("v1_21"),
                text("Hat"),
                text(r#"{"level":1}"#),
                i(1),
                text("Consumed"),
                i(21),
                i(1001),
                i(1001)
            ],
            vec![
                i(2),
                text("default"),
                text("v1_22"),
                text("Sword"),
                text(r#"{"n":123456789012345678901234567890,"f":1.50}"#),
                i(2),
                text("Active"),
                i(22),
                i(1002),
                i(1002)
            ],
            vec![
                i(3),
                text("default"),
                text("v1_23"),
                text(&long_name()),
                null.clone(),
                i(1),
                text("Active"),
                i(23),
                i(1003),
                i(1003)
            ],
        ],
        "each item of an entry, its data text byte for byte, owned by the entry's user"
    );
    assert_eq!(
        dump(
            &conn,
            "SELECT item_id, transaction_id, kind, from_customer_id, to_customer_id, properties, created_at
             FROM item_steps ORDER BY id"
        ),
        vec![
            vec![
                i(1),
                i(11),
                text("GrantItem"),
                null.clone(),
                i(1),
                text(r#"{"level":1}"#),
                i(1001)
            ],
            vec![
                i(2),
                i(12),
                text("GrantItem"),
                null.clone(),
                i(2),
                text(r#"{"n":123456789012345678901234567890,"f":1.50}"#),
                i(1002)
            ],
            vec![
                i(3),
                i(13),
                text("GrantItem"),
                null.clone(),
                i(1),
                null.clone(),
                i(1003)
            ],
            vec![
                i(1),
                null.clone(),
                text("ConsumeItem"),
                i(1),
                i(1),
                text(r#"{"level":1}"#),
                i(1001)
            ],
        ],
        "a grant in each entry's transaction, and the use of the used one without a transaction"
    );
    let objects = schema_objects(&conn);
    for expected in [
        "index item_steps_by_item",
        "index item_steps_by_transaction",
        "index items_by_owner",
        "index items_v1_entry",
        "table item_steps",
        "table items",
        "trigger item_steps_no_delete",
        "trigger item_steps_no_update",
        "trigger items_no_delete",
    ] {
        assert!(objects.iter().any(|o| o == expected), "{expected} in {objects:?}");
    }
    assert!(
        !objects
            .iter()
            .any(|o| o.contains("v1_items") || o.contains("items_unused")),
        "the old table and its index are gone: {objects:?}"
    );
    assert!(dump(&conn, "PRAGMA foreign_key_check").is_empty());
    assert!(
        conn.execute("UPDATE item_steps SET kind = 'TransferItem' WHERE id = 1", [])
            .is_err(),
        "history is append-only"
    );

    let store = Store::new(Arc::new(backend));
    let ledger = Ledger::with_clock(store.clone(), Arc::new(ManualClock::at(5_000)));
    let entry = |id: i64| {
        let store = store.clone();
        async move {
            store
                .read(move |r| r.v1_entry(EntryId::new(id)))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let report = ledger.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.items, 3);
    let caller = caller(&ledger).await;

    // API v1 shows what it showed before.
    let hat = entry(21).await;
    let item = hat.item.unwrap();
    assert_eq!(
        (item.name.as_str(), item.data.as_deref(), item.used),
        ("Hat", Some(r#"{"level":1}"#), true)
    );
    let unused = ledger
        .v1_inventory(
            &caller,
            InventoryFilter {
                used: Some(false),
                ..InventoryFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        unused
            .iter()
            .map(|l| (l.entry_id.get(), l.user_id.as_str(), l.authority_id.as_str()))
            .collect::<Vec<_>>(),
        [(22, "bob", "au_sdk"), (23, "alice", "ak_old")]
    );

    // API v2 sees the same items, with their history.
    let sword = ledger
        .item(&caller, ItemId::parse("v1_22").unwrap())
        .await
        .unwrap();
    assert_eq!(
        sword.properties.as_ref().map(ItemProperties::as_str),
        Some(r#"{"n":123456789012345678901234567890,"f":1.50}"#)
    );
    assert_eq!(sword.v1_entry, Some(EntryId::new(22)));
    let history = ledger
        .item_history(&caller, ItemId::parse("v1_21").unwrap(), PageRequest::ALL)
        .await
        .unwrap();
    assert_eq!(
        history
            .items
            .iter()
            .map(|s| (s.kind, s.transaction, s.from.clone(), s.to.clone()))
            .collect::<Vec<_>>(),
        [
            (
                ItemStepKind::GrantItem,
                Some(TransactionId::new(11)),
                None,
                Some(CustomerId::parse("alice").unwrap())
            ),
            (
                ItemStepKind::ConsumeItem,
                None,
                Some(CustomerId::parse("alice").unwrap()),
                Some(CustomerId::parse("alice").unwrap())
            ),
        ]
    );

    // The used one stays used; the unused one is used once, in both APIs.
    let again = ledger.use_v1_item(&caller, EntryId::new(21)).await;
    assert!(matches!(again, Err(LedgerError::Conflict(_))), "{again:?}");
    let used = ledger.use_v1_item(&caller, EntryId::new(22)).await.unwrap();
    assert!(used.item.is_some_and(|i| i.used));
    let sword = ledger
        .item(&caller, ItemId::parse("v1_22").unwrap())
        .await
        .unwrap();
    assert_eq!(sword.status, ItemStatus::Consumed);

    // Moved through API v2, an item is listed under its new owner; its
    // entry still names the user it was given to.
    let give = TransactionRequest::new(
        ReferenceId::parse("give").unwrap(),
        vec![Operation::TransferItem {
            item: ItemId::parse("v1_23").unwrap(),
            to: Some(CustomerId::parse("bob").unwrap()),
            from: Some(Some(CustomerId::parse("alice").unwrap())),
        }],
        None,
    )
    .unwrap();
    let outcome = ledger.post_transaction(&caller, give).await.unwrap();
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{outcome:?}"
    );
    let lines = ledger
        .v1_inventory(
            &caller,
            InventoryFilter {
                entry_ids: Some(vec![EntryId::new(23)]),
                ..InventoryFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].user_id, "bob");
    assert_eq!(entry(23).await.user_id, "alice");
    let report = ledger.check().await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn data_an_old_server_stored_that_is_not_json_is_kept_as_a_json_string() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let rows = step_five_rows().replace(r#"'{"level":1}'"#, "'level one'");
    step_five_database(&path, &rows);
    let mut conn = Connection::open(&path).unwrap();
    migrate(&mut conn).unwrap();
    assert_eq!(
        dump(&conn, "SELECT properties FROM items WHERE public_id = 'v1_21'"),
        vec![vec![text(r#""level one""#)]]
    );
}

#[test]
fn an_item_whose_entry_is_missing_fails_the_step_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    // Written with foreign keys off, as SQLite allows by default.
    let rows = format!(
        "{} INSERT INTO items (entry_id, name, data, used) VALUES (99, 'Ghost', NULL, 0);",
        step_five_rows()
    );
    step_five_database(&path, &rows);
    let mut conn = Connection::open(&path).unwrap();
    let refused = migrate(&mut conn).map_err(|e| wallet_core::StoreError::from(e).to_string());
    assert!(refused.is_err(), "an item is never lost on the way");
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 5, "rolled back");
    assert_eq!(
        dump(&conn, "SELECT count(*) FROM items WHERE entry_id = 99"),
        vec![vec![Value::Integer(1)]],
        "the old table stands"
    );
}
