//! The file-level tools: schema steps on open, export and import of a
//! project, backup, verify and the exclusive lock of a restore.

use crate::common;

use common::PROJECT;
use wallet_core::dump::{DumpCounts, DumpRecord};
use wallet_core::port::Backend;
use wallet_core::StoreError;
use wallet_sqlite::{
    backup_into, verify, ExclusiveDb, Import, MaintenanceError, OpenError, SqliteBackend, SqliteOptions,
};

async fn export(db: &common::TestDb, project: &'static str) -> (Vec<DumpRecord>, DumpCounts) {
    db.read(move |r| {
        let mut records = Vec::new();
        let counts = r.export_project(project, &mut |record| {
            records.push(record);
            Ok(())
        })?;
        Ok((records, counts))
    })
    .await
    .expect("the export runs")
}

/// A customer with a balance, an entry with an item (and its grant) and a
/// running total.
async fn ledger_rows(db: &common::TestDb) -> common::Fixture {
    let f = db.fixture().await;
    db.write(move |tx| {
        use wallet_core::model::{EntryKind, TransactionStatus};
        use wallet_core::port::{Claim, NewEntry, NewTransaction};
        let Claim::Inserted(transaction) = tx.insert_transaction(&NewTransaction {
            project_id: PROJECT,
            reference_id: Some("ref-1"),
            authority: f.authority,
            status: TransactionStatus::Completed,
            error: None,
            description: Some("grant"),
            operations: Some("[]"),
            created_at: 2,
        })?
        else {
            return Err(StoreError::Internal("claimed".to_owned()));
        };
        let balance_after = tx.credit(f.wallet, 40)?;
        let entry = tx.append_entry(&NewEntry {
            wallet: f.wallet,
            transaction,
            authority: f.authority,
            kind: EntryKind::Issue,
            amount: 40,
            balance_after,
            reason: Some("grant"),
            created_at: 2,
        })?;
        tx.add_authority_total(f.wallet, f.authority, 40)?;
        common::grant_v1_item(tx, f, transaction, entry, "v1_hat", None)
    })
    .await
    .expect("written");
    f
}

#[tokio::test]
async fn a_project_exported_and_imported_elsewhere_keeps_its_rows_and_ids() {
    let source = common::open();
    let f = ledger_rows(&source).await;
    let (records, counts) = export(&source, PROJECT).await;
    assert!(
        matches!(records.first(), Some(DumpRecord::Project(_))),
        "the project's row first"
    );
    assert_eq!(
        (counts.wallets, counts.entries, counts.items),
        (1, 1, 1),
        "{counts:?}"
    );

    let target_dir = tempfile::tempdir().expect("temp dir");
    let target = target_dir.path().join("moved.db");
    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("checked above")
    };
    let mut import = Import::begin(&target, head).expect("begins");
    for record in &records[1..] {
        import.insert(record).expect("each row goes in");
    }
    assert_eq!(import.finish().expect("commits"), counts);

    let moved = SqliteBackend::open(&SqliteOptions::new(&target)).expect("opens");
    let store = wallet_core::Store::new(std::sync::Arc::new(moved));
    let (balance, total, report) = store
        .read(move |r| {
            let balance = r.wallet(PROJECT, f.wallet)?.map(|w| w.balance);
            let total = r.authority_total(f.wallet, f.authority)?;
            Ok::<_, StoreError>((balance, total, r.check()?))
        })
        .await
        .expect("reads");
    assert_eq!((balance, total), (Some(40), Some(40)), "same ids, same values");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn a_project_that_does_not_exist_exports_nothing() {
    let db = common::open();
    let (records, counts) = export(&db, "nowhere").await;
    assert!(records.is_empty());
    assert_eq!(counts, DumpCounts::default());
}

#[tokio::test]
async fn an_import_that_would_break_an_invariant_commits_nothing() {
    let source = common::open();
    ledger_rows(&source).await;
    let (mut records, _) = export(&source, PROJECT).await;
    for record in &mut records {
        if let DumpRecord::Wallet(w) = record {
            w.balance += 1;
        }
    }
    let target_dir = tempfile::tempdir().expect("temp dir");
    let target = target_dir.path().join("moved.db");
    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("the project's row comes first")
    };
    let mut import = Import::begin(&target, head).expect("begins");
    for record in &records[1..] {
        import.insert(record).expect("each row goes in");
    }
    assert!(matches!(import.finish(), Err(MaintenanceError::Violations(_))));
    let report = verify(&target).expect("the target is still a database");
    assert!(
        report.is_ok() && report.wallets == 0,
        "nothing was imported: {report:?}"
    );
}

