//! Racing writes: spends never overdraw, transfers conserve, an item, a new
//! customer and an asset code are each taken once. With one writer (SQLite)
//! these hold by construction; with several (PostgreSQL) they hold only if
//! the port's guarded primitives and locks do.

use super::concurrently;
use crate::answers::{failed, is_conflict, is_insufficient_funds, rejection};
use crate::fixture::{customer_id, redeem, request, text, transfer, v1, v1_with_item, Fixture};
use crate::harness::TestDb;
use std::collections::BTreeSet;
use wallet_core::model::{EntryKind, PageRequest};
use wallet_core::planner::{FailCode, FailReason};
use wallet_core::text::AssetCode;
use wallet_core::v1::{InventoryFilter, WalletTotalsFilter};
use wallet_core::TransactionOutcome;

/// 48 concurrent API v2 redeems of 10 from a balance of 250: exactly 25
/// complete, 23 are recorded Failed `INSUFFICIENT_FUNDS`, the balance ends
/// at 0, and the 25 redeems saw 25 different balances (no two planned on
/// the same state).
pub async fn concurrent_v2_redeems_never_overdraw(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 250).await;

    let outcomes = concurrently(48, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let spend = request(&format!("redeem-{i}"), vec![redeem(wallet, 10)]);
            ledger.post_transaction(&caller, spend).await.expect("answered")
        }
    })
    .await;

    let (mut done, mut refused) = (0, 0);
    for outcome in outcomes {
        match outcome {
            TransactionOutcome::Completed(..) => done += 1,
            other => {
                let (_, failure) = failed(other, FailCode::InsufficientFunds);
                assert!(
                    matches!(failure.reason, FailReason::InsufficientFunds { wallet: w, needed: 10, available } if w == wallet && available < 10),
                    "{failure:?}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((done, refused), (25, 23), "exactly what the wallet held");
    assert_eq!(fx.balance(&caller, wallet).await, 0);
    let after: BTreeSet<i64> = fx
        .entries(&caller, wallet)
        .await
        .iter()
        .filter(|e| e.kind == EntryKind::Redeem)
        .map(|e| e.balance_after)
        .collect();
    assert_eq!(
        after,
        (0..25).map(|n| n * 10).collect(),
        "each redeem saw the one before"
    );
    fx.assert_check().await;
}

/// The same race through API v1: 48 entries of -10 against 250, exactly 25
/// accepted and the rest rejected for insufficient funds.
pub async fn concurrent_v1_spends_never_overdraw(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.ledger
        .post_v1_entry(&caller, v1("spender", 250))
        .await
        .expect("the funding entry posts");

    let results = concurrently(48, |_| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move { ledger.post_v1_entry(&caller, v1("spender", -10)).await }
    })
    .await;

    let mut accepted = 0;
    for result in results {
        match result {
            Ok(entry) => {
                assert_eq!(entry.amount, -10);
                accepted += 1;
            }
            Err(e) => assert!(is_insufficient_funds(&e), "{e:?} {:?}", rejection(&e)),
        }
    }
    assert_eq!(accepted, 25, "exactly what the user held");
    let wallets = fx
        .ledger
        .customer_wallets(&caller, customer_id("spender"), PageRequest::ALL)
        .await
        .expect("reads");
    assert_eq!(wallets.items.len(), 1, "one default wallet");
    assert_eq!(wallets.items[0].balance, 0);
    let filter = WalletTotalsFilter {
        user_ids: Some(vec!["spender".to_owned()]),
        authority_ids: None,
    };
    let totals = fx.ledger.v1_wallet_totals(&caller, filter).await.expect("reads");
    assert_eq!(totals.iter().map(|t| t.total).collect::<Vec<_>>(), vec![0]);
    fx.assert_check().await;
}

/// 96 concurrent transfers around a ring of 8 wallets: each one completes or
/// fails for funds, the total stays what was issued, and each wallet ends at
/// exactly what the completed transfers left it.
pub async fn concurrent_ring_transfers_conserve_the_total(db: TestDb) {
    const RING: usize = 8;
    const START: i64 = 100;
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let mut wallets = Vec::new();
    for n in 0..RING {
        let owner = format!("ring-{n}");
        fx.customer(&caller, &owner).await;
        wallets.push(fx.funded(&caller, Some(&owner), START).await);
    }
    let leg = |k: usize| (k % RING, (k + 1) % RING, 1 + (k as i64 * 37) % 60);

    let outcomes = concurrently(96, |k| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        let (from, to, amount) = leg(k);
        let (from, to) = (wallets[from], wallets[to]);
        async move {
            let move_it = request(&format!("ring-{k}"), vec![transfer(from, to, amount)]);
            ledger.post_transaction(&caller, move_it).await.expect("answered")
        }
    })
    .await;

    let mut expected = [START; RING];
    for (k, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            TransactionOutcome::Completed(..) => {
                let (from, to, amount) = leg(k);
                expected[from] -= amount;
                expected[to] += amount;
            }
            other => drop(failed(other, FailCode::InsufficientFunds)),
        }
    }
    let mut total = 0;
    for (n, wallet) in wallets.iter().enumerate() {
        let balance = fx.balance(&caller, *wallet).await;
        assert_eq!(
            balance, expected[n],
            "wallet {n} holds what its completed transfers left"
        );
        total += balance;
    }
    assert_eq!(total, START * RING as i64, "transfers conserve the total");
    fx.assert_check().await;
}

