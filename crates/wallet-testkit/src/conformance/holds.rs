//! Holds (`spec/holds.md`): racing Holds never reserve more than is
//! available, a hold is captured or released once, captures are partial
//! and exact, nothing is captured from `expiresAt` on, and a hold goes with
//! its transaction, all or nothing.

use super::concurrently;
use crate::answers::{
    completed, completed_with_holds, duplicate_with_holds, failed, is_invalid, is_not_found,
};
use crate::fixture::{capture, hold, hold_id, redeem, request, transfer, void, Fixture, T0};
use crate::harness::TestDb;
use std::collections::BTreeSet;
use wallet_core::model::{EntryKind, HoldStatus, PageRequest, TimeRange};
use wallet_core::planner::{FailCode, FailReason};
use wallet_core::{Missing, TransactionOutcome};

/// 64 concurrent Holds of 7 on a wallet of 100: exactly 14 are placed, 50
/// fail `INSUFFICIENT_FUNDS`, and the wallet holds exactly 98 in 14 Open
/// holds, with 2 still available.
pub async fn concurrent_holds_never_reserve_more_than_is_available(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 100).await;

    let outcomes = concurrently(64, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let place = request(
                &format!("hold-{i}"),
                vec![hold(&format!("h{i}"), wallet, 7, None, None)],
            );
            ledger.post_transaction(&caller, place).await.expect("answered")
        }
    })
    .await;

    let mut placed = BTreeSet::new();
    let mut refused = 0;
    for outcome in outcomes {
        match outcome {
            TransactionOutcome::Completed(_, touched) => {
                placed.extend(touched.holds.into_iter().map(|h| h.id.to_string()));
            }
            other => {
                let (_, failure) = failed(other, FailCode::InsufficientFunds);
                assert!(
                    matches!(failure.reason, FailReason::InsufficientFunds { wallet: w, needed: 7, available } if w == wallet && available < 7),
                    "{failure:?}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((placed.len(), refused), (14, 50), "exactly what was available");
    let row = fx.wallet_row(&caller, wallet).await;
    assert_eq!((row.balance, row.held, row.available()), (100, 98, 2));
    let open = fx
        .ledger
        .wallet_holds(&caller, wallet, Some(HoldStatus::Open), PageRequest::ALL)
        .await
        .expect("reads");
    let open: BTreeSet<String> = open.items.iter().map(|h| h.id.to_string()).collect();
    assert_eq!(open, placed, "the Open holds are the placed ones");
    fx.assert_check().await;
}

/// 16 holds, each raced by a Capture and a Void at once: exactly one of
/// each pair completes, the other fails `WRONG_HOLD_STATUS`, the hold ends
/// as the winner left it, and value is conserved.
pub async fn a_capture_and_a_void_racing_on_one_hold_one_wins(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 160).await;
    let destination = fx.wallet(&caller, None).await;
    for k in 0..16 {
        fx.post(
            &caller,
            vec![hold(&format!("h{k}"), source, 10, Some(destination), None)],
        )
        .await;
    }
    assert_eq!(fx.wallet_row(&caller, source).await.held, 160);

    let outcomes = concurrently(32, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let id = format!("h{}", i / 2);
            let op = if i % 2 == 0 { capture(&id, None) } else { void(&id) };
            let outcome = ledger
                .post_transaction(&caller, request(&format!("race-{i}"), vec![op]))
                .await
                .expect("answered");
            (id, i % 2 == 0, outcome)
        }
    })
    .await;

    let mut captured = 0;
    let mut pairs = outcomes.into_iter();
    while let (Some(a), Some(b)) = (pairs.next(), pairs.next()) {
        let id = a.0.clone();
        let (winner, loser) = match (&a.2, &b.2) {
            (TransactionOutcome::Completed(..), _) => (a, b),
            (_, TransactionOutcome::Completed(..)) => (b, a),
            other => panic!("{id}: neither won: {other:?}"),
        };
        let (_, failure) = failed(loser.2, FailCode::WrongHoldStatus);
        let expected = if winner.1 {
            HoldStatus::Captured
        } else {
            HoldStatus::Voided
        };
        assert_eq!(
            failure.reason,
            FailReason::WrongHoldStatus {
                hold: hold_id(&id),
                status: expected
            }
        );
        let stored = fx.hold(&caller, &id).await;
        assert_eq!((stored.status, stored.remaining), (expected, 0), "{id}");
        captured += i64::from(winner.1);
    }
    let (source_row, destination_row) = (
        fx.wallet_row(&caller, source).await,
        fx.wallet_row(&caller, destination).await,
    );
    assert_eq!(source_row.held, 0, "every hold is final");
    assert_eq!(destination_row.balance, 10 * captured, "each capture once");
    assert_eq!(
        source_row.balance + destination_row.balance,
        160,
        "value is conserved"
    );
    fx.assert_check().await;
}

