//! Export and import: a project moves between databases with every row and
//! id as it was, between PostgreSQL databases and between the backends
//! (SQLite → PostgreSQL → SQLite), lots, their history and earmarks
//! included; an import that would break an invariant or refers outside the
//! project changes nothing.

use crate::common::{open, value};
use std::sync::Arc;
use wallet_core::clock::Clock;
use wallet_core::dump::DumpRecord;
use wallet_core::ids::WalletId;
use wallet_core::model::HoldStatus;
use wallet_core::model::PageRequest;
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::port::Backend;
use wallet_core::{Store, StoreError};
use wallet_postgres::{Import, MaintenanceError, PgOptions, PostgresBackend};
use wallet_testkit::answers::{completed, failed};
use wallet_testkit::fixture::{
    capture, customer_id, hold, issue, redeem, request, transfer, v1_with_item, void,
};
use wallet_testkit::{Fixture, Harness, PgCluster, SqliteHarness, TestDb};

/// A project with a bit of everything: customers, a customer key, wallets
/// of two assets, completed and failed transactions, v1 entries with items
/// (one used), a revoked authority; and holds of every status (one Open,
/// one captured in two parts, one voided, one expired by the server, so
/// the project's system authority exists), a wallet on credit below zero;
/// and lots of every status with every kind of step, one earmarked by an
/// Open hold.
async fn populate(fx: &Fixture) {
    fx.project("moved").await;
    let caller = fx.authority("moved").await;
    let other = fx.authority("moved").await;
    fx.customer(&caller, "ann").await;
    fx.customer(&caller, "bob").await;
    fx.customer_key(&caller, "ann", None).await;
    let ann = fx.funded(&caller, Some("ann"), 500).await;
    let bob = fx.wallet(&caller, Some("bob")).await;
    let fees = fx.wallet(&caller, None).await;
    fx.post(&caller, vec![transfer(ann, bob, 120), transfer(ann, fees, 3)])
        .await;
    fx.post(&caller, vec![transfer(bob, ann, 10_000)]).await; // fails: funds
    fx.post(&other, vec![issue(bob, i64::MAX - 200)]).await;
    let entry = fx
        .ledger
        .post_v1_entry(&caller, v1_with_item("ann", 7, "Hat"))
        .await
        .expect("posts");
    fx.ledger
        .post_v1_entry(&other, v1_with_item("cid", 0, "Scarf"))
        .await
        .expect("posts");
    fx.ledger
        .use_v1_item(&caller, entry.entry_id)
        .await
        .expect("uses");
    holds_of_every_status(fx, &caller, bob, fees).await;
    items_of_every_kind(fx, &caller).await;
    lots_of_every_kind(fx, &caller).await;
    let wallet_core::policy::Caller::Authority(gone) = &other else {
        unreachable!()
    };
    fx.ledger
        .revoke_authority(wallet_core::text::PublicId::parse(&gone.public_id).unwrap())
        .await
        .expect("revokes");
}

/// `buyer` on credit (limit 50) and its holds to `seller`, as
/// [`populate`] says.
async fn holds_of_every_status(fx: &Fixture, caller: &Caller, buyer: WalletId, seller: WalletId) {
    let now = fx.clock.now();
    fx.ledger
        .set_credit_limit(caller, buyer, 50)
        .await
        .expect("sets the limit");
    // `buyer` holds nearly i64::MAX (see `populate`): all but 20 goes.
    let spare = fx.balance(caller, buyer).await - 20;
    completed(fx.post(caller, vec![redeem(buyer, spare)]).await);
    completed(
        fx.post(
            caller,
            vec![
                hold("open", buyer, 7, Some(seller), Some(now + 60_000)),
                hold("split", buyer, 10, Some(seller), None),
                hold("voided", buyer, 4, Some(seller), None),
                hold("late", buyer, 3, Some(seller), Some(now + 10)),
            ],
        )
        .await,
    );
    completed(fx.post(caller, vec![capture("split", Some(6))]).await);
    completed(
        fx.post(caller, vec![capture("split", None), void("voided")])
            .await,
    );
    // 20 - 10 captured = 10, 10 held (open, late): 50 available, all credit.
    completed(fx.post(caller, vec![redeem(buyer, 50)]).await);
    fx.clock.advance(10);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("expires"), 1);
    let buyer_row = fx.wallet_row(caller, buyer).await;
    assert_eq!(
        (buyer_row.balance, buyer_row.held, buyer_row.credit_limit),
        (-40, 7, 50),
        "on credit, with one Open hold"
    );
}

