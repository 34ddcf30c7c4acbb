//! Isolation: a credential never reads or writes outside its project, and a
//! customer key sees only its own customer and cannot tell another
//! customer's resources from missing ones.

use crate::answers::{completed, denial, is_not_found};
use crate::fixture::{customer_id, default_asset, issue, request, text, transfer, v1, v1_with_item, Fixture};
use crate::harness::TestDb;
use wallet_core::ids::WalletId;
use wallet_core::model::{PageRequest, TimeRange, WalletStatus};
use wallet_core::policy::NOT_YOURS;
use wallet_core::text::{AssetCode, PublicId};
use wallet_core::v1::InventoryFilter;
use wallet_core::{LedgerError, Missing};

fn assert_missing<T: std::fmt::Debug>(result: Result<T, LedgerError>, what: Missing, doing: &str) {
    match result {
        Err(e) if is_not_found(&e, what) => {}
        other => panic!("{doing}: expected {what} not found, got {other:?}"),
    }
}

/// An authority of project A cannot read or write project B's wallets,
/// customers, assets, transactions or items: each is not found, and nothing
/// of B changes.
pub async fn an_authority_never_reaches_another_project(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a, b) = (fx.authority("pa").await, fx.authority("pb").await);
    fx.customer(&b, "bob").await;
    let theirs = fx.wallet(&b, Some("bob")).await;
    let their_tx = fx.issue(&b, theirs, 50).await;
    let their_item = fx
        .ledger
        .post_v1_entry(&b, v1_with_item("carol", 1, "Hat"))
        .await
        .expect("posts");
    let mine = fx.wallet(&a, None).await;
    let l = &fx.ledger;
    let bob = || customer_id("bob");

    assert_missing(l.wallet(&a, theirs).await, Missing::Wallet, "read a wallet");
    let entries = l
        .wallet_entries(&a, theirs, TimeRange::ALL, PageRequest::ALL)
        .await;
    assert_missing(entries, Missing::Wallet, "read entries");
    assert_missing(l.customer(&a, bob()).await, Missing::Customer, "read a customer");
    let wallets = l.customer_wallets(&a, bob(), PageRequest::ALL).await;
    assert_missing(wallets, Missing::Customer, "list wallets");
    assert_missing(
        l.transaction(&a, their_tx.id).await,
        Missing::Transaction,
        "read a transaction",
    );
    assert_missing(
        l.asset(&a, default_asset(&b)).await,
        Missing::Asset,
        "read an asset",
    );
    for operations in [vec![transfer(theirs, mine, 10)], vec![issue(theirs, 10)]] {
        let post = l
            .post_transaction(&a, request(&fx.fresh_reference(), operations))
            .await;
        assert_missing(post, Missing::Wallet, "post to a wallet");
    }
    let status = l.set_wallet_status(&a, theirs, WalletStatus::Suspended).await;
    assert_missing(status, Missing::Wallet, "suspend a wallet");
    let label = l.label_wallet(&a, theirs, Some(text("mine now")), None).await;
    assert_missing(label, Missing::Wallet, "label a wallet");
    assert_missing(
        l.suspend_customer(&a, bob()).await,
        Missing::Customer,
        "suspend a customer",
    );
    let open = l
        .create_wallet(&a, Some(bob()), default_asset(&a), None, None)
        .await;
    assert_missing(open, Missing::Customer, "open a wallet for a customer");
    let open = l.create_wallet(&a, None, default_asset(&b), None, None).await;
    assert_missing(open, Missing::Asset, "open a wallet of an asset");
    assert_missing(
        l.use_v1_item(&a, their_item.entry_id).await,
        Missing::ItemEntry,
        "use an item",
    );
    let filter = InventoryFilter {
        entry_ids: Some(vec![their_item.entry_id]),
        ..InventoryFilter::default()
    };
    assert!(l.v1_inventory(&a, filter).await.expect("reads").is_empty());
    // A v1 user of the same name in A is A's own customer, not B's, and
    // B's bob's keys are not A's bob's to list or revoke.
    let (their_key, their_key_row) = fx.customer_key_row(&b, "bob", None).await;
    l.post_v1_entry(&a, v1("bob", 5)).await.expect("A's own bob");
    let keys = l
        .customer_keys(&a, bob(), PageRequest::ALL)
        .await
        .expect("A's bob");
    assert_eq!(keys.total, 0);
    let key_id = PublicId::parse(&their_key_row.public_id).expect("valid");
    assert_missing(
        l.revoke_customer_key(&a, bob(), key_id).await,
        Missing::Key,
        "revoke a key",
    );
    l.label_wallet(&their_key, theirs, None, Some(text("still B's")))
        .await
        .expect("B's key still works");

    assert_eq!(fx.transaction_count(&a).await, 1, "only A's own entry");
    assert_eq!(fx.transaction_count(&b).await, 2);
    let wallet = l.wallet(&b, theirs).await.expect("B reads its wallet");
    assert_eq!(
        (wallet.balance, wallet.status, wallet.name),
        (50, WalletStatus::Open, None)
    );
    let item = l
        .v1_inventory(&b, InventoryFilter::default())
        .await
        .expect("reads");
    assert!(item.iter().all(|line| !line.item.used));
    fx.assert_check().await;
}

