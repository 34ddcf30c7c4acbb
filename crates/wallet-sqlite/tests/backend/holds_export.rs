//! A project with holds of every status, wallets on credit and the system
//! authority, exported and imported elsewhere: the same rows come back
//! (exported again, the file is the same), and they still work.

use crate::common;

use common::PROJECT;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::{Clock, ManualClock};
use wallet_core::dump::DumpRecord;
use wallet_core::ids::WalletId;
use wallet_core::model::HoldStatus;
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::Caller;
use wallet_core::text::{HoldId, ReferenceId};
use wallet_core::{Ledger, Store, StoreError, TransactionOutcome};
use wallet_sqlite::{Import, MaintenanceError, SqliteBackend, SqliteOptions};

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("not negative")
}

fn id(s: &str) -> HoldId {
    HoldId::parse(s).expect("a valid hold id")
}

fn ledger_at(path: &Path, clock: &Arc<ManualClock>) -> (Ledger, Store) {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens");
    let store = Store::new(Arc::new(backend));
    (Ledger::with_clock(store.clone(), clock.clone()), store)
}

async fn post(ledger: &Ledger, caller: &Caller, reference: &str, operations: Vec<Operation>) {
    let request = TransactionRequest::new(ReferenceId::parse(reference).expect("valid"), operations, None)
        .expect("a valid request");
    let outcome = ledger.post_transaction(caller, request).await.expect("answered");
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{reference}: {outcome:?}"
    );
}

async fn export(store: &Store) -> Vec<DumpRecord> {
    store
        .read(|r| {
            let mut records = Vec::new();
            r.export_project(PROJECT, &mut |record| {
                records.push(record);
                Ok(())
            })?;
            Ok::<_, StoreError>(records)
        })
        .await
        .expect("exports")
}

fn import(target: &Path, records: &[DumpRecord]) -> Result<(), MaintenanceError> {
    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("the project's row comes first")
    };
    let mut import = Import::begin(target, head)?;
    for record in &records[1..] {
        import.insert(record)?;
    }
    import.finish().map(drop)
}

/// A buyer on credit (limit 50, balance below zero), a seller, and holds:
/// `open` (expires later), `split` captured in two parts, `voided`, and
/// `late` expired by the server (so the system authority exists).
async fn holds_of_every_status(ledger: &Ledger, clock: &ManualClock) -> (Caller, WalletId, WalletId) {
    let caller = common::authority(ledger, "ak_shop").await;
    let asset = match &caller {
        Caller::Authority(a) => a.default_asset,
        _ => unreachable!("an authority"),
    };
    let buyer = ledger
        .create_wallet(&caller, None, asset, None, None)
        .await
        .expect("opens")
        .id;
    let seller = ledger
        .create_wallet(&caller, None, asset, None, None)
        .await
        .expect("opens")
        .id;
    ledger.set_credit_limit(&caller, buyer, 50).await.expect("sets");
    let now = clock.now();
    let hold = |name: &str, amount: i64, expires_at: Option<i64>| Operation::Hold {
        source: buyer,
        amount: q(amount),
        destination: Some(seller),
        expires_at,
        hold_id: id(name),
    };
    post(
        ledger,
        &caller,
        "place",
        vec![
            Operation::Issue {
                destination: buyer,
                amount: q(20),
                expires_at: None,
            },
            hold("open", 7, Some(now + 60_000)),
            hold("split", 10, None),
            hold("voided", 4, None),
            hold("late", 3, Some(now + 10)),
        ],
    )
    .await;
    let capture = |amount: Option<i64>| Operation::Capture {
        hold: id("split"),
        amount: amount.map(q),
        destination: None,
    };
    post(ledger, &caller, "part", vec![capture(Some(6))]).await;
    post(
        ledger,
        &caller,
        "rest",
        vec![capture(None), Operation::Void { hold: id("voided") }],
    )
    .await;
    // On credit: 20 - 10 captured = 10, minus 7 still held, plus 50 of credit.
    post(
        ledger,
        &caller,
        "spend",
        vec![Operation::Redeem {
            source: buyer,
            amount: q(50),
        }],
    )
    .await;
    clock.advance(10);
    assert_eq!(ledger.expire_due_holds().await.expect("expires"), 1);
    (caller, buyer, seller)
}

#[tokio::test]
async fn holds_and_credit_go_through_an_export_and_an_import_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::at(1_000));
    let (source, source_store) = ledger_at(&dir.path().join("source.db"), &clock);
    let (caller, buyer, seller) = holds_of_every_status(&source, &clock).await;
    let records = export(&source_store).await;
    let statuses: Vec<(String, String)> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Hold(h) => Some((h.id.clone(), h.status.clone())),
            _ => None,
        })
        .collect();
    // In row order: one transaction placed them all, in hold id order.
    let expected = [
        ("late", "Expired"),
        ("open", "Open"),
        ("split", "Captured"),
        ("voided", "Voided"),
    ];
    assert_eq!(statuses, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert!(
        records
            .iter()
            .any(|r| matches!(r, DumpRecord::Authority(a) if a.system)),
        "the system authority is exported: the expiry's transaction is its"
    );

    let target_path = dir.path().join("target.db");
    import(&target_path, &records).expect("imports");
    let (target, target_store) = ledger_at(&target_path, &clock);
    assert_eq!(
        export(&target_store).await,
        records,
        "the same rows, ids and values"
    );
    let report = target.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");

    let wallet = target.wallet(&caller, buyer).await.expect("reads");
    assert_eq!(
        (
            wallet.balance,
            wallet.held,
            wallet.credit_limit,
            wallet.available()
        ),
        (-40, 7, 50, 3),
        "below zero within the limit, and what the Open hold reserves"
    );
    // The moved rows still work: the open hold captures, time still runs.
    post(
        &target,
        &caller,
        "after",
        vec![Operation::Capture {
            hold: id("open"),
            amount: None,
            destination: None,
        }],
    )
    .await;
    let open = target.hold(&caller, id("open")).await.expect("reads");
    assert_eq!((open.status, open.captured), (HoldStatus::Captured, 7));
    assert_eq!(target.wallet(&caller, seller).await.expect("reads").balance, 17);
    let report = target.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn an_export_whose_held_values_do_not_add_up_is_refused_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::at(1_000));
    let (source, source_store) = ledger_at(&dir.path().join("source.db"), &clock);
    let (_, buyer, _) = holds_of_every_status(&source, &clock).await;
    let mut records = export(&source_store).await;
    for record in &mut records {
        if let DumpRecord::Hold(h) = record {
            if h.id == "open" {
                // Still adds up on its own; the wallet's held no longer does.
                h.status = "Voided".to_owned();
                h.remaining = 0;
            }
        }
    }
    let target = dir.path().join("target.db");
    let refused = import(&target, &records);
    assert!(
        matches!(&refused, Err(MaintenanceError::Invalid(m))
            if m.contains(&format!("wallet {buyer}: held 7 but its Open holds reserve 0"))),
        "{refused:?}"
    );
    let report = wallet_sqlite::verify(&target).expect("still a database");
    assert_eq!(report.wallets, 0, "nothing was imported");
}
