//! Holds, held values, credit limits and the system authority on SQLite:
//! the port's promises for them, the guards' SQL (no overflow into REAL),
//! and the indexes the reads are meant to use.

use crate::common;

use common::{wallet_of, Fixture, TestDb, PROJECT};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::model::{EntryKind, Hold, HoldStatus, NewAsset, PageRequest, TransactionStatus};
use wallet_core::port::{HoldUpdate, NewEntry, NewTransaction};
use wallet_core::text::HoldId;
use wallet_core::{StoreError, MAX_CREDIT_LIMIT};

async fn credit(db: &TestDb, wallet: WalletId, amount: i64) {
    db.write(move |tx| tx.credit(wallet, amount))
        .await
        .expect("credits");
}

async fn adjust(db: &TestDb, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
    db.write(move |tx| tx.adjust_held(wallet, amount)).await
}

async fn held(db: &TestDb, wallet: WalletId) -> i64 {
    db.read(move |r| Ok(r.wallet(PROJECT, wallet)?.expect("the wallet").held))
        .await
        .expect("reads")
}

fn transaction(f: Fixture) -> NewTransaction<'static> {
    NewTransaction {
        project_id: PROJECT,
        reference_id: None,
        authority: f.authority,
        status: TransactionStatus::Completed,
        error: None,
        description: None,
        operations: None,
        created_at: 1,
    }
}

fn hold_id(id: &str) -> HoldId {
    HoldId::parse(id).expect("a valid hold id")
}

fn open_hold(f: Fixture, id: &str, transaction: TransactionId, amount: i64, expires_at: Option<i64>) -> Hold {
    Hold {
        id: hold_id(id),
        source: f.wallet,
        destination: None,
        asset: f.asset,
        amount,
        captured: 0,
        remaining: amount,
        status: HoldStatus::Open,
        expires_at,
        created_at: 10,
        transaction,
        updated_at: 10,
    }
}

/// Writes a transaction and the holds given, returning the transaction.
async fn place(db: &TestDb, f: Fixture, holds: Vec<Hold>) -> TransactionId {
    db.write(move |tx| {
        let wallet_core::port::Claim::Inserted(id) = tx.insert_transaction(&transaction(f))? else {
            unreachable!("no reference id, no duplicate")
        };
        for mut hold in holds.clone() {
            hold.transaction = id;
            tx.insert_hold(PROJECT, &hold)?;
        }
        Ok(id)
    })
    .await
    .expect("places")
}

#[tokio::test]
async fn held_stays_between_zero_and_balance_plus_credit_limit() {
    let db = common::open();
    let f = db.fixture().await;
    credit(&db, f.wallet, 5).await;

    assert_eq!(adjust(&db, f.wallet, 5).await, Ok(5), "all of the balance");
    let refused = [
        (1, "more than the balance"),
        (-6, "more released than held"),
        (i64::MAX, "past i64 (a REAL in SQLite)"),
    ];
    for (amount, what) in refused {
        let answer = adjust(&db, f.wallet, amount).await;
        assert!(
            matches!(answer, Err(StoreError::Retryable(_))),
            "{what}: {answer:?}"
        );
        assert_eq!(held(&db, f.wallet).await, 5, "{what} changed held");
    }
    assert!(
        matches!(
            adjust(&db, f.wallet, i64::MIN).await,
            Err(StoreError::Internal(_))
        ),
        "a release no hold can make"
    );
    assert_eq!(adjust(&db, f.wallet, -5).await, Ok(0));

    let wallet = f.wallet;
    db.write(move |tx| tx.set_credit_limit(wallet, 3))
        .await
        .expect("sets");
    assert_eq!(adjust(&db, f.wallet, 8).await, Ok(8), "balance + credit limit");
    assert!(adjust(&db, f.wallet, 1).await.is_err());
}

