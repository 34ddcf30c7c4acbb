//! Once: a reference id applies at most once per project, whatever the
//! concurrency, and a retry learns the stored outcome.

use super::concurrently;
use crate::answers::{completed, duplicate, failed};
use crate::fixture::{issue, redeem, request, Fixture};
use crate::harness::TestDb;
use wallet_core::model::TransactionStatus;
use wallet_core::planner::FailCode;
use wallet_core::TransactionOutcome;

/// One reference posted 32 times at once: exactly one Completed, 31
/// Duplicates that each carry the stored transaction, one entry.
pub async fn one_reference_posted_concurrently_applies_once(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.wallet(&caller, None).await;

    let outcomes = concurrently(32, |_| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let once = request("pay-once", vec![issue(wallet, 7)]);
            ledger.post_transaction(&caller, once).await.expect("answered")
        }
    })
    .await;

    let (mut stored, mut duplicates) = (Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome {
            TransactionOutcome::Completed(t, _) => stored.push(t),
            other => duplicates.push(duplicate(other)),
        }
    }
    assert_eq!((stored.len(), duplicates.len()), (1, 31));
    let stored = &stored[0];
    for d in &duplicates {
        assert_eq!(d.id, stored.id, "a duplicate answers with the stored transaction");
        assert_eq!(d.status, TransactionStatus::Completed);
        assert_eq!(d.reference_id.as_deref(), Some("pay-once"));
    }
    assert_eq!(fx.balance(&caller, wallet).await, 7);
    assert_eq!(fx.entries(&caller, wallet).await.len(), 1);
    assert_eq!(fx.transaction_count(&caller).await, 1);
    fx.assert_check().await;
}

/// A different payload under a used reference never applies: the answer is
/// the first transaction, operations and all, and no balance moves.
pub async fn a_used_reference_never_applies_another_payload(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let first_wallet = fx.wallet(&caller, None).await;
    let other_wallet = fx.wallet(&caller, None).await;

    let first = request("ref-1", vec![issue(first_wallet, 10)]);
    let stored = completed(
        fx.ledger
            .post_transaction(&caller, first)
            .await
            .expect("answered"),
    );
    let other = request("ref-1", vec![issue(other_wallet, 999), issue(first_wallet, 1)]);
    let answer = duplicate(
        fx.ledger
            .post_transaction(&caller, other)
            .await
            .expect("answered"),
    );

    assert_eq!(answer.id, stored.id);
    assert_eq!(
        answer.operations, stored.operations,
        "the stored operations, not the new ones"
    );
    assert_eq!(fx.balance(&caller, first_wallet).await, 10);
    assert_eq!(fx.balance(&caller, other_wallet).await, 0);
    assert_eq!(fx.transaction_count(&caller).await, 1);
    fx.assert_check().await;
}

/// A Failed transaction spends its reference: once the funds are there, the
/// same request is still a duplicate of the failure and applies nothing.
pub async fn a_failed_transaction_spends_its_reference(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.wallet(&caller, None).await;

    let spend = || request("spend-1", vec![redeem(wallet, 5)]);
    let outcome = fx
        .ledger
        .post_transaction(&caller, spend())
        .await
        .expect("answered");
    let (failure, _) = failed(outcome, FailCode::InsufficientFunds);
    fx.issue(&caller, wallet, 5).await;
    let retry = duplicate(
        fx.ledger
            .post_transaction(&caller, spend())
            .await
            .expect("answered"),
    );

    assert_eq!(retry.id, failure.id);
    assert_eq!(retry.status, TransactionStatus::Failed);
    assert_eq!(retry.error.as_deref(), Some(FailCode::InsufficientFunds.as_str()));
    assert_eq!(fx.balance(&caller, wallet).await, 5, "the retry took nothing");
    fx.assert_check().await;
}

/// References are per project: the same one applies once in each.
pub async fn references_are_per_project(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a, b) = (fx.authority("pa").await, fx.authority("pb").await);
    let (wallet_a, wallet_b) = (fx.wallet(&a, None).await, fx.wallet(&b, None).await);

    let in_a = completed(
        fx.ledger
            .post_transaction(&a, request("shared", vec![issue(wallet_a, 1)]))
            .await
            .expect("answered"),
    );
    let in_b = completed(
        fx.ledger
            .post_transaction(&b, request("shared", vec![issue(wallet_b, 2)]))
            .await
            .expect("answered"),
    );

    assert_ne!(in_a.id, in_b.id);
    assert_eq!(fx.balance(&a, wallet_a).await, 1);
    assert_eq!(fx.balance(&b, wallet_b).await, 2);
    fx.assert_check().await;
}