/// Lots: `keeper` with a soon lot (30), a late one (20) and plain value
/// (5) sends 12 of the soon one to `taker`; hold "lotted" earmarks 10 of
/// it; "lotted2" earmarks its other 8 and 7 of the late one, is captured 5
/// (from the soon one, to `taker`) and voided; `spender` spends a lot
/// whole; then the soon lots' time comes: `taker`'s expire, the keeper's
/// expires but for what "lotted" (still Open) earmarks. Every status,
/// every kind of step, one earmark.
async fn lots_of_every_kind(fx: &Fixture, caller: &Caller) {
    use wallet_testkit::fixture::issue_expiring;
    let (keeper, taker, spender) = (
        fx.wallet(caller, None).await,
        fx.wallet(caller, None).await,
        fx.wallet(caller, None).await,
    );
    let now = fx.clock.now();
    for operations in [
        vec![
            issue_expiring(keeper, 30, now + 1_000),
            issue_expiring(keeper, 20, now + 60_000),
            issue(keeper, 5),
            issue_expiring(spender, 3, now + 60_000),
        ],
        vec![transfer(keeper, taker, 12), redeem(spender, 3)],
        vec![hold("lotted", keeper, 10, Some(taker), None)],
        vec![hold("lotted2", keeper, 15, Some(taker), None)],
        vec![capture("lotted2", Some(5))],
        vec![void("lotted2")],
    ] {
        completed(fx.post(caller, operations).await);
    }
    fx.clock.advance(1_000);
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 3);
    assert_eq!(fx.balance(caller, keeper).await, 55 - 12 - 5 - 3);
}

/// Lots of every status, steps of every kind and an earmark are in
/// `records`.
fn assert_lots_are_in(records: &[DumpRecord]) {
    let statuses: std::collections::BTreeSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Lot(l) => Some(l.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["Expired", "Open", "Spent"]
    );
    let kinds: std::collections::BTreeSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::LotStep(s) => Some(s.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["Capture", "Earmark", "Expire", "Release", "Spend"]
    );
    let earmarks: Vec<i64> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Earmark(e) => Some(e.amount),
            _ => None,
        })
        .collect();
    assert_eq!(earmarks, [10], "what the Open hold earmarks");
}

/// API v2's items: ann's sword (properties no float holds) sold to bob
/// and changed, a gem in the stock, an apple consumed: every kind of step,
/// every status, both kinds of owner.
async fn items_of_every_kind(fx: &Fixture, caller: &Caller) {
    use wallet_core::operation::Operation;
    use wallet_core::text::{ItemId, ItemProperties, ItemType};
    let id = |id: &str| ItemId::parse(id).unwrap();
    let grant = |kind: &str, owner: Option<&str>, json: Option<&str>| Operation::GrantItem {
        item_type: ItemType::parse(kind).unwrap(),
        customer_id: owner.map(customer_id),
        properties: json.map(|json| ItemProperties::parse(json).unwrap()),
        item_id: id(kind),
    };
    for operations in [
        vec![
            grant("sword", Some("ann"), Some(EXACT)),
            grant("gem", None, None),
            grant("apple", Some("bob"), Some("[1, 2]")),
        ],
        vec![
            Operation::TransferItem {
                item: id("sword"),
                to: Some(customer_id("bob")),
                from: Some(Some(customer_id("ann"))),
            },
            Operation::SetItemProperties {
                item: id("sword"),
                properties: ItemProperties::parse(CHANGED).unwrap(),
            },
            Operation::ConsumeItem {
                item: id("apple"),
                from: None,
            },
        ],
    ] {
        completed(fx.post(caller, operations).await);
    }
}

/// Properties whose text must survive every move to the byte: numbers no
/// float holds, a trailing zero, spacing.
const EXACT: &str = r#"{"n":123456789012345678901234567890, "f":1.50}"#;
const CHANGED: &str = r#"{"atk":1e400}"#;