/// A customer key reads its own customer, wallets and entries; for another
/// customer's (in its project or another), a system wallet, or one that does
/// not exist, it gets the same refusal, word for word.
pub async fn a_customer_key_reads_only_its_own_customer(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let (a, b) = (fx.authority("pa").await, fx.authority("pb").await);
    for who in ["mine", "theirs"] {
        fx.customer(&a, who).await;
    }
    fx.customer(&b, "mine").await;
    let own = fx.funded(&a, Some("mine"), 20).await;
    let others = fx.funded(&a, Some("theirs"), 30).await;
    let system = fx.funded(&a, None, 40).await;
    let other_project = fx.funded(&b, Some("mine"), 50).await;
    let key = fx.customer_key(&a, "mine", None).await;
    let l = &fx.ledger;

    assert_eq!(
        l.customer(&key, customer_id("mine")).await.expect("own").id,
        "mine"
    );
    assert_eq!(l.wallet(&key, own).await.expect("own").balance, 20);
    let entries = l
        .wallet_entries(&key, own, TimeRange::ALL, PageRequest::ALL)
        .await;
    assert_eq!(entries.expect("own").items.len(), 1);
    let listed = l.own_wallets(&key, PageRequest::ALL).await.expect("own");
    assert_eq!(listed.items.iter().map(|w| w.id).collect::<Vec<_>>(), vec![own]);
    let listed = l
        .customer_wallets(&key, customer_id("mine"), PageRequest::ALL)
        .await;
    assert_eq!(listed.expect("own").items.len(), 1);

    let mut refusals = Vec::new();
    for wallet in [others, system, other_project, WalletId::new(i64::MAX)] {
        refusals.push(l.wallet(&key, wallet).await.map(|_| ()));
        let entries = l
            .wallet_entries(&key, wallet, TimeRange::ALL, PageRequest::ALL)
            .await;
        refusals.push(entries.map(|_| ()));
    }
    for customer in ["theirs", "nobody"] {
        refusals.push(l.customer(&key, customer_id(customer)).await.map(|_| ()));
        let wallets = l
            .customer_wallets(&key, customer_id(customer), PageRequest::ALL)
            .await;
        refusals.push(wallets.map(|_| ()));
    }
    for (n, refusal) in refusals.iter().enumerate() {
        let why = refusal.as_ref().err().and_then(denial);
        assert_eq!(why, Some(NOT_YOURS.0), "refusal {n}: {refusal:?}");
    }
    let transactions = l.transactions(&key, TimeRange::ALL, PageRequest::ALL).await;
    assert!(
        transactions.as_ref().err().and_then(denial).is_some(),
        "{transactions:?}"
    );
}

/// A customer key writes nothing but its own wallets' labels: posting (v1,
/// v2, batches, items), opening or suspending wallets and managing
/// customers or assets are refused, and nothing changes.
pub async fn customer_callers_cannot_post(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let a = fx.authority("pa").await;
    for who in ["mine", "theirs"] {
        fx.customer(&a, who).await;
    }
    let own = fx.funded(&a, Some("mine"), 20).await;
    let others = fx.wallet(&a, Some("theirs")).await;
    let item = fx
        .ledger
        .post_v1_entry(&a, v1_with_item("holder", 1, "Hat"))
        .await
        .expect("posts");
    let key = fx.customer_key(&a, "mine", None).await;
    let l = &fx.ledger;
    let transactions_before = fx.transaction_count(&a).await;

    let refused = |result: Result<(), LedgerError>, doing: &str| {
        assert!(
            result.as_ref().err().and_then(denial).is_some(),
            "{doing}: {result:?}"
        );
    };
    let spend = || request("from-a-key", vec![transfer(own, others, 5)]);
    refused(l.post_transaction(&key, spend()).await.map(|_| ()), "post");
    refused(
        l.post_batch(&key, vec![spend()]).await.map(|_| ()),
        "post a batch",
    );
    refused(
        l.post_v1_entry(&key, v1("mine", 5)).await.map(|_| ()),
        "post a v1 entry",
    );
    refused(
        l.use_v1_item(&key, item.entry_id).await.map(|_| ()),
        "use an item",
    );
    let asset = default_asset(&a);
    refused(
        l.create_wallet(&key, Some(customer_id("mine")), asset, None, None)
            .await
            .map(|_| ()),
        "open",
    );
    refused(
        l.set_wallet_status(&key, own, WalletStatus::Suspended)
            .await
            .map(|_| ()),
        "suspend",
    );
    refused(
        l.suspend_customer(&key, customer_id("mine")).await.map(|_| ()),
        "suspend itself",
    );
    let code = AssetCode::parse("GEM").expect("valid");
    refused(
        l.create_asset(&key, code, text("Gems"), 1).await.map(|_| ()),
        "create an asset",
    );
    let label = l.label_wallet(&key, others, Some(text("mine now")), None).await;
    refused(label.map(|_| ()), "label another's wallet");

    let labelled = l
        .label_wallet(&key, own, Some(text("savings")), None)
        .await
        .expect("own label");
    assert_eq!(labelled.name.as_deref(), Some("savings"));
    assert_eq!(fx.transaction_count(&a).await, transactions_before);
    assert_eq!(fx.balance(&a, own).await, 20);
    let wallet = l.wallet(&a, own).await.expect("reads");
    assert_eq!(wallet.status, WalletStatus::Open);
    completed(fx.post(&a, vec![transfer(own, others, 5)]).await);
    fx.assert_check().await;
}
