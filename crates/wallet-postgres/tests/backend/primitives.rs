//! The port's primitives in PostgreSQL's SQL: guards that refuse are
//! `Retryable` (as statements and in the writer's group cache alike),
//! claims that lose are `Duplicate` (also against another
//! connection's uncommitted claim), and the credential re-check's share
//! lock orders a revocation after the writes that saw the credential live.

use crate::common::{authority_row, funded, open, open_with, spawn_write, sql, value};
use std::time::Duration;
use wallet_core::ids::{AuthorityRowId, WalletId};
use wallet_core::model::{ItemStatus, TransactionStatus, WalletStatus};
use wallet_core::policy::Caller;
use wallet_core::port::{Claim, ItemUpdate, NewItem, NewTransaction, WriteTx};
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

/// One guarded primitive, as a case of the table below.
type Move = fn(&mut dyn WriteTx, WalletId) -> Result<i64, StoreError>;

/// Runs `op` on `wallet` in a job of its own. `locked`: the job locks the
/// wallet first, so the op runs on the writer's group cache rather than as
/// a statement: both paths must keep the same guards.
async fn attempt(store: &Store, wallet: WalletId, locked: bool, op: Move) -> Result<i64, StoreError> {
    store
        .write(move |tx| {
            if locked {
                tx.lock_wallets("default", &[wallet])?;
            }
            op(tx, wallet)
        })
        .await
}

/// A wallet of balance 10, credit limit 2 and 3 held: 9 available, and
/// `balance + credit_limit` = 12. Every guard of `debit`, `credit` and
/// `adjust_held` refuses at its edge and changes nothing, as a statement
/// and in the group's cache alike; at the edge exactly, they apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_that_refuse_are_retryable_and_change_nothing() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let refusals: [(&str, Move, &str); 11] = [
        (
            "a debit past balance + limit - held",
            |tx, w| tx.debit(w, 13),
            "Retryable",
        ),
        (
            "a debit of the balance, part of it held",
            |tx, w| tx.debit(w, 10),
            "Retryable",
        ),
        (
            "a credit past i64::MAX with the limit",
            |tx, w| tx.credit(w, i64::MAX - 11),
            "Retryable",
        ),
        (
            "a credit of i64::MAX",
            |tx, w| tx.credit(w, i64::MAX),
            "Retryable",
        ),
        (
            "a reservation past balance + limit",
            |tx, w| tx.adjust_held(w, 10),
            "Retryable",
        ),
        (
            "a reservation of i64::MAX",
            |tx, w| tx.adjust_held(w, i64::MAX),
            "Retryable",
        ),
        (
            "a release of more than is held",
            |tx, w| tx.adjust_held(w, -4),
            "Retryable",
        ),
        (
            "a release no hold can make",
            |tx, w| tx.adjust_held(w, i64::MIN),
            "Internal",
        ),
        ("a negative debit", |tx, w| tx.debit(w, -1), "Internal"),
        ("a negative credit", |tx, w| tx.credit(w, -1), "Internal"),
        ("a debit of i64::MAX", |tx, w| tx.debit(w, i64::MAX), "Retryable"),
    ];
    for locked in [false, true] {
        let path = if locked { "cached" } else { "statement" };
        let wallet = db.fx.funded(&caller, None, 10).await;
        db.store
            .write(move |tx| {
                assert!(tx.set_credit_limit(wallet, 2)?);
                tx.adjust_held(wallet, 3)
            })
            .await
            .expect("on credit of 2, 3 held");
        let row = || {
            value(
                db.url(),
                &format!("SELECT balance || ' ' || held FROM wallets WHERE id = {wallet}"),
            )
        };
        for (case, op, expected) in refusals {
            let result = attempt(&db.store, wallet, locked, op).await;
            assert_eq!(kind(&result), expected, "{path}: {case}: {result:?}");
            assert_eq!(row(), "10 3", "{path}: {case} changed the wallet");
        }
        let edges: [(&str, Move, i64); 4] = [
            (
                "a reservation up to balance + limit",
                |tx, w| tx.adjust_held(w, 9),
                12,
            ),
            ("a release of all that is held", |tx, w| tx.adjust_held(w, -12), 0),
            ("a debit of all that is available", |tx, w| tx.debit(w, 12), -2),
            (
                "a credit up to i64::MAX with the limit",
                |tx, w| tx.credit(w, i64::MAX),
                i64::MAX - 2,
            ),
        ];
        for (case, op, after) in edges {
            let result = attempt(&db.store, wallet, locked, op).await;
            assert_eq!(result, Ok(after), "{path}: {case}");
        }
        assert_eq!(row(), format!("{} 0", i64::MAX - 2), "{path}");

        db.store
            .write(move |tx| tx.set_wallet_status(wallet, WalletStatus::Suspended))
            .await
            .expect("suspends");
        let suspended: [(&str, Move, Result<i64, &str>); 3] = [
            (
                "a debit of a Suspended wallet",
                |tx, w| tx.debit(w, 1),
                Err("Retryable"),
            ),
            (
                "a credit of a Suspended wallet",
                |tx, w| tx.credit(w, 0),
                Err("Retryable"),
            ),
            // An expiry releases a Suspended wallet's hold too.
            (
                "a reservation on a Suspended wallet",
                |tx, w| tx.adjust_held(w, 1),
                Ok(1),
            ),
        ];
        for (case, op, expected) in suspended {
            let result = attempt(&db.store, wallet, locked, op).await;
            match expected {
                Ok(after) => assert_eq!(result, Ok(after), "{path}: {case}"),
                Err(kind_of) => assert_eq!(kind(&result), kind_of, "{path}: {case}: {result:?}"),
            }
        }
        assert_eq!(row(), format!("{} 1", i64::MAX - 2), "{path}");
    }
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

    // An API v1 entry's item: only an Active item changes, only in its
    // project; its id is claimed once.
    let entry = db
        .fx
        .ledger
        .post_v1_entry(&caller, v1_with_item("ann", 5, "Hat"))
        .await
        .expect("posts")
        .entry_id;
    let item = db
        .store
        .read(move |r| r.item_of_v1_entry("default", entry))
        .await
        .expect("reads")
        .expect("the entry granted an item");
    assert_eq!(item.v1_entry, Some(entry));
    let use_item = |status: ItemStatus| {
        let (store, id) = (db.store.clone(), item.id.clone());
        let owner = item.owner.as_ref().map(|o| o.rowid);
        async move {
            store
                .write(move |tx| {
                    tx.update_item(
                        "default",
                        &ItemUpdate {
                            id: &id,
                            owner,
                            status,
                            properties: None,
                            updated_at: 9,
                        },
                    )
                })
                .await
        }
    };
    assert_eq!(use_item(ItemStatus::Consumed).await, Ok(()));
    let again = use_item(ItemStatus::Consumed).await;
    assert!(matches!(again, Err(StoreError::Retryable(_))), "{again:?}");
    let elsewhere = db
        .store
        .read(move |r| r.item_of_v1_entry("another", entry))
        .await
        .expect("reads");
    assert_eq!(elsewhere, None, "another project's entry");
    let id = item.id.clone();
    let taken = db
        .store
        .write(move |tx| {
            tx.insert_item(
                "default",
                &NewItem {
                    id: &id,
                    item_type: &item.item_type,
                    properties: None,
                    owner: None,
                    status: ItemStatus::Active,
                    v1_entry: None,
                    created_at: 9,
                },
            )
        })
        .await;
    assert!(matches!(taken, Err(StoreError::Retryable(_))), "{taken:?}");
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
