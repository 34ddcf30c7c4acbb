//! The default wallet (one per customer and asset, shared by both APIs) and
//! checked arithmetic (no balance wraps).

use super::concurrently;
use crate::answers::{completed, failed, rejection};
use crate::fixture::{customer_id, default_asset, issue, redeem, request, text, transfer, v1, Fixture};
use crate::harness::TestDb;
use wallet_core::model::PageRequest;
use wallet_core::planner::{FailCode, FailReason};
use wallet_core::policy::Caller;
use wallet_core::text::AssetCode;
use wallet_core::v1::WalletTotalsFilter;

/// A customer's first wallet of the default asset opened through API v2 is
/// the one API v1 entries post to (not a later one, not another asset's),
/// and API v1 opens no second one.
pub async fn a_v2_wallet_in_the_default_asset_is_the_v1_wallet(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let gems = fx
        .ledger
        .create_asset(&caller, AssetCode::parse("GEM").expect("valid"), text("Gems"), 1)
        .await
        .expect("created");
    fx.customer(&caller, "dual").await;
    let gem_wallet = fx.wallet_in(&caller, Some("dual"), gems.id).await;
    let first = fx.wallet(&caller, Some("dual")).await;
    let second = fx.wallet(&caller, Some("dual")).await;

    let entry = fx
        .ledger
        .post_v1_entry(&caller, v1("dual", 5))
        .await
        .expect("posts");
    assert_eq!(entry.amount, 5);
    fx.issue(&caller, first, 10).await;
    fx.issue(&caller, second, 100).await;
    fx.ledger
        .post_v1_entry(&caller, v1("dual", -15))
        .await
        .expect("spends the first wallet's");
    let overdraw = fx
        .ledger
        .post_v1_entry(&caller, v1("dual", -1))
        .await
        .expect_err("empty");
    assert!(matches!(
        rejection(&overdraw),
        Some(FailReason::InsufficientFunds { .. })
    ));

    assert_eq!(fx.balance(&caller, first).await, 0);
    assert_eq!(fx.balance(&caller, second).await, 100);
    assert_eq!(fx.balance(&caller, gem_wallet).await, 0);
    let wallets = fx
        .ledger
        .customer_wallets(&caller, customer_id("dual"), PageRequest::ALL)
        .await;
    assert_eq!(
        wallets.expect("reads").total,
        3,
        "API v1 opened no wallet of its own"
    );
    let filter = WalletTotalsFilter {
        user_ids: Some(vec!["dual".to_owned()]),
        authority_ids: None,
    };
    let totals = fx.ledger.v1_wallet_totals(&caller, filter).await.expect("reads");
    assert_eq!(totals.iter().map(|t| t.total).collect::<Vec<_>>(), vec![0]);
    fx.assert_check().await;
}

/// 16 concurrent first entries for a new user (from two authorities) create
/// one customer with one default wallet holding all of them.
pub async fn concurrent_first_entries_open_one_default_wallet(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let authorities = [fx.authority("pa").await, fx.authority("pa").await];

    let results = concurrently(16, |i| {
        let (ledger, caller) = (fx.ledger.clone(), authorities[i % 2].clone());
        async move { ledger.post_v1_entry(&caller, v1("newcomer", 5)).await }
    })
    .await;

    for result in results {
        result.expect("every first entry posts");
    }
    let wallets = fx
        .ledger
        .customer_wallets(&authorities[0], customer_id("newcomer"), PageRequest::ALL)
        .await
        .expect("one customer");
    assert_eq!(wallets.items.len(), 1, "one default wallet");
    assert_eq!(wallets.items[0].balance, 80);
    fx.assert_check().await;
}

/// 8 wallets of one asset opened at once for one customer: all open, and
/// exactly one is the default (the one API v1 entries then post to).
pub async fn concurrent_wallet_opens_make_one_default(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "many").await;
    let asset = default_asset(&caller);

    let opened = concurrently(8, |_| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let owner = Some(customer_id("many"));
            ledger.create_wallet(&caller, owner, asset, None, None).await
        }
    })
    .await;
    let ids: Vec<_> = opened
        .into_iter()
        .map(|w| w.expect("every wallet opens").id)
        .collect();
    fx.ledger
        .post_v1_entry(&caller, v1("many", 5))
        .await
        .expect("posts");

    let mut holding = Vec::new();
    for id in &ids {
        if fx.balance(&caller, *id).await == 5 {
            holding.push(*id);
        }
    }
    assert_eq!(holding.len(), 1, "one default wallet took the entry");
    let wallets = fx
        .ledger
        .customer_wallets(&caller, customer_id("many"), PageRequest::ALL)
        .await;
    assert_eq!(wallets.expect("reads").total, 8, "API v1 opened none of its own");
    fx.assert_check().await;
}

