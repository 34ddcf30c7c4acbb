//! Lots in PostgreSQL's SQL: the port's promises for them (spending order,
//! a lot changes only while Open, earmarks replaced whole, the expiry
//! worker's queue), the indexes the transfer path and the worker read, the
//! schema's last line of defence, and `check` finding every broken lot
//! invariant even with that line gone. Lots across processes and in the
//! writer's groups: `lots_race`.

use crate::common::{authority_row, open, sql, value, Db};
use wallet_core::clock::Clock;
use wallet_core::ids::{LotId, TransactionId, WalletId};
use wallet_core::model::{Earmark, Expiring, Lot, LotStatus, PageRequest, TransactionStatus};
use wallet_core::port::{Claim, LotUpdate, NewLot, NewTransaction};
use wallet_core::StoreError;
use wallet_testkit::answers::completed;
use wallet_testkit::fixture::{hold, hold_id, issue_expiring, transfer};

/// A transaction row to hang lots on (written by hand, as a test may).
async fn transaction(db: &Db) -> TransactionId {
    let caller = db.fx.authority("default").await;
    let authority = authority_row(&caller);
    db.store
        .write(move |tx| {
            let Claim::Inserted(id) = tx.insert_transaction(&NewTransaction {
                project_id: "default",
                reference_id: None,
                authority,
                status: TransactionStatus::Completed,
                error: None,
                description: None,
                operations: None,
                created_at: 1,
            })?
            else {
                unreachable!("no reference id, no duplicate")
            };
            Ok::<_, StoreError>(id)
        })
        .await
        .expect("writes")
}

fn new_lot(wallet: WalletId, transaction: TransactionId, amount: i64, expires_at: i64) -> NewLot {
    NewLot {
        wallet,
        amount,
        remaining: amount,
        earmarked: 0,
        expires_at,
        status: LotStatus::Open,
        transaction,
        created_at: 5,
    }
}

