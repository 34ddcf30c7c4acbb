//! Lots with several writers: two server processes (two backends on one
//! database, four writer threads each) spending one wallet's lots, racing
//! an expiry against a spend, and both running the expiry worker; and one
//! writer's group, where a wallet is locked once and later jobs are
//! answered from the group's cache, planning on the lots the earlier jobs
//! left (and not on those a discarded job wrote).

use crate::common::{open, open_with, spawn_write, value, Blocker, Db};
use std::sync::Arc;
use std::time::Duration;
use wallet_core::clock::Clock;
use wallet_core::ids::WalletId;
use wallet_core::model::{Lot, LotStatus, PageRequest};
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::port::LotUpdate;
use wallet_core::{LedgerError, TransactionOutcome};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::answers::{completed, failed};
use wallet_testkit::fixture::issue_expiring;
use wallet_testkit::fixture::{redeem, request, transfer};
use wallet_testkit::{Fixture, TestDb};

/// A second server process on the database: its own backend (writers,
/// pool) and its own clock, starting where the first one's is.
async fn second_process(db: &Db) -> Fixture {
    let fx = Fixture::new(TestDb::new(
        Arc::new(PostgresBackend::connect(&PgOptions::new(db.url())).expect("connects")),
        (),
    ));
    fx.clock.set(db.fx.clock.now());
    fx
}

async fn lots(fx: &Fixture, caller: &Caller, wallet: WalletId) -> Vec<Lot> {
    fx.ledger
        .wallet_lots(caller, wallet, None, PageRequest::ALL)
        .await
        .expect("reads")
        .items
}

/// What the lots of `wallet` lost to steps of `kind`, in SQL.
fn steps(db: &Db, wallet: WalletId, kind: &str) -> i64 {
    value(
        db.url(),
        &format!(
            "SELECT coalesce(sum(s.amount), 0) FROM lot_steps s JOIN lots l ON l.id = s.lot_id
             WHERE l.wallet_id = {wallet} AND s.kind = '{kind}'"
        ),
    )
    .parse()
    .expect("a number")
}

/// A wallet holding only lots (20 of 5, each expiring at its own time) is
/// spent through two processes at once, 64 Redeems and Transfers of 1-3:
/// every part of a lot is spent at most once (what the spends took is
/// exactly what the lots lost, and what the transfers took arrived as lots
/// with the same expiry), and in spending order: the lots are used up
/// soonest first, at most one in part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_spending_one_wallets_lots_never_spend_a_part_twice() {
    let db = open();
    let second = second_process(&db).await;
    let caller = db.fx.authority("default").await;
    let (w, d) = (
        db.fx.wallet(&caller, None).await,
        db.fx.wallet(&caller, None).await,
    );
    let now = db.fx.clock.now();
    let issues = (0..20)
        .map(|n| issue_expiring(w, 5, now + 60_000 + 1_000 * ((n * 7) % 20)))
        .collect();
    completed(db.fx.post(&caller, issues).await);

    let processes = [db.fx.ledger.clone(), second.ledger.clone()];
    let spends = (0..64usize).map(|i| {
        let (ledger, caller) = (processes[i % 2].clone(), caller.clone());
        let amount = [1, 2, 3][i % 3];
        let operation = if i % 4 < 2 {
            transfer(w, d, amount)
        } else {
            redeem(w, amount)
        };
        let moved = i % 4 < 2;
        tokio::spawn(async move {
            let outcome = ledger
                .post_transaction(&caller, request(&format!("spend-{i}"), vec![operation]))
                .await
                .expect("answered");
            (amount, moved, outcome)
        })
    });
    let (mut spent, mut transferred) = (0, 0);
    for task in spends.collect::<Vec<_>>() {
        let (amount, moved, outcome) = task.await.expect("the task ends");
        match outcome {
            TransactionOutcome::Completed(..) => {
                spent += amount;
                transferred += if moved { amount } else { 0 };
            }
            other => drop(failed(other, FailCode::InsufficientFunds)),
        }
    }
    assert!(spent > 90, "nearly everything was spent: {spent}");
    let balance = db.fx.balance(&caller, w).await;
    assert_eq!(balance, 100 - spent, "conserved");
    assert_eq!(steps(&db, w, "Spend"), spent, "each part spent once");

    let mut left = lots(&db.fx, &caller, w).await;
    left.sort_by_key(|l| (l.expires_at, l.id));
    assert_eq!(
        left.iter()
            .filter(|l| l.status == LotStatus::Open)
            .map(|l| l.remaining)
            .sum::<i64>(),
        balance,
        "the wallet holds nothing but its lots"
    );
    let used = left.iter().take_while(|l| l.status == LotStatus::Spent).count();
    let untouched = left[used..].iter().skip(1).all(|l| l.remaining == l.amount);
    assert!(untouched, "soonest first, one lot at most in part: {left:#?}");

    let arrived = lots(&db.fx, &caller, d).await;
    assert_eq!(arrived.iter().map(|l| l.amount).sum::<i64>(), transferred);
    assert_eq!(db.fx.balance(&caller, d).await, transferred);
    assert!(
        arrived
            .iter()
            .all(|a| left.iter().any(|l| l.expires_at == a.expires_at)),
        "every part kept the expiry of the lot it left"
    );
    db.fx.assert_check().await;
}