/// Every kind of hold status, and a system authority, are in `records`.
fn assert_holds_are_in(records: &[DumpRecord]) {
    assert_items_are_in(records);
    assert_lots_are_in(records);
    let statuses: std::collections::BTreeSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Hold(h) => Some(h.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["Captured", "Expired", "Open", "Voided"]
    );
    assert!(
        records
            .iter()
            .any(|r| matches!(r, DumpRecord::Authority(a) if a.system)),
        "the system authority is exported"
    );
    assert!(
        records
            .iter()
            .any(|r| matches!(r, DumpRecord::Wallet(w) if w.balance < 0 && w.held > 0 && w.credit_limit > 0)),
        "a wallet on credit, with held value"
    );
}

/// Items of both statuses and owners, API v1's and API v2's, with every
/// kind of step, are in `records`, the exact properties among them.
fn assert_items_are_in(records: &[DumpRecord]) {
    use wallet_core::dump::ItemRecord;
    let items: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Item(ItemRecord::Item(i)) => Some(i),
            _ => None,
        })
        .collect();
    let kinds: std::collections::BTreeSet<(&str, bool, bool)> = items
        .iter()
        .map(|i| (i.status.as_str(), i.customer.is_some(), i.v1_entry.is_some()))
        .collect();
    for kind in [
        ("Active", true, false),
        ("Active", false, false),
        ("Consumed", true, false),
        ("Active", true, true),
        ("Consumed", true, true),
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    let steps: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::ItemStep(s) => Some(s),
            _ => None,
        })
        .collect();
    let kinds: std::collections::BTreeSet<&str> = steps.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ConsumeItem", "GrantItem", "SetItemProperties", "TransferItem"]
    );
    assert!(
        steps.iter().any(|s| s.properties.as_deref() == Some(EXACT))
            && items.iter().any(|i| i.properties.as_deref() == Some(CHANGED)),
        "the exact properties"
    );
}

async fn export(store: &Store, project: &'static str) -> Vec<DumpRecord> {
    store
        .read(move |r| {
            let mut records = Vec::new();
            r.export_project(project, &mut |record| {
                records.push(record);
                Ok(())
            })?;
            Ok::<_, StoreError>(records)
        })
        .await
        .expect("exports")
}

fn import_into_postgres(url: &str, records: &[DumpRecord]) -> Result<(), MaintenanceError> {
    let DumpRecord::Project(head) = &records[0] else {
        panic!("the project row comes first")
    };
    let mut import = Import::begin(url, head)?;
    for record in &records[1..] {
        import.insert(record)?;
    }
    import.finish().map(drop)
}

fn postgres_store(url: &str) -> Store {
    let backend: Arc<dyn Backend> =
        Arc::new(PostgresBackend::connect(&PgOptions::new(url)).expect("connects"));
    Store::new(backend)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_moves_between_postgres_databases_unchanged() {
    let source = open();
    populate(&source.fx).await;
    let records = export(&source.store, "moved").await;
    assert!(records.len() > 20, "{} records", records.len());
    assert_holds_are_in(&records);

    let target = PgCluster::shared().fresh_database();
    import_into_postgres(target.url(), &records).expect("imports");
    let store = postgres_store(target.url());
    assert_eq!(
        export(&store, "moved").await,
        records,
        "the same rows, ids and order"
    );
    let report = store.read(|r| r.check()).await.expect("checks");
    assert!(report.is_ok(), "{report:?}");

    // The identity sequences moved past the imported ids: what is written
    // next gets a new id.
    let largest = value(target.url(), "SELECT max(id) FROM wallets")
        .parse::<i64>()
        .unwrap();
    let fx = Fixture::new(TestDb::new(
        Arc::new(PostgresBackend::connect(&PgOptions::new(target.url())).unwrap()),
        (),
    ));
    let caller = fx.authority("moved").await;
    let fresh = fx.wallet(&caller, None).await;
    assert!(fresh.get() > largest, "{fresh} after {largest}");
    let totals = fx
        .ledger
        .customer_wallets(&caller, customer_id("ann"), PageRequest::ALL)
        .await
        .expect("reads");
    assert_eq!(totals.items[0].balance, 500 - 123 + 7);

    // The imported holds work: the Open one is captured in part, a final
    // one stays final, and the project's system authority expires holds.
    // (A new fixture counts its reference ids from 0 again: the imported
    // ones are taken.)
    let post = |reference: &'static str, operation| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .post_transaction(&caller, request(reference, vec![operation]))
                .await
                .expect("answered")
        }
    };
    completed(post("after-1", capture("open", Some(2))).await);
    failed(post("after-2", void("split")).await, FailCode::WrongHoldStatus);
    assert_eq!(fx.hold(&caller, "open").await.remaining, 5);
    // The imported earmark goes back to its lot, which then expires.
    completed(post("after-3", void("lotted")).await);
    fx.clock.advance(60_000);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("expires"), 1);
    assert_eq!(
        fx.ledger.expire_due_lots().await.expect("expires"),
        1,
        "the soon lot's 10"
    );
    assert_eq!(fx.hold(&caller, "open").await.status, HoldStatus::Expired);
    assert_eq!(
        value(
            target.url(),
            "SELECT count(*) FROM authorities WHERE project_id = 'moved' AND system"
        ),
        "1",
        "the imported system authority, not a second one"
    );
    fx.assert_check().await;
}

