//! Schema steps on a file written by an older binary, and the rules they
//! bring: one default wallet per customer and asset (step 2), running
//! totals in two columns (step 3).

use crate::common;

use common::PROJECT;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::dump::DumpRecord;
use wallet_core::ids::CustomerRowId;
use wallet_core::model::PageRequest;
use wallet_core::policy::Caller;
use wallet_core::v1::WalletTotalsFilter;
use wallet_core::{Ledger, Store, StoreError};
use wallet_sqlite::{Import, SqliteBackend, SqliteOptions};

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("reads the step")
}

fn ledger_at(path: &Path) -> Ledger {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens and migrates");
    Ledger::with_clock(Store::new(Arc::new(backend)), Arc::new(ManualClock::at(1_000)))
}

/// API v1's totals, as `(user, total)` in user order.
async fn v1_totals(ledger: &Ledger, caller: &Caller) -> Vec<(String, i128)> {
    ledger
        .v1_wallet_totals(caller, WalletTotalsFilter::default())
        .await
        .expect("reads")
        .into_iter()
        .map(|t| (t.user_id.clone(), t.total))
        .collect()
}

/// `(wallet, total, total_high)` of every running total, from the file.
fn running_totals(path: &Path) -> Vec<(i64, i64, i64)> {
    let db = rusqlite::Connection::open(path).expect("db");
    let mut stmt = db
        .prepare("SELECT wallet_id, total, total_high FROM authority_totals ORDER BY wallet_id")
        .expect("prepares");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("reads");
    rows.collect::<Result<_, _>>().expect("reads")
}

async fn balances(ledger: &Ledger, caller: &Caller, user: &str) -> Vec<(i64, i64)> {
    ledger
        .customer_wallets(caller, common::customer(user), PageRequest::ALL)
        .await
        .expect("reads")
        .items
        .into_iter()
        .map(|w| (w.id.get(), w.balance))
        .collect()
}

#[tokio::test]
async fn a_step_one_database_gets_the_default_wallets_the_rule_would_have_made() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("old.db");
    common::step_one_database(&path);

    let ledger = ledger_at(&path);
    assert_eq!(user_version(&path), 9, "steps 2 to 9 applied");
    assert_eq!(
        common::default_marks(&path),
        vec![(1, true), (2, false), (3, true), (4, true)],
        "v2-only wallets (Closed included) become defaults; the v1 default beside an older v2 wallet stays"
    );
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "no money moved: {report:?}");
    assert_eq!(
        running_totals(&path),
        vec![(1, 40, 0), (2, 8, 0), (3, 2, 0), (4, 5, 0)],
        "step 3 keeps every total: the high column is 0"
    );

    let caller = common::authority(&ledger, "au_new").await;
    let expected = [("both", 2), ("closed", 5), ("only-v2", 40)].map(|(u, t)| (u.to_owned(), t));
    assert_eq!(
        v1_totals(&ledger, &caller).await,
        expected,
        "v1 sees the marked wallets"
    );

    // API v1 posts into the marked wallets and opens none.
    ledger
        .post_v1_entry(&caller, common::v1_entry("only-v2", -40, None))
        .await
        .expect("spends what v2 issued");
    ledger
        .post_v1_entry(&caller, common::v1_entry("both", 1, None))
        .await
        .expect("credits");
    assert_eq!(balances(&ledger, &caller, "only-v2").await, vec![(1, 0)]);
    assert_eq!(balances(&ledger, &caller, "both").await, vec![(2, 8), (3, 3)]);
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn a_customer_without_a_marked_default_has_its_oldest_wallet_adopted_by_a_write() {
    let db = common::open();
    let f = db.fixture().await;
    let second = db
        .write(move |tx| tx.insert_wallet(&common::wallet_of(Some(f.customer), f.asset)))
        .await
        .expect("opens a second wallet");
    // Rows written some other way than by the rule (a hand edit, a tool).
    rusqlite::Connection::open(db.backend.path())
        .and_then(|c| c.execute("UPDATE wallets SET is_default = 0", []))
        .expect("unmarks");

    let default_of = |customer: CustomerRowId| {
        let store = db.store.clone();
        async move {
            store
                .read(move |r| r.default_wallet(customer, f.asset))
                .await
                .expect("reads")
                .map(|w| w.id)
        }
    };
    assert_eq!(
        default_of(f.customer).await,
        Some(f.wallet),
        "a read answers the oldest"
    );
    let marks = common::default_marks(db.backend.path());
    assert_eq!(
        marks,
        vec![(f.wallet.get(), false), (second.get(), false)],
        "and marks nothing"
    );

    let ledger = Ledger::new(db.store.clone());
    let caller = common::authority(&ledger, "au_v1").await;
    ledger
        .post_v1_entry(&caller, common::v1_entry("alice", 9, None))
        .await
        .expect("posts");
    assert_eq!(
        common::default_marks(db.backend.path()),
        vec![(f.wallet.get(), true), (second.get(), false)],
        "the write marked the oldest, and opened no third wallet"
    );
    assert_eq!(db.balance(f.wallet).await, 9);
    assert_eq!(v1_totals(&ledger, &caller).await, vec![("alice".to_owned(), 9)]);
}

#[tokio::test]
async fn an_old_export_imports_with_the_default_wallets_of_step_two() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    common::step_one_database(&old);
    let backend = SqliteBackend::open(&SqliteOptions::new(&old)).expect("opens");
    let mut records = Vec::new();
    let store = Store::new(Arc::new(backend));
    let exported = store
        .read(move |r| {
            let mut records = Vec::new();
            r.export_project(PROJECT, &mut |record| {
                records.push(record);
                Ok(())
            })?;
            Ok::<_, StoreError>(records)
        })
        .await
        .expect("exports");
    // As an export made before step 2 had them: only the v1 wallet marked.
    for mut record in exported {
        if let DumpRecord::Wallet(w) = &mut record {
            w.is_default = w.id == 3;
        }
        records.push(record);
    }

    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("the project's row comes first")
    };
    let mut import = Import::begin(&new, head).expect("begins");
    for record in &records[1..] {
        import.insert(record).expect("each row goes in");
    }
    import.finish().expect("commits");
    assert_eq!(
        common::default_marks(&new),
        vec![(1, true), (2, false), (3, true), (4, true)],
        "the same rule as step 2"
    );
    let ledger = ledger_at(&new);
    let caller = common::authority(&ledger, "au_new").await;
    let totals = v1_totals(&ledger, &caller).await;
    assert_eq!(totals.len(), 3, "{totals:?}");
}
