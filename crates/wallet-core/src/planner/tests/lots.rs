//! Lots: examples of each rule, then the spending order against a
//! brute-force model over random sequences of transactions on a moving
//! clock.

use super::*;
use crate::ids::LotId;
use crate::model::LotStatus;

fn issue_lot(wallet: i64, amount: i64, expires_at: Millis) -> Operation {
    Operation::Issue {
        destination: w(wallet),
        amount: q(amount),
        expires_at: Some(expires_at),
    }
}

fn lot(id: i64, wallet: i64, remaining: i64, earmarked: i64, expires_at: Millis) -> LotState {
    LotState {
        key: LotKey::Stored(LotId::new(id)),
        wallet: w(wallet),
        amount: remaining,
        remaining,
        earmarked,
        expires_at,
        status: LotStatus::Open,
    }
}

fn lot_of(plan: &Plan, key: LotKey) -> LotState {
    *plan
        .lots
        .iter()
        .find(|l| l.key == key)
        .expect("the plan has the lot")
}

#[test]
fn an_issue_with_an_expiry_forms_a_lot_and_one_in_the_past_fails() {
    let book = Book::new([open(1, 1, 0)]);
    let plan = plan(&book, &[issue_lot(1, 30, 100)], 10).expect("plans");
    assert_eq!(plan.lines.len(), 1);
    assert_eq!(plan.lines[0].amount, 30);
    let formed = lot_of(&plan, LotKey::New(0));
    assert_eq!(
        (formed.amount, formed.remaining, formed.expires_at),
        (30, 30, 100)
    );
    for at in [9, 10] {
        let failure = plan_err(&book, &[issue_lot(1, 30, at)], 10);
        assert_eq!(
            failure.reason,
            FailReason::LotExpiryNotInFuture { expires_at: at }
        );
    }
}

fn plan_err(book: &Book, ops: &[Operation], now: Millis) -> Failure {
    plan(book, ops, now).expect_err("fails")
}

#[test]
fn value_leaves_soonest_expiring_first_then_plain_and_never_from_a_lapsed_lot() {
    // 100 in the wallet: lots of 10 (at 50), 20 (at 30), 5 (at 20, lapsed at
    // now = 20), and 65 plain.
    let mut wallet = open(1, 1, 100);
    wallet.balance = 100;
    let book = Book::new([wallet, open(2, 1, 0)]).with_lots([
        lot(1, 1, 10, 0, 50),
        lot(2, 1, 20, 0, 30),
        lot(3, 1, 5, 0, 20),
    ]);
    let redeem = Operation::Redeem {
        source: w(1),
        amount: q(25),
    };
    let plan = plan(&book, &[redeem], 20).expect("plans");
    let stored = |n| LotKey::Stored(LotId::new(n));
    assert_eq!(
        lot_of(&plan, stored(2)).remaining,
        0,
        "the soonest live lot first"
    );
    assert_eq!(lot_of(&plan, stored(2)).status, LotStatus::Spent);
    assert_eq!(lot_of(&plan, stored(1)).remaining, 5, "then the next");
    assert!(
        plan.lots.iter().all(|l| l.key != stored(3)),
        "never the lapsed one"
    );
    // Of the 95 that may be spent (the lapsed 5 may not), all can go.
    let all = Operation::Redeem {
        source: w(1),
        amount: q(95),
    };
    assert!(super::plan(&book, std::slice::from_ref(&all), 20).is_ok());
    let more = Operation::Redeem {
        source: w(1),
        amount: q(96),
    };
    let failure = plan_err(&book, &[more], 20);
    assert!(matches!(
        failure.reason,
        FailReason::InsufficientFunds { available: 95, .. }
    ));
    // A millisecond earlier the lot at 20 is still live, and spent first.
    let plan = super::plan(&book, &[all], 19).expect("plans");
    assert_eq!(lot_of(&plan, stored(3)).status, LotStatus::Spent);
}

#[test]
fn a_transfer_carries_expiry_and_plain_value_stays_plain() {
    let mut wallet = open(1, 1, 0);
    wallet.balance = 50;
    let book = Book::new([wallet, open(2, 1, 0)]).with_lots([lot(1, 1, 10, 0, 40), lot(2, 1, 10, 0, 40)]);
    let transfer = Operation::Transfer {
        source: w(1),
        destination: w(2),
        amount: q(25),
    };
    let plan = plan(&book, &[transfer], 0).expect("plans");
    let arrived: Vec<&LotState> = plan.lots.iter().filter(|l| l.wallet == w(2)).collect();
    assert_eq!(arrived.len(), 1, "one lot per expiry");
    assert_eq!((arrived[0].amount, arrived[0].expires_at), (20, 40));
    assert_eq!(plan.lines.iter().map(|l| l.amount).collect::<Vec<_>>(), [-25, 25]);
}