/// Eight concurrent Captures of 3 from one hold of 10: exactly three
/// complete, the rest fail `INSUFFICIENT_FUNDS`, and 1 still remains Open.
pub async fn concurrent_partial_captures_never_take_more_than_the_hold(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 10).await;
    let destination = fx.wallet(&caller, None).await;
    fx.post(&caller, vec![hold("pot", source, 10, Some(destination), None)])
        .await;

    let outcomes = concurrently(8, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let take = request(&format!("take-{i}"), vec![capture("pot", Some(3))]);
            ledger.post_transaction(&caller, take).await.expect("answered")
        }
    })
    .await;
    let mut done = 0;
    for outcome in outcomes {
        match outcome {
            TransactionOutcome::Completed(..) => done += 1,
            other => {
                let (_, failure) = failed(other, FailCode::InsufficientFunds);
                assert!(
                    matches!(
                        failure.reason,
                        FailReason::HoldInsufficient {
                            needed: 3,
                            remaining: 1,
                            ..
                        }
                    ),
                    "{failure:?}"
                );
            }
        }
    }
    assert_eq!(done, 3);
    let pot = fx.hold(&caller, "pot").await;
    assert_eq!(
        (pot.status, pot.captured, pot.remaining),
        (HoldStatus::Open, 9, 1)
    );
    let row = fx.wallet_row(&caller, source).await;
    assert_eq!((row.balance, row.held), (1, 1));
    assert_eq!(fx.balance(&caller, destination).await, 9);
    fx.assert_check().await;
}

/// A partial Capture keeps the hold Open with the rest; capturing the rest
/// makes it Captured; a Capture of more than remains fails
/// `INSUFFICIENT_FUNDS` and a Capture or Void of a final hold
/// `WRONG_HOLD_STATUS`. Each capture writes a Capture entry on both sides.
pub async fn a_partial_capture_then_a_capture_of_the_rest(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 50).await;
    let destination = fx.wallet(&caller, None).await;
    fx.post(&caller, vec![hold("h", source, 30, Some(destination), None)])
        .await;

    let (_, failure) = failed(
        fx.post(&caller, vec![capture("h", Some(40))]).await,
        FailCode::InsufficientFunds,
    );
    assert!(
        matches!(
            failure.reason,
            FailReason::HoldInsufficient {
                needed: 40,
                remaining: 30,
                ..
            }
        ),
        "{failure:?}"
    );

    let (_, holds) = completed_with_holds(fx.post(&caller, vec![capture("h", Some(12))]).await);
    let h = &holds[..];
    assert!(
        matches!(h, [h] if (h.status, h.captured, h.remaining) == (HoldStatus::Open, 12, 18)),
        "the reply shows the hold as changed: {holds:?}"
    );
    let row = fx.wallet_row(&caller, source).await;
    assert_eq!((row.balance, row.held, row.available()), (38, 18, 20));

    completed(fx.post(&caller, vec![capture("h", None)]).await);
    let h = fx.hold(&caller, "h").await;
    assert_eq!((h.status, h.captured, h.remaining), (HoldStatus::Captured, 30, 0));
    let row = fx.wallet_row(&caller, source).await;
    assert_eq!((row.balance, row.held), (20, 0));
    assert_eq!(fx.balance(&caller, destination).await, 30);

    for op in [capture("h", Some(1)), void("h")] {
        let (_, failure) = failed(fx.post(&caller, vec![op]).await, FailCode::WrongHoldStatus);
        assert_eq!(
            failure.reason,
            FailReason::WrongHoldStatus {
                hold: hold_id("h"),
                status: HoldStatus::Captured
            }
        );
    }
    let captures = |entries: Vec<wallet_core::model::Entry>| -> Vec<i64> {
        let mut amounts: Vec<i64> = entries
            .iter()
            .filter(|e| e.kind == EntryKind::Capture)
            .map(|e| e.amount)
            .collect();
        amounts.sort_unstable();
        amounts
    };
    assert_eq!(captures(fx.entries(&caller, source).await), [-18, -12]);
    assert_eq!(captures(fx.entries(&caller, destination).await), [12, 18]);
    fx.assert_check().await;
}

