//! The port's guarded primitives on SQLite: each promise of `port.rs`, and
//! the SQLite-specific traps under them (integer overflow into REAL).

use crate::common;

use common::{wallet_of, Fixture, TestDb, PROJECT};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::model::{EntryKind, ItemStatus, ItemStepKind, NewAsset, TransactionStatus, WalletStatus};
use wallet_core::port::{Backend, Claim, ItemUpdate, NewEntry, NewItemStep, NewTransaction, WriteTx};
use wallet_core::text::{CustomerId, ItemId};
use wallet_core::StoreError;

fn record(f: Fixture, reference: Option<&str>) -> NewTransaction<'_> {
    NewTransaction {
        project_id: PROJECT,
        reference_id: reference,
        authority: f.authority,
        status: TransactionStatus::Completed,
        error: None,
        description: None,
        operations: None,
        created_at: 1,
    }
}

async fn credit(db: &TestDb, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
    db.write(move |tx| tx.credit(wallet, amount)).await
}

async fn debit(db: &TestDb, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
    db.write(move |tx| tx.debit(wallet, amount)).await
}

#[tokio::test]
async fn debit_takes_only_what_an_open_wallet_has_available() {
    let db = common::open();
    let f = db.fixture().await;
    assert_eq!(credit(&db, f.wallet, 5).await, Ok(5));
    let wallet = f.wallet;
    // available = 5 - 3 held + 2 credit = 4
    db.write(move |tx| {
        assert!(tx.set_credit_limit(wallet, 2)?);
        tx.adjust_held(wallet, 3)
    })
    .await
    .expect("holds 3, on credit of 2");

    let cases = [
        (10, "more than the balance"),
        (5, "the balance, but part of it is held"),
        (-1, "a negative amount"),
    ];
    for (amount, what) in cases {
        let refused = debit(&db, f.wallet, amount).await;
        assert!(refused.is_err(), "{what}: {refused:?}");
        assert_eq!(db.balance(f.wallet).await, 5, "{what} changed the balance");
    }
    assert!(matches!(
        debit(&db, f.wallet, 5).await,
        Err(StoreError::Retryable(_))
    ));
    assert_eq!(
        debit(&db, f.wallet, 4).await,
        Ok(1),
        "all that is available: balance - held = -credit_limit"
    );
    assert!(debit(&db, f.wallet, 1).await.is_err(), "one unit more");

    db.write(move |tx| tx.adjust_held(wallet, -3))
        .await
        .expect("releases");
    db.write(move |tx| tx.set_wallet_status(wallet, WalletStatus::Suspended))
        .await
        .expect("suspends");
    assert!(
        matches!(debit(&db, f.wallet, 1).await, Err(StoreError::Retryable(_))),
        "a wallet that is not Open gives nothing"
    );
    assert_eq!(db.balance(f.wallet).await, 1);
}