#[test]
fn a_hold_earmarks_lot_value_a_capture_moves_it_and_a_void_after_expiry_expires_it() {
    let mut wallet = open(1, 1, 0);
    wallet.balance = 30;
    let book = Book::new([wallet, open(2, 1, 0)]).with_lots([lot(1, 1, 30, 0, 100)]);
    let place = hold_op(1, 20, Some(2), None, "h");
    let planned = plan(&book, std::slice::from_ref(&place), 0).expect("plans");
    let held = &planned.holds[0].state;
    let stored = LotKey::Stored(LotId::new(1));
    assert_eq!(held.earmarks, [(stored, 20)]);
    assert_eq!(lot_of(&planned, stored).earmarked, 20);
    // The book after the hold: 10 free of the lot, 20 earmarked.
    let mut after = open(1, 1, 0);
    after.balance = 30;
    after.held = 20;
    let mut hold = held.clone();
    hold.earmarks = vec![(stored, 20)];
    let book = Book::new([after, open(2, 1, 0)])
        .with_lots([lot(1, 1, 30, 20, 100)])
        .with_holds([hold]);
    // Past the lot's time, the earmarked part is still the hold's: a
    // capture moves it, and it expires at once where it arrives.
    let captured = plan(&book, &[capture("h", Some(5), None)], 100).expect("plans");
    let moved = captured
        .lots
        .iter()
        .find(|l| l.wallet == w(2))
        .expect("a lot arrived");
    assert_eq!(
        (moved.amount, moved.remaining, moved.status),
        (5, 0, LotStatus::Expired)
    );
    let kinds: Vec<(EntryKind, i64)> = captured.lines.iter().map(|l| (l.kind, l.amount)).collect();
    assert_eq!(
        kinds,
        [
            (EntryKind::Capture, -5),
            (EntryKind::Capture, 5),
            (EntryKind::Expire, -5)
        ]
    );
    // A Void past the lot's time gives the part back, and it expires at once.
    let void = Operation::Void { hold: h("h") };
    let voided = plan(&book, &[void], 100).expect("plans");
    let released = lot_of(&voided, stored);
    assert_eq!((released.remaining, released.earmarked), (10, 0));
    assert_eq!(voided.lines.len(), 1);
    assert_eq!(
        (voided.lines[0].kind, voided.lines[0].amount),
        (EntryKind::Expire, -20)
    );
    // The free 10 is the expiry's: only after its time, and only once.
    let expire = Operation::ExpireLot {
        wallet: w(1),
        lot: LotId::new(1),
    };
    let failure = plan_err(&book, std::slice::from_ref(&expire), 99);
    assert_eq!(failure.reason, FailReason::LotNotDue { lot: LotId::new(1) });
    let expired = plan(&book, &[expire], 100).expect("plans");
    let lot_after = lot_of(&expired, stored);
    assert_eq!(
        (lot_after.remaining, lot_after.earmarked, lot_after.status),
        (20, 20, LotStatus::Open)
    );
}

#[test]
fn credit_is_used_only_by_a_wallet_that_keeps_no_lot_value() {
    let mut wallet = open(1, 1, 0);
    wallet.balance = 10;
    wallet.held = 10;
    wallet.credit_limit = 50;
    let mut hold = HoldState::from(&crate::model::Hold {
        id: h("h"),
        source: w(1),
        destination: None,
        asset: AssetId::new(1),
        amount: 10,
        captured: 0,
        remaining: 10,
        status: HoldStatus::Open,
        expires_at: None,
        created_at: 0,
        transaction: crate::ids::TransactionId::new(1),
        updated_at: 0,
    });
    let stored = LotKey::Stored(LotId::new(1));
    hold.earmarks = vec![(stored, 10)];
    let book = Book::new([wallet, open(2, 1, 0)])
        .with_lots([lot(1, 1, 10, 10, 100)])
        .with_holds([hold]);
    // The lot is all earmarked: no credit while it is there.
    let redeem = Operation::Redeem {
        source: w(1),
        amount: q(1),
    };
    let failure = plan_err(&book, &[redeem], 0);
    assert!(matches!(
        failure.reason,
        FailReason::InsufficientFunds { available: 0, .. }
    ));
    // Once the capture took it, the credit is there.
    let ops = [
        capture("h", None, Some(2)),
        Operation::Redeem {
            source: w(1),
            amount: q(50),
        },
    ];
    assert!(plan(&book, &ops, 0).is_ok());
}
