//! `check` after a mixed concurrent load: every invariant holds, and per
//! asset the balances add up to what the completed work issued and redeemed.

use super::concurrently;
use crate::answers::is_insufficient_funds;
use crate::fixture::{
    customer_id, default_asset, issue, issue_expiring, redeem, request, text, transfer, v1, v1_with_item,
    Fixture, T0,
};
use crate::harness::TestDb;
use std::collections::BTreeMap;
use wallet_core::ids::{AssetId, WalletId};
use wallet_core::model::PageRequest;
use wallet_core::operation::Operation;
use wallet_core::policy::Caller;
use wallet_core::text::AssetCode;
use wallet_core::TransactionOutcome;

/// One unit of the load: what it posts, and through which door.
enum Work {
    V2(Caller, String, Vec<Operation>),
    V1(Caller, String, i64, bool),
}

/// What became of one unit.
enum Done {
    Applied(Vec<Operation>),
    Entry(i64),
    Failed,
    Duplicate,
}

/// Issued minus redeemed by `operations`, per asset.
fn net(operations: &[Operation], asset_of: &BTreeMap<WalletId, AssetId>) -> BTreeMap<AssetId, i128> {
    let mut net = BTreeMap::new();
    for op in operations {
        let (wallet, amount) = match *op {
            Operation::Issue {
                destination, amount, ..
            } => (destination, i128::from(amount.get())),
            Operation::Redeem { source, amount } => (source, -i128::from(amount.get())),
            // Value moves between wallets of one asset, or stays put.
            Operation::Transfer { .. }
            | Operation::Hold { .. }
            | Operation::Capture { .. }
            | Operation::Void { .. }
            | Operation::ExpireHold { .. }
            | Operation::ExpireLot { .. }
            | Operation::GrantItem { .. }
            | Operation::TransferItem { .. }
            | Operation::ConsumeItem { .. }
            | Operation::SetItemProperties { .. } => continue,
        };
        *net.entry(asset_of[&wallet]).or_insert(0) += amount;
    }
    net
}