#[tokio::test]
async fn credit_never_lets_a_balance_overflow_into_a_real() {
    let db = common::open();
    let f = db.fixture().await;
    assert_eq!(credit(&db, f.wallet, i64::MAX - 1).await, Ok(i64::MAX - 1));

    let refused = credit(&db, f.wallet, 2).await;
    assert!(matches!(refused, Err(StoreError::Retryable(_))), "{refused:?}");
    // Read back as an integer: a REAL here would read as Corrupt.
    assert_eq!(db.balance(f.wallet).await, i64::MAX - 1);
    assert_eq!(
        credit(&db, f.wallet, 1).await,
        Ok(i64::MAX),
        "up to the largest amount exactly"
    );
    assert!(credit(&db, f.wallet, i64::MAX).await.is_err());
    assert_eq!(db.balance(f.wallet).await, i64::MAX);

    // With a credit limit, `balance + credit_limit` stays within i64: the
    // wallet's available value always fits.
    let lent = db
        .write(move |tx| tx.insert_wallet(&wallet_of(None, f.asset)))
        .await
        .expect("opens");
    db.write(move |tx| tx.set_credit_limit(lent, 10))
        .await
        .expect("sets");
    assert_eq!(credit(&db, lent, i64::MAX - 10).await, Ok(i64::MAX - 10));
    assert!(matches!(
        credit(&db, lent, 1).await,
        Err(StoreError::Retryable(_))
    ));
    assert_eq!(db.balance(lent).await, i64::MAX - 10);

    let closed = db
        .write(move |tx| tx.insert_wallet(&wallet_of(None, f.asset)))
        .await
        .expect("opens");
    db.write(move |tx| tx.set_wallet_status(closed, WalletStatus::Closed))
        .await
        .expect("closes");
    assert!(matches!(
        credit(&db, closed, 1).await,
        Err(StoreError::Retryable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_id_is_claimed_once_even_inside_one_group() {
    let db = common::open();
    let f = db.fixture().await;
    let commits_before = db.backend.stats().commits;

    let blocker = db.hold_writer().await;
    let jobs: Vec<_> = (0..2)
        .map(|_| {
            let store = db.store.clone();
            tokio::spawn(async move {
                store
                    .write(move |tx| tx.insert_transaction(&record(f, Some("ref-1"))))
                    .await
            })
        })
        .collect();
    blocker.await.expect("joined").expect("the blocker commits");
    let mut claims: Vec<Claim> = Vec::new();
    for claim in claims_of(jobs).await {
        claims.push(claim.expect("a duplicate is an answer, not an error"));
    }
    let inserted = claims.iter().filter(|c| matches!(c, Claim::Inserted(_))).count();
    assert_eq!(inserted, 1, "{claims:?}");
    assert!(claims.contains(&Claim::Duplicate), "{claims:?}");
    assert_eq!(
        db.backend.stats().commits - commits_before,
        2,
        "the blocker, then both claims in one group"
    );

    let again = db
        .write(move |tx| {
            let first = tx.insert_transaction(&record(f, Some("ref-2")))?;
            let second = tx.insert_transaction(&record(f, Some("ref-2")))?;
            Ok((first, second))
        })
        .await
        .expect("commits");
    assert!(
        matches!(again, (Claim::Inserted(_), Claim::Duplicate)),
        "{again:?}"
    );
    let v1 = db
        .write(move |tx| {
            Ok((
                tx.insert_transaction(&record(f, None))?,
                tx.insert_transaction(&record(f, None))?,
            ))
        })
        .await
        .expect("commits");
    assert!(
        matches!(v1, (Claim::Inserted(_), Claim::Inserted(_))),
        "entries without a reference never collide: {v1:?}"
    );
}

async fn claims_of<T>(jobs: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for job in jobs {
        out.push(job.await.expect("joined"));
    }
    out
}

#[tokio::test]
async fn running_totals_move_by_delta_and_pass_i64_exactly() {
    let db = common::open();
    let f = db.fixture().await;
    let total = |db: &TestDb| {
        let store = db.store.clone();
        async move {
            store
                .read(move |r| r.authority_total(f.wallet, f.authority))
                .await
                .expect("reads")
        }
    };
    assert_eq!(total(&db).await, None, "no entries, no total");

    for delta in [5, -7] {
        db.write(move |tx| tx.add_authority_total(f.wallet, f.authority, delta))
            .await
            .expect("adds");
    }
    assert_eq!(total(&db).await, Some(-2));

    for delta in [i64::MAX - 10, 20] {
        db.write(move |tx| tx.add_authority_total(f.wallet, f.authority, delta))
            .await
            .expect("a total past i64 is legal: never refused");
    }
    assert_eq!(
        total(&db).await,
        Some(i128::from(i64::MAX) + 8),
        "exact, and still integers (a REAL would read as Corrupt)"
    );
}

/// Items through the port: an id is taken once per project (a second
/// insert is `Retryable`: the planner saw it free), only an Active item
/// changes, locks read only the project's items and customers, in id order,
/// and an API v1 entry finds only its own project's item.
#[tokio::test]
async fn an_item_id_is_taken_once_and_only_an_active_item_changes() {
    let db = common::open();
    let f = db.fixture().await;
    let (transaction, with_item) = db
        .write(move |tx| {
            let Claim::Inserted(transaction) = tx.insert_transaction(&record(f, None))? else {
                return Err(StoreError::Internal("claimed".to_owned()));
            };
            let with_item = tx.append_entry(&entry(f, transaction))?;
            common::grant_v1_item(tx, f, transaction, with_item, "hat", Some(r#"{"size":3}"#))?;
            Ok((transaction, with_item))
        })
        .await
        .expect("written");
    db.write(|tx| tx.create_project("other", "Other", &NewAsset::default_points(), 1))
        .await
        .expect("created");

    let again = db
        .write(move |tx| common::grant_v1_item(tx, f, transaction, with_item, "hat", None))
        .await;
    assert!(
        matches!(again, Err(StoreError::Retryable(_))),
        "a taken id: {again:?}"
    );
    let update = |project: &'static str, id: &'static str, status: ItemStatus| {
        let store = db.store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.update_item(
                        project,
                        &ItemUpdate {
                            id: &item_id(id),
                            owner: None,
                            status,
                            properties: None,
                            updated_at: 3,
                        },
                    )
                })
                .await
        }
    };
    for (project, id, what) in [
        ("other", "hat", "another project's item"),
        (PROJECT, "cap", "no such item"),
    ] {
        let answer = update(project, id, ItemStatus::Active).await;
        assert!(
            matches!(answer, Err(StoreError::Retryable(_))),
            "{what}: {answer:?}"
        );
    }
    assert_eq!(
        update(PROJECT, "hat", ItemStatus::Active).await,
        Ok(()),
        "to the stock"
    );
    assert_eq!(
        update(PROJECT, "hat", ItemStatus::Consumed).await,
        Ok(()),
        "used up"
    );
    let answer = update(PROJECT, "hat", ItemStatus::Active).await;
    assert!(
        matches!(answer, Err(StoreError::Retryable(_))),
        "a Consumed item never changes again: {answer:?}"
    );
    let stored = db
        .read(|r| r.item(PROJECT, &item_id("hat")))
        .await
        .expect("reads")
        .expect("the item");
    assert_eq!(
        (stored.owner, stored.status, stored.properties, stored.updated_at),
        (None, ItemStatus::Consumed, None, 3)
    );

    let (items, customers, elsewhere) = db
        .write(move |tx| {
            let items = tx.lock_items(PROJECT, &[item_id("cap"), item_id("hat")])?;
            let customers = tx.lock_customers(PROJECT, &[customer_id("alice"), customer_id("zed")])?;
            let elsewhere = tx.lock_items("other", &[item_id("hat")])?;
            Ok((items, customers, elsewhere))
        })
        .await
        .expect("locks");
    assert_eq!(items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["hat"]);
    assert_eq!(
        customers.iter().map(|c| c.rowid).collect::<Vec<_>>(),
        [f.customer]
    );
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    let (mine, theirs) = db
        .read(move |r| {
            Ok((
                r.item_of_v1_entry(PROJECT, with_item)?,
                r.item_of_v1_entry("other", with_item)?,
            ))
        })
        .await
        .expect("reads");
    assert_eq!(mine.map(|i| i.id), Some(item_id("hat")));
    assert_eq!(theirs, None);
    let orphan = db
        .write(move |tx| {
            tx.append_item_step(
                PROJECT,
                &NewItemStep {
                    item: &item_id("cap"),
                    transaction,
                    kind: ItemStepKind::TransferItem,
                    from: None,
                    to: None,
                    properties: None,
                    created_at: 3,
                },
            )
        })
        .await;
    assert!(
        matches!(orphan, Err(StoreError::Internal(_))),
        "a step of no item: {orphan:?}"
    );
}

fn item_id(id: &str) -> ItemId {
    ItemId::parse(id).expect("valid")
}

fn customer_id(id: &str) -> CustomerId {
    CustomerId::parse(id).expect("valid")
}

fn entry(f: Fixture, transaction: TransactionId) -> NewEntry<'static> {
    NewEntry {
        wallet: f.wallet,
        transaction,
        authority: f.authority,
        kind: EntryKind::Issue,
        amount: 0,
        balance_after: 0,
        reason: None,
        created_at: 1,
    }
}

#[tokio::test]
async fn taken_ids_are_answers_not_errors() {
    let db = common::open();
    db.fixture().await;
    let (customer, project) = db
        .write(|tx| {
            let customer = tx.insert_customer(PROJECT, "alice", Some("again"), None, 2)?;
            let project = tx.create_project(PROJECT, "again", &NewAsset::default_points(), 2)?;
            Ok((customer, project))
        })
        .await
        .expect("commits");
    assert_eq!((customer, project), (None, false));
    let alice = db
        .read(|r| r.customer(PROJECT, "alice"))
        .await
        .expect("reads")
        .expect("alice");
    assert_eq!(alice.name, None, "the existing customer is left as it is");
}

#[tokio::test]
async fn the_first_wallet_of_an_asset_is_the_customers_default() {
    let db = common::open();
    let f = db.fixture().await;
    let (second, system, other_default) = db
        .write(move |tx| {
            let second = tx.insert_wallet(&wallet_of(Some(f.customer), f.asset))?;
            let system = tx.insert_wallet(&wallet_of(None, f.asset))?;
            let gold = NewAsset {
                code: "GOLD".to_owned(),
                name: "Gold".to_owned(),
                fractions: 100,
            };
            let gold = tx.insert_asset(PROJECT, &gold, 1)?;
            let other = tx.insert_wallet(&wallet_of(Some(f.customer), gold))?;
            let default = tx.default_wallet(f.customer, gold)?.map(|w| w.id);
            assert!(
                tx.asset(PROJECT, gold)?.is_some_and(|a| a.used),
                "opening a wallet uses its asset"
            );
            Ok((second, system, (other, default)))
        })
        .await
        .expect("commits");
    let default = db
        .read(move |r| r.default_wallet(f.customer, f.asset))
        .await
        .expect("reads")
        .map(|w| w.id);
    assert_eq!(
        default,
        Some(f.wallet),
        "the first wallet, not {second} or {system}"
    );
    assert_eq!(
        other_default.1,
        Some(other_default.0),
        "each asset has its own default"
    );
}

#[tokio::test]
async fn lock_wallets_reads_the_projects_wallets_in_id_order() {
    let db = common::open();
    let f = db.fixture().await;
    let (a, b, foreign) = db
        .write(move |tx| {
            let a = tx.insert_wallet(&wallet_of(None, f.asset))?;
            let b = tx.insert_wallet(&wallet_of(None, f.asset))?;
            tx.create_project("other", "Other", &NewAsset::default_points(), 1)?;
            let asset = tx.project("other")?.map(|p| p.default_asset).expect("created");
            let mut foreign = wallet_of(None, asset);
            foreign.project_id = "other";
            Ok((a, b, tx.insert_wallet(&foreign)?))
        })
        .await
        .expect("commits");
    let missing = WalletId::new(9_999);
    let locked = db
        .write(move |tx| tx.lock_wallets(PROJECT, &[b, missing, foreign, f.wallet, a]))
        .await
        .expect("locks");
    let ids: Vec<WalletId> = locked.iter().map(|w| w.id).collect();
    assert_eq!(ids, [f.wallet, a, b], "missing and foreign ids are left out");
    let none = db.write(|tx| tx.lock_wallets(PROJECT, &[])).await.expect("locks");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_stored_status_this_binary_does_not_know_reads_as_corrupt() {
    let db = common::open();
    let f = db.fixture().await;
    let conn = rusqlite::Connection::open(db.backend.path()).expect("opens the file");
    conn.execute_batch("PRAGMA ignore_check_constraints = ON")
        .expect("pragma");
    conn.execute(
        "UPDATE wallets SET status = 'Melted' WHERE id = ?1",
        [f.wallet.get()],
    )
    .expect("corrupts");

    let read = db.read(move |r| r.wallet(PROJECT, f.wallet)).await;
    assert!(
        matches!(&read, Err(StoreError::Corrupt(m)) if m.contains("wallets.status")),
        "{read:?}"
    );
    let locked = db.write(move |tx| tx.lock_wallets(PROJECT, &[f.wallet])).await;
    assert!(matches!(locked, Err(StoreError::Corrupt(_))), "{locked:?}");
}

/// `WriteTx` is object-safe and `SqlTx` implements all of it: a write job
/// can read its own writes before they commit.
#[tokio::test]
async fn a_write_job_reads_its_own_writes() {
    let db = common::open();
    let seen = db
        .write(|tx: &mut dyn WriteTx| {
            tx.set_setting("mine", "v")?;
            tx.setting("mine")
        })
        .await
        .expect("commits");
    assert_eq!(seen.as_deref(), Some("v"));
}

/// Admin sessions are rows: found by digest, ended one by one, and pruned
/// when they expire or were opened under another password.
#[tokio::test]
async fn admin_sessions_are_kept_found_and_pruned() {
    use wallet_core::model::AdminSession;
    let db = common::open();
    let session = |token: u8, stamp: u8, expires_at| AdminSession {
        token_digest: vec![token; 32],
        password_stamp: vec![stamp; 32],
        created_at: 0,
        expires_at,
    };
    let ended = db
        .store
        .write(move |tx| -> Result<u64, StoreError> {
            tx.insert_admin_session(&session(1, 9, 1_000))?;
            tx.insert_admin_session(&session(2, 9, 10))?;
            tx.insert_admin_session(&session(3, 8, 1_000))?;
            tx.insert_admin_session(&session(4, 9, 1_000))?;
            tx.delete_admin_session(&[4; 32])?;
            tx.prune_admin_sessions(&[9; 32], 100)
        })
        .await
        .unwrap();
    assert_eq!(ended, 2, "the expired one and the other password's");
    let found = db
        .store
        .read(|r| -> Result<_, StoreError> {
            Ok([1u8, 2, 3, 4].map(|t| r.admin_session(&[t; 32]).unwrap().map(|s| s.expires_at)))
        })
        .await
        .unwrap();
    assert_eq!(found, [Some(1_000), None, None, None]);
}
