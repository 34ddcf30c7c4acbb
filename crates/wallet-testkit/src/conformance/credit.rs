//! Credit limits (`spec/holds.md`): a balance goes down to `-creditLimit`
//! and not one unit further, holds count against the limit, a limit below
//! what a wallet uses is refused, and a wallet with Open holds stays open.

use crate::answers::{completed, conflict, failed, is_conflict, is_invalid, is_wrong_status};
use crate::fixture::{hold, issue, transfer, void, Fixture};
use crate::harness::TestDb;
use wallet_core::model::WalletStatus;
use wallet_core::planner::{FailCode, FailReason};
use wallet_core::MAX_CREDIT_LIMIT;

/// A limit of 100: a transfer takes the balance to -100 exactly, one unit
/// more fails `INSUFFICIENT_FUNDS`; a limit below what the wallet uses
/// (`-(balance - held)`, holds included) is a conflict and leaves the limit
/// as it was; `check` holds with the wallet below zero.
pub async fn a_credit_limit_lets_a_balance_go_down_to_minus_the_limit_and_no_further(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let (wallet, other) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    let set = |limit: i64| fx.ledger.set_credit_limit(&caller, wallet, limit);

    assert_eq!(set(100).await.expect("sets").credit_limit, 100);
    completed(fx.post(&caller, vec![transfer(wallet, other, 100)]).await);
    let row = fx.wallet_row(&caller, wallet).await;
    assert_eq!(
        (row.balance, row.available()),
        (-100, 0),
        "down to -limit exactly"
    );
    let (_, failure) = failed(
        fx.post(&caller, vec![transfer(wallet, other, 1)]).await,
        FailCode::InsufficientFunds,
    );
    assert!(
        matches!(
            failure.reason,
            FailReason::InsufficientFunds {
                needed: 1,
                available: 0,
                ..
            }
        ),
        "{failure:?}"
    );
    assert_eq!(fx.balance(&caller, wallet).await, -100, "one unit more fails");

    let refused = set(99).await;
    assert!(
        refused.as_ref().is_err_and(is_conflict),
        "below what is used: {refused:?}"
    );
    assert_eq!(
        fx.wallet_row(&caller, wallet).await.credit_limit,
        100,
        "unchanged"
    );

    // 30 back, 30 held: the wallet still uses 100.
    completed(
        fx.post(
            &caller,
            vec![issue(wallet, 30), hold("h", wallet, 30, None, None)],
        )
        .await,
    );
    let row = fx.wallet_row(&caller, wallet).await;
    assert_eq!((row.balance, row.held, row.available()), (-70, 30, 0));
    assert!(
        set(99).await.is_err_and(|e| is_conflict(&e)),
        "holds count against the limit"
    );
    completed(fx.post(&caller, vec![void("h")]).await);
    assert_eq!(set(70).await.expect("exactly what is used").credit_limit, 70);
    assert!(set(69).await.is_err_and(|e| is_conflict(&e)));
    for bad in [-1, MAX_CREDIT_LIMIT + 1] {
        let refused = set(bad).await;
        assert!(refused.as_ref().is_err_and(is_invalid), "{bad}: {refused:?}");
    }

    // `balance + creditLimit` stays within i64, so `available` always fits.
    let rich = fx.funded(&caller, None, i64::MAX - 5).await;
    let refused = fx.ledger.set_credit_limit(&caller, rich, 6).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| conflict(e).is_some_and(|m| m.contains("largest amount"))),
        "{refused:?}"
    );
    assert_eq!(
        fx.ledger
            .set_credit_limit(&caller, rich, 5)
            .await
            .expect("fits")
            .credit_limit,
        5
    );
    fx.assert_check().await;
}

/// A wallet whose Open holds reserve part of its credit (balance 0) cannot
/// be Closed until they are voided; then it closes.
pub async fn a_wallet_with_open_holds_cannot_be_closed(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.wallet(&caller, None).await;
    fx.ledger
        .set_credit_limit(&caller, wallet, 10)
        .await
        .expect("sets");
    completed(fx.post(&caller, vec![hold("tab", wallet, 5, None, None)]).await);

    let close = || fx.ledger.set_wallet_status(&caller, wallet, WalletStatus::Closed);
    let refused = close().await;
    assert!(refused.as_ref().is_err_and(is_wrong_status), "{refused:?}");
    completed(fx.post(&caller, vec![void("tab")]).await);
    assert_eq!(close().await.expect("closes").status, WalletStatus::Closed);
    fx.assert_check().await;
}