/// Writes the lots (rows only: no balance moves), returning their ids.
async fn insert(db: &Db, lots: Vec<NewLot>) -> Vec<LotId> {
    db.store
        .write(move |tx| {
            lots.iter()
                .map(|l| tx.insert_lot(l))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .expect("writes")
}

async fn lots_of(db: &Db, wallets: Vec<WalletId>) -> Vec<LotId> {
    let lots: Vec<Lot> = db
        .store
        .write(move |tx| tx.lots_of(&wallets))
        .await
        .expect("reads");
    lots.iter().map(|l| l.id).collect()
}

async fn change(db: &Db, id: LotId, remaining: i64, status: LotStatus) -> Result<(), StoreError> {
    db.store
        .write(move |tx| {
            tx.update_lot(&LotUpdate {
                id,
                remaining,
                earmarked: 0,
                status,
                updated_at: 9,
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_are_read_in_spending_order_and_change_only_while_open() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let (w, v) = (
        db.fx.wallet(&caller, None).await,
        db.fx.wallet(&caller, None).await,
    );
    let t = transaction(&db).await;
    let mut spent = new_lot(w, t, 4, 50);
    spent.remaining = 0;
    spent.status = LotStatus::Spent;
    let ids = insert(
        &db,
        vec![
            new_lot(w, t, 3, 300),
            new_lot(w, t, 2, 100),
            new_lot(w, t, 1, 100),
            spent,
            new_lot(v, t, 5, 200),
        ],
    )
    .await;
    let [late, soon, tie, spent, other] = ids[..] else {
        unreachable!()
    };
    assert!(late < soon && soon < tie, "ids in insertion order: {ids:?}");

    assert_eq!(
        lots_of(&db, vec![w, v]).await,
        [soon, tie, other, late],
        "Open lots only, by expiry, ties by id, across the wallets"
    );
    assert_eq!(lots_of(&db, vec![v]).await, [other]);
    assert_eq!(lots_of(&db, vec![]).await, []);
    let read = db.store.write(move |tx| tx.lots_of(&[v])).await.expect("reads");
    assert_eq!(
        read,
        [Lot {
            id: other,
            wallet: v,
            amount: 5,
            remaining: 5,
            earmarked: 0,
            expires_at: 200,
            status: LotStatus::Open,
            created_at: 5,
            transaction: t,
            updated_at: 5,
        }],
        "read back as written"
    );

    assert_eq!(change(&db, late, 0, LotStatus::Spent).await, Ok(()));
    for (id, what) in [(late, "just spent"), (spent, "spent before")] {
        let again = change(&db, id, 1, LotStatus::Open).await;
        assert!(
            matches!(again, Err(StoreError::Retryable(_))),
            "a final lot never changes again ({what}): {again:?}"
        );
    }

    let page = |status: Option<LotStatus>, page: u32, size: u32| {
        let store = db.store.clone();
        async move {
            let found = store
                .read(move |r| r.wallet_lots(w, status, PageRequest { page, size }))
                .await
                .expect("reads");
            (found.items.iter().map(|l| l.id).collect::<Vec<_>>(), found.total)
        }
    };
    assert_eq!(page(None, 0, 10).await, (vec![spent, soon, tie, late], 4));
    assert_eq!(page(Some(LotStatus::Open), 0, 10).await, (vec![soon, tie], 2));
    assert_eq!(page(Some(LotStatus::Spent), 0, 1).await, (vec![spent], 2));
    assert_eq!(page(Some(LotStatus::Spent), 1, 1).await, (vec![late], 2));
    assert_eq!(page(Some(LotStatus::Expired), 0, 10).await, (vec![], 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_sums_open_lots_per_expiry_at_most_ten_rows_per_wallet() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let (w, v, none) = (
        db.fx.wallet(&caller, None).await,
        db.fx.wallet(&caller, None).await,
        db.fx.wallet(&caller, None).await,
    );
    let t = transaction(&db).await;
    let mut lots: Vec<NewLot> = (0..12).map(|n| new_lot(w, t, 1 + n, 1_000 - n)).collect();
    lots.push(new_lot(w, t, 100, 989));
    let mut spent = new_lot(w, t, 7, 900);
    spent.remaining = 0;
    spent.status = LotStatus::Spent;
    lots.push(spent);
    lots.push(new_lot(v, t, 4, 50));
    insert(&db, lots).await;

    let found = db
        .store
        .read(move |r| r.expiring(&[v, w, none, v]))
        .await
        .expect("reads");
    let row = |wallet, expires_at, amount| (wallet, Expiring { expires_at, amount });
    // w's 12 expiries (989..=1000), soonest ten, 989 with the lot of 100;
    // then v's (wallets in id order).
    let mut expected = vec![row(w, 989, 12 + 100)];
    for n in (3..=10).rev() {
        expected.push(row(w, 1_000 - n, 1 + n));
    }
    expected.push(row(w, 998, 3));
    expected.push(row(v, 50, 4));
    assert_eq!(
        found, expected,
        "a Spent lot and a wallet without lots show nothing"
    );
    assert!(db
        .store
        .read(|r| r.expiring(&[]))
        .await
        .expect("reads")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holds_earmarks_are_replaced_whole_and_read_in_spending_order() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let w = db.fx.funded(&caller, None, 10).await;
    completed(
        db.fx
            .post(
                &caller,
                vec![hold("h", w, 3, None, None), hold("shut", w, 1, None, None)],
            )
            .await,
    );
    let t = transaction(&db).await;
    let ids = insert(&db, vec![new_lot(w, t, 5, 300), new_lot(w, t, 5, 100)]).await;
    let [late, soon] = ids[..] else { unreachable!() };
    let set = |id: &'static str, earmarks: Vec<Earmark>| {
        let store = db.store.clone();
        async move {
            store
                .write(move |tx| tx.set_earmarks("default", &hold_id(id), &earmarks))
                .await
        }
    };
    let read = |project: &'static str| {
        let store = db.store.clone();
        async move {
            store
                .read(move |r| r.hold_earmarks(project, &[hold_id("h"), hold_id("shut"), hold_id("none")]))
                .await
                .expect("reads")
                .into_iter()
                .map(|(h, e)| (h.to_string(), e.lot, e.amount))
                .collect::<Vec<_>>()
        }
    };
    let mark = |lot, amount| Earmark { lot, amount };
    set("h", vec![mark(late, 1), mark(soon, 2)]).await.expect("sets");
    set("shut", vec![mark(soon, 1)]).await.expect("sets");
    assert_eq!(
        read("default").await,
        [
            ("h".to_owned(), soon, 2),
            ("h".to_owned(), late, 1),
            ("shut".to_owned(), soon, 1)
        ],
        "per hold, soonest-expiring lot first"
    );
    assert!(read("other").await.is_empty(), "holds are per project");
    set("h", vec![mark(late, 3)]).await.expect("replaces");
    set("shut", vec![]).await.expect("clears");
    assert_eq!(read("default").await, [("h".to_owned(), late, 3)]);

    sql(
        db.url(),
        "UPDATE holds SET status = 'Voided', remaining = 0 WHERE public_id = 'h'",
    )
    .expect("voids by hand");
    assert!(read("default").await.is_empty(), "only Open holds' earmarks");

    let missing = set("none", vec![mark(late, 1)]).await;
    assert!(
        matches!(missing, Err(StoreError::Internal(_))),
        "no such hold: {missing:?}"
    );
    assert_eq!(
        set("none", vec![]).await,
        Ok(()),
        "nothing to write, nothing to refuse"
    );
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
async fn due_lots_come_soonest_first_and_every_lot_read_is_an_index_range() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let (w, v) = (
        db.fx.wallet(&caller, None).await,
        db.fx.wallet(&caller, None).await,
    );
    let t = transaction(&db).await;
    let mut held = new_lot(v, t, 2, 100);
    held.earmarked = 2;
    let mut spent = new_lot(w, t, 4, 10);
    spent.remaining = 0;
    spent.status = LotStatus::Spent;
    let ids = insert(
        &db,
        vec![
            new_lot(w, t, 1, 300),
            new_lot(w, t, 1, 200),
            held,
            spent,
            new_lot(v, t, 1, 150),
        ],
    )
    .await;
    let [late, mid, _held, _spent, v_lot] = ids[..] else {
        unreachable!()
    };
    let due = db.store.read(|r| r.due_lots(250, 10)).await.expect("reads");
    assert_eq!(
        due,
        [("default".to_owned(), v, v_lot), ("default".to_owned(), w, mid)],
        "an all-earmarked lot and a Spent one are not due"
    );
    assert_eq!(
        db.store.read(|r| r.due_lots(250, 1)).await.expect("reads").len(),
        1
    );
    assert!(db
        .store
        .read(|r| r.due_lots(149, 10))
        .await
        .expect("reads")
        .is_empty());
    assert_eq!(
        db.store.read(|r| r.next_lot_expiry()).await.expect("reads"),
        Some(150)
    );
    assert_eq!(lots_of(&db, vec![w]).await, [mid, late]);

    // Thousands of final lots in the wallet: the transfer path's read and
    // the worker's queries each read one index range.
    sql(
        db.url(),
        &format!(
            "INSERT INTO lots (wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                               created_at, updated_at)
             SELECT {w}, 1, 0, 0, n, 'Spent', {t}, 0, 0 FROM generate_series(1, 5000) n"
        ),
    )
    .expect("many final lots");
    // (`lots_of` binds an array: a few rows of several wallets are sorted.)
    let queries = [
        (
            "SELECT w.project_id, l.wallet_id, l.id FROM lots l JOIN wallets w ON w.id = l.wallet_id
             WHERE l.status = 'Open' AND l.remaining > l.earmarked AND l.expires_at <= 1000
             ORDER BY l.expires_at, l.id LIMIT 5"
                .to_owned(),
            "lots_due",
            false,
        ),
        (
            "SELECT min(expires_at) FROM lots WHERE status = 'Open' AND remaining > earmarked".to_owned(),
            "lots_due",
            false,
        ),
        (
            format!(
                "SELECT * FROM lots l WHERE l.wallet_id = ANY('{{{w}}}') AND l.status = 'Open'
                 ORDER BY l.expires_at, l.id"
            ),
            "lots_by_wallet",
            true,
        ),
        (
            format!(
                "SELECT * FROM lots l WHERE l.wallet_id = {w} AND l.status = 'Open' ORDER BY l.expires_at, l.id"
            ),
            "lots_by_wallet",
            false,
        ),
    ];
    for (query, index, sorted) in queries {
        let plan = plan(db.url(), &query);
        assert!(plan.contains(&format!("using {index}")), "{query}:\n{plan}");
        assert!(sorted || !plan.contains("Sort"), "{query}:\n{plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_lot_invariants_forbid() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let w = db.fx.funded(&caller, None, 10).await;
    let at = db.fx.clock.now() + 60_000;
    completed(db.fx.post(&caller, vec![issue_expiring(w, 5, at)]).await);
    completed(db.fx.post(&caller, vec![hold("h", w, 2, None, None)]).await);
    assert_eq!(value(db.url(), "SELECT earmarked FROM lots"), "2");
    let refused = [
        "UPDATE lots SET earmarked = 6",
        "UPDATE lots SET earmarked = -1",
        "UPDATE lots SET remaining = 6",
        "UPDATE lots SET amount = 0, remaining = 0, earmarked = 0",
        "UPDATE lots SET remaining = 0, earmarked = 0",
        "UPDATE lots SET status = 'Spent'",
        "UPDATE lots SET status = 'Gone'",
        "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
         SELECT id, transaction_id, 'Spend', 0, 0 FROM lots",
        "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
         SELECT id, transaction_id, 'Refund', 1, 0 FROM lots",
        "UPDATE hold_lots SET amount = 0",
        "INSERT INTO hold_lots (hold_id, lot_id, amount) SELECT hold_id, lot_id, 1 FROM hold_lots",
        "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at)
         SELECT wallet_id, transaction_id, authority_id, 'Lapse', -1, 9, 0 FROM entries LIMIT 1",
    ];
    for statement in refused {
        assert!(sql(db.url(), statement).is_err(), "{statement}");
    }
    for statement in [
        "UPDATE lot_steps SET amount = 1",
        "DELETE FROM lot_steps",
        "TRUNCATE lot_steps",
    ] {
        let refused = sql(db.url(), statement).expect_err(statement);
        let message = refused.as_db_error().map(|e| e.message().to_owned());
        assert_eq!(
            message.as_deref(),
            Some("lot history is append-only"),
            "{statement}"
        );
    }
    let deleted = sql(db.url(), "DELETE FROM lots").expect_err("a lot is deleted");
    assert_eq!(
        deleted.as_db_error().map(|e| e.message().to_owned()).as_deref(),
        Some("lots are never deleted")
    );
    sql(
        db.url(),
        "UPDATE lots SET earmarked = 0, remaining = 0, status = 'Expired'",
    )
    .expect("the schema takes an Expired lot");
}

/// The project a tampered lot's transaction is moved to.
const OTHER: &str = "other";

/// Each broken lot invariant, made by hand on a database whose CHECKs and
/// append-only triggers were dropped (a restore of a damaged copy, a hand
/// edit): `check` names it in `lot_mismatches`, in words that say which.
/// The rows, through the ledger: `w` with 10 of plain value and lots of 10
/// (soon) and 5 (late); a Hold of 4 earmarking 4 of the soon one; a
/// Transfer of 3 from it to `v`, which gets a lot of 3 (soon); a lot of 2
/// in `x` expired by the server. Lots, in id order: `w`'s soon, `w`'s
/// late, `v`'s, `x`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_every_broken_lot_invariant() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "Open lots above the balance",
            "UPDATE lots SET amount = amount + 100, remaining = remaining + 100 WHERE wallet_id = {v}",
            "its Open lots hold 103 of a balance of 3",
        ),
        (
            "Expire entries that are not the lots' Expire steps",
            "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
             SELECT id, transaction_id, 'Expire', 1, 0 FROM lots WHERE wallet_id = {v};
             UPDATE lots SET amount = amount + 1 WHERE wallet_id = {v}",
            "its Expire entries sum to 0 but its lots' Expire steps to 1",
        ),
        (
            "earmarked above remaining",
            "UPDATE lots SET earmarked = 8, remaining = 7, amount = 7 WHERE wallet_id = {v}",
            "(Open): amount 7, remaining 7, earmarked 8",
        ),
        (
            "an Open lot with nothing remaining",
            "UPDATE lots SET status = 'Open' WHERE wallet_id = {x}",
            "(Open): amount 2, remaining 0, earmarked 0",
        ),
        (
            "an unknown status",
            "UPDATE lots SET status = 'Frozen' WHERE wallet_id = {x}",
            "(Frozen)",
        ),
        (
            "a Spent lot with an Expire step",
            "UPDATE lots SET status = 'Spent' WHERE wallet_id = {x}",
            "Spent, but its history has an Expire step",
        ),
        (
            "a history that does not replay to the lot",
            "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
             SELECT id, transaction_id, 'Spend', 1, 0 FROM lots WHERE wallet_id = {v}",
            "remaining 3 and earmarked 0, but its history replays to 2 and 0",
        ),
        (
            "a step gone from the history",
            "DELETE FROM lot_steps WHERE kind = 'Earmark'",
            "remaining 7 and earmarked 4, but its history replays to 7 and 0",
        ),
        (
            "a step of no kind",
            "UPDATE lot_steps SET kind = 'Refund' WHERE kind = 'Earmark'",
            "kind Refund, amount 4",
        ),
        (
            "a step of nothing",
            "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
             SELECT id, transaction_id, 'Spend', 0, 0 FROM lots WHERE wallet_id = {v}",
            "kind Spend, amount 0",
        ),
        (
            "a lot formed in another project's transaction",
            "UPDATE lots SET transaction_id = (SELECT max(id) FROM transactions WHERE project_id = 'other')
             WHERE wallet_id = {v}",
            "is Failed or of another project than its wallet",
        ),
        (
            "a lot formed in a Failed transaction",
            "UPDATE transactions SET status = 'Failed'
             WHERE id = (SELECT transaction_id FROM lots WHERE wallet_id = {v})",
            "is Failed or of another project than its wallet",
        ),
        (
            "a step in another project's transaction",
            "UPDATE lot_steps SET transaction_id = (SELECT max(id) FROM transactions WHERE project_id = 'other')
             WHERE kind = 'Earmark'",
            "is Failed or of another project than the lot's wallet",
        ),
        (
            "a step in a Failed transaction",
            "UPDATE transactions SET status = 'Failed'
             WHERE id = (SELECT transaction_id FROM lot_steps WHERE kind = 'Earmark')",
            "is Failed or of another project than the lot's wallet",
        ),
        (
            "earmarked that Open holds do not earmark",
            "UPDATE hold_lots SET amount = 3",
            "earmarked 4, but Open holds earmark 3 of it",
        ),
        (
            "an earmark of a hold that is not Open",
            "UPDATE holds SET status = 'Voided', remaining = 0; UPDATE wallets SET held = 0 WHERE id = {w}",
            ", but is not Open",
        ),
        (
            "an earmark of another wallet's lot",
            "INSERT INTO hold_lots (hold_id, lot_id, amount)
             SELECT h.id, l.id, 1 FROM holds h, lots l WHERE l.wallet_id = {v}",
            ", a lot of wallet {v}, not of its source {w}",
        ),
        (
            "an earmark of nothing",
            "UPDATE hold_lots SET amount = 0",
            "earmarks 0 of lot",
        ),
        (
            "earmarks past what remains of the hold",
            "UPDATE holds SET captured = 1, remaining = 3; UPDATE wallets SET held = 3 WHERE id = {w}",
            "its earmarks sum to 4, past what remains of it, 3",
        ),
    ];
    for (what, damage, words) in cases {
        let db = open();
        let caller = db.fx.authority("default").await;
        db.fx.project(OTHER).await;
        let other = db.fx.authority(OTHER).await;
        let w = db.fx.funded(&caller, None, 10).await;
        let (v, x) = (
            db.fx.wallet(&caller, None).await,
            db.fx.wallet(&caller, None).await,
        );
        let now = db.fx.clock.now();
        let (soon, late) = (now + 1_000, now + 60_000);
        completed(
            db.fx
                .post(
                    &caller,
                    vec![issue_expiring(w, 10, soon), issue_expiring(w, 5, late)],
                )
                .await,
        );
        completed(db.fx.post(&caller, vec![hold("h", w, 4, None, None)]).await);
        completed(db.fx.post(&caller, vec![transfer(w, v, 3)]).await);
        completed(db.fx.post(&caller, vec![issue_expiring(x, 2, now + 10)]).await);
        let side = db.fx.wallet(&other, None).await;
        db.fx.issue(&other, side, 1).await;
        db.fx.clock.advance(10);
        assert_eq!(db.fx.ledger.expire_due_lots().await.expect("expires"), 1);
        let report = db.fx.assert_check().await;
        assert_eq!(report.lots, 4);
        sql(
            db.url(),
            "DO $$ DECLARE c record; BEGIN
                 FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
                          WHERE contype = 'c' AND conrelid IN ('lots'::regclass, 'lot_steps'::regclass,
                                                              'hold_lots'::regclass, 'holds'::regclass,
                                                              'wallets'::regclass) LOOP
                     EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
                 END LOOP;
             END $$;
             DROP TRIGGER lot_steps_no_change ON lot_steps",
        )
        .expect("drops the CHECKs and the trigger");
        let fill = |text: &str| {
            text.replace("{w}", &w.to_string())
                .replace("{v}", &v.to_string())
                .replace("{x}", &x.to_string())
        };
        sql(db.url(), &fill(damage)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = db.fx.ledger.check().await.expect("check runs");
        let words = fill(words);
        assert!(
            report.lot_mismatches.iter().any(|m| m.contains(&words)),
            "{what}: no {words:?} in {:#?}",
            report.lot_mismatches
        );
        assert!(!report.is_ok(), "{what}");
    }
}

/// What the spec promises of the ledger on PostgreSQL end to end: a lot is
/// spent soonest first and never at or after its time, a Transfer carries
/// its expiry, a hold earmarks it and a Void after its time expires the
/// part, the server expires the rest with an Expire entry, and issued −
/// redeemed − expired is the sum of balances (`check`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_through_the_ledger_on_postgres_keep_the_spec() {
    use wallet_testkit::fixture::{redeem, void};
    let db = open();
    let caller = db.fx.authority("default").await;
    let w = db.fx.funded(&caller, None, 5).await;
    let v = db.fx.wallet(&caller, None).await;
    let now = db.fx.clock.now();
    completed(
        db.fx
            .post(
                &caller,
                vec![
                    issue_expiring(w, 10, now + 2_000),
                    issue_expiring(w, 10, now + 1_000),
                ],
            )
            .await,
    );
    completed(
        db.fx
            .post(&caller, vec![transfer(w, v, 4), hold("h", w, 3, None, None)])
            .await,
    );
    let lots = |wallet| {
        let (ledger, caller) = (db.fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .wallet_lots(&caller, wallet, None, PageRequest::ALL)
                .await
                .expect("reads")
                .items
                .into_iter()
                .map(|l| (l.expires_at - now, l.remaining, l.earmarked, l.status))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        lots(w).await,
        [(1_000, 6, 3, LotStatus::Open), (2_000, 10, 0, LotStatus::Open)],
        "soonest first: the transfer and the hold took from the lot of 1 000"
    );
    assert_eq!(
        lots(v).await,
        [(1_000, 4, 0, LotStatus::Open)],
        "the transfer kept its expiry"
    );
    let row = db.fx.wallet_row(&caller, w).await;
    assert_eq!(
        row.expiring,
        [
            Expiring {
                expires_at: now + 1_000,
                amount: 6
            },
            Expiring {
                expires_at: now + 2_000,
                amount: 10
            }
        ]
    );

    db.fx.clock.advance(1_000);
    // At its time the soon lot is spent no more: the Redeem takes the late
    // lot, then plain value.
    completed(db.fx.post(&caller, vec![redeem(w, 12)]).await);
    assert_eq!(
        lots(w).await,
        [(1_000, 6, 3, LotStatus::Open), (2_000, 0, 0, LotStatus::Spent)]
    );
    assert_eq!(
        db.fx.ledger.expire_due_lots().await.expect("expires"),
        2,
        "w's free 3, v's 4"
    );
    completed(db.fx.post(&caller, vec![void("h")]).await);
    assert_eq!(
        lots(w).await[0],
        (1_000, 0, 0, LotStatus::Expired),
        "the voided part expired at once"
    );
    assert_eq!(lots(v).await, [(1_000, 0, 0, LotStatus::Expired)]);
    let expired: i64 = value(db.url(), "SELECT sum(amount) FROM entries WHERE kind = 'Expire'")
        .parse()
        .unwrap();
    assert_eq!(expired, -10);
    assert_eq!(
        (db.fx.balance(&caller, w).await, db.fx.balance(&caller, v).await),
        (3, 0),
        "5 + 20 issued, 4 moved, 12 redeemed, 6 expired in w"
    );
    let report = db.fx.assert_check().await;
    assert_eq!(report.lots, 3);
    assert_eq!(
        value(
            db.url(),
            "SELECT string_agg(kind || ' ' || amount, ', ' ORDER BY id) FROM lot_steps"
        ),
        "Spend 4, Earmark 3, Spend 10, Expire 3, Expire 4, Release 3, Expire 3"
    );
}