/// 240 concurrent requests of every kind (issues, some forming lots,
/// redeems, transfers with fees, repeated references, API v1 entries with
/// and without items, in two projects and two assets), then: `check`
/// reports every invariant
/// holding, counts every row, and per asset the balances sum to exactly
/// what the completed requests issued minus redeemed.
pub async fn check_holds_after_a_mixed_concurrent_load(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a1, a2, b) = (
        fx.authority("pa").await,
        fx.authority("pa").await,
        fx.authority("pb").await,
    );
    let gems = fx
        .ledger
        .create_asset(&a1, AssetCode::parse("GEM").expect("valid"), text("Gems"), 100)
        .await
        .expect("created");
    let mut asset_of = BTreeMap::new();
    let (mut points, mut gem_wallets, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..6 {
        let owner = format!("c{n}");
        fx.customer(&a1, &owner).await;
        points.push(fx.wallet(&a1, Some(&owner)).await);
    }
    let fees = fx.wallet(&a1, None).await;
    for _ in 0..3 {
        gem_wallets.push(fx.wallet_in(&a1, None, gems.id).await);
    }
    for _ in 0..3 {
        other.push(fx.wallet(&b, None).await);
    }
    for (wallets, asset) in [
        (&points, default_asset(&a1)),
        (&gem_wallets, gems.id),
        (&other, default_asset(&b)),
    ] {
        for w in wallets.iter() {
            asset_of.insert(*w, asset);
        }
    }
    asset_of.insert(fees, default_asset(&a1));

    // Two picks with different salts are different wallets: transfers
    // always have two sides.
    let pick = |list: &[WalletId], i: usize, salt: usize| list[(i * 5 + salt) % list.len()];
    let work = |i: usize| -> Work {
        let amount = 1 + (i as i64 * 13) % 40;
        let a = if i % 2 == 0 { a1.clone() } else { a2.clone() };
        let (p, q) = (pick(&points, i, 0), pick(&points, i, 1));
        let (g, h) = (pick(&gem_wallets, i, 0), pick(&gem_wallets, i, 1));
        let reference = format!("load-{i}");
        match i % 10 {
            // Some of the points expire (later than the load runs): the
            // spends of case 1 to 4 take them first.
            0 => Work::V2(
                a,
                reference,
                vec![
                    issue(p, amount * 2),
                    issue_expiring(p, amount, T0 + 60_000 * (1 + i as i64 % 3)),
                    issue(g, amount),
                ],
            ),
            1 => Work::V2(a, reference, vec![redeem(p, amount)]),
            2 => Work::V2(a, reference, vec![transfer(p, q, amount)]),
            3 => Work::V2(a, reference, vec![transfer(g, h, amount), redeem(g, 1)]),
            4 => Work::V2(a, reference, vec![transfer(p, q, amount), transfer(p, fees, 1)]),
            5 => Work::V2(a, format!("repeat-{}", i % 3), vec![issue(p, 5)]),
            6 => Work::V1(a, format!("v1-{}", (i / 10) % 2), amount, false),
            7 => Work::V1(a, format!("v1-{}", (i / 10) % 2), -amount, i % 20 == 7),
            8 => Work::V2(b.clone(), reference, vec![issue(pick(&other, i, 0), amount)]),
            _ => Work::V2(b.clone(), reference, vec![redeem(pick(&other, i, 1), amount)]),
        }
    };

    let results = concurrently(240, |i| {
        let ledger = fx.ledger.clone();
        let w = work(i);
        async move {
            match w {
                Work::V2(caller, reference, operations) => {
                    let outcome = ledger
                        .post_transaction(&caller, request(&reference, operations.clone()))
                        .await
                        .expect("answered");
                    match outcome {
                        TransactionOutcome::Completed(..) => Done::Applied(operations),
                        TransactionOutcome::Failed(..) => Done::Failed,
                        TransactionOutcome::Duplicate(..) => Done::Duplicate,
                    }
                }
                Work::V1(caller, user, amount, item) => {
                    let entry = if item {
                        v1_with_item(&user, amount, "Hat")
                    } else {
                        v1(&user, amount)
                    };
                    match ledger.post_v1_entry(&caller, entry).await {
                        Ok(posted) => Done::Entry(posted.amount),
                        Err(e) if is_insufficient_funds(&e) => Done::Failed,
                        Err(e) => panic!("a v1 entry: {e:?}"),
                    }
                }
            }
        }
    })
    .await;

    let default_points = default_asset(&a1);
    let mut expected: BTreeMap<AssetId, i128> = BTreeMap::new();
    let (mut applied, mut failed, mut duplicates) = (0, 0, 0);
    for done in results {
        match done {
            Done::Applied(operations) => {
                applied += 1;
                for (asset, n) in net(&operations, &asset_of) {
                    *expected.entry(asset).or_insert(0) += n;
                }
            }
            Done::Entry(amount) => {
                applied += 1;
                *expected.entry(default_points).or_insert(0) += i128::from(amount);
            }
            Done::Failed => failed += 1,
            Done::Duplicate => duplicates += 1,
        }
    }
    assert_eq!(duplicates, 21, "24 posts of 3 repeated references");
    assert!(
        applied > 100 && failed > 0,
        "a real mix: {applied} applied, {failed} failed"
    );
    let mut actual: BTreeMap<AssetId, i128> = BTreeMap::new();
    for (wallet, asset) in &asset_of {
        let caller = if *asset == default_asset(&b) { &b } else { &a1 };
        *actual.entry(*asset).or_insert(0) += i128::from(fx.balance(caller, *wallet).await);
    }
    let mut v1_wallets = 0;
    for user in ["v1-0", "v1-1"] {
        let listed = fx
            .ledger
            .customer_wallets(&a1, customer_id(user), PageRequest::ALL)
            .await;
        for wallet in listed.expect("the v1 user exists").items {
            *actual.entry(wallet.asset_id).or_insert(0) += i128::from(wallet.balance);
            v1_wallets += 1;
        }
    }
    for asset in asset_of.values() {
        let (want, got) = (expected.get(asset).copied(), actual.get(asset).copied());
        assert_eq!(
            got.unwrap_or(0),
            want.unwrap_or(0),
            "asset {asset}: balances = issued - redeemed"
        );
    }

    let report = fx.assert_check().await;
    assert_eq!(
        report.wallets,
        (asset_of.len() + v1_wallets) as i64,
        "every wallet checked"
    );
    let transactions = fx.transaction_count(&a1).await + fx.transaction_count(&b).await;
    assert_eq!(report.transactions, transactions, "every transaction checked");
    assert!(report.entries > 0);
    assert!(
        report.lots >= 24,
        "every expiring issue formed a lot: {}",
        report.lots
    );
}
