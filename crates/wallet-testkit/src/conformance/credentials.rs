//! Revocation, expiry and the maintenance switch: no write by a credential
//! commits after it stopped being valid, nor after maintenance was switched
//! on, because every write of an authority or customer checks both again in
//! its own transaction (the callers here were authenticated before, as a
//! request in flight was, by a process whose memory may be stale).

use super::concurrently;
use crate::answers::{completed, is_lapsed, is_maintenance, is_not_found};
use crate::fixture::{customer_id, default_asset, issue, request, text, v1, v1_with_item, Fixture};
use crate::harness::TestDb;
use wallet_core::model::WalletStatus;
use wallet_core::policy::{Caller, CustomerCaller, CustomerCredential, OperatorCaller};
use wallet_core::text::{AssetCode, PublicId};
use wallet_core::{LedgerError, Missing, TransactionOutcome};

fn public_id(caller: &Caller) -> PublicId {
    match caller {
        Caller::Authority(a) => PublicId::parse(&a.public_id).expect("a valid public id"),
        other => panic!("not an authority: {other:?}"),
    }
}

fn assert_lapsed<T: std::fmt::Debug>(result: Result<T, LedgerError>, doing: &str) {
    match result {
        Err(e) if is_lapsed(&e) => {}
        other => panic!("{doing}: expected a lapsed credential, got {other:?}"),
    }
}

/// A customer caller of an offline token `signer` signed for `customer`.
async fn token_of(fx: &Fixture, signer: &Caller, customer: &str) -> Caller {
    let Caller::Authority(a) = signer else {
        panic!("not an authority: {signer:?}")
    };
    let row = fx
        .ledger
        .customer(signer, customer_id(customer))
        .await
        .expect("reads");
    Caller::Customer(CustomerCaller {
        project_id: a.project_id.clone(),
        customer: row.rowid,
        customer_id: row.id,
        credential: CustomerCredential::Token(a.authority),
        expires_at: None,
    })
}

/// Every kind of write by an authority revoked after it was authenticated
/// is refused, and none of it is written: its reference id stays free, the
/// v1 user it would have created does not exist, the item stays unused.
/// A token the revoked authority signed, and a revoked customer key, can no
/// longer label a wallet.
pub async fn a_revoked_authority_writes_nothing(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let (revoked, live) = (fx.authority("pa").await, fx.authority("pa").await);
    fx.customer(&live, "kept").await;
    let wallet = fx.funded(&live, Some("kept"), 10).await;
    let item = fx
        .ledger
        .post_v1_entry(&live, v1_with_item("kept", 0, "Hat"))
        .await
        .expect("posts");
    let transactions = fx.transaction_count(&live).await;
    let token = token_of(&fx, &revoked, "kept").await;
    let (key, key_row) = fx.customer_key_row(&live, "kept", None).await;
    let key_id = PublicId::parse(&key_row.public_id).expect("valid");
    fx.ledger
        .revoke_authority(public_id(&revoked))
        .await
        .expect("revokes");
    fx.ledger
        .revoke_customer_key(&live, customer_id("kept"), key_id)
        .await
        .expect("revokes the key");

    let l = &fx.ledger;
    let spend = || request("after-revoke", vec![issue(wallet, 5)]);
    assert_lapsed(l.post_transaction(&revoked, spend()).await, "post");
    assert_lapsed(l.post_batch(&revoked, vec![spend()]).await, "post a batch");
    assert_lapsed(
        l.post_v1_entry(&revoked, v1("newcomer", 5)).await,
        "post a v1 entry",
    );
    assert_lapsed(l.use_v1_item(&revoked, item.entry_id).await, "use an item");
    let customer = l.upsert_customer(&revoked, customer_id("x"), None, None).await;
    assert_lapsed(customer, "create a customer");
    let open = l
        .create_wallet(&revoked, None, default_asset(&revoked), None, None)
        .await;
    assert_lapsed(open, "open a wallet");
    let status = l
        .set_wallet_status(&revoked, wallet, WalletStatus::Suspended)
        .await;
    assert_lapsed(status, "suspend a wallet");
    let code = AssetCode::parse("GEM").expect("valid");
    assert_lapsed(
        l.create_asset(&revoked, code, text("Gems"), 1).await,
        "create an asset",
    );
    let label = l.label_wallet(&token, wallet, Some(text("x")), None).await;
    assert_lapsed(label, "label with a token the revoked authority signed");
    let label = l.label_wallet(&key, wallet, Some(text("x")), None).await;
    assert_lapsed(label, "label with a revoked customer key");

    assert_eq!(fx.transaction_count(&live).await, transactions);
    let kept = l.wallet(&live, wallet).await.expect("reads");
    assert_eq!(
        (kept.balance, kept.status, kept.name),
        (10, WalletStatus::Open, None)
    );
    let newcomer = l.customer(&live, customer_id("newcomer")).await;
    assert!(
        newcomer
            .as_ref()
            .is_err_and(|e| is_not_found(e, Missing::Customer)),
        "{newcomer:?}"
    );
    let x = l.customer(&live, customer_id("x")).await;
    assert!(
        x.as_ref().is_err_and(|e| is_not_found(e, Missing::Customer)),
        "{x:?}"
    );
    let used_now = l.use_v1_item(&live, item.entry_id).await.expect("it was unused");
    assert!(used_now.item.is_some_and(|i| i.used));
    completed(l.post_transaction(&live, spend()).await.expect("answered"));
    assert_eq!(
        fx.balance(&live, wallet).await,
        15,
        "the reference was still free"
    );
    fx.assert_check().await;
}

