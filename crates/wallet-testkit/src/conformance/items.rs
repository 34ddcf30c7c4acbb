//! Items (`spec/items.md`) moving with currency: a trade applies whole or
//! not at all, racing sales and uses of one item leave exactly one winner,
//! API v1 and v2 see the same items, and a storage fault in an item
//! transaction applies nothing. Who may read items, ids, properties and
//! statuses: `item_rules`.

use super::concurrently;
use crate::answers::{completed, completed_touching, conflict, failed, is_unavailable};
use crate::faults::Faults;
use crate::fixture::{
    consume, grant, item_id, request, set_properties, transfer, transfer_item, v1_with_item, Fixture,
};
use crate::harness::TestDb;
use std::collections::BTreeSet;
use wallet_core::ids::WalletId;
use wallet_core::model::{ItemFilter, ItemStatus, ItemStepKind, PageRequest};
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::text::{CustomerId, ItemProperties};
use wallet_core::v1::InventoryFilter;
use wallet_core::TransactionOutcome;

/// A shop: a seller, buyers with funded wallets, and a `sword` the seller
/// was granted.
struct Market {
    fx: Fixture,
    caller: Caller,
    seller: WalletId,
    buyers: Vec<WalletId>,
}

async fn market(db: TestDb, buyers: usize, funds: i64) -> Market {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "seller").await;
    let seller = fx.wallet(&caller, Some("seller")).await;
    let mut wallets = Vec::new();
    for b in 0..buyers {
        let name = format!("buyer{b}");
        fx.customer(&caller, &name).await;
        wallets.push(fx.funded(&caller, Some(&name), funds).await);
    }
    completed(
        fx.post(
            &caller,
            vec![grant("sword", "sword", Some("seller"), Some(r#"{"atk":7}"#))],
        )
        .await,
    );
    Market {
        fx,
        caller,
        seller,
        buyers: wallets,
    }
}

fn owner_of(item: &wallet_core::model::Item) -> Option<&str> {
    item.owner.as_ref().map(|o| o.id.as_str())
}

/// "100 for the sword": when the buyer cannot pay, the sword stays; when
/// the seller no longer owns it, no money moves; when both hold, both move
/// in one transaction, which answers the sword as it now is.
pub async fn a_trade_is_all_or_nothing_both_ways(db: TestDb) {
    let m = market(db, 1, 60).await;
    let (fx, caller, buyer) = (&m.fx, &m.caller, m.buyers[0]);
    let trade = |price: i64| {
        vec![
            transfer(buyer, m.seller, price),
            transfer_item("sword", Some("buyer0"), Some(Some("seller"))),
        ]
    };

    failed(fx.post(caller, trade(100)).await, FailCode::InsufficientFunds);
    let sword = fx.item(caller, "sword").await;
    assert_eq!(owner_of(&sword), Some("seller"), "the sword stays");
    assert_eq!(
        fx.item_history(caller, "sword").await.len(),
        1,
        "and has not moved"
    );

    // The seller puts it back on the shelf first.
    completed(
        fx.post(caller, vec![transfer_item("sword", None, Some(Some("seller")))])
            .await,
    );
    failed(fx.post(caller, trade(50)).await, FailCode::WrongItemOwner);
    assert_eq!(
        (
            fx.balance(caller, buyer).await,
            fx.balance(caller, m.seller).await
        ),
        (60, 0),
        "no money moves for a sword the seller no longer has"
    );
    assert_eq!(
        owner_of(&fx.item(caller, "sword").await),
        None,
        "still in the stock"
    );

    let from_stock = vec![
        transfer(buyer, m.seller, 50),
        transfer_item("sword", Some("buyer0"), Some(None)),
    ];
    let (transaction, touched) = completed_touching(fx.post(caller, from_stock).await);
    assert_eq!(
        touched
            .items
            .iter()
            .map(|i| (i.id.as_str(), owner_of(i)))
            .collect::<Vec<_>>(),
        [("sword", Some("buyer0"))]
    );
    assert_eq!(
        (
            fx.balance(caller, buyer).await,
            fx.balance(caller, m.seller).await
        ),
        (10, 50)
    );
    let history = fx.item_history(caller, "sword").await;
    let last = history.last().expect("steps");
    assert_eq!(
        (
            last.kind,
            last.transaction,
            last.from.as_ref(),
            last.to.as_ref().map(CustomerId::as_str)
        ),
        (
            ItemStepKind::TransferItem,
            Some(transaction.id),
            None,
            Some("buyer0")
        )
    );
    fx.assert_check().await;
}

/// 32 concurrent attempts on one sword: 16 sales to four buyers (each pays
/// 10 and takes it from the seller) and 16 uses by the seller. Exactly one
/// wins; every other fails `WRONG_ITEM_OWNER` (sold) or `WRONG_ITEM_STATUS`
/// (used up), the history has exactly one move after the grant, and at
/// most the winner's 10 changed hands.
pub async fn concurrent_sales_and_uses_of_one_item_one_wins(db: TestDb) {
    let m = market(db, 4, 100).await;
    let outcomes = concurrently(32, |i| {
        let (ledger, caller) = (m.fx.ledger.clone(), m.caller.clone());
        let (seller, buyer) = (m.seller, m.buyers[i % 4]);
        async move {
            let operations = if i % 2 == 0 {
                vec![
                    transfer(buyer, seller, 10),
                    transfer_item("sword", Some(&format!("buyer{}", i % 4)), Some(Some("seller"))),
                ]
            } else {
                vec![consume("sword", Some(Some("seller")))]
            };
            let outcome = ledger
                .post_transaction(&caller, request(&format!("race-{i}"), operations))
                .await
                .expect("answered");
            (i, outcome)
        }
    })
    .await;
    let (mut winners, mut codes) = (Vec::new(), BTreeSet::new());
    for (i, outcome) in outcomes {
        match outcome {
            TransactionOutcome::Completed(..) => winners.push(i),
            TransactionOutcome::Failed(_, failure) => {
                codes.insert(failure.reason.code().as_str());
            }
            other @ TransactionOutcome::Duplicate(..) => panic!("{i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one wins: {winners:?}");
    let sold = winners[0] % 2 == 0;
    let expected = if sold {
        "WRONG_ITEM_OWNER"
    } else {
        "WRONG_ITEM_STATUS"
    };
    assert_eq!(codes, BTreeSet::from([expected]), "what the losers were told");
    let history = m.fx.item_history(&m.caller, "sword").await;
    assert_eq!(history.len(), 2, "one move after the grant: {history:?}");
    let sword = m.fx.item(&m.caller, "sword").await;
    if sold {
        let buyer = format!("buyer{}", winners[0] % 4);
        assert_eq!(
            (owner_of(&sword), sword.status),
            (Some(buyer.as_str()), ItemStatus::Active)
        );
    } else {
        assert_eq!(
            (owner_of(&sword), sword.status),
            (Some("seller"), ItemStatus::Consumed)
        );
    }
    let paid: i64 = m.fx.balance(&m.caller, m.seller).await;
    assert_eq!(paid, if sold { 10 } else { 0 }, "only the winning sale paid");
    m.fx.assert_check().await;
}

/// API v1 and v2 are one ledger of items: an entry's item is an item of
/// the user (naming its entry); consumed through v2, v1 shows it used;
/// used through v1, v2 shows it Consumed (by a transaction of its own), and
/// a second use is a conflict; moved through v2, v1 lists it under its new
/// owner.
pub async fn api_v1_and_v2_agree_on_items(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let l = &fx.ledger;
    let hat = l
        .post_v1_entry(&caller, v1_with_item("ann", 1, "Hat"))
        .await
        .expect("posts");
    let cap = l
        .post_v1_entry(&caller, v1_with_item("ann", 1, "Cap"))
        .await
        .expect("posts");
    let anns = l
        .customer_items(&caller, "ann".to_owned(), ItemFilter::default(), PageRequest::ALL)
        .await
        .expect("reads")
        .items;
    let by_entry = |entry| {
        anns.iter()
            .find(|i| i.v1_entry == Some(entry))
            .unwrap_or_else(|| panic!("the item of entry {entry} in {anns:?}"))
            .clone()
    };
    let (hat_item, cap_item) = (by_entry(hat.entry_id), by_entry(cap.entry_id));
    assert_eq!(
        (hat_item.item_type.as_str(), hat_item.status, owner_of(&hat_item)),
        ("Hat", ItemStatus::Active, Some("ann"))
    );
    assert_eq!(
        hat_item.properties.as_ref().map(ItemProperties::as_str),
        hat.item.as_ref().and_then(|i| i.data.as_deref()),
        "v1's data is v2's properties"
    );

    // Consumed through v2: v1 shows it used.
    completed(
        fx.post(&caller, vec![consume(hat_item.id.as_str(), Some(Some("ann")))])
            .await,
    );
    let inventory = |entry| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            let filter = InventoryFilter {
                entry_ids: Some(vec![entry]),
                ..InventoryFilter::default()
            };
            ledger.v1_inventory(&caller, filter).await.expect("reads")
        }
    };
    let lines = inventory(hat.entry_id).await;
    assert!(lines.len() == 1 && lines[0].item.used, "{lines:?}");
    let again = l.use_v1_item(&caller, hat.entry_id).await;
    assert_eq!(
        again.as_ref().err().and_then(conflict),
        Some("the item has already been used"),
        "{again:?}"
    );

    // Used through v1: v2 shows it Consumed, by a transaction.
    let used = l.use_v1_item(&caller, cap.entry_id).await.expect("uses");
    assert!(used.item.is_some_and(|i| i.used));
    let cap_now = fx.item(&caller, cap_item.id.as_str()).await;
    assert_eq!(cap_now.status, ItemStatus::Consumed);
    let history = fx.item_history(&caller, cap_item.id.as_str()).await;
    assert_eq!(
        history
            .iter()
            .map(|s| (s.kind, s.transaction.is_some()))
            .collect::<Vec<_>>(),
        [(ItemStepKind::GrantItem, true), (ItemStepKind::ConsumeItem, true)]
    );
    let twice = l.use_v1_item(&caller, cap.entry_id).await;
    assert!(twice.as_ref().err().and_then(conflict).is_some(), "{twice:?}");

    // Moved through v2: listed under its new owner; the entry keeps its user.
    let scarf = l
        .post_v1_entry(&caller, v1_with_item("ann", 1, "Scarf"))
        .await
        .expect("posts");
    fx.customer(&caller, "ben").await;
    let scarf_id = l
        .customer_items(&caller, "ann".to_owned(), ItemFilter::default(), PageRequest::ALL)
        .await
        .expect("reads")
        .items
        .into_iter()
        .find(|i| i.v1_entry == Some(scarf.entry_id))
        .expect("the scarf")
        .id;
    completed(
        fx.post(
            &caller,
            vec![transfer_item(scarf_id.as_str(), Some("ben"), Some(Some("ann")))],
        )
        .await,
    );
    let lines = inventory(scarf.entry_id).await;
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.user_id.as_str(), l.item.used))
            .collect::<Vec<_>>(),
        [("ben", false)]
    );
    // Items granted through v2 have no entry: v1 does not list them.
    completed(
        fx.post(&caller, vec![grant("v2-only", "Hat", Some("ann"), None)])
            .await,
    );
    let all = l
        .v1_inventory(&caller, InventoryFilter::default())
        .await
        .expect("reads");
    assert_eq!(all.len(), 3, "{all:?}");
    fx.assert_check().await;
}

