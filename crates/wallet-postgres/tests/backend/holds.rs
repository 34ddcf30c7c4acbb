//! Holds, credit limits and the system authority in PostgreSQL's SQL: the
//! port's promises for them (a hold changes only while Open, ids are
//! claimed once, locks come in id order), the system authority made once
//! per project even by processes racing, the indexes the reads are meant
//! to use, the schema's last line of defence, and `check` finding every
//! broken invariant of holds and credit even with that line gone.

use crate::common::{authority_row, open, sql, value, Db};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use wallet_core::ids::{AssetId, AuthorityRowId, TransactionId, WalletId};
use wallet_core::model::{EntryKind, Hold, HoldStatus, NewAsset, PageRequest, TransactionStatus};
use wallet_core::port::{Claim, HoldUpdate, NewEntry, NewTransaction};
use wallet_core::{Store, StoreError, MAX_CREDIT_LIMIT};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::fixture::{default_asset, hold_id};

/// An authority's row, the project's default asset and a wallet in it.
#[derive(Debug, Clone, Copy)]
struct Rows {
    authority: AuthorityRowId,
    asset: AssetId,
    wallet: WalletId,
}

/// `balance` 0: a wallet without entries.
async fn rows(db: &Db, balance: i64) -> Rows {
    let caller = db.fx.authority("default").await;
    let wallet = if balance > 0 {
        db.fx.funded(&caller, None, balance).await
    } else {
        db.fx.wallet(&caller, None).await
    };
    Rows {
        authority: authority_row(&caller),
        asset: default_asset(&caller),
        wallet,
    }
}

fn transaction(authority: AuthorityRowId) -> NewTransaction<'static> {
    NewTransaction {
        project_id: "default",
        reference_id: None,
        authority,
        status: TransactionStatus::Completed,
        error: None,
        description: None,
        operations: None,
        created_at: 1,
    }
}

fn open_hold(r: Rows, id: &str, amount: i64, expires_at: Option<i64>) -> Hold {
    Hold {
        id: hold_id(id),
        source: r.wallet,
        destination: None,
        asset: r.asset,
        amount,
        captured: 0,
        remaining: amount,
        status: HoldStatus::Open,
        expires_at,
        created_at: 10,
        transaction: TransactionId::new(0),
        updated_at: 10,
    }
}

/// Writes a transaction and the holds given (as rows: no held value
/// moves), returning the transaction.
async fn place(store: &Store, r: Rows, holds: Vec<Hold>) -> TransactionId {
    store
        .write(move |tx| {
            let Claim::Inserted(id) = tx.insert_transaction(&transaction(r.authority))? else {
                unreachable!("no reference id, no duplicate")
            };
            for mut hold in holds.clone() {
                hold.transaction = id;
                tx.insert_hold("default", &hold)?;
            }
            Ok::<_, StoreError>(id)
        })
        .await
        .expect("places")
}