/// 20 wallets with 5 of plain value and a lot of 10 each: one process,
/// past the lots' time, expires them while the other, whose clock is
/// before it, redeems 7 from each. Whichever comes first, each wallet ends
/// with its 5 of plain value and an Expired lot whose history is either a
/// spend of 7 and an expiry of 3 (the Redeem won) or an expiry of 10 (the
/// Redeem failed): nothing is spent after it expired, nothing expires
/// twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiry_racing_a_spend_from_another_process_conserves_value() {
    let db = open();
    let spender = second_process(&db).await;
    let caller = db.fx.authority("default").await;
    let expires_at = db.fx.clock.now() + 1_000;
    let mut wallets = Vec::new();
    for _ in 0..20 {
        let wallet = db.fx.funded(&caller, None, 5).await;
        completed(
            db.fx
                .post(&caller, vec![issue_expiring(wallet, 10, expires_at)])
                .await,
        );
        wallets.push(wallet);
    }
    db.fx.clock.advance(1_000);

    let ledger = db.fx.ledger.clone();
    let expiry = tokio::spawn(async move { ledger.expire_due_lots().await.expect("expires") });
    let redeems: Vec<_> = wallets
        .iter()
        .map(|&wallet| {
            let (ledger, caller) = (spender.ledger.clone(), caller.clone());
            tokio::spawn(async move {
                let outcome = ledger
                    .post_transaction(
                        &caller,
                        request(&format!("race-{wallet}"), vec![redeem(wallet, 7)]),
                    )
                    .await
                    .expect("answered");
                matches!(outcome, TransactionOutcome::Completed(..))
            })
        })
        .collect();
    let mut redeemed = Vec::new();
    for task in redeems {
        redeemed.push(task.await.expect("the task ends"));
    }
    assert_eq!(expiry.await.expect("the task ends"), 20, "each lot expired once");

    for (wallet, redeemed) in wallets.iter().zip(redeemed) {
        assert_eq!(
            db.fx.balance(&caller, *wallet).await,
            5,
            "wallet {wallet}: conserved"
        );
        let lot = lots(&db.fx, &caller, *wallet).await.pop().expect("its lot");
        assert_eq!((lot.remaining, lot.status), (0, LotStatus::Expired));
        let history = (steps(&db, *wallet, "Spend"), steps(&db, *wallet, "Expire"));
        assert_eq!(
            history,
            if redeemed { (7, 3) } else { (0, 10) },
            "wallet {wallet}: its lot's history"
        );
    }
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) FROM transactions WHERE description LIKE 'lot % expired'"
        ),
        "20"
    );
    db.fx.assert_check().await;
}