#[tokio::test]
async fn a_credit_limit_below_what_the_wallet_uses_is_refused() {
    let db = common::open();
    let f = db.fixture().await;
    let wallet = f.wallet;
    let set = |limit: i64| {
        let store = db.store.clone();
        async move { store.write(move |tx| tx.set_credit_limit(wallet, limit)).await }
    };
    assert_eq!(set(10).await, Ok(true));
    // balance -3, held 2: the wallet uses 5 below zero.
    db.write(move |tx| {
        tx.debit(wallet, 3)?;
        tx.adjust_held(wallet, 2)
    })
    .await
    .expect("spends on credit and holds");
    assert_eq!(db.balance(f.wallet).await, -3);
    assert_eq!(set(4).await, Ok(false), "one below what is used");
    assert_eq!(set(5).await, Ok(true), "exactly what is used");
    assert!(
        matches!(set(MAX_CREDIT_LIMIT + 1).await, Err(StoreError::Internal(_))),
        "past the largest limit: the ledger never asks"
    );
    assert!(set(-1).await.is_err());

    let rich = db
        .write(move |tx| tx.insert_wallet(&wallet_of(None, f.asset)))
        .await
        .expect("opens");
    credit(&db, rich, i64::MAX - 1).await;
    let rich_limit = |limit| {
        let store = db.store.clone();
        async move { store.write(move |tx| tx.set_credit_limit(rich, limit)).await }
    };
    assert_eq!(rich_limit(2).await, Ok(false), "balance + limit would pass i64");
    assert_eq!(rich_limit(1).await, Ok(true));
}

#[tokio::test]
async fn holds_are_stored_found_and_changed_only_while_open() {
    let db = common::open();
    let f = db.fixture().await;
    let t = place(
        &db,
        f,
        vec![
            open_hold(f, "hd_a", TransactionId::new(0), 4, Some(50)),
            open_hold(f, "b", TransactionId::new(0), 2, None),
        ],
    )
    .await;

    let found = db
        .read(|r| r.hold(PROJECT, &hold_id("hd_a")))
        .await
        .expect("reads")
        .expect("found");
    assert_eq!(
        found,
        open_hold(f, "hd_a", t, 4, Some(50)),
        "read back as written"
    );
    assert_eq!(
        db.read(|r| r.hold("other", &hold_id("hd_a")))
            .await
            .expect("reads"),
        None,
        "holds are per project"
    );

    let again = db
        .write(move |tx| tx.insert_hold(PROJECT, &open_hold(f, "hd_a", t, 1, None)))
        .await;
    assert!(
        matches!(again, Err(StoreError::Retryable(_))),
        "a taken id: {again:?}"
    );

    let capture = |remaining: i64, status: HoldStatus| {
        let store = db.store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.update_hold(
                        PROJECT,
                        &HoldUpdate {
                            id: &hold_id("hd_a"),
                            captured: 4 - remaining,
                            remaining,
                            status,
                            updated_at: 20,
                        },
                    )
                })
                .await
        }
    };
    assert_eq!(capture(1, HoldStatus::Open).await, Ok(()), "a partial capture");
    assert_eq!(capture(0, HoldStatus::Captured).await, Ok(()), "the rest");
    assert!(
        matches!(
            capture(0, HoldStatus::Voided).await,
            Err(StoreError::Retryable(_))
        ),
        "a final hold never changes again"
    );
    let captured = db
        .read(|r| r.hold(PROJECT, &hold_id("hd_a")))
        .await
        .expect("reads")
        .expect("found");
    assert_eq!(
        (
            captured.captured,
            captured.remaining,
            captured.status,
            captured.updated_at
        ),
        (4, 0, HoldStatus::Captured, 20)
    );

    let placed = db
        .read(move |r| r.transaction_holds(PROJECT, t))
        .await
        .expect("reads");
    let ids: Vec<&str> = placed.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["hd_a", "b"], "in the order they were placed");

    let locked = db
        .write(|tx| tx.lock_holds(PROJECT, &[hold_id("missing"), hold_id("hd_a"), hold_id("b")]))
        .await
        .expect("locks");
    let ids: Vec<&str> = locked.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["b", "hd_a"], "in id order, missing ones left out");
}

#[tokio::test]
async fn a_wallets_holds_page_newest_first_by_status() {
    let db = common::open();
    let f = db.fixture().await;
    let mut holds = Vec::new();
    for (i, created_at) in [30, 10, 20].into_iter().enumerate() {
        let mut hold = open_hold(f, &format!("h{i}"), TransactionId::new(0), 1, None);
        hold.created_at = created_at;
        holds.push(hold);
    }
    holds[1].status = HoldStatus::Voided;
    holds[1].remaining = 0;
    place(&db, f, holds).await;

    let wallet = f.wallet;
    let page = |status: Option<HoldStatus>, page: u32| {
        let store = db.store.clone();
        async move {
            let page = store
                .read(move |r| r.wallet_holds(wallet, status, PageRequest { page, size: 2 }))
                .await
                .expect("reads");
            let ids: Vec<String> = page.items.iter().map(|h| h.id.to_string()).collect();
            (ids, page.total)
        }
    };
    assert_eq!(page(None, 0).await, (vec!["h0".into(), "h2".into()], 3));
    assert_eq!(page(None, 1).await, (vec!["h1".into()], 3));
    assert_eq!(
        page(Some(HoldStatus::Open), 0).await,
        (vec!["h0".into(), "h2".into()], 2)
    );
    assert_eq!(page(Some(HoldStatus::Voided), 0).await, (vec!["h1".into()], 1));
    assert_eq!(page(Some(HoldStatus::Expired), 0).await, (vec![], 0));
}