/// A change that would take a balance past `i64::MAX` (an issue, a transfer
/// in, two issues that only together overflow, an API v1 entry) fails whole
/// with `VALIDATION_ERROR`; nothing wraps, and `check` still adds up an
/// asset whose wallets together hold more than `i64::MAX`.
pub async fn an_issue_past_i64_max_fails_whole(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let full = fx.funded(&caller, None, i64::MAX).await;
    let other = fx.wallet(&caller, None).await;
    let source = fx.funded(&caller, None, 10).await;
    let fresh = fx.wallet(&caller, None).await;

    for operations in [
        vec![issue(other, 1), issue(full, 1)],
        vec![issue(other, 1), transfer(source, full, 1)],
        vec![issue(other, 1), issue(fresh, i64::MAX), issue(fresh, 1)],
    ] {
        let (_, failure) = failed(fx.post(&caller, operations).await, FailCode::ValidationError);
        assert!(
            matches!(failure.reason, FailReason::BalanceOverflow { .. }),
            "{failure:?}"
        );
    }
    for (wallet, balance) in [(full, i64::MAX), (other, 0), (source, 10), (fresh, 0)] {
        assert_eq!(fx.balance(&caller, wallet).await, balance);
    }
    assert!(fx.entries(&caller, other).await.is_empty());

    fx.ledger
        .post_v1_entry(&caller, v1("rich", i64::MAX))
        .await
        .expect("fits exactly");
    let past = fx
        .ledger
        .post_v1_entry(&caller, v1("rich", 1))
        .await
        .expect_err("overflows");
    assert!(
        matches!(rejection(&past), Some(FailReason::BalanceOverflow { .. })),
        "{past:?}"
    );
    completed(fx.post(&caller, vec![issue(fresh, i64::MAX - 1)]).await);
    fx.assert_check().await;
}

/// An authority's running total in a wallet is the sum of its entries
/// there, which passes `i64::MAX` on a legal ledger: it issues near the
/// maximum again and again while another authority redeems. Such postings
/// (API v2 and v1) complete, and the v1 totals report the exact sums.
pub async fn a_running_total_past_i64_never_refuses_a_legal_posting(db: TestDb) {
    const X: i64 = 1 << 62;
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let (issuer, spender) = (fx.authority("pa").await, fx.authority("pa").await);
    let wallet = fx.wallet(&issuer, None).await;
    fx.customer(&issuer, "whale").await;

    for round in 0..3 {
        let issued = fx
            .ledger
            .post_transaction(&issuer, request(&format!("in-{round}"), vec![issue(wallet, X)]));
        completed(
            issued
                .await
                .expect("an issue into a wallet that holds 0 is legal"),
        );
        completed(fx.post(&spender, vec![redeem(wallet, X)]).await);
        fx.ledger
            .post_v1_entry(&issuer, v1("whale", X))
            .await
            .expect("a legal entry");
        fx.ledger
            .post_v1_entry(&spender, v1("whale", -X))
            .await
            .expect("a legal spend");
    }

    assert_eq!(fx.balance(&issuer, wallet).await, 0);
    let of = |authority: &Caller| WalletTotalsFilter {
        user_ids: Some(vec!["whale".to_owned()]),
        authority_ids: Some(vec![public_id_of(authority)]),
    };
    let totals = |authority: &Caller| fx.ledger.v1_wallet_totals(&issuer, of(authority));
    let issued = totals(&issuer).await.expect("reads");
    assert_eq!(
        issued.iter().map(|t| t.total).collect::<Vec<_>>(),
        vec![3 * i128::from(X)]
    );
    let spent = totals(&spender).await.expect("reads");
    assert_eq!(
        spent.iter().map(|t| t.total).collect::<Vec<_>>(),
        vec![-3 * i128::from(X)]
    );
    fx.assert_check().await;
}

fn public_id_of(caller: &Caller) -> String {
    match caller {
        Caller::Authority(a) => a.public_id.clone(),
        other => panic!("not an authority: {other:?}"),
    }
}
