//! All or nothing: a transaction's operations apply together or not at all,
//! and a Failed transaction leaves no entry.

use crate::answers::{completed, duplicate, failed, is_not_found};
use crate::fixture::{issue, redeem, request, transfer, Fixture};
use crate::harness::TestDb;
use wallet_core::ids::WalletId;
use wallet_core::model::{TransactionStatus, WalletStatus};
use wallet_core::planner::FailCode;
use wallet_core::text::{AssetCode, Text};
use wallet_core::Missing;

/// A transfer with a fee the payer cannot also pay: recorded Failed at the
/// fee, with no entries, and no balance moved. The same pair that fits
/// completes (so the test can tell the two apart).
pub async fn a_transfer_whose_fee_cannot_be_paid_applies_nothing(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    for who in ["payer", "payee"] {
        fx.customer(&caller, who).await;
    }
    let payer = fx.funded(&caller, Some("payer"), 100).await;
    let payee = fx.wallet(&caller, Some("payee")).await;
    let fees = fx.wallet(&caller, None).await;

    let too_much = vec![transfer(payer, payee, 100), transfer(payer, fees, 1)];
    let (stored, failure) = failed(fx.post(&caller, too_much).await, FailCode::InsufficientFunds);
    assert_eq!(failure.operation, 1, "the fee is what could not be paid");
    assert_eq!(stored.status, TransactionStatus::Failed);
    let read_back = fx.ledger.transaction(&caller, stored.id).await.expect("stored");
    assert_eq!(
        read_back.error.as_deref(),
        Some(FailCode::InsufficientFunds.as_str())
    );
    for (wallet, balance) in [(payer, 100), (payee, 0), (fees, 0)] {
        assert_eq!(fx.balance(&caller, wallet).await, balance);
    }
    assert_eq!(
        fx.entries(&caller, payer).await.len(),
        1,
        "only the funding issue"
    );
    assert!(fx.entries(&caller, payee).await.is_empty());
    assert!(fx.entries(&caller, fees).await.is_empty());

    let fits = vec![transfer(payer, payee, 99), transfer(payer, fees, 1)];
    completed(fx.post(&caller, fits).await);
    for (wallet, balance) in [(payer, 0), (payee, 99), (fees, 1)] {
        assert_eq!(fx.balance(&caller, wallet).await, balance);
    }
    fx.assert_check().await;
}

/// A transaction whose last operation touches a Suspended wallet fails whole
/// (`WRONG_WALLET_STATUS`); the earlier operations do not apply.
pub async fn a_transaction_touching_a_suspended_wallet_fails_whole(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let source = fx.funded(&caller, None, 100).await;
    let destination = fx.wallet(&caller, None).await;
    let suspended = fx.wallet(&caller, None).await;
    fx.ledger
        .set_wallet_status(&caller, suspended, WalletStatus::Suspended)
        .await
        .expect("suspends");

    for operations in [
        vec![transfer(source, destination, 10), issue(suspended, 5)],
        vec![transfer(source, destination, 10), transfer(source, suspended, 5)],
        vec![issue(destination, 1), redeem(suspended, 1)],
    ] {
        let (_, failure) = failed(fx.post(&caller, operations).await, FailCode::WrongWalletStatus);
        assert_eq!(failure.operation, 1);
    }
    assert_eq!(fx.balance(&caller, source).await, 100);
    assert_eq!(fx.balance(&caller, destination).await, 0);
    assert!(fx.entries(&caller, destination).await.is_empty());
    assert!(fx.entries(&caller, suspended).await.is_empty());
    fx.assert_check().await;
}

/// A transfer between wallets of two assets fails whole (`VALIDATION_ERROR`).
pub async fn a_transfer_across_assets_fails_whole(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let gems = fx
        .ledger
        .create_asset(
            &caller,
            AssetCode::parse("GEM").expect("valid"),
            Text::parse("Gems", "name", 200).expect("valid"),
            100,
        )
        .await
        .expect("the asset is created");
    let points = fx.funded(&caller, None, 50).await;
    let gem_wallet = fx.wallet_in(&caller, None, gems.id).await;

    let mixed = vec![issue(gem_wallet, 7), transfer(points, gem_wallet, 5)];
    let (_, failure) = failed(fx.post(&caller, mixed).await, FailCode::ValidationError);
    assert_eq!(failure.operation, 1);
    assert_eq!(fx.balance(&caller, points).await, 50);
    assert_eq!(fx.balance(&caller, gem_wallet).await, 0);
    assert!(fx.entries(&caller, gem_wallet).await.is_empty());
    fx.assert_check().await;
}

/// A batch applies each transaction on its own: a failed one is recorded
/// without entries, one naming an unknown wallet is refused (and records
/// nothing, so its reference stays free), a repeated reference is a
/// duplicate, and the others complete, all in one write.
pub async fn a_batch_applies_each_transaction_on_its_own(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let a = fx.wallet(&caller, None).await;
    let b = fx.wallet(&caller, None).await;
    let unknown = WalletId::new(i64::MAX);

    let batch = vec![
        request("b-issue", vec![issue(a, 10)]),
        request("b-overdraw", vec![redeem(b, 5)]),
        request("b-unknown", vec![issue(a, 1), transfer(a, unknown, 1)]),
        request("b-issue", vec![issue(a, 1000)]),
        request("b-move", vec![transfer(a, b, 3)]),
    ];
    let mut outcomes = fx
        .ledger
        .post_batch(&caller, batch)
        .await
        .expect("the batch commits");
    assert_eq!(outcomes.len(), 5);
    let moved = completed(outcomes.pop().expect("5").expect("b-move"));
    let again = duplicate(outcomes.pop().expect("4").expect("b-issue again"));
    let unknown_refused = outcomes.pop().expect("3").expect_err("b-unknown");
    assert!(
        is_not_found(&unknown_refused, Missing::Wallet),
        "{unknown_refused:?}"
    );
    failed(
        outcomes.pop().expect("2").expect("b-overdraw"),
        FailCode::InsufficientFunds,
    );
    let issued = completed(outcomes.pop().expect("1").expect("b-issue"));
    assert_eq!(again.id, issued.id, "the duplicate is the stored transaction");
    assert_ne!(moved.id, issued.id);
    assert_eq!(fx.balance(&caller, a).await, 7);
    assert_eq!(fx.balance(&caller, b).await, 3);
    assert_eq!(fx.transaction_count(&caller).await, 3, "issue, overdraw, move");

    let retry = request("b-unknown", vec![issue(b, 1)]);
    let outcome = fx
        .ledger
        .post_transaction(&caller, retry)
        .await
        .expect("answered");
    completed(outcome);
    fx.assert_check().await;
}