/// `EXPLAIN QUERY PLAN` of `sql` on the file, one line per step.
fn plan(db: &TestDb, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db.backend.path()).expect("opens the file");
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("prepares");
    let rows = stmt.query_map([], |r| r.get::<_, String>(3)).expect("plans");
    rows.collect::<Result<Vec<_>, _>>().expect("plans").join("\n")
}

#[tokio::test]
async fn due_holds_come_soonest_first_from_the_partial_index() {
    let db = common::open();
    let f = db.fixture().await;
    let mut holds = vec![
        open_hold(f, "late", TransactionId::new(0), 1, Some(300)),
        open_hold(f, "soon", TransactionId::new(0), 1, Some(100)),
        open_hold(f, "never", TransactionId::new(0), 1, None),
        open_hold(f, "mid", TransactionId::new(0), 1, Some(200)),
        open_hold(f, "gone", TransactionId::new(0), 1, Some(50)),
    ];
    holds[4].status = HoldStatus::Voided;
    holds[4].remaining = 0;
    place(&db, f, holds).await;

    let due = db.read(|r| r.due_holds(250, 10)).await.expect("reads");
    let due: Vec<(String, String)> = due.into_iter().map(|(p, h)| (p, h.to_string())).collect();
    let project = PROJECT.to_owned();
    assert_eq!(due, [(project.clone(), "soon".into()), (project, "mid".into())]);
    assert_eq!(
        db.read(|r| r.due_holds(250, 1)).await.expect("reads").len(),
        1,
        "limited"
    );
    assert!(db.read(|r| r.due_holds(99, 10)).await.expect("reads").is_empty());
    assert_eq!(
        db.read(|r| r.next_hold_expiry()).await.expect("reads"),
        Some(100),
        "a Voided hold's time does not count"
    );

    for sql in [
        "SELECT project_id, public_id FROM holds
         WHERE status = 'Open' AND expires_at IS NOT NULL AND expires_at <= 1 ORDER BY expires_at, id LIMIT 5",
        "SELECT min(expires_at) FROM holds WHERE status = 'Open' AND expires_at IS NOT NULL",
    ] {
        let plan = plan(&db, sql);
        assert!(plan.contains("INDEX holds_due"), "{sql}:\n{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{sql}:\n{plan}");
    }
}

#[tokio::test]
async fn a_balance_at_a_time_is_the_last_entry_at_or_before_it_in_one_seek() {
    let db = common::open();
    let f = db.fixture().await;
    // Balance 5 at t=10, 3 at t=20 and, in the same millisecond, 7.
    db.write(move |tx| {
        let wallet_core::port::Claim::Inserted(t) = tx.insert_transaction(&transaction(f))? else {
            unreachable!("no reference id, no duplicate")
        };
        for (amount, balance_after, created_at) in [(5, 5, 10), (-2, 3, 20), (4, 7, 20)] {
            tx.append_entry(&NewEntry {
                wallet: f.wallet,
                transaction: t,
                authority: f.authority,
                kind: EntryKind::Issue,
                amount,
                balance_after,
                reason: None,
                created_at,
            })?;
        }
        Ok(())
    })
    .await
    .expect("writes");
    let wallet = f.wallet;
    for (at, expected) in [
        (9, None),
        (10, Some(5)),
        (19, Some(5)),
        (20, Some(7)),
        (i64::MAX, Some(7)),
    ] {
        let balance = db.read(move |r| r.balance_at(wallet, at)).await.expect("reads");
        assert_eq!(balance, expected, "at {at}");
    }
    let plan = plan(
        &db,
        "SELECT balance_after FROM entries WHERE wallet_id = 1 AND created_at <= 5
         ORDER BY created_at DESC, id DESC LIMIT 1",
    );
    assert!(
        plan.contains("USING INDEX entries_by_wallet_time (wallet_id=? AND created_at<?)"),
        "{plan}"
    );
    assert!(
        !plan.contains("TEMP B-TREE"),
        "no sort, whatever the history: {plan}"
    );
}

