//! Lots on SQLite: `check` names every class of broken lot invariant (rows
//! tampered with raw SQL, as a bad restore or a hand edit would; the
//! schema's CHECKs switched off where they would refuse the edit), and the
//! schema refuses a lot whose numbers cannot be.

use crate::common;

use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::ids::WalletId;
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::Caller;
use wallet_core::text::{HoldId, ReferenceId};
use wallet_core::{Ledger, Store, TransactionOutcome};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

/// The lot of each amount (amounts are unique in [`shop`]).
fn lot(amount: i64) -> String {
    format!("(SELECT id FROM lots WHERE amount = {amount})")
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("not negative")
}

pub async fn post(ledger: &Ledger, caller: &Caller, reference: &str, operations: Vec<Operation>) {
    let request = TransactionRequest::new(ReferenceId::parse(reference).expect("valid"), operations, None)
        .expect("a valid request");
    let outcome = ledger.post_transaction(caller, request).await.expect("answered");
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{reference}: {outcome:?}"
    );
}

fn hold(id: &str, source: WalletId, amount: i64, destination: WalletId) -> Operation {
    Operation::Hold {
        source,
        amount: q(amount),
        destination: Some(destination),
        expires_at: None,
        hold_id: HoldId::parse(id).expect("valid"),
    }
}

/// A ledger over one file, on a clock the test moves.
pub struct LotShop {
    pub ledger: Ledger,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub caller: Caller,
    /// The wallet with the lots, and the shop's.
    pub wallet: WalletId,
    pub shop: WalletId,
}

/// A ledger whose wallet holds four lots of every fate: 3 (expires at
/// 2,000) spent, 5 (3,000) partly moved to the shop (a lot of 2 there) and
/// the rest expired, both expired at 3,000; 10 (5,000) Open with 4
/// earmarked by the Open hold `h` for the shop (after hold `gone`
/// earmarked 1 of it and was voided); and 3 of plain value.
pub async fn lot_shop(path: &Path) -> LotShop {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens");
    let clock = Arc::new(ManualClock::at(1_000));
    let store = Store::new(Arc::new(backend));
    let ledger = Ledger::with_clock(store.clone(), clock.clone());
    let caller = common::authority(&ledger, "ak_shop").await;
    let asset = match &caller {
        Caller::Authority(a) => a.default_asset,
        _ => unreachable!("an authority"),
    };
    let open = || ledger.create_wallet(&caller, None, asset, None, None);
    let (w, shop) = (open().await.expect("opens").id, open().await.expect("opens").id);
    let issue = |amount, expires_at| Operation::Issue {
        destination: w,
        amount: q(amount),
        expires_at,
    };
    post(
        &ledger,
        &caller,
        "form",
        vec![
            issue(10, Some(5_000)),
            issue(5, Some(3_000)),
            issue(3, Some(2_000)),
            issue(3, None),
        ],
    )
    .await;
    let redeem = Operation::Redeem {
        source: w,
        amount: q(3),
    };
    post(&ledger, &caller, "spend", vec![redeem]).await;
    let transfer = Operation::Transfer {
        source: w,
        destination: shop,
        amount: q(2),
    };
    post(&ledger, &caller, "move", vec![transfer]).await;
    clock.set(3_000);
    assert_eq!(ledger.expire_due_lots().await.expect("expires"), 2);
    post(&ledger, &caller, "gone", vec![hold("gone", w, 1, shop)]).await;
    let void = Operation::Void {
        hold: HoldId::parse("gone").expect("valid"),
    };
    post(&ledger, &caller, "void", vec![void]).await;
    post(&ledger, &caller, "h", vec![hold("h", w, 4, shop)]).await;
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.lots, 4);
    let row = ledger.wallet(&caller, w).await.expect("reads");
    assert_eq!((row.balance, row.held), (13, 4));
    LotShop {
        ledger,
        store,
        clock,
        caller,
        wallet: w,
        shop,
    }
}

async fn shop(path: &Path) -> Ledger {
    lot_shop(path).await.ledger
}

fn sql(path: &Path, statements: &str) {
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch(statements))
        .unwrap_or_else(|e| panic!("{statements}: {e}"));
}

/// Raw SQL past the schema's CHECKs (which refuse most of these rows).
fn unchecked(statements: &str) -> String {
    format!("PRAGMA ignore_check_constraints = ON; {statements}")
}