/// Both processes' expiry workers run at once on 30 due lots in 10
/// wallets: each lot expires exactly once, in a transaction of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_expiring_due_lots_expire_each_once() {
    let db = open();
    let second = second_process(&db).await;
    let caller = db.fx.authority("default").await;
    let now = db.fx.clock.now();
    for _ in 0..10 {
        let wallet = db.fx.wallet(&caller, None).await;
        let issues = (0..3)
            .map(|n| issue_expiring(wallet, 2 + n, now + 100 + n))
            .collect();
        completed(db.fx.post(&caller, issues).await);
    }
    for fx in [&db.fx, &second] {
        fx.clock.advance(1_000);
    }
    let workers = [db.fx.ledger.clone(), second.ledger.clone()]
        .map(|ledger| tokio::spawn(async move { ledger.expire_due_lots().await.expect("expires") }));
    let mut expired = 0;
    for worker in workers {
        expired += worker.await.expect("the task ends");
    }
    assert_eq!(expired, 30);
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) || ' ' || count(DISTINCT lot_id) || ' ' || sum(amount)
             FROM lot_steps WHERE kind = 'Expire'"
        ),
        "30 30 90"
    );
    assert_eq!(
        value(
            db.url(),
            "SELECT count(*) FROM transactions WHERE description LIKE 'lot % expired'"
        ),
        "30"
    );
    assert_eq!(value(db.url(), "SELECT sum(balance) FROM wallets"), "0");
    db.fx.assert_check().await;
}

/// One writer, one group: a wallet with three lots of 10 and nothing else
/// is spent by four Redeems of 10 queued behind a blocker, with a job
/// between them that spends the second lot and is then discarded. The
/// wallet is locked by the first job only (the others take it from the
/// group's cache), yet each job plans on the lots as the group left them:
/// three Redeems spend the three lots once each, the fourth finds nothing,
/// and the discarded job's change is gone for the jobs after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_later_jobs_plan_on_the_lots_its_earlier_jobs_left() {
    let db = open_with(|o| o.writers = 1);
    let caller = db.fx.authority("default").await;
    let w = db.fx.wallet(&caller, None).await;
    let now = db.fx.clock.now();
    completed(
        db.fx
            .post(
                &caller,
                (1..=3).map(|n| issue_expiring(w, 10, now + 1_000 * n)).collect(),
            )
            .await,
    );
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    let redeem_now = |n: usize| {
        let (ledger, caller) = (db.fx.ledger.clone(), caller.clone());
        tokio::spawn(async move {
            ledger
                .post_transaction(&caller, request(&format!("group-{n}"), vec![redeem(w, 10)]))
                .await
                .expect("answered")
        })
    };
    let pause = || tokio::time::sleep(Duration::from_millis(50));
    let first = redeem_now(0);
    pause().await;
    let discarded = spawn_write(&db.store, move |tx| -> Result<Vec<Lot>, LedgerError> {
        tx.lock_wallets("default", &[w])?;
        let seen = tx.lots_of(&[w])?;
        let lot = &seen[0];
        tx.update_lot(&LotUpdate {
            id: lot.id,
            remaining: 0,
            earmarked: 0,
            status: LotStatus::Spent,
            updated_at: now,
        })?;
        tx.debit(w, 10)?;
        Err(LedgerError::Invalid(format!(
            "the job changes its mind; it saw {} lots",
            seen.len()
        )))
    });
    pause().await;
    let mut rest = Vec::new();
    for n in 1..4 {
        rest.push(redeem_now(n));
        pause().await;
    }
    blocker.release().await;

    completed(first.await.unwrap());
    match discarded.await.unwrap() {
        Err(LedgerError::Invalid(why)) => {
            assert!(why.ends_with("saw 2 lots"), "the first job's spend: {why}");
        }
        other => panic!("{other:?}"),
    }
    let mut outcomes = Vec::new();
    for task in rest {
        outcomes.push(task.await.unwrap());
    }
    assert_eq!(
        db.commits() - commits,
        2,
        "the blocker's group, then one for the five jobs"
    );
    let last = outcomes.pop().expect("four redeems");
    failed(last, FailCode::InsufficientFunds);
    for outcome in outcomes {
        completed(outcome);
    }
    let left = lots(&db.fx, &caller, w).await;
    assert!(
        left.iter()
            .all(|l| (l.remaining, l.status) == (0, LotStatus::Spent)),
        "{left:#?}"
    );
    assert_eq!(steps(&db, w, "Spend"), 30, "each lot spent once");
    assert_eq!(db.fx.balance(&caller, w).await, 0);
    db.fx.assert_check().await;
}
