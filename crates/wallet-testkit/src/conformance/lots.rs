//! Lots (`spec/lots.md`), on the fixture's clock: value is spent
//! soonest-expiring first, then plain value; nothing is spent from a lot at
//! or after its `expiresAt`, to the millisecond; each expiry is a
//! transaction of its own, once; value keeps its expiry when it moves;
//! holds keep their earmarked parts from expiring, a Void after the lot
//! expired expires the part, a Capture moves it; a lot that expired while
//! no server ran expires at the first pass after a restart; racing spends
//! and expiries conserve value; wallets show what expires when; a wallet's
//! lots page and filter, only for who may read them; an export carries
//! lots, their history and the holds' earmarks; a storage fault in a lot
//! transaction applies nothing.

use super::concurrently;
use crate::answers::{completed, failed, is_not_found, is_unavailable};
use crate::faults::Faults;
use crate::fixture::{capture, hold, issue, issue_expiring, redeem, request, transfer, void, Fixture, T0};
use crate::harness::TestDb;
use std::collections::BTreeSet;
use wallet_core::dump::{DumpRecord, ImportCheck};
use wallet_core::ids::WalletId;
use wallet_core::model::{EntryKind, Expiring, Lot, LotStatus, Millis, PageRequest, TimeRange};
use wallet_core::planner::{FailCode, FailReason};
use wallet_core::policy::Caller;
use wallet_core::{Missing, TransactionOutcome};

/// `k` seconds after the fixture's start.
fn at(k: i64) -> Millis {
    T0 + k * 1_000
}

/// A wallet's Open lots as (remaining, earmarked, expires_at), in spending
/// order.
async fn open(fx: &Fixture, caller: &Caller, wallet: WalletId) -> Vec<(i64, i64, Millis)> {
    fx.lots(caller, wallet, Some(LotStatus::Open))
        .await
        .iter()
        .map(|l| (l.remaining, l.earmarked, l.expires_at))
        .collect()
}

fn statuses(lots: &[Lot]) -> Vec<LotStatus> {
    lots.iter().map(|l| l.status).collect()
}

/// Value leaves a wallet from its Open lots by earliest expiry (ties: the
/// lot formed first), then from plain value: a Redeem, a Transfer's source,
/// a Hold's earmarks (a later Redeem takes only what is not earmarked), and
/// a Capture, which moves its earmarks with their expiry.
pub async fn lots_are_spent_soonest_expiring_first_then_plain_value(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, other, shop) = (
        fx.wallet(&caller, None).await,
        fx.wallet(&caller, None).await,
        fx.wallet(&caller, None).await,
    );
    // Formed in this order: A (t3), B (t1), D (t1, formed after B), C (t2).
    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(w, 10, at(3)),
                issue_expiring(w, 10, at(1)),
                issue_expiring(w, 5, at(1)),
                issue_expiring(w, 10, at(2)),
                issue(w, 10),
            ],
        )
        .await,
    );
    assert_eq!(
        open(&fx, &caller, w).await,
        [(10, 0, at(1)), (5, 0, at(1)), (10, 0, at(2)), (10, 0, at(3))],
        "listed in spending order"
    );

    completed(fx.post(&caller, vec![redeem(w, 12)]).await);
    assert_eq!(
        open(&fx, &caller, w).await,
        [(3, 0, at(1)), (10, 0, at(2)), (10, 0, at(3))],
        "a Redeem takes B, then D (the tie formed later)"
    );

    completed(fx.post(&caller, vec![transfer(w, other, 5)]).await);
    assert_eq!(
        open(&fx, &caller, w).await,
        [(8, 0, at(2)), (10, 0, at(3))],
        "a Transfer takes the rest of D, then C"
    );
    assert_eq!(
        open(&fx, &caller, other).await,
        [(3, 0, at(1)), (2, 0, at(2))],
        "the destination gets each part with its expiry"
    );

    completed(fx.post(&caller, vec![hold("h", w, 10, Some(shop), None)]).await);
    assert_eq!(
        open(&fx, &caller, w).await,
        [(8, 8, at(2)), (10, 2, at(3))],
        "a Hold earmarks C, then part of A"
    );
    completed(fx.post(&caller, vec![redeem(w, 10)]).await);
    assert_eq!(
        open(&fx, &caller, w).await,
        [(8, 8, at(2)), (2, 2, at(3))],
        "a Redeem takes only what is not earmarked, then plain value"
    );
    let row = fx.wallet_row(&caller, w).await;
    assert_eq!((row.balance, row.held), (18, 10), "8 plain, 10 in lots");

    completed(fx.post(&caller, vec![capture("h", None)]).await);
    assert!(open(&fx, &caller, w).await.is_empty(), "the Capture moved them");
    assert_eq!(
        open(&fx, &caller, shop).await,
        [(8, 0, at(2)), (2, 0, at(3))],
        "with their expiry"
    );
    completed(fx.post(&caller, vec![redeem(w, 8)]).await);
    let row = fx.wallet_row(&caller, w).await;
    assert_eq!((row.balance, row.held), (0, 0));
    assert_eq!(
        statuses(&fx.lots(&caller, w, None).await),
        [LotStatus::Spent; 4],
        "all spent before their time"
    );
    fx.assert_check().await;
}

