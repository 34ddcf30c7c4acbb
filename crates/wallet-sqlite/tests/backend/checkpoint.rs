//! `check` from a checkpoint (schema step 9): a clean check records what it
//! covered; the next one checks only what came after, and still finds every
//! violation there; `--full` finds what an incremental check trusts.

use crate::common;

use common::TestDb;
use std::sync::Arc;
use wallet_core::check::{CheckMode, CheckReport};
use wallet_core::clock::ManualClock;
use wallet_core::policy::Caller;
use wallet_core::Ledger;

fn ledger_of(db: &TestDb) -> Ledger {
    Ledger::with_clock(db.store.clone(), Arc::new(ManualClock::at(1_000)))
}

async fn post(ledger: &Ledger, caller: &Caller, user: &str, amount: i64) {
    ledger
        .post_v1_entry(caller, common::v1_entry(user, amount, None))
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
async fn checkpointed() -> (TestDb, Ledger) {
    let db = common::open();
    let ledger = ledger_of(&db);
    let a = common::authority(&ledger, "au_a").await;
    post(&ledger, &a, "u", 10).await;
    post(&ledger, &a, "v", 5).await;
    let (first, recorded) = check(&ledger, false).await;
    assert!(first.is_ok(), "{first:#?}");
    assert_eq!(first.mode, CheckMode::Full, "no checkpoint yet: a full check");
    assert!(recorded, "a clean check records its checkpoint");
    post(&ledger, &a, "u", 3).await;
    post(&ledger, &a, "u", -2).await;
    (db, ledger)
}

fn tamper(db: &TestDb, sql: &str) {
    rusqlite::Connection::open(db.backend.path())
        .and_then(|c| c.execute_batch(sql))
        .expect("tampers");
}

fn last_entry(db: &TestDb) -> i64 {
    rusqlite::Connection::open(db.backend.path())
        .and_then(|c| c.query_row("SELECT max(id) FROM entries", [], |r| r.get(0)))
        .expect("reads")
}

#[tokio::test]
async fn a_clean_ledger_passes_incrementally_from_its_checkpoint() {
    let (_db, ledger) = checkpointed().await;
    let (report, recorded) = check(&ledger, false).await;
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.mode, CheckMode::Incremental);
    let from = report.from.as_ref().expect("names its checkpoint");
    assert_eq!(from.entry_id, 2, "the first check saw two entries");
    assert_eq!(from.created_at, 1_000);
    assert!(recorded, "and moves the checkpoint on");
    let (again, _) = check(&ledger, false).await;
    assert_eq!(again.from.expect("a checkpoint").entry_id, 4);
    let (full, _) = check(&ledger, true).await;
    assert!(full.is_ok(), "{full:#?}");
    assert_eq!(full.mode, CheckMode::Full, "--full checks everything");
}

#[tokio::test]
async fn an_edited_balance_of_a_wallet_with_new_entries_is_found_incrementally() {
    let (db, ledger) = checkpointed().await;
    tamper(&db, "UPDATE wallets SET balance = balance + 1 WHERE balance = 11");
    let (report, recorded) = check(&ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.balance_mismatches.len(), 1, "{report:#?}");
    assert!(!recorded, "a check that finds a violation records nothing");
}

