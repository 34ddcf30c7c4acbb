//! `check` from a checkpoint (schema step 6): a clean check records what it
//! covered; the next one checks only what came after, and still finds every
//! violation there; `--full` finds what an incremental check trusts.

use crate::common::{open, sql, value, Db};
use wallet_core::check::{CheckMode, CheckReport};
use wallet_core::policy::Caller;
use wallet_core::Ledger;
use wallet_testkit::fixture::v1;

async fn post(ledger: &Ledger, caller: &Caller, user: &str, amount: i64) {
    ledger
        .post_v1_entry(caller, v1(user, amount))
        .await
        .unwrap_or_else(|e| panic!("{user} {amount}: {e:?}"));
}

async fn check(ledger: &Ledger, full: bool) -> (CheckReport, bool) {
    ledger
        .check_from_checkpoint(full, wallet_core::progress::quiet())
        .await
        .expect("checks")
}

/// A ledger with a clean checkpoint, then two more entries of `u` after it.
async fn checkpointed() -> Db {
    let db = open();
    db.fx.project("pa").await;
    let a = db.fx.authority("pa").await;
    post(&db.fx.ledger, &a, "u", 10).await;
    post(&db.fx.ledger, &a, "v", 5).await;
    let (first, recorded) = check(&db.fx.ledger, false).await;
    assert!(first.is_ok(), "{first:#?}");
    assert_eq!(first.mode, CheckMode::Full, "no checkpoint yet: a full check");
    assert!(recorded, "a clean check records its checkpoint");
    post(&db.fx.ledger, &a, "u", 3).await;
    post(&db.fx.ledger, &a, "u", -2).await;
    db
}

fn tamper(db: &Db, statements: &str) {
    sql(db.url(), statements).unwrap_or_else(|e| panic!("{statements}: {e}"));
}

fn entry(db: &Db, query: &str) -> i64 {
    value(db.url(), query).parse().expect("an id")
}

#[tokio::test]
async fn a_clean_ledger_passes_incrementally_from_its_checkpoint() {
    let db = checkpointed().await;
    let ledger = &db.fx.ledger;
    let (report, recorded) = check(ledger, false).await;
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.mode, CheckMode::Incremental);
    assert!(report.from.is_some(), "names its checkpoint");
    assert!(recorded, "and moves the checkpoint on");
    let last = entry(&db, "SELECT max(id) FROM entries");
    let (again, _) = check(ledger, false).await;
    assert_eq!(again.from.expect("a checkpoint").entry_id, last);
    let (full, _) = check(ledger, true).await;
    assert!(full.is_ok(), "{full:#?}");
    assert_eq!(full.mode, CheckMode::Full, "--full checks everything");
}

#[tokio::test]
async fn violations_after_the_checkpoint_are_found_incrementally() {
    type Found = fn(&CheckReport) -> &Vec<String>;
    let cases: [(&str, &str, Found); 4] = [
        (
            "an edited balance of a wallet with new entries",
            "UPDATE wallets SET balance = balance + 1 WHERE balance = 11",
            |r| &r.balance_mismatches,
        ),
        (
            "a broken balance_after of a new entry",
            "ALTER TABLE entries DISABLE TRIGGER entries_no_change;
             UPDATE entries SET balance_after = balance_after + 1 WHERE id = (SELECT max(id) FROM entries)",
            |r| &r.balance_mismatches,
        ),
        (
            "an unbalanced new transfer",
            "ALTER TABLE entries DISABLE TRIGGER entries_no_change;
             UPDATE entries SET kind = 'Transfer' WHERE id = (SELECT max(id) FROM entries)",
            |r| &r.transfer_mismatches,
        ),
        (
            "a gap in the events after the checkpoint",
            "ALTER TABLE events DISABLE TRIGGER USER;
             DELETE FROM events WHERE project_id = 'pa'
                 AND seq = (SELECT seq - 1 FROM event_heads WHERE project_id = 'pa')",
            |r| &r.event_mismatches,
        ),
    ];
    for (what, statements, found) in cases {
        let db = checkpointed().await;
        tamper(&db, statements);
        let (report, recorded) = check(&db.fx.ledger, false).await;
        assert_eq!(report.mode, CheckMode::Incremental, "{what}");
        assert!(!found(&report).is_empty(), "{what}: {report:#?}");
        assert!(
            !recorded,
            "{what}: a check that finds a violation records nothing"
        );
    }
}

#[tokio::test]
async fn an_edit_before_the_checkpoint_is_trusted_incrementally_and_found_by_full() {
    let db = checkpointed().await;
    // v's only entry, at or before the checkpoint.
    tamper(
        &db,
        "ALTER TABLE entries DISABLE TRIGGER entries_no_change;
         UPDATE entries SET balance_after = balance_after + 1 WHERE balance_after = 5",
    );
    let (report, _) = check(&db.fx.ledger, false).await;
    assert!(
        report.is_ok(),
        "an incremental check trusts the history it checked: {report:#?}"
    );
    let (full, _) = check(&db.fx.ledger, true).await;
    assert_eq!(full.mode, CheckMode::Full);
    assert_eq!(full.balance_mismatches.len(), 1, "{full:#?}");
}