/// At `expiresAt - 1` a lot is spent; from `expiresAt` on nothing is, even
/// before its expiry is recorded: a Redeem, a Transfer or a Hold of it fails
/// `INSUFFICIENT_FUNDS` when only lapsed value is left, and plain value is
/// still spent around it.
pub async fn nothing_is_spent_from_a_lot_at_or_after_its_expiry(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, other) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    completed(fx.post(&caller, vec![issue_expiring(w, 10, at(1))]).await);

    fx.clock.set(at(1) - 1);
    completed(fx.post(&caller, vec![redeem(w, 1)]).await);
    assert_eq!(open(&fx, &caller, w).await, [(9, 0, at(1))]);

    fx.clock.set(at(1));
    for op in [
        redeem(w, 1),
        transfer(w, other, 1),
        hold("late", w, 1, None, None),
    ] {
        let (_, failure) = failed(fx.post(&caller, vec![op]).await, FailCode::InsufficientFunds);
        assert!(
            matches!(failure.reason, FailReason::InsufficientFunds { available: 0, .. }),
            "{failure:?}"
        );
    }
    completed(fx.post(&caller, vec![issue(w, 5)]).await);
    completed(fx.post(&caller, vec![redeem(w, 5)]).await);
    assert_eq!(
        open(&fx, &caller, w).await,
        [(9, 0, at(1))],
        "only the plain value went"
    );
    failed(
        fx.post(&caller, vec![redeem(w, 1)]).await,
        FailCode::InsufficientFunds,
    );
    assert_eq!(fx.balance(&caller, w).await, 9, "lapsed, not yet expired");
    assert_eq!(fx.balance(&caller, other).await, 0);

    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);
    assert_eq!(fx.balance(&caller, w).await, 0);
    fx.assert_check().await;
}

/// Each due lot expires in a transaction of its own (no referenceId,
/// description `lot <id> expired`) with an Expire entry of what was left;
/// the lot ends Expired with nothing remaining, the balance goes down, and
/// a second pass finds nothing to do.
pub async fn each_due_lot_expires_once_in_a_transaction_of_its_own(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let w = fx.wallet(&caller, None).await;
    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(w, 30, at(1)),
                issue_expiring(w, 20, at(2)),
                issue_expiring(w, 7, at(5)),
                issue(w, 5),
            ],
        )
        .await,
    );
    assert_eq!(fx.ledger.next_lot_expiry().await.expect("reads"), Some(at(1)));
    assert_eq!(fx.ledger.next_expiry().await.expect("reads"), Some(at(1)));
    let before = fx.transaction_count(&caller).await;

    fx.clock.set(at(2));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 2);
    let expired = fx.lots(&caller, w, Some(LotStatus::Expired)).await;
    assert_eq!(
        expired
            .iter()
            .map(|l| (l.amount, l.remaining, l.earmarked))
            .collect::<Vec<_>>(),
        [(30, 0, 0), (20, 0, 0)]
    );
    assert_eq!(fx.balance(&caller, w).await, 12);
    let transactions = fx
        .ledger
        .transactions(&caller, TimeRange::ALL, PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    assert_eq!(transactions.len() as i64, before + 2);
    let entries = fx.entries(&caller, w).await;
    for lot in &expired {
        let t = transactions
            .iter()
            .find(|t| t.description.as_deref() == Some(format!("lot {} expired", lot.id).as_str()))
            .unwrap_or_else(|| panic!("no expiry transaction for lot {}: {transactions:#?}", lot.id));
        assert_eq!(t.reference_id, None, "the server's own");
        let lines: Vec<_> = entries.iter().filter(|e| e.transaction_id == t.id).collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!((lines[0].kind, lines[0].amount), (EntryKind::Expire, -lot.amount));
    }

    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 0, "once");
    assert_eq!(fx.transaction_count(&caller).await, before + 2);
    assert_eq!(fx.ledger.next_lot_expiry().await.expect("reads"), Some(at(5)));
    let report = fx.assert_check().await;
    assert_eq!(report.lots, 3);
}

