//! Running totals beyond i64 on a legal ledger (schema step 3): a wallet
//! holds at most i64::MAX, but what one authority issued into it, or a sum
//! over some authorities, can pass that (one issues near MAX again and again
//! while another redeems). Totals read back exactly, no legal entry is
//! refused for their sake, and `check` and import compare and rebuild them
//! exactly.

use crate::common;

use common::{TestDb, PROJECT};
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::dump::DumpRecord;
use wallet_core::policy::Caller;
use wallet_core::v1::WalletTotalsFilter;
use wallet_core::{Ledger, Store, StoreError};
use wallet_sqlite::{BulkLoader, Import, SqliteBackend, SqliteOptions};

const MAX: i64 = i64::MAX;

/// `(total, total_high)` of every running total, straight from the file.
fn stored_columns(path: &std::path::Path) -> Vec<(i64, i64)> {
    let db = rusqlite::Connection::open(path).expect("db");
    let mut stmt = db
        .prepare("SELECT total, total_high FROM authority_totals ORDER BY wallet_id, authority_id")
        .expect("prepares");
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("reads");
    rows.collect::<Result<_, _>>().expect("reads")
}

fn ledger_of(db: &TestDb) -> Ledger {
    Ledger::with_clock(db.store.clone(), Arc::new(ManualClock::at(1_000)))
}

async fn post(ledger: &Ledger, caller: &Caller, user: &str, amount: i64) {
    ledger
        .post_v1_entry(caller, common::v1_entry(user, amount, None))
        .await
        .unwrap_or_else(|e| panic!("{user} {amount}: {e:?}"));
}

/// API v1's total of `user` over `authorities` (`None`: all of them).
async fn v1_total(
    ledger: &Ledger,
    caller: &Caller,
    user: &str,
    authorities: Option<&[&Caller]>,
) -> Option<i128> {
    let filter = WalletTotalsFilter {
        user_ids: Some(vec![user.to_owned()]),
        authority_ids: authorities.map(|list| list.iter().map(|c| public_id(c)).collect()),
    };
    let totals = ledger.v1_wallet_totals(caller, filter).await.expect("reads");
    totals.into_iter().find(|t| t.user_id == user).map(|t| t.total)
}

fn public_id(caller: &Caller) -> String {
    match caller {
        Caller::Authority(a) => a.public_id.clone(),
        other => panic!("not an authority: {other:?}"),
    }
}

#[tokio::test]
async fn a_total_beyond_i64_reads_back_exactly_after_a_reopen() {
    let db = common::open();
    let f = db.fixture().await;
    for _ in 0..3 {
        db.write(move |tx| tx.add_authority_total(f.wallet, f.authority, MAX))
            .await
            .expect("never refused");
    }
    let three_max = 3 * i128::from(MAX);
    // 3 MAX = 2^64 + (2^63 - 3): the low column wraps, the high one carries.
    assert_eq!(stored_columns(db.backend.path()), vec![(MAX - 2, 1)]);

    let path = db.backend.path().to_owned();
    drop(db.store);
    drop(db.backend);
    let backend = SqliteBackend::open(&SqliteOptions::new(&path)).expect("reopens");
    let store = Store::new(Arc::new(backend));
    let total = store
        .read(move |r| r.authority_total(f.wallet, f.authority))
        .await
        .expect("reads");
    assert_eq!(total, Some(three_max));

    // And back down past zero into the negative, exactly.
    for delta in [-MAX, -MAX, -MAX, -MAX, 1] {
        store
            .write(move |tx| tx.add_authority_total(f.wallet, f.authority, delta))
            .await
            .expect("never refused");
    }
    let total = store
        .read(move |r| r.authority_total(f.wallet, f.authority))
        .await
        .expect("reads");
    assert_eq!(total, Some(-i128::from(MAX) + 1));
    assert_eq!(
        stored_columns(&path),
        vec![(-MAX + 1, 0)],
        "within i64: high is 0"
    );
}