/// How many write primitives `work` makes (run with no fault on).
async fn primitives_of<F: std::future::Future>(faults: &Faults, work: F) -> u64 {
    let before = faults.write_primitives();
    work.await;
    faults.write_primitives() - before
}

/// A trade that also grants a receipt and polishes the sword, cut at each
/// of its write primitives and at its commit: no item, step, balance or id
/// changes, and the trade applies once after the fault lifts.
pub async fn a_storage_fault_at_any_write_of_an_item_transaction_applies_nothing(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    fx.customer(&caller, "seller").await;
    fx.customer(&caller, "buyer").await;
    let seller = fx.wallet(&caller, Some("seller")).await;
    let buyer = fx.funded(&caller, Some("buyer"), 100).await;
    for set in ["m", "c"] {
        completed(
            fx.post(
                &caller,
                vec![grant(&format!("sword-{set}"), "sword", Some("seller"), None)],
            )
            .await,
        );
    }
    let trade = |set: &str| {
        request(
            &format!("trade-{set}"),
            vec![
                transfer(buyer, seller, 10),
                transfer_item(&format!("sword-{set}"), Some("buyer"), Some(Some("seller"))),
                set_properties(&format!("sword-{set}"), r#"{"polished":true}"#),
                grant(&format!("receipt-{set}"), "receipt", Some("buyer"), None),
            ],
        )
    };
    let writes = primitives_of(&faults, async {
        completed(
            fx.ledger
                .post_transaction(&caller, trade("m"))
                .await
                .expect("answered"),
        );
    })
    .await;
    assert!(writes >= 8, "a trade with items writes several rows ({writes})");
    let before = (
        fx.item(&caller, "sword-c").await,
        fx.item_history(&caller, "sword-c").await,
        fx.balance(&caller, buyer).await,
        fx.transaction_count(&caller).await,
    );
    for cut in 1..=writes {
        faults.fail_from_write(cut);
        let outcome = fx.ledger.post_transaction(&caller, trade("c")).await;
        assert!(
            outcome.as_ref().is_err_and(is_unavailable),
            "cut at write {cut} of {writes}: {outcome:?}"
        );
    }
    faults.fail_commits();
    let outcome = fx.ledger.post_transaction(&caller, trade("c")).await;
    assert!(
        outcome.as_ref().is_err_and(is_unavailable),
        "a refused commit: {outcome:?}"
    );
    faults.lift();
    let after = (
        fx.item(&caller, "sword-c").await,
        fx.item_history(&caller, "sword-c").await,
        fx.balance(&caller, buyer).await,
        fx.transaction_count(&caller).await,
    );
    assert_eq!(after, before, "nothing applied");
    let receipt = fx.ledger.item(&caller, item_id("receipt-c")).await;
    assert!(receipt.is_err(), "the receipt's id is still free: {receipt:?}");
    completed(
        fx.ledger
            .post_transaction(&caller, trade("c"))
            .await
            .expect("answered"),
    );
    assert_eq!(owner_of(&fx.item(&caller, "sword-c").await), Some("buyer"));
    fx.assert_check().await;
}