/// What a Transfer takes from a lot arrives as a lot with the same
/// `expiresAt` (what it takes of plain value, as plain value), and moving it
/// again keeps it: it expires in the last wallet at that time.
pub async fn a_transfer_carries_expiry(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (a, b, c) = (
        fx.wallet(&caller, None).await,
        fx.wallet(&caller, None).await,
        fx.wallet(&caller, None).await,
    );
    completed(
        fx.post(&caller, vec![issue_expiring(a, 10, at(2)), issue(a, 5)])
            .await,
    );
    completed(fx.post(&caller, vec![transfer(a, b, 12)]).await);
    assert_eq!(
        open(&fx, &caller, b).await,
        [(10, 0, at(2))],
        "2 came as plain value"
    );
    let moved = completed(fx.post(&caller, vec![transfer(b, c, 11)]).await);
    let lots = fx.lots(&caller, c, None).await;
    assert_eq!(
        lots.iter()
            .map(|l| (l.amount, l.remaining, l.expires_at, l.status, l.transaction))
            .collect::<Vec<_>>(),
        [(10, 10, at(2), LotStatus::Open, moved.id)],
        "formed by the move, with the first lot's expiry"
    );
    assert_eq!(statuses(&fx.lots(&caller, b, None).await), [LotStatus::Spent]);

    fx.clock.set(at(2));
    assert_eq!(fx.ledger.expire_due().await.expect("expires"), (0, 1));
    for (wallet, balance) in [(a, 3), (b, 1), (c, 1)] {
        assert_eq!(fx.balance(&caller, wallet).await, balance, "wallet {wallet}");
    }
    fx.assert_check().await;
}

/// A hold's earmarked part does not expire while the hold is Open: the
/// expiry takes only the free part and leaves the lot Open; a Void after
/// the lot's time expires the part at once, in the Void's transaction.
pub async fn a_void_after_the_lot_expired_expires_the_part_at_once(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let w = fx.wallet(&caller, None).await;
    completed(
        fx.post(&caller, vec![issue_expiring(w, 10, at(1)), issue(w, 3)])
            .await,
    );
    completed(fx.post(&caller, vec![hold("h", w, 6, None, None)]).await);
    assert_eq!(open(&fx, &caller, w).await, [(10, 6, at(1))]);

    fx.clock.set(at(1));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);
    assert_eq!(open(&fx, &caller, w).await, [(6, 6, at(1))], "the free 4 expired");
    assert_eq!(
        fx.ledger.expire_due_lots().await.expect("expires"),
        0,
        "the rest is held"
    );
    assert_eq!(fx.ledger.next_lot_expiry().await.expect("reads"), None);
    let row = fx.wallet_row(&caller, w).await;
    assert_eq!((row.balance, row.held), (9, 6));

    let voided = completed(fx.post(&caller, vec![void("h")]).await);
    let row = fx.wallet_row(&caller, w).await;
    assert_eq!((row.balance, row.held), (3, 0), "right after the Void");
    assert_eq!(statuses(&fx.lots(&caller, w, None).await), [LotStatus::Expired]);
    let lines: Vec<_> = fx
        .entries(&caller, w)
        .await
        .into_iter()
        .filter(|e| e.transaction_id == voided.id)
        .map(|e| (e.kind, e.amount))
        .collect();
    assert_eq!(lines, [(EntryKind::Expire, -6)]);
    fx.assert_check().await;
}

