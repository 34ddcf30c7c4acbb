//! The core's `Ledger` on this backend, end to end: what the server will do
//! once it switches over. (The backend-neutral conformance suite is to
//! come; this is the SQLite side's smoke test of it.)

mod common;

use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::ids::WalletId;
use wallet_core::model::PageRequest;
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::text::ReferenceId;
use wallet_core::v1::WalletTotalsFilter;
use wallet_core::{Ledger, LedgerError, TransactionOutcome};

fn transfer(reference: &str, source: WalletId, destination: WalletId, amount: i64) -> TransactionRequest {
    let operations = vec![Operation::Transfer {
        source,
        destination,
        amount: Quantity::new(amount).expect("not negative"),
    }];
    TransactionRequest::new(ReferenceId::parse(reference).expect("valid"), operations, None).expect("valid")
}

async fn balance(ledger: &Ledger, caller: &Caller, wallet: WalletId) -> i64 {
    ledger.wallet(caller, wallet).await.expect("reads").balance
}

#[tokio::test]
async fn api_v1_entries_items_and_totals() {
    let db = common::open();
    let ledger = Ledger::with_clock(db.store.clone(), Arc::new(ManualClock::at(1_000)));
    let caller = common::authority(&ledger, "au_app").await;

    let entry = ledger
        .post_v1_entry(&caller, common::v1_entry("alice", 10, Some("Hat")))
        .await
        .expect("posts");
    assert_eq!((entry.amount, entry.user_id.as_str()), (10, "alice"));
    let overdraft = ledger
        .post_v1_entry(&caller, common::v1_entry("alice", -11, None))
        .await;
    assert!(
        matches!(overdraft, Err(LedgerError::Rejected(_))),
        "{overdraft:?}"
    );
    ledger
        .post_v1_entry(&caller, common::v1_entry("alice", -4, None))
        .await
        .expect("spends");

    let totals = ledger
        .v1_wallet_totals(&caller, WalletTotalsFilter::default())
        .await
        .expect("reads");
    assert_eq!(totals.len(), 1);
    assert_eq!((totals[0].user_id.as_str(), totals[0].total), ("alice", 6));

    ledger
        .use_v1_item(&caller, entry.entry_id)
        .await
        .expect("uses the item");
    let again = ledger.use_v1_item(&caller, entry.entry_id).await;
    assert!(matches!(again, Err(LedgerError::Conflict(_))), "{again:?}");

    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn api_v2_transactions_are_applied_once_and_failures_are_recorded() {
    let db = common::open();
    let ledger = Ledger::with_clock(db.store.clone(), Arc::new(ManualClock::at(1_000)));
    let caller = common::authority(&ledger, "au_app").await;
    ledger
        .post_v1_entry(&caller, common::v1_entry("alice", 10, None))
        .await
        .expect("funds alice");
    let alice = ledger
        .customer_wallets(&caller, common::customer("alice"), PageRequest::ALL)
        .await
        .expect("reads")
        .items[0]
        .id;
    let (_, created) = ledger
        .upsert_customer(&caller, common::customer("bob"), None, None)
        .await
        .expect("creates bob");
    assert!(created);
    let asset = ledger.wallet(&caller, alice).await.expect("reads").asset_id;
    let bob = ledger
        .create_wallet(&caller, Some(common::customer("bob")), asset, None, None)
        .await
        .expect("opens")
        .id;

    let first = ledger
        .post_transaction(&caller, transfer("t-1", alice, bob, 4))
        .await;
    assert!(matches!(first, Ok(TransactionOutcome::Completed(_))), "{first:?}");
    let again = ledger
        .post_transaction(&caller, transfer("t-1", alice, bob, 4))
        .await;
    assert!(matches!(again, Ok(TransactionOutcome::Duplicate(_))), "{again:?}");
    let overdraft = ledger
        .post_transaction(&caller, transfer("t-2", alice, bob, 100))
        .await;
    assert!(
        matches!(&overdraft, Ok(TransactionOutcome::Failed(_, f)) if f.reason.code() == FailCode::InsufficientFunds),
        "{overdraft:?}"
    );

    assert_eq!(balance(&ledger, &caller, alice).await, 6);
    assert_eq!(balance(&ledger, &caller, bob).await, 4);
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spends_from_one_wallet_never_overdraw_it() {
    let db = common::open();
    let ledger = Ledger::with_clock(db.store.clone(), Arc::new(ManualClock::at(1_000)));
    let caller = common::authority(&ledger, "au_app").await;
    for user in ["alice", "bob"] {
        ledger
            .post_v1_entry(&caller, common::v1_entry(user, 20, None))
            .await
            .expect("funds");
    }
    let wallet_of = |user: &'static str| {
        let (ledger, caller) = (ledger.clone(), caller.clone());
        async move {
            ledger
                .customer_wallets(&caller, common::customer(user), PageRequest::ALL)
                .await
                .expect("reads")
                .items[0]
                .id
        }
    };
    let (alice, bob) = (wallet_of("alice").await, wallet_of("bob").await);

    let spends: Vec<_> = (0..50)
        .map(|n| {
            let (ledger, caller) = (ledger.clone(), caller.clone());
            tokio::spawn(async move {
                ledger
                    .post_transaction(&caller, transfer(&format!("spend-{n}"), alice, bob, 1))
                    .await
            })
        })
        .collect();
    let mut completed = 0;
    for spend in spends {
        match spend.await.expect("joined") {
            Ok(TransactionOutcome::Completed(_)) => completed += 1,
            Ok(TransactionOutcome::Failed(_, f)) => assert_eq!(f.reason.code(), FailCode::InsufficientFunds),
            other => panic!("a spend: {other:?}"),
        }
    }

    assert_eq!(completed, 20, "exactly what alice held");
    assert_eq!(balance(&ledger, &caller, alice).await, 0);
    assert_eq!(balance(&ledger, &caller, bob).await, 40);
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:?}");
}