/// Each class of broken lot, made with raw SQL on a fresh shop: `check`
/// reports it (and only then is the report not ok).
#[tokio::test]
async fn check_names_every_broken_lot_invariant() {
    let hold = |id: &str| format!("(SELECT id FROM holds WHERE public_id = '{id}')");
    let w = format!("(SELECT wallet_id FROM {} l WHERE l.amount = 10)", "lots");
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "Open lots holding more than the balance",
            format!("UPDATE wallets SET balance = 5 WHERE id = {w}"),
            &["its Open lots hold 10 of a balance of 5"],
        ),
        (
            "Open lots of a wallet below zero",
            unchecked(&format!("UPDATE wallets SET balance = -1 WHERE id = {w}")),
            &["its Open lots hold 10 of a balance of -1"],
        ),
        (
            "more earmarked than remains",
            unchecked(&format!("UPDATE lots SET earmarked = 11 WHERE id = {}", lot(10))),
            &["Open with amount 10, remaining 10, earmarked 11 cannot be"],
        ),
        (
            "more remaining than formed it",
            unchecked(&format!("UPDATE lots SET remaining = 11 WHERE id = {}", lot(10))),
            &["Open with amount 10, remaining 11, earmarked 4 cannot be"],
        ),
        (
            "Open with nothing remaining",
            unchecked(&format!("UPDATE lots SET status = 'Open' WHERE id = {}", lot(3))),
            &["Open with amount 3, remaining 0, earmarked 0 cannot be"],
        ),
        (
            "Spent with something remaining",
            unchecked(&format!(
                "UPDATE lots SET status = 'Spent' WHERE id = {}",
                lot(10)
            )),
            &["Spent with amount 10, remaining 10, earmarked 4 cannot be"],
        ),
        (
            "a status that is none",
            unchecked(&format!("UPDATE lots SET status = 'Gone' WHERE id = {}", lot(3))),
            &["Gone with amount 3"],
        ),
        (
            "Spent with an Expire step",
            format!("UPDATE lots SET status = 'Spent' WHERE id = {}", lot(5)),
            &["Spent, but 3 of it expired"],
        ),
        (
            "a history that does not replay to what remains",
            format!("UPDATE lots SET remaining = 9 WHERE id = {}", lot(10)),
            &["remaining 9 and earmarked 4, but its history replays to 10 and 4"],
        ),
        (
            "a step that is none",
            unchecked(
                "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
                 SELECT id, transaction_id, 'Gift', 1, 9 FROM lots WHERE amount = 10",
            ),
            &["a step of unknown kind \"Gift\""],
        ),
        (
            "earmarked is not what Open holds earmark",
            format!("UPDATE hold_lots SET amount = 3 WHERE hold_id = {}", hold("h")),
            &["earmarked 4, but Open holds earmark 3 of it"],
        ),
        (
            "an earmark of a hold that is not Open",
            format!(
                "INSERT INTO hold_lots (hold_id, lot_id, amount) VALUES ({}, {}, 1)",
                hold("gone"),
                lot(10)
            ),
            &["(gone, Voided) earmarks 1 of lot", "only an Open hold earmarks"],
        ),
        (
            "an earmark of another wallet's lot",
            format!(
                "INSERT INTO hold_lots (hold_id, lot_id, amount) VALUES ({}, {}, 1)",
                hold("h"),
                lot(2)
            ),
            &["the lot is not of the hold's source wallet"],
        ),
        (
            "earmarks past what the hold has remaining",
            format!(
                "UPDATE holds SET captured = 2, remaining = 2 WHERE id = {};
                 UPDATE wallets SET held = 2 WHERE id = {w}",
                hold("h")
            ),
            &["(h): its earmarks take 4, more than its remaining 2"],
        ),
        (
            "Expire entries that are not the lots' Expire steps",
            format!(
                "INSERT INTO entries (wallet_id, transaction_id, authority_id, kind, amount, balance_after,
                                      created_at)
                 SELECT {w}, transaction_id, 1, 'Expire', -1, 12, 9 FROM lots WHERE amount = 10;"
            ),
            &["its Expire entries sum to -4, but its lots' Expire steps took 3"],
        ),
        (
            "a lot of a Failed transaction",
            "UPDATE transactions SET status = 'Failed', error = 'CONFLICT' WHERE reference_id = 'move'"
                .to_owned(),
            &["its transaction", "is of another project or Failed", "step"],
        ),
    ];
    for (what, tamper, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shop.db");
        let ledger = shop(&path).await;
        sql(&path, &tamper);
        let report = ledger.check().await.expect("checks");
        assert!(!report.is_ok(), "{what}: not reported: {report:#?}");
        for needle in expected {
            assert!(
                report.lot_mismatches.iter().any(|m| m.contains(needle)),
                "{what}: {needle:?} not in {:#?}",
                report.lot_mismatches
            );
        }
    }
}