/// On the fixture's clock: a hold set to expire in the past is refused; up
/// to a millisecond before `expiresAt` it captures; from `expiresAt` on a
/// Capture or Void fails `WRONG_HOLD_STATUS` even though the expiry is not
/// recorded yet; `expire_due_holds` then releases what remains, as a
/// transaction of its own, once.
pub async fn nothing_is_captured_from_expires_at_on(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 20).await;
    let destination = fx.wallet(&caller, None).await;

    for at in [T0 - 1, T0] {
        let past = fx
            .ledger
            .post_transaction(
                &caller,
                request("past", vec![hold("p", source, 1, None, Some(at))]),
            )
            .await;
        assert!(past.as_ref().is_err_and(is_invalid), "expiresAt {at}: {past:?}");
    }
    fx.post(
        &caller,
        vec![
            hold("soon", source, 10, Some(destination), Some(T0 + 1_000)),
            hold("later", source, 5, Some(destination), Some(T0 + 5_000)),
        ],
    )
    .await;
    assert_eq!(
        fx.ledger.next_hold_expiry().await.expect("reads"),
        Some(T0 + 1_000)
    );

    fx.clock.set(T0 + 999);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("runs"), 0, "not yet");
    completed(fx.post(&caller, vec![capture("soon", Some(4))]).await);

    fx.clock.set(T0 + 1_000);
    for op in [capture("soon", Some(1)), void("soon")] {
        let (_, failure) = failed(fx.post(&caller, vec![op]).await, FailCode::WrongHoldStatus);
        assert_eq!(
            failure.reason,
            FailReason::WrongHoldStatus {
                hold: hold_id("soon"),
                status: HoldStatus::Expired
            }
        );
    }
    assert_eq!(
        fx.hold(&caller, "soon").await.status,
        HoldStatus::Open,
        "not recorded yet"
    );

    let transactions = fx.transaction_count(&caller).await;
    assert_eq!(fx.ledger.expire_due_holds().await.expect("runs"), 1);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("runs"), 0, "once");
    let soon = fx.hold(&caller, "soon").await;
    assert_eq!(
        (soon.status, soon.captured, soon.remaining),
        (HoldStatus::Expired, 4, 0)
    );
    let row = fx.wallet_row(&caller, source).await;
    assert_eq!(
        (row.balance, row.held),
        (16, 5),
        "what remained is released, the capture stays"
    );
    let listed = fx
        .ledger
        .transactions(&caller, TimeRange::ALL, PageRequest { page: 0, size: 1 })
        .await
        .expect("reads");
    assert_eq!(
        listed.total,
        transactions + 1,
        "the expiry is a transaction of its own"
    );
    let expiry = &listed.items[0];
    assert_eq!(
        (expiry.reference_id.as_deref(), expiry.description.as_deref()),
        (None, Some("hold soon expired"))
    );
    assert_eq!(expiry.status, wallet_core::model::TransactionStatus::Completed);
    assert_eq!(
        fx.ledger.next_hold_expiry().await.expect("reads"),
        Some(T0 + 5_000)
    );

    fx.clock.set(T0 + 60_000);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("runs"), 1);
    assert_eq!(fx.wallet_row(&caller, source).await.held, 0);
    assert_eq!(fx.ledger.next_hold_expiry().await.expect("reads"), None);
    fx.assert_check().await;
}

/// A Hold, Capture or Void in a transaction whose later operation fails is
/// not applied: the hold is not placed (its id stays free), not captured,
/// not voided.
pub async fn a_hold_goes_with_its_transaction_all_or_nothing(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 10).await;
    let (destination, other) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);

    let (_, failure) = failed(
        fx.post(
            &caller,
            vec![
                hold("a", source, 6, Some(destination), None),
                transfer(source, other, 5),
            ],
        )
        .await,
        FailCode::InsufficientFunds,
    );
    assert_eq!(failure.operation, 1, "the transfer, after the hold took 6");
    let missing = fx.ledger.hold(&caller, hold_id("a")).await;
    assert!(
        missing.as_ref().is_err_and(|e| is_not_found(e, Missing::Hold)),
        "{missing:?}"
    );
    assert_eq!(fx.wallet_row(&caller, source).await.held, 0);

    completed(
        fx.post(
            &caller,
            vec![
                hold("b", source, 4, Some(destination), None),
                transfer(source, other, 6),
            ],
        )
        .await,
    );
    let row = fx.wallet_row(&caller, source).await;
    assert_eq!((row.balance, row.held, row.available()), (4, 4, 0));

    for ops in [
        vec![capture("b", None), transfer(source, other, 1)],
        vec![void("b"), redeem(other, 100)],
    ] {
        failed(fx.post(&caller, ops).await, FailCode::InsufficientFunds);
        let b = fx.hold(&caller, "b").await;
        assert_eq!((b.status, b.remaining), (HoldStatus::Open, 4), "untouched");
        assert_eq!(fx.balance(&caller, destination).await, 0);
    }

    let (_, holds) = completed_with_holds(
        fx.post(&caller, vec![void("b"), hold("a", source, 4, None, None)])
            .await,
    );
    let holds: Vec<(&str, HoldStatus)> = holds.iter().map(|h| (h.id.as_str(), h.status)).collect();
    assert_eq!(
        holds,
        [("a", HoldStatus::Open), ("b", HoldStatus::Voided)],
        "the id was free"
    );
    fx.assert_check().await;
}

