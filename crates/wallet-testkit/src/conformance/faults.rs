//! Storage faults through the ledger: whichever write primitive of a job
//! fails, and if its commit fails, the job applies nothing and the caller
//! is told the store is unavailable; reads go on, and once the fault lifts
//! the same request applies (its reference id was not spent).

use crate::answers::{completed, is_not_found, is_unavailable};
use crate::faults::Faults;
use crate::fixture::{
    capture, customer_id, default_asset, hold, hold_id, issue, request, transfer, v1_with_item, void, Fixture,
};
use crate::harness::TestDb;
use wallet_core::model::{PageRequest, TimeRange};
use wallet_core::v1::InventoryFilter;
use wallet_core::{LedgerError, Missing};

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, LedgerError>, doing: &str) {
    match result {
        Err(e) if is_unavailable(&e) => {}
        other => panic!("{doing}: expected the store to be unavailable, got {other:?}"),
    }
}

/// How many write primitives `work` makes (run with no fault on).
async fn primitives_of<F: std::future::Future>(faults: &Faults, work: F) -> u64 {
    let before = faults.write_primitives();
    work.await;
    faults.write_primitives() - before
}

/// A transfer with a fee, cut at each of its write primitives in turn and
/// then at its commit: every cut applies nothing (no balance, entry or
/// transaction), and the request applies once after the fault lifts.
pub async fn a_storage_fault_at_any_write_of_a_transaction_applies_nothing(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let payer = fx.funded(&caller, None, 100).await;
    let (payee, fees) = (fx.wallet(&caller, None).await, fx.wallet(&caller, None).await);
    let pay = |reference: &str| {
        request(
            reference,
            vec![transfer(payer, payee, 10), transfer(payer, fees, 1)],
        )
    };
    let writes = primitives_of(&faults, async {
        completed(
            fx.ledger
                .post_transaction(&caller, pay("measure"))
                .await
                .expect("answered"),
        );
    })
    .await;
    assert!(
        writes >= 4,
        "a transfer with a fee writes several rows ({writes})"
    );
    let transactions = fx.transaction_count(&caller).await;

    for cut in 1..=writes {
        faults.fail_from_write(cut);
        let outcome = fx.ledger.post_transaction(&caller, pay("cut")).await;
        assert_unavailable(outcome, &format!("cut at write {cut} of {writes}"));
    }
    faults.fail_commits();
    assert_unavailable(
        fx.ledger.post_transaction(&caller, pay("cut")).await,
        "a refused commit",
    );
    faults.lift();

    for (wallet, balance, entries) in [(payer, 89, 3), (payee, 10, 1), (fees, 1, 1)] {
        assert_eq!(fx.balance(&caller, wallet).await, balance, "wallet {wallet}");
        assert_eq!(
            fx.entries(&caller, wallet).await.len(),
            entries,
            "wallet {wallet}"
        );
    }
    assert_eq!(fx.transaction_count(&caller).await, transactions);
    completed(
        fx.ledger
            .post_transaction(&caller, pay("cut"))
            .await
            .expect("answered"),
    );
    assert_eq!(fx.balance(&caller, payer).await, 78);
    assert!(faults.injected() > writes, "every cut was injected");
    fx.assert_check().await;
}