#[tokio::test]
async fn an_authority_issuing_max_three_times_with_redeems_between_is_never_refused() {
    let db = common::open();
    let ledger = ledger_of(&db);
    let (a, b) = (
        common::authority(&ledger, "au_issuer").await,
        common::authority(&ledger, "au_redeemer").await,
    );
    // The balance never passes MAX; a's running total reaches 3 MAX (past
    // u64 too), b's -2 MAX.
    for (caller, amount) in [(&a, MAX), (&b, -MAX), (&a, MAX), (&b, -MAX), (&a, MAX)] {
        post(&ledger, caller, "u", amount).await;
    }
    let (three, two) = (3 * i128::from(MAX), 2 * i128::from(MAX));
    let cases: [(Option<&[&Caller]>, i128); 4] = [
        (None, i128::from(MAX)),
        (Some(&[&a]), three),
        (Some(&[&b]), -two),
        (Some(&[&a, &b]), i128::from(MAX)),
    ];
    for (authorities, expected) in cases {
        let total = v1_total(&ledger, &a, "u", authorities).await;
        assert_eq!(
            total,
            Some(expected),
            "over {:?}",
            authorities.map(<[&wallet_core::policy::Caller]>::len)
        );
    }
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");

    // b spends the rest; a's total comes back down by exact arithmetic.
    post(&ledger, &b, "u", -MAX).await;
    post(&ledger, &a, "u", 7).await;
    assert_eq!(v1_total(&ledger, &a, "u", Some(&[&b])).await, Some(-three));
    assert_eq!(v1_total(&ledger, &a, "u", None).await, Some(7));
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");

    // check compares exactly: running totals off by 2^64 are found.
    rusqlite::Connection::open(db.backend.path())
        .and_then(|c| c.execute("UPDATE authority_totals SET total_high = total_high + 1", []))
        .expect("tampers");
    let report = ledger.check().await.expect("checks");
    assert_eq!(
        report.authority_total_mismatches.len(),
        2,
        "both running totals are off: {report:#?}"
    );
}

#[tokio::test]
async fn a_sum_over_authorities_past_i64_is_exact() {
    let db = common::open();
    let ledger = ledger_of(&db);
    let [a, b, c] = [
        common::authority(&ledger, "au_a").await,
        common::authority(&ledger, "au_b").await,
        common::authority(&ledger, "au_c").await,
    ];
    // Each authority's total fits i64; a's and b's together do not.
    post(&ledger, &a, "w", MAX).await;
    post(&ledger, &c, "w", -MAX).await;
    post(&ledger, &b, "w", MAX).await;
    let two = 2 * i128::from(MAX);
    assert_eq!(v1_total(&ledger, &a, "w", Some(&[&a, &b])).await, Some(two));
    assert_eq!(
        v1_total(&ledger, &a, "w", Some(&[&c])).await,
        Some(-i128::from(MAX))
    );
    assert_eq!(v1_total(&ledger, &a, "w", None).await, Some(i128::from(MAX)));
    let unfiltered = ledger
        .v1_wallet_totals(
            &a,
            WalletTotalsFilter {
                user_ids: None,
                authority_ids: Some(vec![public_id(&a), public_id(&b)]),
            },
        )
        .await
        .expect("reads");
    assert_eq!(unfiltered.len(), 1);
    assert_eq!(unfiltered[0].total, two, "the scan of the project sums the same");
}

#[tokio::test]
async fn an_import_rebuilds_running_totals_past_i64() {
    let db = common::open();
    let ledger = ledger_of(&db);
    let (a, b) = (
        common::authority(&ledger, "au_issuer").await,
        common::authority(&ledger, "au_redeemer").await,
    );
    for (caller, amount) in [(&a, MAX), (&b, -MAX), (&a, MAX), (&b, -MAX), (&a, MAX)] {
        post(&ledger, caller, "u", amount).await;
    }
    let records = db
        .read(|r| {
            let mut records = Vec::new();
            r.export_project(PROJECT, &mut |record| {
                records.push(record);
                Ok(())
            })?;
            Ok::<_, StoreError>(records)
        })
        .await
        .expect("exports");

    let target = db.dir.path().join("copy.db");
    let Some(DumpRecord::Project(head)) = records.first() else {
        unreachable!("the project's row comes first")
    };
    let mut import = Import::begin(&target, head).expect("begins");
    for record in &records[1..] {
        import.insert(record).expect("each row goes in");
    }
    import.finish().expect("commits: the totals rebuild exactly");
    assert_eq!(
        stored_columns(&target),
        stored_columns(db.backend.path()),
        "the same running totals as the source"
    );
}

#[tokio::test]
async fn the_bulk_loader_sets_a_running_total_whole() {
    let db = common::open();
    let f = db.fixture().await;
    for _ in 0..2 {
        db.write(move |tx| tx.add_authority_total(f.wallet, f.authority, MAX))
            .await
            .expect("adds");
    }
    assert_eq!(
        stored_columns(db.backend.path()),
        vec![(-2, 1)],
        "2 MAX = 2^64 - 2"
    );
    let path = db.backend.path().to_owned();
    drop(db.store);
    drop(db.backend);

    let mut loader = BulkLoader::open(&path).expect("opens");
    loader
        .chunk(|bulk| bulk.set_balance(f.wallet, f.authority, 5))
        .expect("writes");
    loader.finish().expect("checkpoints");
    assert_eq!(stored_columns(&path), vec![(5, 0)], "not 2^64 + 5");
}