#[tokio::test]
async fn the_system_authority_is_made_once_per_project_and_never_found() {
    let db = common::open();
    let f = db.fixture().await;
    let (first, second, other) = db
        .write(|tx| {
            tx.create_project("other", "Other", &NewAsset::default_points(), 1)?;
            Ok((
                tx.system_authority(PROJECT, 5)?,
                tx.system_authority(PROJECT, 6)?,
                tx.system_authority("other", 5)?,
            ))
        })
        .await
        .expect("made");
    assert_eq!(first, second, "made on first use, then found");
    assert_ne!(first, other, "one per project");

    let conn = rusqlite::Connection::open(db.backend.path()).expect("opens the file");
    let public_id: String = conn
        .query_row(
            "SELECT public_id FROM authorities WHERE id = ?1",
            [first.get()],
            |r| r.get(0),
        )
        .expect("stored");
    let public = public_id.clone();
    let (by_id, by_rowid, listed, revoked) = db
        .write(move |tx| {
            Ok((
                tx.authority(&public)?,
                tx.authority_by_rowid(first)?,
                tx.authorities(None)?,
                tx.revoke_authority(&public, 9)?,
            ))
        })
        .await
        .expect("reads");
    assert!(by_id.is_none() && by_rowid.is_none(), "it never authenticates");
    assert_eq!(
        listed.iter().map(|a| a.rowid).collect::<Vec<_>>(),
        [f.authority],
        "and is never listed"
    );
    assert!(!revoked, "nor revoked");

    let with_credential = conn.execute(
        "INSERT INTO authorities (public_id, project_id, name, token_digest, system, created_at)
         VALUES ('sys_x', 'other', 'x', x'00', 1, 0)",
        [],
    );
    assert!(
        with_credential.is_err(),
        "the schema refuses a system authority with a credential"
    );
    let second_system = conn.execute(
        "INSERT INTO authorities (public_id, project_id, name, system, created_at)
         VALUES ('sys_y', 'other', 'y', 1, 0)",
        [],
    );
    assert!(second_system.is_err(), "and a second one in a project");
    let without = conn.execute(
        "INSERT INTO authorities (public_id, project_id, name, created_at) VALUES ('ak_z', 'other', 'z', 0)",
        [],
    );
    assert!(
        without.is_err(),
        "an ordinary authority still needs exactly one credential"
    );
}

#[tokio::test]
async fn the_schema_refuses_what_the_invariants_forbid() {
    let db = common::open();
    let f = db.fixture().await;
    place(&db, f, vec![open_hold(f, "h", TransactionId::new(0), 3, None)]).await;
    let conn = rusqlite::Connection::open(db.backend.path()).expect("opens the file");
    let w = f.wallet.get();
    let refused = [
        format!("UPDATE wallets SET balance = -1 WHERE id = {w}"),
        format!("UPDATE wallets SET credit_limit = 2, balance = -3 WHERE id = {w}"),
        format!("UPDATE wallets SET credit_limit = 2, held = 3 WHERE id = {w}"),
        format!("UPDATE wallets SET held = -1 WHERE id = {w}"),
        format!(
            "UPDATE wallets SET credit_limit = {} WHERE id = {w}",
            MAX_CREDIT_LIMIT + 1
        ),
        format!(
            "UPDATE wallets SET credit_limit = 1, balance = {} WHERE id = {w}",
            i64::MAX
        ),
        "UPDATE holds SET remaining = 4".to_owned(),
        "UPDATE holds SET remaining = 0".to_owned(),
        "UPDATE holds SET status = 'Captured'".to_owned(),
        "UPDATE holds SET status = 'Voided'".to_owned(),
        "UPDATE holds SET status = 'Pending', remaining = 0".to_owned(),
        format!("UPDATE holds SET destination_id = {w}"),
    ];
    for sql in refused {
        assert!(conn.execute(&sql, []).is_err(), "{sql}");
    }
    let allowed = [
        format!("UPDATE wallets SET credit_limit = 5, balance = -2 WHERE id = {w}"),
        "UPDATE holds SET status = 'Voided', remaining = 0".to_owned(),
    ];
    for sql in allowed {
        assert_eq!(conn.execute(&sql, []).map_err(|e| e.to_string()), Ok(1), "{sql}");
    }
}