/// A transaction that captures part of one hold, voids another and places
/// a third, cut at each of its write primitives and at its commit: no hold
/// and no wallet (balance or held) changes, the new hold's id stays free,
/// and the request applies once after the fault lifts.
pub async fn a_storage_fault_at_any_write_of_a_hold_transaction_applies_nothing(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let payer = fx.funded(&caller, None, 100).await;
    let payee = fx.wallet(&caller, None).await;
    // Two sets of holds alike: one to measure the writes on, one to cut.
    for set in ["m", "c"] {
        completed(
            fx.post(
                &caller,
                vec![
                    hold(&format!("old-{set}"), payer, 20, Some(payee), None),
                    hold(&format!("gone-{set}"), payer, 10, None, None),
                ],
            )
            .await,
        );
    }
    let work = |set: &str| {
        request(
            &format!("work-{set}"),
            vec![
                capture(&format!("old-{set}"), Some(5)),
                void(&format!("gone-{set}")),
                hold(&format!("new-{set}"), payer, 15, Some(payee), None),
            ],
        )
    };
    let writes = primitives_of(&faults, async {
        completed(
            fx.ledger
                .post_transaction(&caller, work("m"))
                .await
                .expect("answered"),
        );
    })
    .await;
    assert!(
        writes >= 8,
        "a capture, a void and a hold write several rows ({writes})"
    );
    let wallets = (
        fx.wallet_row(&caller, payer).await,
        fx.wallet_row(&caller, payee).await,
    );
    let holds = (fx.hold(&caller, "old-c").await, fx.hold(&caller, "gone-c").await);
    let transactions = fx.transaction_count(&caller).await;

    for cut in 1..=writes + 1 {
        match cut {
            _ if cut <= writes => faults.fail_from_write(cut),
            _ => faults.fail_commits(),
        }
        let outcome = fx.ledger.post_transaction(&caller, work("c")).await;
        assert_unavailable(outcome, &format!("cut {cut} of {writes} writes and a commit"));
        faults.lift();
        let now = (
            fx.wallet_row(&caller, payer).await,
            fx.wallet_row(&caller, payee).await,
        );
        assert_eq!(now, wallets, "cut {cut}: the wallets");
        let now = (fx.hold(&caller, "old-c").await, fx.hold(&caller, "gone-c").await);
        assert_eq!(now, holds, "cut {cut}: the holds");
        let new = fx.ledger.hold(&caller, hold_id("new-c")).await;
        assert!(
            new.as_ref().is_err_and(|e| is_not_found(e, Missing::Hold)),
            "cut {cut}: {new:?}"
        );
    }
    assert_eq!(fx.transaction_count(&caller).await, transactions);
    completed(
        fx.ledger
            .post_transaction(&caller, work("c"))
            .await
            .expect("answered"),
    );
    let payer_row = fx.wallet_row(&caller, payer).await;
    // 100 - 5 - 5 captured; held: 15 + 15 + 15 + 15 (old-* rest, new-*).
    assert_eq!((payer_row.balance, payer_row.held), (90, 60));
    fx.assert_check().await;
}

/// An API v1 entry for a new user (customer, wallet, transaction, entry,
/// item, running total), cut at each write and at its commit: the user is
/// never half created.
pub async fn a_storage_fault_at_any_write_of_a_v1_entry_applies_nothing(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let writes = primitives_of(&faults, async {
        let entry = v1_with_item("measure", 5, "Hat");
        fx.ledger.post_v1_entry(&caller, entry).await.expect("posts");
    })
    .await;
    assert!(
        writes >= 5,
        "a first entry with an item writes several rows ({writes})"
    );

    for cut in 1..=writes + 1 {
        match cut {
            _ if cut <= writes => faults.fail_from_write(cut),
            _ => faults.fail_commits(),
        }
        let posted = fx
            .ledger
            .post_v1_entry(&caller, v1_with_item("newcomer", 5, "Hat"))
            .await;
        assert_unavailable(posted, &format!("cut {cut} of {writes} writes and a commit"));
        faults.lift();
        let customer = fx.ledger.customer(&caller, customer_id("newcomer")).await;
        assert!(
            customer
                .as_ref()
                .is_err_and(|e| is_not_found(e, Missing::Customer)),
            "cut {cut}: {customer:?}"
        );
    }
    let items = fx
        .ledger
        .v1_inventory(&caller, InventoryFilter::default())
        .await
        .expect("reads");
    assert_eq!(items.len(), 1, "only the measured entry's item");
    fx.ledger
        .post_v1_entry(&caller, v1_with_item("newcomer", 5, "Hat"))
        .await
        .expect("posts once the fault lifts");
    fx.assert_check().await;
}

/// While every write fails, reads (wallets, entries, transactions, check)
/// still answer, and every kind of write is refused as unavailable; once
/// the fault lifts, writes work again.
pub async fn reads_keep_working_while_writes_fail(db: TestDb) {
    let (fx, faults) = Fixture::with_faults(db);
    fx.project("pa").await;
    let caller = fx.authority("pa").await;
    let wallet = fx.funded(&caller, None, 10).await;

    faults.fail_every_write();
    assert_eq!(fx.balance(&caller, wallet).await, 10);
    assert_eq!(fx.entries(&caller, wallet).await.len(), 1);
    let listed = fx
        .ledger
        .transactions(&caller, TimeRange::ALL, PageRequest::ALL)
        .await;
    assert_eq!(listed.expect("reads").total, 1);
    fx.assert_check().await;
    let post = fx
        .ledger
        .post_transaction(&caller, request("while-down", vec![issue(wallet, 1)]))
        .await;
    assert_unavailable(post, "post");
    let open = fx
        .ledger
        .create_wallet(&caller, None, default_asset(&caller), None, None)
        .await;
    assert_unavailable(open, "open a wallet");
    let customer = fx
        .ledger
        .upsert_customer(&caller, customer_id("x"), None, None)
        .await;
    assert_unavailable(customer, "create a customer");

    faults.lift();
    completed(
        fx.ledger
            .post_transaction(&caller, request("while-down", vec![issue(wallet, 1)]))
            .await
            .expect("answered"),
    );
    assert_eq!(fx.balance(&caller, wallet).await, 11);
    fx.assert_check().await;
}