/// An item used by 32 concurrent calls (from two authorities of its project)
/// is marked once: one call succeeds, 31 are told it was used.
pub async fn concurrent_item_use_marks_once(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let (first, second) = (fx.authority("pa").await, fx.authority("pa").await);
    let entry = fx
        .ledger
        .post_v1_entry(&first, v1_with_item("holder", 5, "Hat"))
        .await
        .expect("the entry posts")
        .entry_id;

    let results = concurrently(32, |i| {
        let ledger = fx.ledger.clone();
        let caller = if i % 2 == 0 { first.clone() } else { second.clone() };
        async move { ledger.use_v1_item(&caller, entry).await }
    })
    .await;

    let mut marked = 0;
    for result in results {
        match result {
            Ok(used) => {
                assert!(used.item.as_ref().is_some_and(|i| i.used), "{used:?}");
                marked += 1;
            }
            Err(e) => assert!(is_conflict(&e), "{e:?}"),
        }
    }
    assert_eq!(marked, 1, "an item is used once");
    let filter = InventoryFilter {
        entry_ids: Some(vec![entry]),
        ..InventoryFilter::default()
    };
    let lines = fx.ledger.v1_inventory(&first, filter).await.expect("reads");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].item.used);
    fx.assert_check().await;
}

/// 16 concurrent upserts of one new customer: exactly one creates it, the
/// others update it, and there is one customer.
pub async fn concurrent_upserts_create_a_customer_once(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;

    let results = concurrently(16, |i| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let name = Some(text(&format!("name {i}")));
            ledger
                .upsert_customer(&caller, customer_id("racer"), name, None)
                .await
        }
    })
    .await;

    let created = results
        .into_iter()
        .filter(|r| r.as_ref().expect("every upsert is answered").1)
        .count();
    assert_eq!(created, 1, "one upsert created the customer");
    let customers = fx
        .ledger
        .customers(&caller, PageRequest::ALL)
        .await
        .expect("reads");
    assert_eq!(customers.total, 1);
}

/// 8 concurrent creations of one asset code: one creates it, the others
/// are told the code is taken (not a storage error), and the project has
/// one such asset.
pub async fn concurrent_asset_creates_take_a_code_once(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;

    let results = concurrently(8, |_| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let code = AssetCode::parse("GEM").expect("valid");
            ledger.create_asset(&caller, code, text("Gems"), 100).await
        }
    })
    .await;

    let mut created = 0;
    for result in results {
        match result {
            Ok(_) => created += 1,
            Err(e) => assert!(is_conflict(&e), "{e:?}"),
        }
    }
    assert_eq!(created, 1);
    let assets = fx.ledger.assets(&caller, PageRequest::ALL).await.expect("reads");
    assert_eq!(assets.items.iter().filter(|a| a.code == "GEM").count(), 1);
}