/// A caller whose credential expires between authentication and the write
/// (an authority's JWT `exp`, a customer key's `expiresAt`) is refused at
/// the write, which writes nothing; the same callers wrote before.
pub async fn an_expired_caller_writes_nothing(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let live = fx.authority("pa").await;
    let expiring = match fx.authority("pa").await {
        Caller::Authority(mut a) => {
            a.expires_at = Some(fx.ledger.now() + 1_000);
            Caller::Authority(a)
        }
        other => panic!("not an authority: {other:?}"),
    };
    fx.customer(&live, "holder").await;
    let wallet = fx.wallet(&live, Some("holder")).await;
    let key = fx
        .customer_key(&live, "holder", Some(fx.ledger.now() + 1_000))
        .await;
    fx.issue(&expiring, wallet, 3).await;
    fx.ledger
        .label_wallet(&key, wallet, Some(text("before")), None)
        .await
        .expect("labels");

    fx.clock.advance(1_000);
    let l = &fx.ledger;
    let late = || request("too-late", vec![issue(wallet, 5)]);
    assert_lapsed(l.post_transaction(&expiring, late()).await, "post");
    assert_lapsed(
        l.post_v1_entry(&expiring, v1("latecomer", 5)).await,
        "post a v1 entry",
    );
    let label = l.label_wallet(&key, wallet, Some(text("after")), None).await;
    assert_lapsed(label, "label with an expired key");

    let now = l.wallet(&live, wallet).await.expect("reads");
    assert_eq!((now.balance, now.name.as_deref()), (3, Some("before")));
    let latecomer = l.customer(&live, customer_id("latecomer")).await;
    assert!(latecomer.is_err(), "{latecomer:?}");
    completed(l.post_transaction(&live, late()).await.expect("answered"));
    fx.assert_check().await;
}

/// 32 posts racing a revocation of their authority: each one either
/// completes or is refused as lapsed, a refused one wrote nothing (the
/// balance and the transaction count are exactly the completed ones), and
/// once the revocation is answered no post completes.
pub async fn a_revocation_racing_posts_cuts_them_cleanly(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let (racer, live) = (fx.authority("pa").await, fx.authority("pa").await);
    let wallet = fx.wallet(&live, None).await;
    let racer_id = public_id(&racer);

    let results = concurrently(33, |i| {
        let (ledger, racer, racer_id) = (fx.ledger.clone(), racer.clone(), racer_id.clone());
        async move {
            if i == 16 {
                ledger.revoke_authority(racer_id).await.expect("revokes");
                return None;
            }
            let post = request(&format!("race-{i}"), vec![issue(wallet, 1)]);
            Some(ledger.post_transaction(&racer, post).await)
        }
    })
    .await;

    let mut completed_posts = 0;
    for result in results.into_iter().flatten() {
        match result {
            Ok(TransactionOutcome::Completed(..)) => completed_posts += 1,
            Err(e) if is_lapsed(&e) => {}
            other => panic!("a racing post: {other:?}"),
        }
    }
    assert_eq!(fx.balance(&live, wallet).await, completed_posts);
    assert_eq!(fx.transaction_count(&live).await, completed_posts);
    let after = fx
        .ledger
        .post_transaction(&racer, request("after", vec![issue(wallet, 1)]))
        .await;
    assert_lapsed(after, "a post after the revocation was answered");
    fx.assert_check().await;
}

fn assert_maintenance<T: std::fmt::Debug>(result: Result<T, LedgerError>, doing: &str) {
    match result {
        Err(e) if is_maintenance(&e) => {}
        other => panic!("{doing}: expected the maintenance refusal, got {other:?}"),
    }
}