/// The schema's last line of defence: a lot whose numbers cannot be, a
/// status or step kind that is none, an earmark of nothing, a second
/// earmark of one hold on one lot, or a change to a lot's history is
/// refused; a lot is never deleted.
#[tokio::test]
async fn the_schema_refuses_lots_that_cannot_be() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.db");
    let _ledger = shop(&path).await;
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conn.execute_batch("PRAGMA foreign_keys = ON").expect("on");
    let l = lot(10);
    for refused in [
        format!("UPDATE lots SET earmarked = 11 WHERE id = {l}"),
        format!("UPDATE lots SET earmarked = -1 WHERE id = {l}"),
        format!("UPDATE lots SET remaining = 11 WHERE id = {l}"),
        format!("UPDATE lots SET status = 'Spent' WHERE id = {l}"),
        format!("UPDATE lots SET status = 'Open' WHERE id = {}", lot(3)),
        format!("UPDATE lots SET status = 'Gone' WHERE id = {}", lot(3)),
        format!(
            "UPDATE lots SET amount = 0, remaining = 0, earmarked = 0, status = 'Spent' WHERE id = {}",
            lot(3)
        ),
        format!("UPDATE lots SET wallet_id = 999 WHERE id = {l}"),
        format!("DELETE FROM lots WHERE id = {}", lot(3)),
        format!(
            "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
             SELECT id, transaction_id, 'Gift', 1, 9 FROM lots WHERE id = {l}"
        ),
        format!(
            "INSERT INTO lot_steps (lot_id, transaction_id, kind, amount, created_at)
             SELECT id, transaction_id, 'Spend', 0, 9 FROM lots WHERE id = {l}"
        ),
        "UPDATE lot_steps SET amount = amount + 1".to_owned(),
        "DELETE FROM lot_steps".to_owned(),
        "INSERT INTO hold_lots (hold_id, lot_id, amount) SELECT hold_id, 999, 1 FROM hold_lots".to_owned(),
        "INSERT INTO hold_lots (hold_id, lot_id, amount) SELECT hold_id, lot_id, 1 FROM hold_lots".to_owned(),
        "UPDATE hold_lots SET amount = 0".to_owned(),
    ] {
        assert!(conn.execute(&refused, []).is_err(), "{refused}");
    }
}

/// The bulk loader preloads Open lots as the ledger forms them (an Issue
/// entry and its lot): `check` holds on the loaded file, and the ledger
/// then shows, spends and expires them in order. A lot of anything but an
/// Issue is refused.
#[tokio::test]
async fn the_bulk_loader_preloads_open_lots_the_ledger_then_spends_and_expires() {
    use wallet_core::model::{EntryKind, Expiring, LotStatus, PageRequest, TransactionStatus};
    use wallet_core::port::{NewEntry, NewTransaction};
    use wallet_sqlite::BulkLoader;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bulk.db");
    let clock = Arc::new(ManualClock::at(1_000));
    let open_ledger = || {
        let backend = SqliteBackend::open(&SqliteOptions::new(&path)).expect("opens");
        Ledger::with_clock(Store::new(Arc::new(backend)), clock.clone())
    };
    let caller = common::authority(&open_ledger(), "ak_bulk").await;
    let Caller::Authority(authority) = &caller else {
        unreachable!("an authority")
    };
    let (authority, asset) = (authority.authority, authority.default_asset);

    let mut loader = BulkLoader::open(&path).expect("opens");
    let wallet = loader
        .chunk(|tx| {
            tx.mark_asset_used(asset)?;
            let wallet = tx.customer_wallet(common::PROJECT, asset, "u0", 1_000)?;
            let mut balance = 0;
            for (amount, expires_at) in [(30, 30_000), (10, 10_000), (20, 20_000)] {
                let operations = format!(
                    r#"[{{"type":"Issue","destination":"{wallet}","amount":{amount},"expiresAt":{expires_at}}}]"#
                );
                let transaction = tx.transaction(&NewTransaction {
                    project_id: common::PROJECT,
                    reference_id: None,
                    authority,
                    status: TransactionStatus::Completed,
                    error: None,
                    description: Some("season points"),
                    operations: Some(&operations),
                    created_at: 1_000,
                })?;
                balance += amount;
                let mut issue = NewEntry {
                    wallet,
                    transaction,
                    authority,
                    kind: EntryKind::Issue,
                    amount,
                    balance_after: balance,
                    reason: None,
                    created_at: 1_000,
                };
                tx.lot(&issue, expires_at)?;
                issue.kind = EntryKind::Redeem;
                assert!(tx.lot(&issue, expires_at).is_err(), "a lot forms from an Issue");
            }
            tx.set_balance(wallet, authority, balance)?;
            Ok(wallet)
        })
        .expect("loads");
    loader.finish().expect("checkpoints");

    let ledger = open_ledger();
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!((report.lots, report.entries), (3, 3));
    let shown = ledger.wallet(&caller, wallet).await.expect("reads");
    assert_eq!(shown.balance, 60);
    assert_eq!(
        shown.expiring,
        [(10_000, 10), (20_000, 20), (30_000, 30)]
            .map(|(expires_at, amount)| Expiring { expires_at, amount })
    );
    let redeem = Operation::Redeem {
        source: wallet,
        amount: q(15),
    };
    post(&ledger, &caller, "spend", vec![redeem]).await;
    clock.set(20_000);
    assert_eq!(ledger.expire_due_lots().await.expect("expires"), 1);
    let lots = ledger
        .wallet_lots(&caller, wallet, None, PageRequest::ALL)
        .await
        .expect("reads");
    assert_eq!(
        lots.items
            .iter()
            .map(|l| (l.remaining, l.status))
            .collect::<Vec<_>>(),
        [
            (0, LotStatus::Spent),
            (0, LotStatus::Expired),
            (30, LotStatus::Open)
        ],
        "10 spent, 5 of 20 then the rest expired"
    );
    assert_eq!(ledger.wallet(&caller, wallet).await.expect("reads").balance, 30);
    let report = ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
}
