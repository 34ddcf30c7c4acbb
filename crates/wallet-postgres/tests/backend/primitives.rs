//! The port's primitives in PostgreSQL's SQL: guards that refuse are
//! `Retryable`, claims that lose are `Duplicate` (also against another
//! connection's uncommitted claim), and the credential re-check's share
//! lock orders a revocation after the writes that saw the credential live.

use crate::common::{authority_row, funded, open, open_with, spawn_write, sql, value};
use std::time::Duration;
use wallet_core::ids::{AuthorityRowId, WalletId};
use wallet_core::model::{TransactionStatus, WalletStatus};
use wallet_core::policy::Caller;
use wallet_core::port::{Claim, ItemUse, NewTransaction, WriteTx};
use wallet_core::text::PublicId;
use wallet_core::{Store, StoreError};
use wallet_testkit::fixture::v1_with_item;

fn kind(result: &Result<i64, StoreError>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(StoreError::Retryable(_)) => "Retryable",
        Err(StoreError::Internal(_)) => "Internal",
        Err(_) => "other",
    }
}

async fn move_balance(
    store: &Store,
    work: impl FnMut(&mut dyn WriteTx) -> Result<i64, StoreError> + Send + 'static,
) -> Result<i64, StoreError> {
    store.write(work).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_that_refuse_are_retryable_and_change_nothing() {
    let db = open();
    let (caller, wallet) = funded(&db, 10).await;
    let store = &db.store;
    let open_cases: Vec<(&str, Result<i64, StoreError>, &str)> = vec![
        (
            "a debit past the balance",
            move_balance(store, move |tx| tx.debit(wallet, 11, 0)).await,
            "Retryable",
        ),
        (
            "a debit past a floor",
            move_balance(store, move |tx| tx.debit(wallet, 6, 5)).await,
            "Retryable",
        ),
        (
            "a credit past i64::MAX",
            move_balance(store, move |tx| tx.credit(wallet, i64::MAX - 5)).await,
            "Retryable",
        ),
        (
            "a negative debit",
            move_balance(store, move |tx| tx.debit(wallet, -1, 0)).await,
            "Internal",
        ),
        (
            "a negative credit",
            move_balance(store, move |tx| tx.credit(wallet, -1)).await,
            "Internal",
        ),
        (
            "a debit to the floor exactly",
            move_balance(store, move |tx| tx.debit(wallet, 4, 6)).await,
            "Ok",
        ),
    ];
    for (case, result, expected) in &open_cases {
        assert_eq!(kind(result), *expected, "{case}: {result:?}");
    }
    assert_eq!(db.fx.balance(&caller, wallet).await, 6);

    db.store
        .write(move |tx| tx.set_wallet_status(wallet, WalletStatus::Suspended))
        .await
        .expect("suspends");
    let suspended = [
        (
            "a debit of a Suspended wallet",
            move_balance(store, move |tx| tx.debit(wallet, 1, 0)).await,
        ),
        (
            "a credit of a Suspended wallet",
            move_balance(store, move |tx| tx.credit(wallet, 1)).await,
        ),
    ];
    for (case, result) in &suspended {
        assert_eq!(kind(result), "Retryable", "{case}: {result:?}");
    }
    assert_eq!(
        value(
            db.url(),
            &format!("SELECT balance FROM wallets WHERE id = {wallet}")
        ),
        "6"
    );
}

fn record(authority: AuthorityRowId, reference: &'static str) -> NewTransaction<'static> {
    NewTransaction {
        project_id: "default",
        reference_id: Some(reference),
        authority,
        status: TransactionStatus::Completed,
        error: None,
        description: None,
        operations: None,
        created_at: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_that_lose_answer_duplicate() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let authority = authority_row(&caller);
    let claim = || async {
        db.store
            .write(move |tx| tx.insert_transaction(&record(authority, "ref-1")))
            .await
            .expect("answers")
    };
    assert!(matches!(claim().await, Claim::Inserted(_)));
    assert_eq!(claim().await, Claim::Duplicate);

    let customer = || async {
        db.store
            .write(|tx| tx.insert_customer("default", "ann", None, None, 1))
            .await
            .expect("answers")
    };
    assert!(customer().await.is_some());
    assert_eq!(customer().await, None, "the customer id is taken");

    let entry = db
        .fx
        .ledger
        .post_v1_entry(&caller, v1_with_item("ann", 5, "Hat"))
        .await
        .expect("posts")
        .entry_id;
    let use_item = || async {
        db.store
            .write(move |tx| tx.mark_item_used("default", entry))
            .await
            .expect("answers")
    };
    assert_eq!(use_item().await, ItemUse::Marked);
    assert_eq!(use_item().await, ItemUse::AlreadyUsed);
    let elsewhere = db
        .store
        .write(move |tx| tx.mark_item_used("another", entry))
        .await
        .expect("answers");
    assert_eq!(elsewhere, ItemUse::NoSuchItem);
}

/// Two writers claim one reference id: the second's insert waits for the
/// first's transaction, and once that commits it is `Duplicate`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_waits_for_another_writers_uncommitted_claim_then_is_duplicate() {
    let db = open_with(|o| o.writers = 2);
    let caller = db.fx.authority("default").await;
    let authority = authority_row(&caller);
    let (claimed, wait_claimed) = std::sync::mpsc::channel::<()>();
    let claimed = std::sync::Mutex::new(claimed);
    let first = spawn_write(&db.store, move |tx| {
        let claim = tx.insert_transaction(&record(authority, "race"))?;
        let _ = claimed.lock().unwrap().send(());
        // Holds the claim, uncommitted, while the other writer tries.
        std::thread::sleep(Duration::from_millis(500));
        Ok::<_, StoreError>(claim)
    });
    tokio::task::spawn_blocking(move || wait_claimed.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the first claim is made");
    let second = db
        .store
        .write(move |tx| tx.insert_transaction(&record(authority, "race")))
        .await
        .expect("answers");
    assert!(matches!(first.await.unwrap(), Ok(Claim::Inserted(_))));
    assert_eq!(second, Claim::Duplicate);
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) FROM transactions WHERE reference_id = 'race'"
        ),
        "1"
    );
}

