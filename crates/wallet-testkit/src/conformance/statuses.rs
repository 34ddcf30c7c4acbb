//! Statuses: who takes part in transactions, and the rules of suspending,
//! resuming, closing and deleting.

use crate::answers::{
    completed, failed, is_asset_used, is_conflict, is_customer_has_active_wallets, is_lapsed, is_not_found,
    is_wrong_status,
};
use crate::fixture::{customer_id, default_asset, issue, redeem, text, transfer, v1, Fixture};
use crate::harness::TestDb;
use wallet_core::ids::WalletId;
use wallet_core::model::{CustomerStatus, WalletStatus};
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::text::AssetCode;
use wallet_core::Missing;

async fn status(fx: &Fixture, caller: &Caller, wallet: WalletId) -> WalletStatus {
    fx.ledger
        .wallet(caller, wallet)
        .await
        .expect("the wallet reads")
        .status
}

/// Suspending a customer suspends its wallets; they then take part in no
/// transaction (API v1 or v2), cannot be opened one by one, and the
/// customer gets no new wallet.
pub async fn suspending_a_customer_suspends_its_wallets_and_refuses_transactions(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "sus").await;
    let first = fx.wallet(&caller, Some("sus")).await;
    let funded = fx.funded(&caller, Some("sus"), 40).await;
    let pool = fx.funded(&caller, None, 100).await;

    let customer = fx
        .ledger
        .suspend_customer(&caller, customer_id("sus"))
        .await
        .expect("suspends");
    assert_eq!(customer.status, CustomerStatus::Suspended);
    for wallet in [first, funded] {
        assert_eq!(status(&fx, &caller, wallet).await, WalletStatus::Suspended);
    }

    failed(
        fx.post(&caller, vec![transfer(pool, first, 5)]).await,
        FailCode::WrongWalletStatus,
    );
    failed(
        fx.post(&caller, vec![redeem(funded, 5)]).await,
        FailCode::WrongWalletStatus,
    );
    let v1_refused = fx
        .ledger
        .post_v1_entry(&caller, v1("sus", 5))
        .await
        .expect_err("refused");
    assert!(is_wrong_status(&v1_refused), "{v1_refused:?}");
    let reopen = fx
        .ledger
        .set_wallet_status(&caller, first, WalletStatus::Open)
        .await;
    assert!(reopen.as_ref().is_err_and(is_wrong_status), "{reopen:?}");
    let new_wallet = fx
        .ledger
        .create_wallet(
            &caller,
            Some(customer_id("sus")),
            default_asset(&caller),
            None,
            None,
        )
        .await;
    assert!(new_wallet.as_ref().is_err_and(is_wrong_status), "{new_wallet:?}");

    assert_eq!(fx.balance(&caller, pool).await, 100);
    assert_eq!(fx.balance(&caller, funded).await, 40);
    assert!(fx.entries(&caller, first).await.is_empty());
    fx.assert_check().await;
}

/// Resuming opens exactly the listed wallets; a list naming a wallet that
/// is not the customer's, or a Closed one, changes nothing.
pub async fn resuming_opens_exactly_the_listed_wallets(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "back").await;
    fx.customer(&caller, "other").await;
    let mut wallets = Vec::new();
    for _ in 0..4 {
        wallets.push(fx.wallet(&caller, Some("back")).await);
    }
    let closed = wallets[3];
    fx.ledger
        .set_wallet_status(&caller, closed, WalletStatus::Closed)
        .await
        .expect("an empty wallet closes");
    let theirs = fx.wallet(&caller, Some("other")).await;
    fx.ledger
        .suspend_customer(&caller, customer_id("back"))
        .await
        .expect("suspends");

    let resume = |list: Vec<WalletId>| fx.ledger.resume_customer(&caller, customer_id("back"), list);
    let foreign = resume(vec![wallets[0], theirs])
        .await
        .expect_err("not the customer's");
    assert!(is_not_found(&foreign, Missing::Wallet), "{foreign:?}");
    let with_closed = resume(vec![wallets[0], closed])
        .await
        .expect_err("closed is final");
    assert!(is_wrong_status(&with_closed), "{with_closed:?}");
    let customer = fx
        .ledger
        .customer(&caller, customer_id("back"))
        .await
        .expect("reads");
    assert_eq!(
        customer.status,
        CustomerStatus::Suspended,
        "a refused resume changes nothing"
    );
    assert_eq!(status(&fx, &caller, wallets[0]).await, WalletStatus::Suspended);

    let customer = resume(vec![wallets[0], wallets[2]]).await.expect("resumes");
    assert_eq!(customer.status, CustomerStatus::Active);
    let expected = [
        WalletStatus::Open,
        WalletStatus::Suspended,
        WalletStatus::Open,
        WalletStatus::Closed,
    ];
    for (wallet, expected) in wallets.iter().zip(expected) {
        assert_eq!(status(&fx, &caller, *wallet).await, expected, "wallet {wallet}");
    }
    assert_eq!(status(&fx, &caller, theirs).await, WalletStatus::Open);
    completed(fx.post(&caller, vec![issue(wallets[0], 1)]).await);
    failed(
        fx.post(&caller, vec![issue(wallets[1], 1)]).await,
        FailCode::WrongWalletStatus,
    );
    fx.assert_check().await;
}