/// A Capture moves a hold's earmarked parts with their expiry; once the
/// lot's time has passed its earmarked part is still not expired by the
/// server, and a Capture of it then moves it into the destination, where
/// it expires at once.
pub async fn a_capture_moves_earmarked_parts_with_their_expiry(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, shop) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    completed(fx.post(&caller, vec![issue_expiring(w, 10, at(2))]).await);
    completed(fx.post(&caller, vec![hold("h", w, 10, Some(shop), None)]).await);

    fx.clock.set(at(1));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 0);
    completed(fx.post(&caller, vec![capture("h", Some(4))]).await);
    assert_eq!(open(&fx, &caller, w).await, [(6, 6, at(2))]);
    assert_eq!(open(&fx, &caller, shop).await, [(4, 0, at(2))]);

    fx.clock.set(at(2));
    assert_eq!(
        fx.ledger.expire_due_lots().await.expect("expires"),
        1,
        "the shop's lot, not the earmarked part"
    );
    assert_eq!(open(&fx, &caller, w).await, [(6, 6, at(2))]);
    let captured = completed(fx.post(&caller, vec![capture("h", None)]).await);
    assert_eq!(statuses(&fx.lots(&caller, w, None).await), [LotStatus::Expired]);
    assert_eq!(
        statuses(&fx.lots(&caller, shop, None).await),
        [LotStatus::Expired, LotStatus::Expired]
    );
    let lines: BTreeSet<_> = fx
        .entries(&caller, shop)
        .await
        .into_iter()
        .filter(|e| e.transaction_id == captured.id)
        .map(|e| (e.kind.as_str(), e.amount))
        .collect();
    assert_eq!(lines, BTreeSet::from([("Capture", 6), ("Expire", -6)]));
    assert_eq!(fx.balance(&caller, shop).await, 0);
    assert_eq!(fx.balance(&caller, w).await, 0);
    fx.assert_check().await;
}

/// A Capture of part of a hold whose earmarks span two lots moves only the
/// soonest one's part; the earmark on the other lot stays as it was (the
/// transaction leaves that lot alone), and a Void gives both back.
pub async fn a_partial_capture_keeps_the_earmarks_it_does_not_take(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, shop) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    completed(
        fx.post(
            &caller,
            vec![issue_expiring(w, 5, at(1)), issue_expiring(w, 5, at(2))],
        )
        .await,
    );
    completed(fx.post(&caller, vec![hold("h", w, 8, Some(shop), None)]).await);
    assert_eq!(open(&fx, &caller, w).await, [(5, 5, at(1)), (5, 3, at(2))]);

    completed(fx.post(&caller, vec![capture("h", Some(4))]).await);
    assert_eq!(open(&fx, &caller, w).await, [(1, 1, at(1)), (5, 3, at(2))]);
    assert_eq!(open(&fx, &caller, shop).await, [(4, 0, at(1))]);
    assert_eq!(fx.hold(&caller, "h").await.remaining, 4);
    fx.assert_check().await;

    completed(fx.post(&caller, vec![void("h")]).await);
    assert_eq!(open(&fx, &caller, w).await, [(1, 0, at(1)), (5, 0, at(2))]);
    fx.assert_check().await;
}

/// A lot whose time came while no server ran is expired by the first pass
/// after the database is opened again.
pub async fn a_lot_that_expired_while_no_server_ran_expires_at_the_first_pass(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let w = fx.wallet(&caller, None).await;
    completed(
        fx.post(&caller, vec![issue_expiring(w, 10, at(1)), issue(w, 2)])
            .await,
    );

    fx.clock.set(at(60));
    let fx = fx.restarted();
    assert_eq!(fx.ledger.next_expiry().await.expect("reads"), Some(at(1)));
    assert_eq!(fx.ledger.expire_due().await.expect("expires"), (0, 1));
    assert_eq!(fx.balance(&caller, w).await, 2);
    assert_eq!(statuses(&fx.lots(&caller, w, None).await), [LotStatus::Expired]);
    assert_eq!(fx.ledger.next_expiry().await.expect("reads"), None);
    fx.assert_check().await;
}