#[tokio::test]
async fn a_live_database_backs_up_and_verifies_but_cannot_be_locked_for_a_restore() {
    let db = common::open();
    ledger_rows(&db).await;
    let out = db.dir.path().join("backup.db");
    std::fs::File::create(&out).expect("the caller makes the file");
    backup_into(db.backend.path(), &out).expect("backs up while open");
    let report = verify(&out).expect("verifies");
    assert!(report.is_ok() && report.entries == 1, "{report:?}");

    let refused = ExclusiveDb::lock(db.backend.path());
    assert!(
        matches!(refused, Err(MaintenanceError::Refused(_))),
        "{:?}",
        refused.err()
    );

    let missing = verify(&db.dir.path().join("missing.db"));
    assert!(
        matches!(missing, Err(MaintenanceError::Invalid(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn reopening_keeps_the_schema_and_a_newer_one_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wallet.db");
    for _ in 0..2 {
        let backend = SqliteBackend::open(&SqliteOptions::new(&path)).expect("opens");
        assert_eq!(backend.kind(), "sqlite");
    }
    let report = verify(&path).expect("verifies");
    assert!(report.is_ok(), "{report:?}");
    let projects = rusqlite::Connection::open(&path)
        .and_then(|c| c.query_row("SELECT count(*) FROM projects", [], |r| r.get::<_, i64>(0)))
        .expect("counts");
    assert_eq!(projects, 1, "the default project, once");

    rusqlite::Connection::open(&path)
        .and_then(|c| c.pragma_update(None, "user_version", 99))
        .expect("sets a future step");
    let refused = SqliteBackend::open(&SqliteOptions::new(&path));
    assert!(
        matches!(refused, Err(OpenError::Store(StoreError::Schema(_)))),
        "{:?}",
        refused.err()
    );
    assert!(matches!(verify(&path), Err(MaintenanceError::Invalid(_))));
}

#[tokio::test]
async fn an_api_v1_entry_of_amount_zero_that_carries_an_item_imports() {
    let source = common::open();
    let ledger = wallet_core::Ledger::new(source.store.clone());
    let caller = common::authority(&ledger, "au_items").await;
    let entry = ledger
        .post_v1_entry(&caller, common::v1_entry("alice", 0, Some("Hat")))
        .await
        .expect("an item without an amount posts");
    let (records, counts) = export(&source, PROJECT).await;
    assert!(
        records
            .iter()
            .any(|r| matches!(r, DumpRecord::Entry(e) if e.kind == "Issue" && e.amount == 0)),
        "the export holds an Issue of 0"
    );

    let target_dir = tempfile::tempdir().expect("temp dir");
    let target = target_dir.path().join("moved.db");
    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("the project's row comes first")
    };
    let mut import = Import::begin(&target, head).expect("begins");
    for record in &records[1..] {
        import
            .insert(record)
            .expect("each row goes in, the Issue of 0 too");
    }
    assert_eq!(import.finish().expect("commits"), counts);

    let moved = SqliteBackend::open(&SqliteOptions::new(&target)).expect("opens");
    let store = wallet_core::Store::new(std::sync::Arc::new(moved));
    let shown = store
        .read(move |r| r.v1_entry(entry.entry_id))
        .await
        .expect("reads")
        .expect("the entry");
    assert_eq!(shown.amount, 0);
    assert_eq!(shown.item.map(|i| i.name), Some("Hat".to_owned()));
}

#[tokio::test]
async fn an_import_still_refuses_entries_of_the_wrong_sign() {
    let source = common::open();
    ledger_rows(&source).await;
    let (records, _) = export(&source, PROJECT).await;
    let cases = [("Issue", -1), ("Redeem", 0), ("Redeem", 1), ("Transfer", 0)];
    for (kind, amount) in cases {
        let mut records = records.clone();
        for record in &mut records {
            if let DumpRecord::Entry(e) = record {
                e.kind = kind.to_owned();
                e.amount = amount;
            }
        }
        let target_dir = tempfile::tempdir().expect("temp dir");
        let Some(DumpRecord::Project(head)) = records.first() else {
            unreachable!("the project's row comes first")
        };
        let mut import = Import::begin(&target_dir.path().join("moved.db"), head).expect("begins");
        let refused = records[1..].iter().try_for_each(|r| import.insert(r));
        assert!(
            matches!(refused, Err(MaintenanceError::Invalid(_))),
            "a {kind} of {amount}: {refused:?}"
        );
    }
}