async fn stored(store: &Store, id: &'static str) -> Option<Hold> {
    store
        .read(move |r| r.hold("default", &hold_id(id)))
        .await
        .expect("reads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_are_stored_found_and_changed_only_while_open() {
    let db = open();
    let r = rows(&db, 10).await;
    let t = place(
        &db.store,
        r,
        vec![open_hold(r, "hd_a", 4, Some(50)), open_hold(r, "b", 2, None)],
    )
    .await;
    let mut expected = open_hold(r, "hd_a", 4, Some(50));
    expected.transaction = t;
    assert_eq!(
        stored(&db.store, "hd_a").await,
        Some(expected),
        "read back as written"
    );
    assert_eq!(
        db.store
            .read(|r| r.hold("other", &hold_id("hd_a")))
            .await
            .expect("reads"),
        None,
        "holds are per project"
    );

    let again = db
        .store
        .write(move |tx| tx.insert_hold("default", &open_hold(r, "hd_a", 1, None)))
        .await;
    assert!(
        matches!(again, Err(StoreError::Retryable(_))),
        "a taken id: {again:?}"
    );

    let change = |remaining: i64, status: HoldStatus| {
        let store = db.store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.update_hold(
                        "default",
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
    assert_eq!(change(1, HoldStatus::Open).await, Ok(()), "a partial capture");
    assert_eq!(change(0, HoldStatus::Captured).await, Ok(()), "the rest");
    for status in [HoldStatus::Voided, HoldStatus::Expired, HoldStatus::Captured] {
        let answer = change(0, status).await;
        assert!(
            matches!(answer, Err(StoreError::Retryable(_))),
            "a final hold never changes again ({status:?}): {answer:?}"
        );
    }
    let captured = stored(&db.store, "hd_a").await.expect("found");
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
        .store
        .read(move |r| r.transaction_holds("default", t))
        .await
        .expect("reads");
    let ids: Vec<&str> = placed.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["hd_a", "b"], "in the order they were placed");

    let locked = db
        .store
        .write(|tx| tx.lock_holds("default", &[hold_id("missing"), hold_id("hd_a"), hold_id("b")]))
        .await
        .expect("locks");
    let ids: Vec<&str> = locked.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["b", "hd_a"], "in id order, missing ones left out");
}

/// `lock_holds` holds its rows until the write ends: a second writer's
/// lock of the same hold waits, then reads the hold as the first left it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_hold_waits_for_the_write_that_holds_it_then_reads_its_change() {
    let db = crate::common::open_with(|o| o.writers = 2);
    let r = rows(&db, 10).await;
    place(&db.store, r, vec![open_hold(r, "h", 4, None)]).await;
    let (locked, wait_locked) = std::sync::mpsc::channel::<()>();
    let locked = std::sync::Mutex::new(locked);
    let first = crate::common::spawn_write(&db.store, move |tx| {
        tx.lock_holds("default", &[hold_id("h")])?;
        let _ = locked.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(500));
        tx.update_hold(
            "default",
            &HoldUpdate {
                id: &hold_id("h"),
                captured: 0,
                remaining: 0,
                status: HoldStatus::Voided,
                updated_at: 30,
            },
        )
    });
    tokio::task::spawn_blocking(move || wait_locked.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the first writer holds the hold");
    let seen = db
        .store
        .write(|tx| tx.lock_holds("default", &[hold_id("h")]))
        .await
        .expect("locks");
    first.await.unwrap().expect("voids");
    assert_eq!(
        seen.iter().map(|h| h.status).collect::<Vec<_>>(),
        [HoldStatus::Voided],
        "read after the other write committed, as it left the hold"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallets_holds_page_newest_first_by_status() {
    let db = open();
    let r = rows(&db, 10).await;
    let mut holds = Vec::new();
    for (i, created_at) in [30, 10, 20].into_iter().enumerate() {
        let mut hold = open_hold(r, &format!("h{i}"), 1, None);
        hold.created_at = created_at;
        holds.push(hold);
    }
    holds[1].status = HoldStatus::Voided;
    holds[1].remaining = 0;
    place(&db.store, r, holds).await;

    let page = |status: Option<HoldStatus>, page: u32| {
        let store = db.store.clone();
        async move {
            let page = store
                .read(move |tx| tx.wallet_holds(r.wallet, status, PageRequest { page, size: 2 }))
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

/// `EXPLAIN` of `query` on the database, one line per plan node.
fn plan(url: &str, query: &str) -> String {
    sql(url, &format!("ANALYZE; EXPLAIN {query}"))
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_holds_come_soonest_first_from_the_partial_index() {
    let db = open();
    let r = rows(&db, 10).await;
    let mut holds = vec![
        open_hold(r, "late", 1, Some(300)),
        open_hold(r, "soon", 1, Some(100)),
        open_hold(r, "never", 1, None),
        open_hold(r, "mid", 1, Some(200)),
        open_hold(r, "gone", 1, Some(50)),
    ];
    holds[4].status = HoldStatus::Voided;
    holds[4].remaining = 0;
    place(&db.store, r, holds).await;

    let due = db.store.read(|r| r.due_holds(250, 10)).await.expect("reads");
    let due: Vec<(String, String)> = due.into_iter().map(|(p, h)| (p, h.to_string())).collect();
    assert_eq!(
        due,
        [
            ("default".to_owned(), "soon".to_owned()),
            ("default".to_owned(), "mid".to_owned())
        ]
    );
    assert_eq!(
        db.store.read(|r| r.due_holds(250, 1)).await.expect("reads").len(),
        1,
        "limited"
    );
    assert!(db
        .store
        .read(|r| r.due_holds(99, 10))
        .await
        .expect("reads")
        .is_empty());
    assert_eq!(
        db.store.read(|r| r.next_hold_expiry()).await.expect("reads"),
        Some(100),
        "a Voided hold's time does not count"
    );

    // Thousands of final holds, a few Open: the worker's queries read the
    // partial index, never the table's final rows, and never sort.
    sql(
        db.url(),
        &format!(
            "INSERT INTO holds (project_id, public_id, source_id, asset_id, amount, captured, remaining,
                                status, expires_at, transaction_id, created_at, updated_at)
             SELECT 'default', 'done' || n, {w}, {a}, 1, 1, 0, 'Captured', n, t.id, 0, 0
             FROM generate_series(1, 5000) n, (SELECT min(id) AS id FROM transactions) t",
            w = r.wallet,
            a = r.asset
        ),
    )
    .expect("many final holds");
    for query in [
        "SELECT project_id, public_id FROM holds
         WHERE status = 'Open' AND expires_at IS NOT NULL AND expires_at <= 1000 ORDER BY expires_at, id LIMIT 5",
        "SELECT min(expires_at) FROM holds WHERE status = 'Open' AND expires_at IS NOT NULL",
    ] {
        let plan = plan(db.url(), query);
        assert!(plan.contains("using holds_due"), "{query}:\n{plan}");
        assert!(!plan.contains("Sort"), "{query}:\n{plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_at_a_time_is_the_last_entry_at_or_before_it_in_one_seek() {
    let db = open();
    let r = rows(&db, 0).await;
    // Balance 5 at t=10, 3 at t=20 and, in the same millisecond, 7.
    db.store
        .write(move |tx| {
            let Claim::Inserted(t) = tx.insert_transaction(&transaction(r.authority))? else {
                unreachable!("no reference id, no duplicate")
            };
            for (amount, balance_after, created_at) in [(5, 5, 10), (-2, 3, 20), (4, 7, 20)] {
                tx.append_entry(&NewEntry {
                    wallet: r.wallet,
                    transaction: t,
                    authority: r.authority,
                    kind: EntryKind::Issue,
                    amount,
                    balance_after,
                    reason: None,
                    created_at,
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("writes");
    for (at, expected) in [
        (9, None),
        (10, Some(5)),
        (19, Some(5)),
        (20, Some(7)),
        (1_000, Some(7)),
    ] {
        let balance = db
            .store
            .read(move |tx| tx.balance_at(r.wallet, at))
            .await
            .expect("reads");
        assert_eq!(balance, expected, "at {at}");
    }

    // A long history, many entries in each millisecond: still one seek
    // backwards to the last entry at or before `at`, no sort.
    sql(
        db.url(),
        &format!(
            "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
             SELECT {w}, t.id, {a}, 'Issue', 0, 7, 100 + n / 50
             FROM generate_series(1, 20000) n, (SELECT min(id) AS id FROM transactions) t",
            w = r.wallet,
            a = r.authority
        ),
    )
    .expect("a long history");
    let plan = plan(
        db.url(),
        &format!(
            "SELECT balance_after FROM entries WHERE wallet_id = {} AND created_at <= 150
             ORDER BY created_at DESC, id DESC LIMIT 1",
            r.wallet
        ),
    );
    assert!(
        plan.contains("Index Scan Backward using entries_by_wallet_time"),
        "{plan}"
    );
    assert!(!plan.contains("Sort"), "no sort, whatever the history: {plan}");
}

/// Four server processes (four backends, one writer each) ask for the
/// project's system authority at once, each holding its transaction open a
/// moment after: one row is made, and all four get it. Then it is never
/// found, listed or revoked by what reads credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_authority_is_made_once_per_project_even_by_racing_processes() {
    let db = open();
    let r = rows(&db, 0).await;
    let processes = 4;
    let all_asked = Arc::new(Barrier::new(processes));
    let mut asks = Vec::new();
    for _ in 0..processes {
        let mut options = PgOptions::new(db.url());
        options.writers = 1;
        options.read_connections = 1;
        let backend = Arc::new(PostgresBackend::connect(&options).expect("connects"));
        let store = Store::new(backend);
        let all_asked = Arc::clone(&all_asked);
        let mut first_run = true;
        asks.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    if std::mem::take(&mut first_run) {
                        all_asked.wait();
                    }
                    let id = tx.system_authority("default", 5)?;
                    // Uncommitted for a moment: the others must wait for it.
                    std::thread::sleep(Duration::from_millis(300));
                    Ok::<_, StoreError>(id)
                })
                .await
        }));
    }
    let mut ids = Vec::new();
    for ask in asks {
        ids.push(ask.await.unwrap().expect("every process gets it"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one system authority: {ids:?}");
    let system = ids[0];
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) FROM authorities WHERE project_id = 'default' AND system"
        ),
        "1"
    );

    let (again, other) = db
        .store
        .write(|tx| {
            tx.create_project("other", "Other", &NewAsset::default_points(), 1)?;
            Ok::<_, StoreError>((
                tx.system_authority("default", 6)?,
                tx.system_authority("other", 6)?,
            ))
        })
        .await
        .expect("made");
    assert_eq!(again, system, "found, not made again");
    assert_ne!(other, system, "one per project");

    let public_id = value(
        db.url(),
        &format!("SELECT public_id FROM authorities WHERE id = {system}"),
    );
    let public = public_id.clone();
    let (by_id, by_rowid, for_write, listed, revoked) = db
        .store
        .write(move |tx| {
            Ok::<_, StoreError>((
                tx.authority(&public)?,
                tx.authority_by_rowid(system)?,
                tx.authority_by_rowid(system)?,
                tx.authorities(None)?,
                tx.revoke_authority(&public, 9)?,
            ))
        })
        .await
        .expect("reads");
    let read_by_rowid = db
        .store
        .read(move |tx| tx.authority_by_rowid(system))
        .await
        .expect("reads");
    assert!(
        by_id.is_none() && by_rowid.is_none() && for_write.is_none() && read_by_rowid.is_none(),
        "it never authenticates"
    );
    assert_eq!(
        listed.iter().map(|a| a.rowid).collect::<Vec<_>>(),
        [r.authority],
        "and is never listed"
    );
    assert!(!revoked, "nor revoked");

    let refused = [
        (
            "a system authority with a credential",
            "INSERT INTO authorities (public_id, project_id, name, token_digest, system, created_at)
             VALUES ('sys_x', 'other', 'x', '\\x00', true, 0)",
        ),
        (
            "a second system authority in a project",
            "INSERT INTO authorities (public_id, project_id, name, system, created_at)
             VALUES ('sys_y', 'default', 'y', true, 0)",
        ),
        (
            "an ordinary authority without a credential",
            "INSERT INTO authorities (public_id, project_id, name, created_at) VALUES ('ak_z', 'other', 'z', 0)",
        ),
    ];
    for (what, statement) in refused {
        assert!(sql(db.url(), statement).is_err(), "the schema takes {what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_invariants_forbid() {
    let db = open();
    let r = rows(&db, 0).await;
    place(&db.store, r, vec![open_hold(r, "h", 3, None)]).await;
    let w = r.wallet;
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
        "UPDATE holds SET public_id = ''".to_owned(),
    ];
    for statement in refused {
        assert!(sql(db.url(), &statement).is_err(), "{statement}");
    }
    let allowed = [
        format!("UPDATE wallets SET credit_limit = 5, balance = -2 WHERE id = {w}"),
        "UPDATE holds SET status = 'Voided', remaining = 0".to_owned(),
    ];
    for statement in allowed {
        sql(db.url(), &statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// Each broken invariant of holds and credit, made by hand on a database
/// whose CHECKs were dropped (a restore of a damaged copy, a hand edit):
/// `check` names it in its own list. The rows: a wallet of balance 10 with
/// one Open hold of 4 (held 4), placed through the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_every_broken_hold_and_credit_invariant() {
    type Found = fn(&wallet_core::check::CheckReport) -> &Vec<String>;
    let cases: [(&str, &str, Found); 10] = [
        (
            "held is not what the Open holds reserve",
            "UPDATE wallets SET held = 5 WHERE id = {w}",
            |r| &r.held_mismatches,
        ),
        (
            "a hold's remaining that is not the wallet's held",
            "UPDATE holds SET remaining = 3, captured = 1",
            |r| &r.held_mismatches,
        ),
        (
            "a balance below minus the credit limit",
            "UPDATE wallets SET balance = -1, held = 0 WHERE id = {w}; UPDATE holds SET status = 'Voided', remaining = 0",
            |r| &r.negative_balances,
        ),
        (
            "more held than balance plus credit",
            "UPDATE wallets SET held = 11 WHERE id = {w}; UPDATE holds SET amount = 11, remaining = 11",
            |r| &r.negative_balances,
        ),
        (
            "a credit limit past the largest",
            "UPDATE wallets SET credit_limit = 4611686018427387905 WHERE id = {w}",
            |r| &r.negative_balances,
        ),
        (
            "an Open hold with nothing remaining",
            "UPDATE holds SET remaining = 0, captured = 4; UPDATE wallets SET held = 0 WHERE id = {w}",
            |r| &r.hold_mismatches,
        ),
        (
            "a Voided hold with something remaining",
            "UPDATE holds SET status = 'Voided'; UPDATE wallets SET held = 0 WHERE id = {w}",
            |r| &r.hold_mismatches,
        ),
        (
            "captured and remaining past the amount",
            "UPDATE holds SET captured = 1",
            |r| &r.hold_mismatches,
        ),
        (
            "a hold in another asset than its wallet",
            "UPDATE holds SET asset_id = (SELECT max(id) FROM assets)",
            |r| &r.hold_mismatches,
        ),
        (
            "a Capture that does not cancel out",
            "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
             SELECT {w}, max(id), (SELECT min(id) FROM authorities), 'Capture', 0, 10, 0 FROM transactions;
             INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
             SELECT {w}, max(id), (SELECT min(id) FROM authorities), 'Capture', 1, 10, 0 FROM transactions",
            |r| &r.transfer_mismatches,
        ),
    ];
    for (what, damage, found) in cases {
        let db = open();
        let caller = db.fx.authority("default").await;
        let wallet = db.fx.funded(&caller, None, 10).await;
        db.fx
            .ledger
            .create_asset(
                &caller,
                wallet_core::text::AssetCode::parse("GEM").unwrap(),
                wallet_testkit::fixture::text("gems"),
                1,
            )
            .await
            .expect("a second asset");
        wallet_testkit::answers::completed(
            db.fx
                .post(
                    &caller,
                    vec![wallet_testkit::fixture::hold("h", wallet, 4, None, None)],
                )
                .await,
        );
        db.fx.assert_check().await;
        sql(
            db.url(),
            "DO $$ DECLARE c record; BEGIN
                 FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
                          WHERE contype = 'c' AND conrelid IN ('wallets'::regclass, 'holds'::regclass,
                                                              'entries'::regclass) LOOP
                     EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
                 END LOOP;
             END $$",
        )
        .expect("drops the CHECKs");
        sql(db.url(), &damage.replace("{w}", &wallet.to_string())).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = db.fx.ledger.check().await.expect("check runs");
        assert!(!report.is_ok(), "{what}: not found");
        assert!(!found(&report).is_empty(), "{what}: not in its list: {report:#?}");
    }
}

/// Two server processes (two backends on one database, four writers each)
/// with a wallet of 30 on a credit of 10: 64 Holds of 1 placed through
/// both at once reserve exactly 40; then each of 20 of those holds is
/// raced by a Capture through one and a Void through the other (exactly
/// one wins, value is conserved), and both processes' expiry workers run
/// at once on the rest (each hold expires once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_racing_on_holds_keep_every_promise() {
    use futures_like::join_all;
    use wallet_core::clock::Clock;
    use wallet_core::planner::FailCode;
    use wallet_core::TransactionOutcome;
    use wallet_testkit::answers::failed;
    use wallet_testkit::fixture::{capture, hold, request, void};
    use wallet_testkit::{Fixture, TestDb};

    let db = open();
    let second = Fixture::new(TestDb::new(
        Arc::new(PostgresBackend::connect(&PgOptions::new(db.url())).expect("connects")),
        (),
    ));
    let ledgers = [db.fx.ledger.clone(), second.ledger.clone()];
    let caller = db.fx.authority("default").await;
    let source = db.fx.funded(&caller, None, 30).await;
    let destination = db.fx.wallet(&caller, None).await;
    db.fx
        .ledger
        .set_credit_limit(&caller, source, 10)
        .await
        .expect("sets");
    let expires_at = db.fx.clock.now() + 60_000;

    let places = (0..64).map(|i| {
        let (ledger, caller) = (ledgers[i % 2].clone(), caller.clone());
        tokio::spawn(async move {
            let op = hold(&format!("h{i}"), source, 1, Some(destination), Some(expires_at));
            ledger
                .post_transaction(&caller, request(&format!("place-{i}"), vec![op]))
                .await
                .expect("answered")
        })
    });
    let mut placed = Vec::new();
    for (i, outcome) in join_all(places).await.into_iter().enumerate() {
        match outcome {
            TransactionOutcome::Completed(..) => placed.push(format!("h{i}")),
            other => drop(failed(other, FailCode::InsufficientFunds)),
        }
    }
    assert_eq!(placed.len(), 40, "exactly what was available");
    let row = db.fx.wallet_row(&caller, source).await;
    assert_eq!((row.balance, row.held, row.available()), (30, 40, 0));

    let races = placed[..20].iter().enumerate().flat_map(|(n, id)| {
        [(0, capture(id, None)), (1, void(id))].map(|(side, op)| {
            let ledger = ledgers[(side + n) % 2].clone();
            let caller = caller.clone();
            let reference = format!("race-{id}-{side}");
            tokio::spawn(async move {
                let outcome = ledger
                    .post_transaction(&caller, request(&reference, vec![op]))
                    .await
                    .expect("answered");
                (side, outcome)
            })
        })
    });
    let mut captured = 0;
    let mut wins = 0;
    for (side, outcome) in join_all(races).await {
        match outcome {
            TransactionOutcome::Completed(..) => {
                wins += 1;
                captured += i64::from(side == 0);
            }
            other => drop(failed(other, FailCode::WrongHoldStatus)),
        }
    }
    assert_eq!(wins, 20, "exactly one of each pair");
    let (source_row, destination_row) = (
        db.fx.wallet_row(&caller, source).await,
        db.fx.wallet_row(&caller, destination).await,
    );
    assert_eq!(
        (source_row.balance, source_row.held, destination_row.balance),
        (30 - captured, 20, captured),
        "conserved"
    );

    for fx in [&db.fx, &second] {
        fx.clock.advance(60_000);
    }
    let expiries = [db.fx.ledger.clone(), second.ledger.clone()]
        .map(|ledger| tokio::spawn(async move { ledger.expire_due_holds().await.expect("expires") }));
    let expired: usize = join_all(expiries).await.into_iter().sum();
    assert_eq!(expired, 20, "each remaining hold expired once");
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) FROM transactions WHERE description LIKE 'hold % expired'"
        ),
        "20"
    );
    assert_eq!(db.fx.wallet_row(&caller, source).await.held, 0);
    db.fx.assert_check().await;
}

/// Awaits spawned tasks in order (the test needs no more of a futures crate).
mod futures_like {
    pub async fn join_all<T: Send + 'static>(
        tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>,
    ) -> Vec<T> {
        let tasks: Vec<_> = tasks.into_iter().collect();
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(task.await.expect("the task ends"));
        }
        out
    }
}
