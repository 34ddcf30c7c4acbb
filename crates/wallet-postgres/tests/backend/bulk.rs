//! The benchmark's bulk path: a `COPY` preload leaves the ledger the writer
//! would have (check green, text as given, sequences past the loaded ids),
//! Open lots included, and a benchmark takes only an empty database or its
//! own.

use crate::common::{authority_row, sql, value};
use std::sync::Arc;
use wallet_core::ids::{AssetId, AuthorityRowId, TransactionId, WalletId};
use wallet_core::model::{EntryKind, TransactionStatus};
use wallet_core::policy::Caller;
use wallet_core::port::{Backend, NewEntry, NewTransaction};
use wallet_core::{Store, StoreError};
use wallet_postgres::{prepare_bench_database, BenchDatabase, BulkLoader, PgOptions, PostgresBackend};
use wallet_testkit::fixture::transfer;
use wallet_testkit::{Fixture, PgCluster, TestDb};

/// Every character `COPY`'s text format escapes, and some it does not.
const AWKWARD: &str = "tab\there, new\nline, return\r, back\\slash \\N, \"quoted\" 'single' é";

/// Three funded customers and one transfer between the first two, by the
/// loader. Returns the wallets and the transfer's transaction.
fn load(url: &str, asset: AssetId, authority: AuthorityRowId) -> (Vec<WalletId>, TransactionId) {
    let url = url.to_owned();
    // The loader's client blocks: a thread of its own, as the bench does.
    std::thread::spawn(move || {
        let mut loader = BulkLoader::open(&url).expect("opens");
        loader.chunk(|tx| tx.mark_asset_used(asset)).expect("marks");
        let wallets = loader
            .chunk(|tx| {
                let mut wallets = Vec::new();
                for i in 0..3 {
                    let wallet = tx.customer_wallet("default", asset, &format!("bulk{i}"), 1_000 + i)?;
                    let funding = tx.transaction(&NewTransaction {
                        project_id: "default",
                        reference_id: None,
                        authority,
                        status: TransactionStatus::Completed,
                        error: None,
                        description: Some("welcome"),
                        operations: None,
                        created_at: 1_000 + i,
                    })?;
                    let entry = tx.entry(&NewEntry {
                        wallet,
                        transaction: funding,
                        authority,
                        kind: EntryKind::Issue,
                        amount: 100,
                        balance_after: 100,
                        reason: None,
                        created_at: 1_000 + i,
                    })?;
                    tx.item(entry, "Starter pack", Some(r#"{"level":1}"#))?;
                    wallets.push(wallet);
                }
                Ok(wallets)
            })
            .expect("loads the customers");
        let moved = loader
            .chunk(|tx| {
                let id = tx.transaction(&NewTransaction {
                    project_id: "default",
                    reference_id: Some("bulk-1"),
                    authority,
                    status: TransactionStatus::Completed,
                    error: None,
                    description: Some(AWKWARD),
                    operations: Some(r#"[{"type":"Transfer"}]"#),
                    created_at: 2_000,
                })?;
                for (wallet, amount, after) in [(wallets[0], -30, 70), (wallets[1], 30, 130)] {
                    tx.entry(&NewEntry {
                        wallet,
                        transaction: id,
                        authority,
                        kind: EntryKind::Transfer,
                        amount,
                        balance_after: after,
                        reason: Some(AWKWARD),
                        created_at: 2_000,
                    })?;
                }
                for (wallet, balance) in wallets.iter().zip([70, 130, 100]) {
                    tx.set_balance(*wallet, authority, balance)?;
                }
                Ok(id)
            })
            .expect("loads the transfer");
        loader.finish().expect("finishes");
        (wallets, moved)
    })
    .join()
    .expect("the loader thread")
}

fn connect(url: &str) -> (Arc<PostgresBackend>, Store, Fixture) {
    let backend = Arc::new(PostgresBackend::connect(&PgOptions::new(url)).expect("connects"));
    let dyn_backend: Arc<dyn Backend> = backend.clone();
    (
        backend,
        Store::new(dyn_backend.clone()),
        Fixture::new(TestDb::new(dyn_backend, ())),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_load_is_the_ledger_the_writer_would_leave_and_the_server_goes_on_from_it() {
    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    assert_eq!(prepare_bench_database(&url), Ok(BenchDatabase::Empty));
    let (backend, store, fx) = connect(&url);
    let caller = fx.authority("default").await;
    let Caller::Authority(authority) = &caller else {
        unreachable!()
    };
    let asset = authority.default_asset;

    let (wallets, moved) = load(&url, asset, authority_row(&caller));

    let report = fx.ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(
        (report.wallets, report.entries, report.transactions, report.items),
        (3, 5, 4, 3)
    );
    // The loaded API v1 items are items of the entries' users, as the
    // ledger grants them.
    let inventory = fx
        .ledger
        .v1_inventory(&caller, wallet_core::v1::InventoryFilter::default())
        .await
        .expect("reads");
    assert_eq!(
        inventory
            .iter()
            .map(|l| (
                l.user_id.as_str(),
                l.item.name.as_str(),
                l.item.data.as_deref(),
                l.item.used
            ))
            .collect::<Vec<_>>(),
        ["bulk0", "bulk1", "bulk2"].map(|user| (user, "Starter pack", Some(r#"{"level":1}"#), false))
    );
    let totals = backend.asset_totals(asset).await.expect("totals");
    assert_eq!((totals.wallets, totals.balance_sum), (3, 300));
    let stored = store
        .read(move |r| r.transaction("default", moved))
        .await
        .expect("reads")
        .expect("the transfer is there");
    assert_eq!(stored.description.as_deref(), Some(AWKWARD), "COPY escaping");
    assert_eq!(
        value(
            &url,
            "SELECT count(DISTINCT reason) FROM entries WHERE reason IS NOT NULL"
        ),
        "1"
    );
    assert!(backend.database_bytes().await.expect("sizes") > 0);

    // The server's own writes take ids past the loaded ones, and balances
    // move on from the loaded ones.
    fx.post(&caller, vec![transfer(wallets[1], wallets[2], 130)])
        .await;
    let opened = fx.wallet(&caller, None).await;
    assert!(opened > wallets[2], "{opened} reuses a loaded id");
    let after = fx.ledger.check().await.expect("checks");
    assert!(after.is_ok(), "{after:#?}");
    assert_eq!(
        value(
            &url,
            &format!("SELECT balance FROM wallets WHERE id = {}", wallets[2])
        ),
        "230"
    );

    // The next benchmark on it starts from nothing.
    drop((fx, store, backend));
    assert_eq!(prepare_bench_database(&url), Ok(BenchDatabase::Reset));
    assert_eq!(value(&url, "SELECT count(*) FROM wallets"), "0");
    assert_eq!(
        value(&url, "SELECT count(*) FROM projects"),
        "1",
        "the default project"
    );
}

/// `BulkTx::lot`: an Issue with an expiry as the ledger leaves one (its
/// entry and an Open lot of its amount in its transaction), so a preload
/// can give wallets Open lots: check holds, the lots read and are spent
/// soonest first, the server's next lot gets a new id, and anything but
/// an Issue of a positive amount is refused with nothing of its chunk
/// written.
#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_load_of_lots_is_what_issues_with_an_expiry_leave() {
    use wallet_core::model::{LotStatus, PageRequest};
    use wallet_testkit::fixture::T0;

    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    assert_eq!(prepare_bench_database(&url), Ok(BenchDatabase::Empty));
    let (_backend, _store, fx) = connect(&url);
    let caller = fx.authority("default").await;
    let Caller::Authority(a) = &caller else {
        unreachable!()
    };
    let (asset, authority) = (a.default_asset, authority_row(&caller));
    let loading = url.clone();
    let (wallet, lots, refused) = std::thread::spawn(move || {
        let mut loader = BulkLoader::open(&loading).expect("opens");
        loader.chunk(|tx| tx.mark_asset_used(asset)).expect("marks");
        let issue = |tx: &mut wallet_postgres::BulkTx, wallet, amount, after, at| {
            let transaction = tx.transaction(&NewTransaction {
                project_id: "default",
                reference_id: None,
                authority,
                status: TransactionStatus::Completed,
                error: None,
                description: None,
                operations: None,
                created_at: at,
            })?;
            Ok::<_, StoreError>(NewEntry {
                wallet,
                transaction,
                authority,
                kind: EntryKind::Issue,
                amount,
                balance_after: after,
                reason: None,
                created_at: at,
            })
        };
        let (wallet, lots) = loader
            .chunk(|tx| {
                let wallet = tx.customer_wallet("default", asset, "lotted", 1_000)?;
                let plain = issue(tx, wallet, 100, 100, 1_000)?;
                tx.entry(&plain)?;
                let mut lots = Vec::new();
                for (n, expires_at) in [T0 + 3_000, T0 + 1_000, T0 + 2_000].into_iter().enumerate() {
                    let n = i64::try_from(n).unwrap();
                    let entry = issue(tx, wallet, 10, 110 + 10 * n, 1_001 + n)?;
                    lots.push(tx.lot(&entry, expires_at)?);
                }
                tx.set_balance(wallet, authority, 130)?;
                Ok((wallet, lots))
            })
            .expect("loads the lots");
        let refused = loader.chunk(|tx| {
            let wallet = tx.customer_wallet("default", asset, "never", 2_000)?;
            let mut entry = issue(tx, wallet, -5, 0, 2_000)?;
            entry.kind = EntryKind::Redeem;
            tx.lot(&entry, T0 + 1_000).map(drop)
        });
        loader.finish().expect("finishes");
        (wallet, lots, refused)
    })
    .join()
    .expect("the loader thread");
    assert!(matches!(refused, Err(StoreError::Internal(_))), "{refused:?}");
    assert_eq!(
        value(&url, "SELECT count(*) FROM customers WHERE external_id = 'never'"),
        "0"
    );

    let report = fx.assert_check().await;
    assert_eq!((report.lots, report.entries, report.transactions), (3, 4, 4));
    let read = fx
        .ledger
        .wallet_lots(&caller, wallet, Some(LotStatus::Open), PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    assert_eq!(
        read.iter()
            .map(|l| (l.id, l.amount, l.remaining, l.expires_at - T0, l.created_at))
            .collect::<Vec<_>>(),
        [
            (lots[1], 10, 10, 1_000, 1_002),
            (lots[2], 10, 10, 2_000, 1_003),
            (lots[0], 10, 10, 3_000, 1_001)
        ],
        "soonest first"
    );
    let other = fx.wallet(&caller, None).await;
    wallet_testkit::answers::completed(fx.post(&caller, vec![transfer(wallet, other, 15)]).await);
    let left = fx
        .ledger
        .wallet_lots(&caller, wallet, None, PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    assert_eq!(
        left.iter().map(|l| (l.remaining, l.status)).collect::<Vec<_>>(),
        [(0, LotStatus::Spent), (5, LotStatus::Open), (10, LotStatus::Open)]
    );
    let arrived = fx
        .ledger
        .wallet_lots(&caller, other, None, PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    assert!(
        arrived.iter().all(|l| l.id > lots[2]),
        "new lots after the loaded ones: {arrived:?}"
    );
    fx.assert_check().await;
}

#[test]
fn a_benchmark_never_takes_a_database_it_did_not_make() {
    let foreign = PgCluster::shared().fresh_database();
    sql(
        foreign.url(),
        "CREATE TABLE precious (note text); INSERT INTO precious VALUES ('keep')",
    )
    .expect("a table of someone else's");
    let ledger = PgCluster::shared().fresh_database();
    drop(PostgresBackend::connect(&PgOptions::new(ledger.url())).expect("a server's ledger"));
    for (what, database, table) in [
        ("a table of its own", &foreign, "precious"),
        ("a server's ledger", &ledger, "projects"),
    ] {
        let refused = prepare_bench_database(database.url());
        assert!(
            matches!(&refused, Err(StoreError::Schema(why)) if why.contains("is not empty")),
            "{what}: {refused:?}"
        );
        let count = value(database.url(), &format!("SELECT count(*) FROM {table}"));
        assert_ne!(count, "0", "{what}: the benchmark emptied it");
    }
}