/// With the switch on in the database, every kind of write by an authority
/// or a customer is refused inside the write and writes nothing, although
/// the callers were authenticated before (as by a process that has not yet
/// heard of the switch). The operator's writes go on (the operator turns it
/// off again), and so do reads; off again, the same writes apply.
pub async fn maintenance_refuses_every_write_but_the_operators(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let authority = fx.authority("pa").await;
    fx.customer(&authority, "kept").await;
    let wallet = fx.funded(&authority, Some("kept"), 10).await;
    let item = fx
        .ledger
        .post_v1_entry(&authority, v1_with_item("kept", 0, "Hat"))
        .await
        .expect("posts");
    let key = fx.customer_key(&authority, "kept", None).await;
    let transactions = fx.transaction_count(&authority).await;
    fx.ledger.set_maintenance(true).await.expect("switched on");

    let l = &fx.ledger;
    let spend = || request("in-maintenance", vec![issue(wallet, 5)]);
    assert_maintenance(l.post_transaction(&authority, spend()).await, "post");
    assert_maintenance(l.post_batch(&authority, vec![spend()]).await, "post a batch");
    assert_maintenance(
        l.post_v1_entry(&authority, v1("newcomer", 5)).await,
        "post a v1 entry",
    );
    assert_maintenance(l.use_v1_item(&authority, item.entry_id).await, "use an item");
    let customer = l.upsert_customer(&authority, customer_id("x"), None, None).await;
    assert_maintenance(customer, "create a customer");
    let open = l
        .create_wallet(&authority, None, default_asset(&authority), None, None)
        .await;
    assert_maintenance(open, "open a wallet");
    let status = l
        .set_wallet_status(&authority, wallet, WalletStatus::Suspended)
        .await;
    assert_maintenance(status, "suspend a wallet");
    let code = AssetCode::parse("GEM").expect("valid");
    assert_maintenance(
        l.create_asset(&authority, code, text("Gems"), 1).await,
        "create an asset",
    );
    let label = l.label_wallet(&key, wallet, Some(text("x")), None).await;
    assert_maintenance(label, "label with a customer key");

    assert_eq!(fx.transaction_count(&authority).await, transactions, "reads work");
    let kept = l.wallet(&authority, wallet).await.expect("reads");
    assert_eq!(
        (kept.balance, kept.status, kept.name),
        (10, WalletStatus::Open, None)
    );
    let newcomer = l.customer(&authority, customer_id("newcomer")).await;
    assert!(
        newcomer
            .as_ref()
            .is_err_and(|e| is_not_found(e, Missing::Customer)),
        "{newcomer:?}"
    );

    let Caller::Authority(a) = &authority else {
        panic!("not an authority: {authority:?}")
    };
    let operator = Caller::Operator(OperatorCaller {
        project_id: a.project_id.clone(),
        default_asset: a.default_asset,
    });
    l.suspend_customer(&operator, customer_id("kept"))
        .await
        .expect("the operator writes in maintenance");
    l.resume_customer(&operator, customer_id("kept"), vec![wallet])
        .await
        .expect("the operator writes in maintenance");
    fx.project("pb").await;

    l.set_maintenance(false).await.expect("switched off");
    completed(l.post_transaction(&authority, spend()).await.expect("answered"));
    assert_eq!(
        fx.balance(&authority, wallet).await,
        15,
        "the reference was still free"
    );
    fx.assert_check().await;
}

/// 32 posts racing the maintenance switch: each one either completes or is
/// refused, a refused one wrote nothing, and once the switch is answered no
/// post completes (the switch and the posts order in the database).
pub async fn a_maintenance_switch_racing_posts_cuts_them_cleanly(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    let authority = fx.authority("pa").await;
    let wallet = fx.wallet(&authority, None).await;

    let results = concurrently(33, |i| {
        let (ledger, authority) = (fx.ledger.clone(), authority.clone());
        async move {
            if i == 16 {
                ledger.set_maintenance(true).await.expect("switched on");
                return None;
            }
            let post = request(&format!("race-{i}"), vec![issue(wallet, 1)]);
            Some(ledger.post_transaction(&authority, post).await)
        }
    })
    .await;

    let mut completed_posts = 0;
    for result in results.into_iter().flatten() {
        match result {
            Ok(TransactionOutcome::Completed(..)) => completed_posts += 1,
            Err(e) if is_maintenance(&e) => {}
            other => panic!("a racing post: {other:?}"),
        }
    }
    assert_eq!(fx.balance(&authority, wallet).await, completed_posts);
    assert_eq!(fx.transaction_count(&authority).await, completed_posts);
    let after = fx
        .ledger
        .post_transaction(&authority, request("after", vec![issue(wallet, 1)]))
        .await;
    assert_maintenance(after, "a post after the switch was answered");
    fx.assert_check().await;
}