#[tokio::test]
async fn a_broken_balance_after_of_a_new_entry_is_found_incrementally() {
    let (db, ledger) = checkpointed().await;
    let last = last_entry(&db);
    tamper(
        &db,
        &format!(
            "DROP TRIGGER entries_no_update;
             UPDATE entries SET balance_after = balance_after + 1 WHERE id = {}",
            last - 1
        ),
    );
    let (report, _) = check(&ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    // The entry itself and the one after it no longer follow.
    assert_eq!(report.balance_mismatches.len(), 2, "{report:#?}");
}

#[tokio::test]
async fn an_unbalanced_new_transfer_is_found_incrementally() {
    let (db, ledger) = checkpointed().await;
    let last = last_entry(&db);
    tamper(
        &db,
        &format!("DROP TRIGGER entries_no_update; UPDATE entries SET kind = 'Transfer' WHERE id = {last}"),
    );
    let (report, _) = check(&ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.transfer_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn a_gap_in_the_events_after_the_checkpoint_is_found_incrementally() {
    let (db, ledger) = checkpointed().await;
    tamper(
        &db,
        "DROP TRIGGER events_no_delete;
         DELETE FROM events WHERE seq = (SELECT seq - 1 FROM event_heads WHERE project_id = 'default')
                              AND project_id = 'default'",
    );
    let (report, _) = check(&ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.event_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn an_edit_before_the_checkpoint_is_trusted_incrementally_and_found_by_full() {
    let (db, ledger) = checkpointed().await;
    // The first entry of v, at the checkpoint; v has no entry after it.
    tamper(
        &db,
        "DROP TRIGGER entries_no_update;
         UPDATE entries SET balance_after = balance_after + 1 WHERE id = 2",
    );
    let (report, _) = check(&ledger, false).await;
    assert!(
        report.is_ok(),
        "an incremental check trusts the history it checked: {report:#?}"
    );
    let (full, _) = check(&ledger, true).await;
    assert_eq!(full.mode, CheckMode::Full);
    assert_eq!(full.balance_mismatches.len(), 1, "{full:#?}");
}

#[tokio::test]
async fn an_item_with_a_step_after_the_checkpoint_is_replayed_incrementally() {
    let (db, ledger) = checkpointed().await;
    let a = common::authority(&ledger, "au_b").await;
    ledger
        .post_v1_entry(&a, common::v1_entry("u", 1, Some("Hat")))
        .await
        .expect("posts");
    let (clean, _) = check(&ledger, false).await;
    assert!(clean.is_ok(), "{clean:#?}");
    assert_eq!(clean.mode, CheckMode::Incremental);
    ledger
        .post_v1_entry(&a, common::v1_entry("u", 1, Some("Cap")))
        .await
        .expect("posts");
    tamper(
        &db,
        "UPDATE items SET status = 'Consumed' WHERE id = (SELECT max(id) FROM items)",
    );
    let (report, _) = check(&ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.item_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn a_lot_touched_after_the_checkpoint_is_replayed_incrementally() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lots.db");
    let shop = crate::lots::lot_shop(&path).await;
    let ledger = &shop.ledger;
    let (first, recorded) = check(ledger, false).await;
    assert!(first.is_ok() && recorded, "{first:#?}");
    let issue = wallet_core::operation::Operation::Issue {
        destination: shop.wallet,
        amount: wallet_core::operation::Quantity::new(7).expect("valid"),
        expires_at: Some(9_000),
    };
    crate::lots::post(ledger, &shop.caller, "more", vec![issue]).await;
    let (clean, _) = check(ledger, false).await;
    assert!(clean.is_ok(), "{clean:#?}");
    assert_eq!(clean.mode, CheckMode::Incremental);
    let issue = wallet_core::operation::Operation::Issue {
        destination: shop.wallet,
        amount: wallet_core::operation::Quantity::new(2).expect("valid"),
        expires_at: Some(9_000),
    };
    crate::lots::post(ledger, &shop.caller, "again", vec![issue]).await;
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch("UPDATE lots SET amount = amount + 1 WHERE id = (SELECT max(id) FROM lots)")
        })
        .expect("tampers");
    let (report, _) = check(ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert_eq!(report.lot_mismatches.len(), 1, "{report:#?}");
}

#[tokio::test]
async fn expiries_after_the_checkpoint_pass_and_a_stray_expire_entry_is_found_incrementally() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("expire.db");
    let shop = crate::lots::lot_shop(&path).await;
    let ledger = &shop.ledger;
    let (first, recorded) = check(ledger, false).await;
    assert!(first.is_ok() && recorded, "{first:#?}");
    // The Open lot of 10 (4 of it earmarked by hold `h`) expires after the
    // checkpoint: its Expire entry and step are both new, and match.
    shop.clock.set(5_000);
    assert!(ledger.expire_due_lots().await.expect("expires") >= 1);
    let (clean, _) = check(ledger, false).await;
    assert_eq!(clean.mode, CheckMode::Incremental);
    assert!(clean.is_ok(), "{clean:#?}");
    let w = shop.wallet;
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch(&format!(
                "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after,
                                      created_at)
                 SELECT {w}, max(id), 1, 'Expire', -1, 0, 9 FROM transactions"
            ))
        })
        .expect("tampers");
    let (report, _) = check(ledger, false).await;
    assert_eq!(report.mode, CheckMode::Incremental);
    assert!(
        report
            .lot_mismatches
            .iter()
            .any(|m| m.contains("its Expire entries since the checkpoint sum to")),
        "{report:#?}"
    );
}