/// SQLite → export → PostgreSQL → export → SQLite: the same records at
/// every step, and `check` holds on each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_moves_from_sqlite_to_postgres_and_back() {
    let sqlite = SqliteHarness.fresh().await;
    let sqlite_store = sqlite.store();
    populate(&Fixture::new(sqlite)).await;
    let from_sqlite = export(&sqlite_store, "moved").await;
    assert_holds_are_in(&from_sqlite);

    let database = PgCluster::shared().fresh_database();
    import_into_postgres(database.url(), &from_sqlite).expect("imports into PostgreSQL");
    let pg = postgres_store(database.url());
    let from_postgres = export(&pg, "moved").await;
    assert_eq!(from_postgres, from_sqlite);
    assert!(pg.read(|r| r.check()).await.expect("checks").is_ok());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("back.db");
    let DumpRecord::Project(head) = &from_postgres[0] else {
        unreachable!()
    };
    let mut import = wallet_sqlite::Import::begin(&path, head).expect("begins");
    for record in &from_postgres[1..] {
        import.insert(record).expect("inserts");
    }
    import.finish().expect("imports into SQLite");
    let back = wallet_sqlite::SqliteBackend::open(&wallet_sqlite::SqliteOptions::new(&path)).unwrap();
    let back = Store::new(Arc::new(back));
    assert_eq!(export(&back, "moved").await, from_sqlite);
    assert!(back.read(|r| r.check()).await.expect("checks").is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_that_would_break_the_ledger_changes_nothing() {
    let source = open();
    populate(&source.fx).await;
    let records = export(&source.store, "moved").await;

    let mut tampered = records.clone();
    for record in &mut tampered {
        if let DumpRecord::Wallet(w) = record {
            w.balance += 1;
            break;
        }
    }
    let target = PgCluster::shared().fresh_database();
    match import_into_postgres(target.url(), &tampered) {
        Err(MaintenanceError::Violations(report)) => {
            assert!(!report.balance_mismatches.is_empty(), "{report:?}");
        }
        other => panic!("{other:?}"),
    }
    // The database had no schema: a refused import leaves it without one
    // (made in the import's own transaction), as SQLite leaves no file.
    assert_eq!(
        value(target.url(), "SELECT to_regclass('schema_migrations') IS NULL"),
        "t",
        "a refused import into an empty database leaves it empty"
    );

    // An expiry written down as a spend replays to the same lot, but the
    // wallet's Expire entries are no longer its lots' Expire steps.
    let mut relabelled = records.clone();
    for record in &mut relabelled {
        if let DumpRecord::LotStep(s) = record {
            if s.kind == "Expire" {
                s.kind = "Spend".to_owned();
                break;
            }
        }
    }
    match import_into_postgres(target.url(), &relabelled) {
        Err(MaintenanceError::Violations(report)) => {
            assert!(!report.lot_mismatches.is_empty(), "{report:?}");
        }
        other => panic!("{other:?}"),
    }

    let mut dangling = records.clone();
    for record in &mut dangling {
        if let DumpRecord::Entry(e) = record {
            e.wallet = 999_999;
            break;
        }
    }
    match import_into_postgres(target.url(), &dangling) {
        Err(MaintenanceError::Invalid(message)) => assert!(message.contains("999999"), "{message}"),
        other => panic!("{other:?}"),
    }

    // A project that holds data is never overwritten, and a refused import
    // into a database that has the schema leaves what it holds.
    import_into_postgres(target.url(), &records).expect("imports");
    match import_into_postgres(target.url(), &records) {
        Err(MaintenanceError::Refused(message)) => assert!(message.contains("moved"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        value(
            target.url(),
            "SELECT count(*) FROM wallets WHERE project_id = 'moved'"
        ),
        records
            .iter()
            .filter(|r| matches!(r, DumpRecord::Wallet(_)))
            .count()
            .to_string()
    );
}

/// An export made before API v2's items (API v1's items as `{entry, name,
/// data, used}`, no item steps) imports as the schema's step 3 converts
/// such rows: each an item `v1_<entry>` of the entry's user, Consumed if it
/// was used, with its grant in the entry's transaction and its use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_with_old_api_v1_item_records_imports_as_items() {
    use wallet_core::dump::{ItemRecord, V1ItemDump};
    use wallet_core::model::ItemStepKind;
    use wallet_core::text::ItemId;
    use wallet_core::v1::InventoryFilter;

    let source = open();
    populate(&source.fx).await;
    // The same project as an old binary exported it: API v1's items in
    // their old shape, nothing of API v2's items.
    let mut old = Vec::new();
    let mut expected = Vec::new();
    for record in export(&source.store, "moved").await {
        match record {
            DumpRecord::Item(ItemRecord::Item(i)) => {
                if let Some(entry) = i.v1_entry {
                    let used = i.status == "Consumed";
                    expected.push((entry, i.customer, used));
                    old.push(DumpRecord::Item(ItemRecord::V1(V1ItemDump {
                        entry,
                        name: i.item_type,
                        data: i.properties,
                        used,
                    })));
                }
            }
            DumpRecord::ItemStep(_) => {}
            other => old.push(other),
        }
    }
    assert_eq!(expected.len(), 2, "two API v1 items: {expected:?}");

    let target = PgCluster::shared().fresh_database();
    import_into_postgres(target.url(), &old).expect("imports");
    let fx = Fixture::new(TestDb::new(
        Arc::new(PostgresBackend::connect(&PgOptions::new(target.url())).unwrap()),
        (),
    ));
    let report = fx.assert_check().await;
    assert_eq!(report.items, 2);
    let caller = fx.authority("moved").await;
    for (entry, owner, used) in expected {
        let id = ItemId::parse(&format!("v1_{entry}")).unwrap();
        let item = fx.ledger.item(&caller, id.clone()).await.expect("imported");
        assert_eq!(
            (
                item.v1_entry.map(wallet_core::ids::EntryId::get),
                item.owner.map(|o| o.rowid.get()),
                item.status.as_str()
            ),
            (Some(entry), owner, if used { "Consumed" } else { "Active" })
        );
        let history = fx
            .ledger
            .item_history(&caller, id, PageRequest::ALL)
            .await
            .expect("reads");
        let kinds: Vec<_> = history
            .items
            .iter()
            .map(|s| (s.kind, s.transaction.is_some()))
            .collect();
        let mut expected = vec![(ItemStepKind::GrantItem, true)];
        if used {
            expected.push((ItemStepKind::ConsumeItem, false));
        }
        assert_eq!(kinds, expected, "item of entry {entry}");
    }
    let inventory = fx
        .ledger
        .v1_inventory(&caller, InventoryFilter::default())
        .await
        .expect("reads");
    assert_eq!(
        inventory.iter().map(|l| l.item.used).collect::<Vec<_>>(),
        [true, false],
        "API v1 reads them as before"
    );
    // The imported rows' ids are behind the next ones.
    let fresh = fx
        .ledger
        .post_v1_entry(&caller, v1_with_item("ann", 1, "Cap"))
        .await
        .expect("a new item after the imported ones");
    assert!(fresh.item.is_some());
    fx.assert_check().await;
}