/// A write that re-read its authority holds the row share-locked until it
/// commits: a revocation started meanwhile (on another writer) cannot
/// commit under it. Read again at the end of the write (READ COMMITTED: a
/// committed revocation would show), the authority is still live; the
/// revocation commits after the write. (Which answer arrives first is
/// the scheduler's business; what committed when is this test's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_waits_for_a_write_that_holds_the_authority_row() {
    let db = open_with(|o| o.writers = 2);
    let caller = db.fx.authority("default").await;
    let Caller::Authority(authority) = caller.clone() else {
        unreachable!()
    };
    let (read, wait_read) = std::sync::mpsc::channel::<()>();
    let read = std::sync::Mutex::new(read);
    let store = db.store.clone();
    let write = tokio::spawn(async move {
        let still_live = store
            .write(move |tx| {
                let live = tx.authority_by_rowid(authority.authority)?;
                assert!(live.is_some_and(|a| a.revoked_at.is_none()), "live when read");
                let _ = read.lock().unwrap().send(());
                std::thread::sleep(Duration::from_millis(700));
                tx.set_setting("written", "by the live authority")?;
                let again = tx.authority_by_rowid(authority.authority)?;
                Ok::<_, StoreError>(again.is_some_and(|a| a.revoked_at.is_none()))
            })
            .await;
        still_live
    });
    tokio::task::spawn_blocking(move || wait_read.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the write has read the authority");
    let ledger = db.fx.ledger.clone();
    let public_id = PublicId::parse(&authority.public_id).expect("a public id");
    let revoke = tokio::spawn(async move { ledger.revoke_authority(public_id).await });
    let still_live = write.await.unwrap();
    revoke.await.unwrap().expect("revokes");
    assert!(
        still_live.expect("the write commits"),
        "the revocation committed while a write held the authority"
    );
    assert_eq!(
        db.setting("written").await.as_deref(),
        Some("by the live authority")
    );
    let revoked = db
        .fx
        .ledger
        .authority(PublicId::parse(&authority.public_id).unwrap())
        .await;
    assert!(
        revoked.unwrap().unwrap().revoked_at.is_some(),
        "then it is revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_totals_are_exact_past_i64() {
    let db = open();
    let (caller, wallet) = funded(&db, 1).await;
    let authority = authority_row(&caller);
    let add = |delta: i64| {
        db.store
            .write(move |tx: &mut dyn WriteTx| tx.add_authority_total(wallet, authority, delta))
    };
    for _ in 0..3 {
        add(i64::MAX).await.expect("adds");
    }
    let total = |w: WalletId| db.store.read(move |r| r.authority_total(w, authority));
    assert_eq!(total(wallet).await.unwrap(), Some(1 + 3 * i128::from(i64::MAX)));
    for _ in 0..7 {
        add(i64::MIN).await.expect("adds");
    }
    assert_eq!(
        total(wallet).await.unwrap(),
        Some(1 + 3 * i128::from(i64::MAX) + 7 * i128::from(i64::MIN))
    );
    let stored = sql(
        db.url(),
        &format!("SELECT total::text FROM authority_totals WHERE wallet_id = {wallet}"),
    )
    .unwrap();
    assert_eq!(
        stored,
        vec![Some(
            (1 + 3 * i128::from(i64::MAX) + 7 * i128::from(i64::MIN)).to_string()
        )]
    );
}
