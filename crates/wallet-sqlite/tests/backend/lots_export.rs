//! Lots of every fate, their history and an Open hold's earmarks, exported
//! and imported elsewhere: the same rows come back (exported again, the
//! file is the same), and they still work — the hold captures its earmarked
//! part with its expiry, and what is due expires. An export whose lot
//! history does not add up is refused whole.

use crate::lots::{lot_shop, post};

use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::{Clock, ManualClock};
use wallet_core::dump::DumpRecord;
use wallet_core::model::{LotStatus, PageRequest};
use wallet_core::operation::Operation;
use wallet_core::text::HoldId;
use wallet_core::{Ledger, Store, StoreError};
use wallet_sqlite::{Import, MaintenanceError, SqliteBackend, SqliteOptions};

async fn export(store: &Store) -> Vec<DumpRecord> {
    store
        .read(|r| {
            let mut records = Vec::new();
            r.export_project(crate::common::PROJECT, &mut |record| {
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

fn count(records: &[DumpRecord], kind: fn(&DumpRecord) -> bool) -> usize {
    records.iter().filter(|r| kind(r)).count()
}

#[tokio::test]
async fn lots_their_history_and_earmarks_go_through_an_export_and_an_import_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = lot_shop(&dir.path().join("source.db")).await;
    let records = export(&source.store).await;
    assert_eq!(count(&records, |r| matches!(r, DumpRecord::Lot(_))), 4);
    // Spend 3; Spend 2 and the shop's new lot; Expire 3 and 2; Earmark and
    // Release 1 (gone); Earmark 4 (h).
    assert_eq!(count(&records, |r| matches!(r, DumpRecord::LotStep(_))), 7);
    assert_eq!(count(&records, |r| matches!(r, DumpRecord::Earmark(_))), 1);

    let target_path = dir.path().join("target.db");
    import(&target_path, &records).expect("imports");
    let backend = SqliteBackend::open(&SqliteOptions::new(&target_path)).expect("opens");
    let store = Store::new(Arc::new(backend));
    let clock = Arc::new(ManualClock::at(source.clock.now()));
    let target = Ledger::with_clock(store.clone(), clock.clone());
    assert_eq!(export(&store).await, records, "the same rows, ids and values");
    let report = target.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.lots, 4);

    // The moved rows still work: the hold captures its earmarked part, with
    // its expiry, and at that time both lots holding it expire.
    let caller = &source.caller;
    let capture = Operation::Capture {
        hold: HoldId::parse("h").expect("valid"),
        amount: None,
        destination: None,
    };
    post(&target, caller, "after", vec![capture]).await;
    let lots = |wallet| {
        let target = target.clone();
        let caller = caller.clone();
        async move {
            target
                .wallet_lots(&caller, wallet, Some(LotStatus::Open), PageRequest::ALL)
                .await
                .expect("reads")
                .items
                .iter()
                .map(|l| (l.remaining, l.earmarked, l.expires_at))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(lots(source.wallet).await, [(6, 0, 5_000)]);
    assert_eq!(lots(source.shop).await, [(4, 0, 5_000)]);
    clock.set(5_000);
    assert_eq!(target.expire_due_lots().await.expect("expires"), 2);
    assert_eq!(
        target.wallet(caller, source.wallet).await.expect("reads").balance,
        3
    );
    let report = target.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn an_export_whose_lot_history_does_not_add_up_is_refused_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = lot_shop(&dir.path().join("source.db")).await;
    let mut records = export(&source.store).await;
    let mut lot = None;
    for record in &mut records {
        if let DumpRecord::LotStep(s) = record {
            if s.kind == "Spend" && lot.is_none() {
                s.amount -= 1;
                lot = Some(s.lot);
            }
        }
    }
    let lot = lot.expect("a Spend step");
    let target = dir.path().join("target.db");
    let refused = import(&target, &records);
    assert!(
        matches!(&refused, Err(MaintenanceError::Invalid(m)) if m.contains(&format!("lot {lot}: remaining"))),
        "{refused:?}"
    );
    let report = wallet_sqlite::verify(&target).expect("still a database");
    assert_eq!((report.wallets, report.lots), (0, 0), "nothing was imported");
}