/// 32 concurrent Redeems of 2 from a wallet with three lots of 10 and 15 of
/// plain value: exactly 22 complete and 10 fail `INSUFFICIENT_FUNDS`; every
/// lot is spent and 1 of plain value is left.
pub async fn concurrent_redeems_from_lots_never_take_more_than_there_is(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let w = fx.wallet(&caller, None).await;
    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(w, 10, at(3)),
                issue_expiring(w, 10, at(1)),
                issue(w, 15),
                issue_expiring(w, 10, at(2)),
            ],
        )
        .await,
    );

    let outcomes = concurrently(32, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let spend = request(&format!("spend-{i}"), vec![redeem(w, 2)]);
            ledger.post_transaction(&caller, spend).await.expect("answered")
        }
    })
    .await;
    let mut done = 0;
    for outcome in outcomes {
        match outcome {
            TransactionOutcome::Completed(..) => done += 1,
            other => {
                failed(other, FailCode::InsufficientFunds);
            }
        }
    }
    assert_eq!(done, 22, "45 holds 22 redeems of 2");
    assert_eq!(fx.balance(&caller, w).await, 1);
    assert!(open(&fx, &caller, w).await.is_empty(), "lots go first");
    assert_eq!(statuses(&fx.lots(&caller, w, None).await), [LotStatus::Spent; 3]);
    fx.assert_check().await;
}

/// Spends of a wallet's lots raced by expiry passes as their time comes:
/// every lot is spent or expired once, the balance never goes below zero,
/// and what was redeemed plus what expired plus what is left is what was
/// issued.
pub async fn an_expiry_racing_spends_of_the_same_lots_conserves_value(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let w = fx.wallet(&caller, None).await;
    let mut issues: Vec<_> = (0..16).map(|_| issue_expiring(w, 5, at(1))).collect();
    issues.push(issue(w, 40));
    completed(fx.post(&caller, issues).await);
    fx.clock.set(at(1) - 1);

    let outcomes = concurrently(24, |i| {
        let (ledger, caller, clock) = (fx.ledger.clone(), caller.clone(), fx.clock.clone());
        async move {
            if i % 6 == 0 {
                clock.set(at(1));
                let expired = ledger.expire_due_lots().await.expect("expires");
                (0, expired)
            } else {
                let spend = request(&format!("spend-{i}"), vec![redeem(w, 5)]);
                match ledger.post_transaction(&caller, spend).await.expect("answered") {
                    TransactionOutcome::Completed(..) => (5, 0),
                    other => {
                        failed(other, FailCode::InsufficientFunds);
                        (0, 0)
                    }
                }
            }
        }
    })
    .await;
    let redeemed: i64 = outcomes.iter().map(|(r, _)| r).sum();
    let mut expiries: usize = outcomes.iter().map(|(_, e)| e).sum();
    expiries += fx.ledger.expire_due_lots().await.expect("expires");

    let balance = fx.balance(&caller, w).await;
    assert!(balance >= 0, "{balance}");
    let entries = fx.entries(&caller, w).await;
    let expired: i64 = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Expire)
        .map(|e| -e.amount)
        .sum();
    assert_eq!(
        entries.iter().filter(|e| e.kind == EntryKind::Expire).count(),
        expiries,
        "one Expire entry per expiry"
    );
    assert_eq!(redeemed + expired + balance, 120, "value is conserved");
    let lots = fx.lots(&caller, w, None).await;
    assert!(
        lots.iter().all(|l| l.status != LotStatus::Open),
        "every lot spent or expired: {lots:#?}"
    );
    assert_eq!(
        lots.iter().filter(|l| l.status == LotStatus::Expired).count(),
        expiries,
        "each expired once"
    );
    fx.assert_check().await;
}

