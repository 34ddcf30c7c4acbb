//! Items through export and import: a project's items and their histories
//! come back exactly (properties byte for byte, steps, API v1 entry links),
//! and an export made before items had a table of their own (API v1's
//! `{entry, name, data, used}` records) imports them as items, converted as
//! schema step 6 converts the rows.

use crate::common;
use crate::items::{shop, Shop, SWORD};

use common::PROJECT;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::dump::{DumpRecord, ItemRecord, V1ItemDump};
use wallet_core::model::{ItemStatus, ItemStepKind, PageRequest};
use wallet_core::text::{CustomerId, ItemId, ItemProperties};
use wallet_core::{Ledger, LedgerError, Store, StoreError};
use wallet_sqlite::{Import, MaintenanceError, SqliteBackend, SqliteOptions};

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

fn opened(path: &Path, source: &Shop) -> Shop {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens");
    let store = Store::new(Arc::new(backend));
    Shop {
        ledger: Ledger::with_clock(store.clone(), Arc::new(ManualClock::at(9_000))),
        store,
        caller: source.caller.clone(),
    }
}

fn item(id: &str) -> ItemId {
    ItemId::parse(id).expect("valid")
}

#[tokio::test]
async fn a_project_with_items_exports_and_imports_them_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = shop(&dir.path().join("shop.db")).await;
    let records = export(&source.store).await;
    let items = records
        .iter()
        .filter(|r| matches!(r, DumpRecord::Item(ItemRecord::Item(_))))
        .count();
    let steps = records
        .iter()
        .filter(|r| matches!(r, DumpRecord::ItemStep(_)))
        .count();
    assert_eq!((items, steps), (4, 8), "every item and step");
    let last_entry = records
        .iter()
        .rposition(|r| matches!(r, DumpRecord::Entry(_)))
        .expect("entries");
    let first_item = records
        .iter()
        .position(|r| matches!(r, DumpRecord::Item(_)))
        .expect("items");
    assert!(first_item > last_entry, "items after the entries they name");

    let target = dir.path().join("moved.db");
    import(&target, &records).expect("imports");
    let moved = opened(&target, &source);
    assert_eq!(
        export(&moved.store).await,
        records,
        "the same rows, exported again"
    );
    let report = moved.ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");

    let sword = moved
        .ledger
        .item(&moved.caller, item("sword"))
        .await
        .expect("reads");
    assert_eq!(
        sword.properties.map(ItemProperties::into_inner).as_deref(),
        Some(SWORD)
    );
    for id in ["sword", "shield", "potion"] {
        let history = |shop: &Shop| {
            let (ledger, caller) = (shop.ledger.clone(), shop.caller.clone());
            async move {
                ledger
                    .item_history(&caller, item(id), PageRequest::ALL)
                    .await
                    .expect("reads")
                    .items
            }
        };
        assert_eq!(history(&moved).await, history(&source).await, "{id}'s history");
    }
    let hat = moved
        .ledger
        .customer_items(
            &moved.caller,
            "carol".to_owned(),
            Default::default(),
            PageRequest::ALL,
        )
        .await
        .expect("reads");
    let entry = hat.items[0].v1_entry.expect("an API v1 item");
    let shown = moved
        .store
        .read(move |r| r.v1_entry(entry))
        .await
        .expect("reads")
        .expect("the entry");
    let shown = shown.item.expect("its item");
    assert_eq!(
        (shown.name.as_str(), shown.data.as_deref(), shown.used),
        ("Hat", Some(r#"{"size": 3}"#), true)
    );
}

/// An old export's item records: every item of an API v1 entry as
/// `{entry, name, data, used}`, no steps.
fn old_shape(records: &[DumpRecord]) -> Vec<DumpRecord> {
    let mut old = Vec::new();
    for record in records {
        match record {
            DumpRecord::Item(ItemRecord::Item(i)) => {
                if let Some(entry) = i.v1_entry {
                    old.push(DumpRecord::Item(ItemRecord::V1(V1ItemDump {
                        entry,
                        name: i.item_type.clone(),
                        data: i.properties.clone(),
                        used: i.status == "Consumed",
                    })));
                }
            }
            DumpRecord::ItemStep(_) => {}
            other => old.push(other.clone()),
        }
    }
    old
}

#[tokio::test]
async fn an_old_export_with_api_v1_items_imports_them_as_items() {
    // Before items, API v1 entries were the only way to give one: carol's
    // Hat, used, and dave's Cap.
    let source = common::open();
    let ledger = Ledger::new(source.store.clone());
    let caller = common::authority(&ledger, "ak_old").await;
    let mut hat = common::v1_entry("carol", 0, Some("Hat"));
    if let Some(item) = hat.item.as_mut() {
        item.data = Some(ItemProperties::parse_unbounded(r#"{"size": 3}"#).expect("valid"));
    }
    let hat = ledger.post_v1_entry(&caller, hat).await.expect("posts").entry_id;
    ledger.use_v1_item(&caller, hat).await.expect("uses");
    let cap = ledger
        .post_v1_entry(&caller, common::v1_entry("dave", 5, Some("Cap")))
        .await
        .expect("posts")
        .entry_id;
    let records = export(&source.store).await;
    let old = old_shape(&records);
    assert_eq!(
        old.iter()
            .filter(|r| matches!(r, DumpRecord::Item(ItemRecord::V1(_))))
            .count(),
        2
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("moved.db");
    import(&target, &old).expect("an old export imports");
    let backend = SqliteBackend::open(&SqliteOptions::new(&target)).expect("opens");
    let store = Store::new(Arc::new(backend));
    let moved = Shop {
        ledger: Ledger::with_clock(store.clone(), Arc::new(ManualClock::at(9_000))),
        store,
        caller,
    };
    let report = moved.ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.items, 2);

    let entry_of = |user: &str| {
        let ledger = moved.ledger.clone();
        let (caller, user) = (moved.caller.clone(), user.to_owned());
        async move {
            let page = ledger
                .customer_items(&caller, user, Default::default(), PageRequest::ALL)
                .await
                .expect("reads");
            assert_eq!(page.items.len(), 1);
            page.items[0].clone()
        }
    };
    let hat_item = entry_of("carol").await;
    assert_eq!(hat_item.v1_entry, Some(hat));
    assert_eq!(
        hat_item.id,
        item(&format!("v1_{}", hat.get())),
        "the id step 6 gives it"
    );
    assert_eq!(
        (
            hat_item.item_type.as_str(),
            hat_item.properties.as_ref().map(ItemProperties::as_str),
            hat_item.status
        ),
        ("Hat", Some(r#"{"size": 3}"#), ItemStatus::Consumed)
    );
    let history = moved
        .ledger
        .item_history(&moved.caller, hat_item.id.clone(), PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    assert_eq!(
        history
            .iter()
            .map(|s| (
                s.kind,
                s.transaction.is_some(),
                s.to.as_ref().map(CustomerId::as_str)
            ))
            .collect::<Vec<_>>(),
        [
            (ItemStepKind::GrantItem, true, Some("carol")),
            (ItemStepKind::ConsumeItem, false, Some("carol"))
        ]
    );
    let cap_item = entry_of("dave").await;
    assert_eq!(cap_item.v1_entry, Some(cap));
    assert_eq!(cap_item.status, ItemStatus::Active);
    moved
        .ledger
        .use_v1_item(&moved.caller, cap)
        .await
        .expect("the unused one is used once");
    let twice = moved.ledger.use_v1_item(&moved.caller, cap).await;
    assert!(matches!(twice, Err(LedgerError::Conflict(_))), "{twice:?}");
    let refused = moved.ledger.use_v1_item(&moved.caller, hat).await;
    assert!(matches!(refused, Err(LedgerError::Conflict(_))), "{refused:?}");
}