#[tokio::test]
async fn a_wallet_whose_lots_changed_after_the_checkpoint_is_checked_incrementally() {
    use wallet_testkit::fixture::issue_expiring;
    let db = checkpointed().await;
    let a = db.fx.authority("pa").await;
    let w = db.fx.wallet(&a, None).await;
    db.fx
        .post(&a, vec![issue_expiring(w, 7, 9_000_000_000_000)])
        .await;
    let (clean, recorded) = check(&db.fx.ledger, false).await;
    assert!(clean.is_ok() && recorded, "{clean:#?}");
    db.fx
        .post(&a, vec![issue_expiring(w, 2, 9_000_000_000_000)])
        .await;
    // The lot's own numbers and history still agree; only its wallet's
    // balance no longer covers its Open lots.
    tamper(
        &db,
        "UPDATE lots SET amount = amount + 100, remaining = remaining + 100 WHERE id = (SELECT max(id) FROM lots)",
    );
    let (report, _) = check(&db.fx.ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.lot_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn an_item_with_a_step_after_the_checkpoint_is_replayed_incrementally() {
    use wallet_testkit::fixture::v1_with_item;
    let db = checkpointed().await;
    let a = db.fx.authority("pa").await;
    let ledger = &db.fx.ledger;
    ledger
        .post_v1_entry(&a, v1_with_item("u", 1, "Hat"))
        .await
        .expect("posts");
    let (clean, recorded) = check(ledger, false).await;
    assert!(clean.is_ok() && recorded, "{clean:#?}");
    assert_eq!(clean.mode, CheckMode::Incremental);
    ledger
        .post_v1_entry(&a, v1_with_item("u", 1, "Cap"))
        .await
        .expect("posts");
    tamper(
        &db,
        "UPDATE items SET status = 'Consumed' WHERE id = (SELECT max(id) FROM items)",
    );
    let (report, _) = check(ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.item_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn a_lot_touched_after_the_checkpoint_is_replayed_incrementally() {
    use wallet_testkit::fixture::issue_expiring;
    let db = checkpointed().await;
    let a = db.fx.authority("pa").await;
    let w = db.fx.wallet(&a, None).await;
    db.fx
        .post(&a, vec![issue_expiring(w, 7, 9_000_000_000_000)])
        .await;
    let (clean, recorded) = check(&db.fx.ledger, false).await;
    assert!(clean.is_ok() && recorded, "{clean:#?}");
    db.fx
        .post(&a, vec![issue_expiring(w, 2, 9_000_000_000_000)])
        .await;
    // Its numbers still hold and its wallet covers it; its history no
    // longer replays to it.
    tamper(
        &db,
        "UPDATE lots SET amount = amount + 1 WHERE id = (SELECT max(id) FROM lots)",
    );
    let (report, _) = check(&db.fx.ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.lot_mismatches.len(), 1, "{report:#?}");
}

/// Several writers commit out of id order: an entry at or below the largest
/// id a check saw may commit after its snapshot. The checkpoint is then not
/// recorded (the next check starts from the old one and sees that entry).
#[tokio::test]
async fn a_checkpoint_is_not_recorded_past_an_entry_that_committed_after_the_snapshot() {
    let db = checkpointed().await;
    let a = db.fx.authority("pa").await;
    // Leave ids free below the next entry, as a writer still in flight does.
    let last = entry(&db, "SELECT max(id) FROM entries");
    tamper(
        &db,
        &format!(
            "SELECT setval(pg_get_serial_sequence('entries', 'id'), {})",
            last + 5
        ),
    );
    post(&db.fx.ledger, &a, "u", 1).await;
    let from = db.store.read(|r| r.check_checkpoint()).await.expect("reads");
    let report = db
        .store
        .read(move |r| r.check_since(from.as_ref(), &wallet_core::progress::Quiet))
        .await
        .expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    let next = report.next.expect("a checkpoint to record");
    assert_eq!(next.entry_id, last + 6);
    // The late writer commits its entry, below the checkpoint's id.
    tamper(
        &db,
        &format!(
            "CREATE TEMP TABLE late AS SELECT * FROM entries WHERE id = {};
             UPDATE late SET id = {};
             INSERT INTO entries SELECT * FROM late",
            last + 6,
            last + 1
        ),
    );
    let late = next.clone();
    let recorded = db
        .store
        .write(move |tx| tx.record_check_checkpoint(&late))
        .await
        .expect("writes");
    assert!(!recorded, "an entry at or below it committed after the snapshot");
    let kept = db.store.read(|r| r.check_checkpoint()).await.expect("reads");
    assert_eq!(kept.expect("the old checkpoint").entry_id, last - 2);
    // Without it, the same checkpoint is recorded.
    tamper(
        &db,
        &format!(
            "ALTER TABLE entries DISABLE TRIGGER entries_no_change; DELETE FROM entries WHERE id = {}",
            last + 1
        ),
    );
    let recorded = db
        .store
        .write(move |tx| tx.record_check_checkpoint(&next))
        .await
        .expect("writes");
    assert!(recorded);
}