/// A wallet shows its Open lots' remaining value summed per `expiresAt`,
/// soonest first, at most 10 rows; spent lots are not in it, and a wallet
/// without lots shows none. Pages of wallets show it too.
pub async fn a_wallet_shows_what_expires_when(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, plain) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    let mut issues: Vec<_> = (1..=12).map(|k| issue_expiring(w, k, at(k))).collect();
    issues.push(issue_expiring(w, 100, at(3)));
    issues.push(issue(plain, 5));
    completed(fx.post(&caller, issues).await);
    completed(fx.post(&caller, vec![redeem(w, 1)]).await);

    let mut expected: Vec<Expiring> = (2..=11)
        .map(|k| Expiring {
            expires_at: at(k),
            amount: k,
        })
        .collect();
    expected[1].amount += 100;
    assert_eq!(fx.wallet_row(&caller, w).await.expiring, expected);
    assert!(fx.wallet_row(&caller, plain).await.expiring.is_empty());
    let page = fx
        .ledger
        .system_wallets(&caller, PageRequest::ALL)
        .await
        .expect("reads");
    let shown: Vec<_> = page.items.iter().map(|x| (x.id, x.expiring.clone())).collect();
    assert_eq!(shown, [(w, expected), (plain, Vec::new())]);
    fx.assert_check().await;
}

/// A wallet read right after each change of its lots shows them as they
/// are: formed, partly spent, spent out, expired — each read one statement
/// (the wallet joined to its Open lots). The owner's columns read the same
/// on every row of the join, and to its customer key too; a wallet that
/// never had a lot, or is not the caller's project's, reads as before.
pub async fn a_wallet_read_follows_its_lots_as_they_form_are_spent_and_expire(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let caller = fx.authority("pa").await;
    let stranger = fx.authority("pb").await;
    fx.customer(&caller, "ann").await;
    let ann = fx.customer_key(&caller, "ann", None).await;
    let (w, plain) = (
        fx.wallet(&caller, Some("ann")).await,
        fx.wallet(&caller, None).await,
    );
    let shown = |k: i64, amount: i64| Expiring {
        expires_at: at(k),
        amount,
    };
    let row = fx.wallet_row(&caller, w).await;
    assert!(row.expiring.is_empty());
    let owner = row.owner.clone().expect("ann's");
    assert_eq!(owner.id, "ann");

    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(w, 10, at(2)),
                issue_expiring(w, 4, at(1)),
                issue(w, 3),
                issue(plain, 1),
            ],
        )
        .await,
    );
    for reader in [&caller, &ann] {
        let row = fx.wallet_row(reader, w).await;
        assert_eq!(row.expiring, [shown(1, 4), shown(2, 10)], "formed");
        assert_eq!(
            (row.balance, row.owner.as_ref()),
            (17, Some(&owner)),
            "the same wallet on every row"
        );
    }
    completed(fx.post(&caller, vec![redeem(w, 6)]).await);
    assert_eq!(
        fx.wallet_row(&caller, w).await.expiring,
        [shown(2, 8)],
        "spent soonest first"
    );
    completed(fx.post(&caller, vec![redeem(w, 8)]).await);
    let row = fx.wallet_row(&caller, w).await;
    assert!(row.expiring.is_empty(), "spent out: {row:?}");
    assert_eq!(row.balance, 3);

    completed(fx.post(&caller, vec![issue_expiring(w, 5, at(3))]).await);
    assert_eq!(fx.wallet_row(&caller, w).await.expiring, [shown(3, 5)]);
    fx.clock.set(at(3));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);
    let row = fx.wallet_row(&caller, w).await;
    assert!(row.expiring.is_empty(), "expired: {row:?}");
    assert_eq!(row.balance, 3);

    let plain_row = fx.wallet_row(&caller, plain).await;
    assert!(plain_row.expiring.is_empty() && plain_row.owner.is_none() && plain_row.balance == 1);
    let err = fx
        .ledger
        .wallet(&stranger, w)
        .await
        .expect_err("another project's");
    assert!(is_not_found(&err, Missing::Wallet), "{err:?}");
    fx.assert_check().await;
}