/// A hold id is taken once per project (a second Hold fails `CONFLICT`),
/// another project may use it, a retry of the placing request learns the
/// holds it placed, and a Capture of an unknown hold records nothing.
pub async fn a_hold_id_is_taken_once_per_project(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a, b) = (fx.authority("pa").await, fx.authority("pb").await);
    let (wa, wb) = (fx.funded(&a, None, 10).await, fx.funded(&b, None, 10).await);

    let place = || request("place-x", vec![hold("x", wa, 5, None, None)]);
    let (_, holds) = completed_with_holds(fx.ledger.post_transaction(&a, place()).await.expect("answered"));
    assert_eq!(holds.len(), 1);
    let (_, again) = duplicate_with_holds(fx.ledger.post_transaction(&a, place()).await.expect("answered"));
    assert_eq!(again, holds, "a retry learns the holds its transaction placed");

    let (_, failure) = failed(
        fx.post(&a, vec![hold("x", wa, 1, None, None)]).await,
        FailCode::Conflict,
    );
    assert_eq!(failure.reason, FailReason::HoldIdTaken { hold: hold_id("x") });
    completed(fx.post(&b, vec![hold("x", wb, 1, None, None)]).await);
    assert_eq!(fx.hold(&b, "x").await.amount, 1, "each project its own");
    assert_eq!(fx.hold(&a, "x").await.amount, 5);

    let transactions = fx.transaction_count(&a).await;
    let unknown = fx
        .ledger
        .post_transaction(&a, request("unknown", vec![capture("nope", None)]))
        .await;
    assert!(
        unknown.as_ref().is_err_and(|e| is_not_found(e, Missing::Hold)),
        "{unknown:?}"
    );
    assert_eq!(fx.transaction_count(&a).await, transactions, "nothing recorded");
    completed(fx.post(&a, vec![hold("only-a", wa, 1, None, None)]).await);
    let foreign = fx
        .ledger
        .post_transaction(&b, request("foreign", vec![void("only-a")]))
        .await;
    assert!(
        foreign.as_ref().is_err_and(|e| is_not_found(e, Missing::Hold)),
        "{foreign:?}"
    );
    assert_eq!(
        fx.hold(&a, "only-a").await.status,
        HoldStatus::Open,
        "another project's hold"
    );
    fx.assert_check().await;
}

/// A batch refuses a Hold whose `expiresAt` is not in the future exactly as
/// one transaction is refused: before anything is attempted (invalid,
/// nothing recorded, the reference id stays free), while the batch's other
/// transactions apply.
pub async fn a_batch_refuses_a_past_expiry_before_anything_is_recorded(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 10).await;
    let transactions = fx.transaction_count(&caller).await;

    let batch = vec![
        request("past", vec![hold("p", wallet, 1, None, Some(T0 - 1))]),
        request("now", vec![hold("n", wallet, 1, None, Some(T0))]),
        request("future", vec![hold("f", wallet, 1, None, Some(T0 + 1))]),
    ];
    let mut outcomes = fx
        .ledger
        .post_batch(&caller, batch)
        .await
        .expect("the batch runs")
        .into_iter();
    for reference in ["past", "now"] {
        let outcome = outcomes.next().expect("one outcome per request");
        assert!(
            outcome.as_ref().is_err_and(is_invalid),
            "{reference}: {outcome:?}"
        );
    }
    completed(
        outcomes
            .next()
            .expect("one outcome per request")
            .expect("answered"),
    );
    assert_eq!(
        fx.transaction_count(&caller).await,
        transactions + 1,
        "only the valid one is recorded"
    );
    // The refused reference ids are still free.
    let retry = fx
        .ledger
        .post_transaction(&caller, request("past", vec![hold("p", wallet, 1, None, None)]))
        .await
        .expect("answered");
    completed(retry);
    fx.assert_check().await;
}