/// A wallet closes only at balance 0, and Closed is final: it opens and
/// suspends no more and takes part in no transaction.
pub async fn closing_needs_a_zero_balance_and_is_final(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 10).await;
    let set = |status| fx.ledger.set_wallet_status(&caller, wallet, status);

    let refused = set(WalletStatus::Closed).await.expect_err("a balance of 10");
    assert!(is_wrong_status(&refused), "{refused:?}");
    assert_eq!(status(&fx, &caller, wallet).await, WalletStatus::Open);
    completed(fx.post(&caller, vec![redeem(wallet, 10)]).await);
    assert_eq!(
        set(WalletStatus::Closed).await.expect("empty").status,
        WalletStatus::Closed
    );

    for again in [WalletStatus::Open, WalletStatus::Suspended] {
        let refused = set(again).await.expect_err("Closed is final");
        assert!(is_wrong_status(&refused), "{again}: {refused:?}");
    }
    failed(
        fx.post(&caller, vec![issue(wallet, 1)]).await,
        FailCode::WrongWalletStatus,
    );
    assert_eq!(status(&fx, &caller, wallet).await, WalletStatus::Closed);
    assert_eq!(
        fx.entries(&caller, wallet).await.len(),
        2,
        "the issue and the redeem"
    );
    fx.assert_check().await;
}

/// A customer is deleted only once all its wallets are Closed; its id is
/// then never reused, it takes part in nothing new, and its keys open
/// nothing.
pub async fn deleting_a_customer_needs_every_wallet_closed(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "leaver").await;
    let wallets = [
        fx.wallet(&caller, Some("leaver")).await,
        fx.wallet(&caller, Some("leaver")).await,
    ];
    let delete = || fx.ledger.delete_customer(&caller, customer_id("leaver"));

    for wallet in wallets {
        let refused = delete().await.expect_err("a wallet is not closed");
        assert!(is_customer_has_active_wallets(&refused), "{refused:?}");
        fx.ledger
            .set_wallet_status(&caller, wallet, WalletStatus::Closed)
            .await
            .expect("closes");
    }
    let key = fx.customer_key(&caller, "leaver", None).await;
    assert_eq!(delete().await.expect("deletes").status, CustomerStatus::Deleted);
    let label = fx
        .ledger
        .label_wallet(&key, wallets[0], Some(text("x")), None)
        .await;
    assert!(
        label.as_ref().is_err_and(is_lapsed),
        "a deleted customer's key opens nothing: {label:?}"
    );

    let reused = fx
        .ledger
        .upsert_customer(&caller, customer_id("leaver"), None, None)
        .await;
    assert!(reused.as_ref().is_err_and(is_conflict), "{reused:?}");
    let entry = fx.ledger.post_v1_entry(&caller, v1("leaver", 1)).await;
    assert!(entry.is_err(), "a deleted customer posts nothing: {entry:?}");
    let wallet = fx
        .ledger
        .create_wallet(
            &caller,
            Some(customer_id("leaver")),
            default_asset(&caller),
            None,
            None,
        )
        .await;
    assert!(wallet.is_err(), "a deleted customer gets no wallet: {wallet:?}");
    let customer = fx
        .ledger
        .customer(&caller, customer_id("leaver"))
        .await
        .expect("kept");
    assert_eq!(customer.status, CustomerStatus::Deleted);
    fx.assert_check().await;
}

/// An asset no wallet used can be deleted; a used one (even once its
/// wallet closed) and the project's default cannot.
pub async fn a_used_asset_cannot_be_deleted(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let create = |code: &str| {
        let code = AssetCode::parse(code).expect("valid");
        fx.ledger.create_asset(&caller, code, text("an asset"), 1)
    };

    let unused = create("GEM").await.expect("created");
    fx.ledger
        .delete_asset(&caller, unused.id)
        .await
        .expect("an unused asset goes");
    let gone = fx.ledger.asset(&caller, unused.id).await.expect_err("deleted");
    assert!(is_not_found(&gone, Missing::Asset), "{gone:?}");

    let used = create("GOLD").await.expect("created");
    let wallet = fx.wallet_in(&caller, None, used.id).await;
    fx.ledger
        .set_wallet_status(&caller, wallet, WalletStatus::Closed)
        .await
        .expect("closes");
    let refused = fx.ledger.delete_asset(&caller, used.id).await.expect_err("used");
    assert!(is_asset_used(&refused), "{refused:?}");
    assert!(fx.ledger.asset(&caller, used.id).await.expect("kept").used);

    let default = fx.ledger.delete_asset(&caller, default_asset(&caller)).await;
    assert!(default.is_err(), "the default asset stays: {default:?}");
    fx.assert_check().await;
}