/// A wallet's lots page soonest expiry first and filter by status; its
/// owner's customer key reads them, another customer's key and another
/// project's authority do not.
pub async fn a_wallets_lots_page_and_filter_for_who_may_read_them(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let caller = fx.authority("pa").await;
    let stranger = fx.authority("pb").await;
    fx.customer(&caller, "ann").await;
    fx.customer(&caller, "bob").await;
    let (ann, bob) = (
        fx.wallet(&caller, Some("ann")).await,
        fx.wallet(&caller, Some("bob")).await,
    );
    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(ann, 5, at(3)),
                issue_expiring(ann, 5, at(1)),
                issue_expiring(ann, 5, at(2)),
                issue_expiring(ann, 5, at(4)),
                issue_expiring(bob, 5, at(4)),
            ],
        )
        .await,
    );
    completed(fx.post(&caller, vec![redeem(ann, 5)]).await);
    fx.clock.set(at(2));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);

    let page = |page, size| PageRequest { page, size };
    let read = |who: Caller, status, p: PageRequest| {
        let ledger = fx.ledger.clone();
        async move { ledger.wallet_lots(&who, ann, status, p).await }
    };
    let first = read(caller.clone(), None, page(0, 2)).await.expect("reads");
    assert_eq!(first.total, 4);
    assert_eq!(statuses(&first.items), [LotStatus::Spent, LotStatus::Expired]);
    let second = read(caller.clone(), None, page(1, 2)).await.expect("reads");
    assert_eq!(
        second.items.iter().map(|l| l.expires_at).collect::<Vec<_>>(),
        [at(3), at(4)]
    );
    for (status, expected) in [
        (LotStatus::Open, vec![at(3), at(4)]),
        (LotStatus::Spent, vec![at(1)]),
        (LotStatus::Expired, vec![at(2)]),
    ] {
        let lots = read(caller.clone(), Some(status), PageRequest::ALL)
            .await
            .expect("reads");
        assert_eq!(
            lots.items.iter().map(|l| l.expires_at).collect::<Vec<_>>(),
            expected,
            "{status:?}"
        );
        assert_eq!(lots.total, expected.len() as i64);
    }

    let ann_key = fx.customer_key(&caller, "ann", None).await;
    let bob_key = fx.customer_key(&caller, "bob", None).await;
    assert_eq!(
        read(ann_key.clone(), None, PageRequest::ALL)
            .await
            .expect("her own")
            .total,
        4
    );
    assert!(
        read(bob_key.clone(), None, PageRequest::ALL).await.is_err(),
        "not his wallet"
    );
    let his = fx
        .ledger
        .wallet_lots(&bob_key, bob, None, PageRequest::ALL)
        .await
        .expect("his own");
    assert_eq!(his.total, 1);
    let elsewhere = read(stranger, None, PageRequest::ALL).await;
    assert!(
        matches!(&elsewhere, Err(e) if is_not_found(e, Missing::Wallet)),
        "{elsewhere:?}"
    );
    fx.assert_check().await;
}

/// An export carries every lot, each step of their history and the Open
/// holds' earmarks, after the holds, as stored: the core's import check
/// takes the file, replaying each lot's history to what it holds.
pub async fn an_export_carries_lots_their_history_and_earmarks(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (w, other) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    completed(
        fx.post(
            &caller,
            vec![
                issue_expiring(w, 10, at(1)),
                issue_expiring(w, 10, at(2)),
                issue(w, 5),
            ],
        )
        .await,
    );
    completed(fx.post(&caller, vec![transfer(w, other, 4)]).await);
    completed(fx.post(&caller, vec![hold("h", w, 8, Some(other), None)]).await);
    fx.clock.set(at(1));
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);

    let records = fx.export("pa").await;
    let Some(DumpRecord::Project(head)) = records.first() else {
        panic!("the project's row first: {records:?}")
    };
    let mut check = ImportCheck::begin(head).expect("a valid head");
    for record in &records[1..] {
        check
            .check(record)
            .unwrap_or_else(|e| panic!("{record:?}: {e:?}"));
    }
    check.finish().expect("the lots add up");

    let position = |f: fn(&DumpRecord) -> bool| records.iter().position(f);
    let (last_hold, first_lot) = (
        records.iter().rposition(|r| matches!(r, DumpRecord::Hold(_))),
        position(|r| matches!(r, DumpRecord::Lot(_))),
    );
    assert!(last_hold < first_lot, "lots after the holds");
    let mut stored = fx.lots(&caller, w, None).await;
    stored.extend(fx.lots(&caller, other, None).await);
    let mut stored: Vec<_> = stored
        .iter()
        .map(|l| {
            (
                l.id.get(),
                l.wallet.get(),
                l.remaining,
                l.earmarked,
                l.status.as_str().to_owned(),
            )
        })
        .collect();
    stored.sort_unstable();
    let exported: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Lot(l) => Some((l.id, l.wallet, l.remaining, l.earmarked, l.status.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(exported, stored);
    let steps: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::LotStep(s) => Some((s.kind.as_str(), s.amount)),
            _ => None,
        })
        .collect();
    assert_eq!(
        steps,
        [("Spend", 4), ("Earmark", 6), ("Earmark", 2), ("Expire", 4)],
        "the transfer's, the hold's, and the expiry of what the transfer brought"
    );
    let earmarks: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            DumpRecord::Earmark(e) => Some(e.amount),
            _ => None,
        })
        .collect();
    assert_eq!(earmarks, [6, 2], "the hold's 8, soonest lot first");
    fx.assert_check().await;
}

/// How many write primitives `work` makes (run with no fault on).
async fn primitives_of<F: std::future::Future>(faults: &Faults, work: F) -> u64 {
    let before = faults.write_primitives();
    work.await;
    faults.write_primitives() - before
}

/// A transaction that spends two lots into another wallet (forming lots
/// there), captures part of a hold's earmark and places a hold that
/// earmarks a lot, cut at each of its write primitives and at its commit:
/// no lot, earmark, hold or balance changes, and it applies once after the
/// fault lifts.
pub async fn a_storage_fault_at_any_write_of_a_lot_transaction_applies_nothing(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let payee = fx.wallet(&caller, None).await;
    let mut payers = Vec::new();
    for set in ["m", "c"] {
        let payer = fx.wallet(&caller, None).await;
        completed(
            fx.post(
                &caller,
                vec![
                    issue_expiring(payer, 10, at(2)),
                    issue_expiring(payer, 10, at(3)),
                    issue(payer, 10),
                    hold(&format!("old-{set}"), payer, 6, Some(payee), None),
                ],
            )
            .await,
        );
        payers.push(payer);
    }
    let work = |set: &str, payer: WalletId| {
        request(
            &format!("work-{set}"),
            vec![
                transfer(payer, payee, 8),
                capture(&format!("old-{set}"), Some(3)),
                hold(&format!("new-{set}"), payer, 5, None, None),
            ],
        )
    };
    let writes = primitives_of(&faults, async {
        completed(
            fx.ledger
                .post_transaction(&caller, work("m", payers[0]))
                .await
                .expect("answered"),
        );
    })
    .await;
    assert!(writes >= 12, "lots, steps, earmarks and holds: {writes} writes");
    let payer = payers[1];
    let state = || async {
        (
            fx.lots(&caller, payer, None).await,
            fx.lots(&caller, payee, None).await,
            fx.wallet_row(&caller, payer).await,
            fx.wallet_row(&caller, payee).await,
            fx.hold(&caller, "old-c").await,
            fx.transaction_count(&caller).await,
        )
    };
    let before = state().await;
    for cut in 1..=writes + 1 {
        match cut {
            _ if cut <= writes => faults.fail_from_write(cut),
            _ => faults.fail_commits(),
        }
        let outcome = fx.ledger.post_transaction(&caller, work("c", payer)).await;
        assert!(
            outcome.as_ref().is_err_and(is_unavailable),
            "cut {cut} of {writes} writes and a commit: {outcome:?}"
        );
        faults.lift();
        assert_eq!(state().await, before, "cut {cut}: nothing applied");
    }
    completed(
        fx.ledger
            .post_transaction(&caller, work("c", payer))
            .await
            .expect("answered"),
    );
    // The transfer took the free 4 of the first lot and 4 of the second;
    // the capture 3 of the first's earmark; the new hold 5 of the second.
    assert_eq!(open(&fx, &caller, payer).await, [(3, 3, at(2)), (6, 5, at(3))]);
    fx.assert_check().await;
}
