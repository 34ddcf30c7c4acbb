//! The planner against examples and against a reference model.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)] // counts and times in tests

use super::*;
use crate::operation::Quantity;
use proptest::prelude::*;

fn w(n: i64) -> WalletId {
    WalletId::new(n)
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).expect("non-negative")
}

fn h(name: &str) -> HoldId {
    HoldId::parse(name).expect("hold id")
}

fn it(name: &str) -> ItemId {
    ItemId::parse(name).expect("item id")
}

fn c(name: &str) -> CustomerId {
    CustomerId::parse(name).expect("customer id")
}

fn open(id: i64, asset: i64, balance: i64) -> WalletState {
    WalletState {
        id: w(id),
        asset: AssetId::new(asset),
        status: WalletStatus::Open,
        owner_status: Some(CustomerStatus::Active),
        balance,
        held: 0,
        credit_limit: 0,
    }
}

fn hold_op(
    source: i64,
    amount: i64,
    destination: Option<i64>,
    expires_at: Option<Millis>,
    id: &str,
) -> Operation {
    Operation::Hold {
        source: w(source),
        amount: q(amount),
        destination: destination.map(w),
        expires_at,
        hold_id: h(id),
    }
}

fn capture(id: &str, amount: Option<i64>, destination: Option<i64>) -> Operation {
    Operation::Capture {
        hold: h(id),
        amount: amount.map(q),
        destination: destination.map(w),
    }
}

#[test]
fn a_transfer_with_a_fee_moves_value_and_conserves_it() {
    let book = Book::new([open(1, 1, 100), open(2, 1, 0), open(3, 1, 0)]);
    let ops = [
        Operation::Transfer {
            source: w(1),
            destination: w(2),
            amount: q(90),
        },
        Operation::Transfer {
            source: w(1),
            destination: w(3),
            amount: q(10),
        },
    ];
    let plan = plan(&book, &ops, 0).expect("plans");
    let after: Vec<(i64, i64)> = plan
        .lines
        .iter()
        .map(|l| (l.wallet.get(), l.balance_after))
        .collect();
    assert_eq!(after, vec![(1, 10), (2, 90), (1, 0), (3, 10)]);
    assert_eq!(
        plan.deltas().values().sum::<i128>(),
        0,
        "a transfer creates nothing"
    );
}

#[test]
fn the_second_operation_sees_what_the_first_left() {
    let book = Book::new([open(1, 1, 10), open(2, 1, 0)]);
    let ops = [
        Operation::Redeem {
            source: w(1),
            amount: q(10),
        },
        Operation::Transfer {
            source: w(1),
            destination: w(2),
            amount: q(1),
        },
    ];
    assert_eq!(
        plan(&book, &ops, 0),
        Err(Failure {
            operation: 1,
            reason: FailReason::InsufficientFunds {
                wallet: w(1),
                needed: 1,
                available: 0
            }
        })
    );
}

#[test]
fn spending_to_exactly_zero_is_allowed_and_a_credit_limit_goes_below() {
    let book = Book::new([open(1, 1, 7)]);
    let ops = [Operation::Redeem {
        source: w(1),
        amount: q(7),
    }];
    assert_eq!(plan(&book, &ops, 0).map(|p| p.lines[0].balance_after), Ok(0));
    let mut tab = open(1, 1, 7);
    tab.credit_limit = 5;
    let book = Book::new([tab]);
    let ops = [Operation::Redeem {
        source: w(1),
        amount: q(12),
    }];
    assert_eq!(plan(&book, &ops, 0).map(|p| p.lines[0].balance_after), Ok(-5));
    let ops = [Operation::Redeem {
        source: w(1),
        amount: q(13),
    }];
    assert!(matches!(
        plan(&book, &ops, 0).map_err(|f| f.reason),
        Err(FailReason::InsufficientFunds {
            needed: 13,
            available: 12,
            ..
        })
    ));
}

#[test]
fn status_asset_and_overflow_failures_name_their_operation() {
    let mut suspended = open(2, 1, 5);
    suspended.status = WalletStatus::Suspended;
    let mut owner_suspended = open(3, 1, 5);
    owner_suspended.owner_status = Some(CustomerStatus::Suspended);
    let book = Book::new([open(1, 1, i64::MAX), suspended, owner_suspended, open(4, 2, 5)]);
    let cases = [
        (
            Operation::Issue {
                destination: w(1),
                amount: q(1),
                expires_at: None,
            },
            FailReason::BalanceOverflow { wallet: w(1) },
        ),
        (
            Operation::Redeem {
                source: w(2),
                amount: q(1),
            },
            FailReason::WalletNotOpen {
                wallet: w(2),
                status: WalletStatus::Suspended,
            },
        ),
        (
            Operation::Issue {
                destination: w(3),
                amount: q(1),
                expires_at: None,
            },
            FailReason::OwnerNotActive {
                wallet: w(3),
                status: CustomerStatus::Suspended,
            },
        ),
        (
            Operation::Transfer {
                source: w(4),
                destination: w(1),
                amount: q(1),
            },
            FailReason::AssetMismatch {
                source: w(4),
                destination: w(1),
            },
        ),
        (
            Operation::Issue {
                destination: w(9),
                amount: q(1),
                expires_at: None,
            },
            FailReason::UnknownWallet { wallet: w(9) },
        ),
    ];
    for (op, reason) in cases {
        let ok = Operation::Redeem {
            source: w(4),
            amount: q(1),
        };
        assert_eq!(
            plan(&book, &[ok, op.clone()], 0),
            Err(Failure { operation: 1, reason }),
            "{op:?}"
        );
    }
}

#[test]
fn a_credit_limit_counts_against_the_largest_balance() {
    // available = balance - held + limit never passes i64::MAX.
    let mut tab = open(1, 1, i64::MAX - 10);
    tab.credit_limit = 10;
    let book = Book::new([tab]);
    let ops = [Operation::Issue {
        destination: w(1),
        amount: q(1),
        expires_at: None,
    }];
    assert_eq!(
        plan(&book, &ops, 0).map_err(|f| f.reason),
        Err(FailReason::BalanceOverflow { wallet: w(1) })
    );
}

#[test]
fn a_zero_issue_writes_a_zero_line() {
    // API v1: an entry of amount 0 that only carries an item.
    let book = Book::new([open(1, 1, 3)]);
    let lines = plan(
        &book,
        &[Operation::Issue {
            destination: w(1),
            amount: q(0),
            expires_at: None,
        }],
        0,
    )
    .expect("plans")
    .lines;
    assert_eq!((lines[0].amount, lines[0].balance_after), (0, 3));
}

#[test]
fn a_hold_reserves_what_is_available_and_a_capture_moves_it() {
    let book = Book::new([open(1, 1, 100), open(2, 1, 0)]);
    let ops = [
        hold_op(1, 60, Some(2), Some(1_000), "escrow"),
        // 40 left available: a Redeem of 41 would fail, 40 does not.
        Operation::Redeem {
            source: w(1),
            amount: q(40),
        },
        capture("escrow", Some(25), None),
        capture("escrow", None, Some(2)),
    ];
    let plan = plan(&book, &ops, 0).expect("plans");
    let holds: Vec<_> = plan
        .holds
        .iter()
        .map(|h| (h.placed, h.state.status, h.state.captured, h.state.remaining))
        .collect();
    assert_eq!(holds, vec![(true, HoldStatus::Captured, 60, 0)]);
    let held: Vec<i64> = plan.reservations.iter().map(|r| r.held_after).collect();
    assert_eq!(held, vec![60, 35, 0]);
    let lines: Vec<(i64, EntryKind, i64, i64)> = plan
        .lines
        .iter()
        .map(|l| (l.wallet.get(), l.kind, l.amount, l.balance_after))
        .collect();
    assert_eq!(
        lines,
        vec![
            (1, EntryKind::Redeem, -40, 60),
            (1, EntryKind::Capture, -25, 35),
            (2, EntryKind::Capture, 25, 25),
            (1, EntryKind::Capture, -35, 0),
            (2, EntryKind::Capture, 35, 60),
        ]
    );
    let too_much = [
        hold_op(1, 60, None, None, "a"),
        Operation::Redeem {
            source: w(1),
            amount: q(41),
        },
    ];
    assert!(matches!(
        super::plan(&book, &too_much, 0).map_err(|f| (f.operation, f.reason)),
        Err((
            1,
            FailReason::InsufficientFunds {
                needed: 41,
                available: 40,
                ..
            }
        ))
    ));
}

#[test]
fn hold_rules_fail_with_their_reasons() {
    let existing = HoldState {
        id: h("old"),
        source: w(1),
        destination: Some(w(2)),
        amount: 10,
        captured: 0,
        remaining: 10,
        status: HoldStatus::Open,
        expires_at: Some(500),
        earmarks: Vec::new(),
    };
    let voided = HoldState {
        id: h("gone"),
        status: HoldStatus::Voided,
        remaining: 0,
        ..existing.clone()
    };
    let mut source = open(1, 1, 100);
    source.held = 10;
    let book =
        Book::new([source, open(2, 1, 0), open(3, 1, 0), open(4, 2, 0)]).with_holds([existing, voided]);
    let cases = [
        (
            capture("nope", None, Some(2)),
            FailReason::UnknownHold { hold: h("nope") },
        ),
        (
            hold_op(1, 1, None, None, "old"),
            FailReason::HoldIdTaken { hold: h("old") },
        ),
        (
            capture("gone", None, None),
            FailReason::WrongHoldStatus {
                hold: h("gone"),
                status: HoldStatus::Voided,
            },
        ),
        (
            capture("old", None, Some(3)),
            FailReason::DestinationMismatch {
                hold: h("old"),
                destination: w(3),
            },
        ),
        (
            capture("old", Some(11), None),
            FailReason::HoldInsufficient {
                hold: h("old"),
                needed: 11,
                remaining: 10,
            },
        ),
        (
            hold_op(1, 5, Some(4), None, "x"),
            FailReason::AssetMismatch {
                source: w(1),
                destination: w(4),
            },
        ),
        (
            hold_op(1, 5, None, Some(100), "x"),
            FailReason::ExpiryNotInFuture { hold: h("x") },
        ),
        (
            hold_op(1, 91, None, None, "x"),
            FailReason::InsufficientFunds {
                wallet: w(1),
                needed: 91,
                available: 90,
            },
        ),
        (
            Operation::ExpireHold { hold: h("old") },
            FailReason::HoldNotDue { hold: h("old") },
        ),
    ];
    for (op, reason) in cases {
        assert_eq!(
            plan(&book, std::slice::from_ref(&op), 100).map_err(|f| f.reason),
            Err(reason),
            "{op:?}"
        );
    }
    let no_destination = Book::new([open(1, 1, 5), open(2, 1, 0)]);
    let ops = [hold_op(1, 5, None, None, "a"), capture("a", None, None)];
    assert_eq!(
        plan(&no_destination, &ops, 0).map_err(|f| f.reason),
        Err(FailReason::NoDestination { hold: h("a") })
    );
}

#[test]
fn from_expires_at_on_a_hold_is_expired_even_before_its_expiry_is_recorded() {
    let open_hold = HoldState {
        id: h("t"),
        source: w(1),
        destination: Some(w(2)),
        amount: 10,
        captured: 0,
        remaining: 10,
        status: HoldStatus::Open,
        expires_at: Some(1_000),
        earmarks: Vec::new(),
    };
    let mut source = open(1, 1, 10);
    source.held = 10;
    let book = Book::new([source, open(2, 1, 0)]).with_holds([open_hold]);
    assert!(
        plan(&book, &[capture("t", None, None)], 999).is_ok(),
        "a millisecond before"
    );
    for now in [1_000, 5_000] {
        assert_eq!(
            plan(&book, &[capture("t", None, None)], now).map_err(|f| f.reason),
            Err(FailReason::WrongHoldStatus {
                hold: h("t"),
                status: HoldStatus::Expired
            }),
            "at {now}"
        );
        assert!(plan(&book, &[Operation::Void { hold: h("t") }], now).is_err());
        let expired = plan(&book, &[Operation::ExpireHold { hold: h("t") }], now).expect("expires");
        assert_eq!(expired.holds[0].state.status, HoldStatus::Expired);
        assert_eq!(expired.reservations[0].held_after, 0);
        assert!(expired.lines.is_empty(), "an expiry writes no entry");
    }
}

#[test]
fn a_suspended_wallet_keeps_its_holds_until_they_expire() {
    let hold = HoldState {
        id: h("t"),
        source: w(1),
        destination: None,
        amount: 4,
        captured: 0,
        remaining: 4,
        status: HoldStatus::Open,
        expires_at: Some(10),
        earmarks: Vec::new(),
    };
    let mut source = open(1, 1, 10);
    source.held = 4;
    source.status = WalletStatus::Suspended;
    let book = Book::new([source]).with_holds([hold]);
    assert!(matches!(
        plan(&book, &[Operation::Void { hold: h("t") }], 0).map_err(|f| f.reason),
        Err(FailReason::WalletNotOpen { .. })
    ));
    assert!(plan(&book, &[Operation::ExpireHold { hold: h("t") }], 10).is_ok());
}

// ---- the reference model ---------------------------------------------------

/// The rules written as plainly as possible, over i128 so nothing wraps.
#[derive(Debug, Clone)]
struct ModelWallet {
    asset: i64,
    usable: bool,
    balance: i128,
    held: i128,
    limit: i128,
}

#[derive(Debug, Clone)]
struct ModelHold {
    source: WalletId,
    destination: Option<WalletId>,
    remaining: i128,
    open: bool,
    expires_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelItem {
    owner: Option<CustomerId>,
    consumed: bool,
    properties: Option<ItemProperties>,
}

type ModelState = (
    BTreeMap<WalletId, ModelWallet>,
    BTreeMap<HoldId, ModelHold>,
    BTreeMap<ItemId, ModelItem>,
);

/// What the model is given besides the operations.
struct ModelBook<'a> {
    wallets: &'a [WalletState],
    holds: &'a [HoldState],
    items: &'a [ItemState],
    customers: &'a BTreeMap<CustomerId, CustomerStatus>,
}

#[allow(clippy::too_many_lines)] // the whole rule book, in one place
fn model(book: &ModelBook<'_>, ops: &[Operation], now: Millis) -> Result<ModelState, (usize, FailCode)> {
    let ModelBook {
        wallets,
        holds,
        items,
        customers,
    } = *book;
    let mut is: BTreeMap<ItemId, ModelItem> = items
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                ModelItem {
                    owner: i.owner.clone(),
                    consumed: i.status == ItemStatus::Consumed,
                    properties: i.properties.clone(),
                },
            )
        })
        .collect();
    let mut ws: BTreeMap<WalletId, ModelWallet> = wallets
        .iter()
        .map(|w| {
            let usable =
                w.status == WalletStatus::Open && w.owner_status.is_none_or(|s| s == CustomerStatus::Active);
            (
                w.id,
                ModelWallet {
                    asset: w.asset.get(),
                    usable,
                    balance: w.balance.into(),
                    held: w.held.into(),
                    limit: w.credit_limit.into(),
                },
            )
        })
        .collect();
    let mut hs: BTreeMap<HoldId, ModelHold> = holds
        .iter()
        .map(|h| {
            (
                h.id.clone(),
                ModelHold {
                    source: h.source,
                    destination: h.destination,
                    remaining: h.remaining.into(),
                    open: h.status == HoldStatus::Open,
                    expires_at: h.expires_at,
                },
            )
        })
        .collect();
    let max = i128::from(i64::MAX);
    for (i, op) in ops.iter().enumerate() {
        let fail = |code| (i, code);
        let usable = |ws: &BTreeMap<WalletId, ModelWallet>, id: &WalletId| match ws.get(id) {
            None => Err(fail(FailCode::ValidationError)),
            Some(w) if !w.usable => Err(fail(FailCode::WrongWalletStatus)),
            Some(_) => Ok(()),
        };
        let available = |w: &ModelWallet| w.balance - w.held + w.limit;
        match op {
            Operation::Issue {
                destination, amount, ..
            } => {
                usable(&ws, destination)?;
                let w = ws.get_mut(destination).ok_or(fail(FailCode::ValidationError))?;
                if w.balance + i128::from(amount.get()) + w.limit > max {
                    return Err(fail(FailCode::ValidationError));
                }
                w.balance += i128::from(amount.get());
            }
            Operation::Redeem { source, amount } => {
                usable(&ws, source)?;
                let w = ws.get_mut(source).ok_or(fail(FailCode::ValidationError))?;
                if i128::from(amount.get()) > available(w) {
                    return Err(fail(FailCode::InsufficientFunds));
                }
                w.balance -= i128::from(amount.get());
            }
            Operation::Transfer {
                source,
                destination,
                amount,
            } => {
                usable(&ws, source)?;
                usable(&ws, destination)?;
                if ws[source].asset != ws[destination].asset {
                    return Err(fail(FailCode::ValidationError));
                }
                let a = i128::from(amount.get());
                if a > available(&ws[source]) {
                    return Err(fail(FailCode::InsufficientFunds));
                }
                let d = &ws[destination];
                if d.balance + a + d.limit > max {
                    return Err(fail(FailCode::ValidationError));
                }
                if let Some(w) = ws.get_mut(source) {
                    w.balance -= a;
                }
                if let Some(w) = ws.get_mut(destination) {
                    w.balance += a;
                }
            }
            Operation::Hold {
                source,
                amount,
                destination,
                expires_at,
                hold_id,
            } => {
                usable(&ws, source)?;
                if let Some(d) = destination {
                    usable(&ws, d)?;
                    if ws[d].asset != ws[source].asset {
                        return Err(fail(FailCode::ValidationError));
                    }
                }
                if expires_at.is_some_and(|at| at <= now) {
                    return Err(fail(FailCode::ValidationError));
                }
                if hs.contains_key(hold_id) {
                    return Err(fail(FailCode::Conflict));
                }
                let a = i128::from(amount.get());
                if a > available(&ws[source]) {
                    return Err(fail(FailCode::InsufficientFunds));
                }
                if let Some(w) = ws.get_mut(source) {
                    w.held += a;
                }
                hs.insert(
                    hold_id.clone(),
                    ModelHold {
                        source: *source,
                        destination: *destination,
                        remaining: a,
                        open: true,
                        expires_at: *expires_at,
                    },
                );
            }
            Operation::Capture {
                hold,
                amount,
                destination,
            } => {
                let h = hs.get(hold).cloned().ok_or(fail(FailCode::ValidationError))?;
                if !h.open || h.expires_at.is_some_and(|at| at <= now) {
                    return Err(fail(FailCode::WrongHoldStatus));
                }
                let dest = match (*destination, h.destination) {
                    (Some(a), Some(f)) if a != f => return Err(fail(FailCode::ValidationError)),
                    (Some(d), _) | (None, Some(d)) => d,
                    (None, None) => return Err(fail(FailCode::ValidationError)),
                };
                if dest == h.source {
                    return Err(fail(FailCode::ValidationError));
                }
                usable(&ws, &h.source)?;
                usable(&ws, &dest)?;
                if ws[&h.source].asset != ws[&dest].asset {
                    return Err(fail(FailCode::ValidationError));
                }
                let a = amount.map_or(h.remaining, |a| i128::from(a.get()));
                if a > h.remaining {
                    return Err(fail(FailCode::InsufficientFunds));
                }
                let d = &ws[&dest];
                if d.balance + a + d.limit > max {
                    return Err(fail(FailCode::ValidationError));
                }
                if let Some(w) = ws.get_mut(&h.source) {
                    w.balance -= a;
                    w.held -= a;
                }
                if let Some(w) = ws.get_mut(&dest) {
                    w.balance += a;
                }
                let stored = hs.get_mut(hold).ok_or(fail(FailCode::ValidationError))?;
                stored.remaining -= a;
                stored.open = stored.remaining > 0;
            }
            Operation::Void { hold } | Operation::ExpireHold { hold } => {
                let expiry = matches!(op, Operation::ExpireHold { .. });
                let h = hs.get(hold).cloned().ok_or(fail(FailCode::ValidationError))?;
                let due = h.expires_at.is_some_and(|at| at <= now);
                if !h.open || due != expiry {
                    return Err(fail(FailCode::WrongHoldStatus));
                }
                if !expiry {
                    usable(&ws, &h.source)?;
                }
                if let Some(w) = ws.get_mut(&h.source) {
                    w.held -= h.remaining;
                }
                let stored = hs.get_mut(hold).ok_or(fail(FailCode::ValidationError))?;
                stored.remaining = 0;
                stored.open = false;
            }
            Operation::GrantItem {
                customer_id,
                properties,
                item_id,
                ..
            } => {
                active(customers, customer_id.as_ref()).map_err(fail)?;
                if is.contains_key(item_id) {
                    return Err(fail(FailCode::Conflict));
                }
                is.insert(
                    item_id.clone(),
                    ModelItem {
                        owner: customer_id.clone(),
                        consumed: false,
                        properties: properties.clone(),
                    },
                );
            }
            Operation::TransferItem { item, from, .. } | Operation::ConsumeItem { item, from } => {
                let current = is.get(item).cloned().ok_or(fail(FailCode::ValidationError))?;
                if current.consumed {
                    return Err(fail(FailCode::WrongItemStatus));
                }
                if from.as_ref().is_some_and(|from| *from != current.owner) {
                    return Err(fail(FailCode::WrongItemOwner));
                }
                active(customers, current.owner.as_ref()).map_err(fail)?;
                let stored = is.get_mut(item).ok_or(fail(FailCode::ValidationError))?;
                if let Operation::TransferItem { to, .. } = op {
                    active(customers, to.as_ref()).map_err(fail)?;
                    stored.owner.clone_from(to);
                } else {
                    stored.consumed = true;
                }
            }
            // This book holds no lots.
            Operation::ExpireLot { .. } => return Err(fail(FailCode::ValidationError)),
            Operation::SetItemProperties { item, properties } => {
                let stored = is.get_mut(item).ok_or(fail(FailCode::ValidationError))?;
                if stored.consumed {
                    return Err(fail(FailCode::WrongItemStatus));
                }
                stored.properties = Some(properties.clone());
            }
        }
    }
    Ok((ws, hs, is))
}

/// An owner items may go to or from: stock, or an Active customer.
fn active(
    customers: &BTreeMap<CustomerId, CustomerStatus>,
    owner: Option<&CustomerId>,
) -> Result<(), FailCode> {
    match owner.map(|id| customers.get(id)) {
        None => Ok(()),
        Some(None) => Err(FailCode::ValidationError),
        Some(Some(CustomerStatus::Active)) => Ok(()),
        Some(Some(_)) => Err(FailCode::WrongCustomerStatus),
    }
}

fn amount() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        4 => (0i64..50).prop_map(q),
        1 => (i64::MAX - 50..=i64::MAX).prop_map(q),
    ]
}

fn wallet_state() -> impl Strategy<Value = (i64, WalletStatus, Option<CustomerStatus>, i64, i64)> {
    let status = prop_oneof![
        8 => Just(WalletStatus::Open),
        1 => Just(WalletStatus::Suspended),
        1 => Just(WalletStatus::Closed),
    ];
    let owner = prop_oneof![
        8 => Just(Some(CustomerStatus::Active)),
        2 => Just(None),
        1 => Just(Some(CustomerStatus::Suspended)),
    ];
    let balance = prop_oneof![4 => 0i64..100, 1 => i64::MAX - 100..=i64::MAX];
    let limit = prop_oneof![3 => Just(0i64), 1 => 1i64..50];
    (1i64..=2, status, owner, balance, limit)
}

/// A hold that exists before the transaction: source and destination
/// wallet indices, remaining, status, expiry.
fn existing_hold() -> impl Strategy<Value = (usize, Option<usize>, i64, HoldStatus, Option<Millis>)> {
    let status = prop_oneof![
        6 => Just(HoldStatus::Open),
        1 => Just(HoldStatus::Captured),
        1 => Just(HoldStatus::Voided),
        1 => Just(HoldStatus::Expired),
    ];
    (
        0usize..4,
        prop::option::of(0usize..4),
        1i64..30,
        status,
        prop::option::of(0i64..20),
    )
}

/// Holds are named from a small set, so operations meet the same holds.
const HOLD_NAMES: [&str; 3] = ["h1", "h2", "h3"];

fn hold_name() -> impl Strategy<Value = HoldId> {
    (0..HOLD_NAMES.len()).prop_map(|i| h(HOLD_NAMES[i]))
}

/// Items and customers are named from small sets too; `c4` is no customer.
const ITEM_NAMES: [&str; 3] = ["i1", "i2", "i3"];
const CUSTOMER_NAMES: [&str; 4] = ["c1", "c2", "c3", "c4"];

fn item_name() -> impl Strategy<Value = ItemId> {
    (0..ITEM_NAMES.len()).prop_map(|i| it(ITEM_NAMES[i]))
}

/// A customer, or stock (`None`).
fn owner() -> impl Strategy<Value = Option<CustomerId>> {
    prop_oneof![
        4 => (0..CUSTOMER_NAMES.len()).prop_map(|i| Some(c(CUSTOMER_NAMES[i]))),
        1 => Just(None),
    ]
}

fn properties() -> impl Strategy<Value = ItemProperties> {
    (0u64..4).prop_map(|n| ItemProperties::parse(&format!("{{\"level\":{n}}}")).expect("json"))
}

fn item_operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        2 => (owner(), prop::option::of(properties()), item_name()).prop_map(|(customer_id, properties, item_id)| {
            Operation::GrantItem { item_type: ItemType::parse("sword").expect("type"), customer_id, properties, item_id }
        }),
        3 => (item_name(), owner(), prop::option::of(owner()))
            .prop_map(|(item, to, from)| Operation::TransferItem { item, to, from }),
        1 => (item_name(), prop::option::of(owner())).prop_map(|(item, from)| Operation::ConsumeItem { item, from }),
        1 => (item_name(), properties()).prop_map(|(item, properties)| Operation::SetItemProperties { item, properties }),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    // Wallet 5 is never in the book: an unknown wallet.
    let wallet = (1i64..=5).prop_map(w);
    let expiry = prop_oneof![2 => Just(None), 1 => (0i64..20).prop_map(Some)];
    prop_oneof![
        3 => (wallet.clone(), amount()).prop_map(|(destination, amount)| Operation::Issue { destination, amount, expires_at: None }),
        3 => (wallet.clone(), amount()).prop_map(|(source, amount)| Operation::Redeem { source, amount }),
        3 => (wallet.clone(), wallet.clone(), amount())
            .prop_filter("two wallets", |(s, d, _)| s != d)
            .prop_map(|(source, destination, amount)| Operation::Transfer {
                source,
                destination,
                amount
            }),
        2 => (wallet.clone(), amount(), prop::option::of(wallet.clone()), expiry, hold_name())
            .prop_filter("another destination", |(s, _, d, _, _)| Some(*s) != *d)
            .prop_map(|(source, amount, destination, expires_at, hold_id)| Operation::Hold {
                source,
                amount,
                destination,
                expires_at,
                hold_id,
            }),
        2 => (hold_name(), prop::option::of(amount()), prop::option::of(wallet))
            .prop_map(|(hold, amount, destination)| Operation::Capture { hold, amount, destination }),
        1 => hold_name().prop_map(|hold| Operation::Void { hold }),
        1 => hold_name().prop_map(|hold| Operation::ExpireHold { hold }),
        4 => item_operation(),
    ]
}

/// An item that exists before the transaction: its owner (an index into
/// the first three customers, or stock), whether it is consumed, and its
/// properties.
fn existing_item() -> impl Strategy<Value = (Option<usize>, bool, Option<u64>)> {
    (
        prop::option::of(0usize..3),
        prop::bool::weighted(0.2),
        prop::option::of(0u64..4),
    )
}

fn customer_status() -> impl Strategy<Value = CustomerStatus> {
    prop_oneof![
        6 => Just(CustomerStatus::Active),
        1 => Just(CustomerStatus::Suspended),
        1 => Just(CustomerStatus::Deleted),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The planner agrees with the model on every random sequence of
    /// transfers, holds, captures, voids and expiries: the same final
    /// balances, held values and holds, or the same failing operation with
    /// the same code. Its lines never break a wallet's limit, each line moves
    /// its wallet by exactly its amount, reservations stay within
    /// `0..=balance + limit`, and a transaction creates only what its
    /// Issues and Redeems say (conservation).
    #[test]
    fn the_planner_agrees_with_the_reference_model(
        states in proptest::collection::vec(wallet_state(), 4),
        existing in proptest::collection::vec(prop::option::of(existing_hold()), HOLD_NAMES.len()),
        ops in proptest::collection::vec(operation(), 1..10),
        now in 0i64..20,
        existing_items in proptest::collection::vec(prop::option::of(existing_item()), ITEM_NAMES.len()),
        statuses in proptest::collection::vec(customer_status(), 3),
    ) {
        // Customers c1-c3 exist (with these statuses); c4 does not.
        let customer_rows: Vec<Customer> = statuses
            .iter()
            .enumerate()
            .map(|(i, &status)| Customer {
                rowid: crate::ids::CustomerRowId::new(i as i64 + 1),
                id: CUSTOMER_NAMES[i].to_owned(),
                name: None,
                description: None,
                status,
                created_at: 0,
            })
            .collect();
        let customers: BTreeMap<CustomerId, CustomerStatus> =
            customer_rows.iter().map(|row| (c(&row.id), row.status)).collect();
        let items: Vec<ItemState> = ITEM_NAMES
            .iter()
            .zip(existing_items)
            .filter_map(|(name, item)| {
                let (owner, consumed, level) = item?;
                Some(ItemState {
                    id: it(name),
                    item_type: ItemType::parse("sword").expect("type"),
                    owner: owner.map(|i| c(CUSTOMER_NAMES[i])),
                    status: if consumed { ItemStatus::Consumed } else { ItemStatus::Active },
                    properties: level.map(|n| ItemProperties::parse(&format!("{{\"level\":{n}}}")).expect("json")),
                })
            })
            .collect();
        let mut wallets: Vec<WalletState> = states
            .iter()
            .enumerate()
            .map(|(i, &(asset, status, owner_status, balance, credit_limit))| WalletState {
                id: w(i as i64 + 1),
                asset: AssetId::new(asset),
                status,
                owner_status,
                // A limited wallet's balance + limit must fit: the store keeps it so.
                balance: balance.min(i64::MAX - credit_limit),
                held: 0,
                credit_limit,
            })
            .collect();
        // Holds that exist before the transaction, with their wallets'
        // held values (and balances) consistent with them.
        let mut holds = Vec::new();
        for (name, hold) in HOLD_NAMES.iter().zip(existing) {
            let Some((source, destination, remaining, status, expires_at)) = hold else { continue };
            let wallet = &mut wallets[source];
            let open = status == HoldStatus::Open;
            if open {
                wallet.held += remaining;
                wallet.balance = wallet.balance.max(wallet.held);
            }
            holds.push(HoldState {
                id: h(name),
                source: wallet.id,
                destination: destination.map(|d: usize| w(d as i64 + 1)).filter(|d| *d != wallet.id),
                amount: remaining + 3,
                captured: 3,
                remaining: if open { remaining } else { 0 },
                status,
                expires_at,
                earmarks: Vec::new(),
            });
        }
        let book = Book::new(wallets.iter().copied())
            .with_holds(holds.iter().cloned())
            .with_items(items.iter().cloned())
            .with_customers(&customer_rows);
        let planned = plan(&book, &ops, now);
        let given = ModelBook { wallets: &wallets, holds: &holds, items: &items, customers: &customers };
        match (model(&given, &ops, now), planned) {
            (Ok((model_wallets, model_holds, model_items)), Ok(plan)) => {
                for planned in &plan.items {
                    let model = &model_items[&planned.state.id];
                    prop_assert_eq!(&planned.state.owner, &model.owner);
                    prop_assert_eq!(planned.state.status == ItemStatus::Consumed, model.consumed);
                    prop_assert_eq!(&planned.state.properties, &model.properties);
                    prop_assert_eq!(planned.granted, book.item(&planned.state.id).is_none());
                    // The steps chain from owner to owner and end at the state.
                    let first = planned.steps.first().expect("an item in a plan has a step");
                    let before = book.item(&planned.state.id).and_then(|i| i.owner.clone());
                    prop_assert_eq!(&first.from, &before);
                    for pair in planned.steps.windows(2) {
                        prop_assert_eq!(&pair[0].to, &pair[1].from);
                    }
                    let last = planned.steps.last().expect("a step");
                    prop_assert_eq!(&last.to, &planned.state.owner);
                    prop_assert_eq!(&last.properties, &planned.state.properties);
                }
                // What the plan does not name is as it was.
                for (id, model) in &model_items {
                    if plan.items.iter().all(|p| &p.state.id != id) {
                        let before = book.item(id).expect("an untouched item existed");
                        prop_assert_eq!(&before.owner, &model.owner);
                    }
                }
                let mut last: BTreeMap<WalletId, (i64, i64)> = wallets.iter().map(|w| (w.id, (w.balance, w.held))).collect();
                for line in &plan.lines {
                    let (before, held) = last[&line.wallet];
                    prop_assert_eq!(i128::from(before) + i128::from(line.amount), i128::from(line.balance_after));
                    let limit = book.wallet(line.wallet).map_or(0, |w| w.credit_limit);
                    prop_assert!(line.balance_after >= -limit);
                    last.insert(line.wallet, (line.balance_after, held));
                }
                for (wallet, model) in &model_wallets {
                    let state = book.wallet(*wallet).copied().expect("in the book");
                    let balance = last[wallet].0;
                    prop_assert_eq!(i128::from(balance), model.balance, "balance of {:?}", wallet);
                    let held = plan
                        .reservations
                        .iter()
                        .rfind(|r| r.wallet == *wallet)
                        .map_or(state.held, |r| r.held_after);
                    prop_assert_eq!(i128::from(held), model.held, "held of {:?}", wallet);
                    prop_assert!(held >= 0 && i128::from(held) <= i128::from(balance) + i128::from(state.credit_limit));
                }
                for hold in &plan.holds {
                    let model = &model_holds[&hold.state.id];
                    prop_assert_eq!(i128::from(hold.state.remaining), model.remaining);
                    prop_assert_eq!(hold.state.status == HoldStatus::Open, model.open);
                }
                let issued: i128 = ops.iter().map(|op| match op {
                    Operation::Issue { amount, .. } => i128::from(amount.get()),
                    Operation::Redeem { amount, .. } => -i128::from(amount.get()),
                    _ => 0,
                }).sum();
                prop_assert_eq!(plan.deltas().values().sum::<i128>(), issued);
            }
            (Err((op, code)), Err(failure)) => {
                prop_assert_eq!(failure.operation, op);
                prop_assert_eq!(failure.reason.code(), code);
            }
            (expected, got) => prop_assert!(false, "model {:?} but planner {:?}", expected.map(|_| ()), got),
        }
    }
}

// ---- items -----------------------------------------------------------------

fn sword(owner: Option<&str>) -> ItemState {
    ItemState {
        id: it("sword"),
        item_type: ItemType::parse("sword").expect("type"),
        owner: owner.map(c),
        status: ItemStatus::Active,
        properties: None,
    }
}

fn customer_row(rowid: i64, id: &str, status: CustomerStatus) -> Customer {
    Customer {
        rowid: crate::ids::CustomerRowId::new(rowid),
        id: id.to_owned(),
        name: None,
        description: None,
        status,
        created_at: 0,
    }
}

/// Alice (wallet 1, 50 gold) buys Bob's sword (Bob's wallet 2) for 100 gold.
fn trade(price: i64, from: &str) -> Vec<Operation> {
    vec![
        Operation::Transfer {
            source: w(1),
            destination: w(2),
            amount: q(price),
        },
        Operation::TransferItem {
            item: it("sword"),
            to: Some(c("alice")),
            from: Some(Some(c(from))),
        },
    ]
}

fn trade_book(owner: &str) -> Book {
    Book::new([open(1, 1, 50), open(2, 1, 0)])
        .with_items([sword(Some(owner))])
        .with_customers(&[
            customer_row(1, "alice", CustomerStatus::Active),
            customer_row(2, "bob", CustomerStatus::Active),
        ])
}

#[test]
fn a_trade_moves_gold_and_the_item_or_nothing() {
    let done = plan(&trade_book("bob"), &trade(40, "bob"), 0).expect("alice can pay");
    assert_eq!(done.lines.len(), 2);
    assert_eq!(done.items[0].state.owner, Some(c("alice")));
    assert_eq!(done.items[0].steps[0].from, Some(c("bob")));

    let poor = plan(&trade_book("bob"), &trade(100, "bob"), 0).expect_err("alice cannot pay");
    assert_eq!(
        (poor.operation, poor.reason.code()),
        (0, FailCode::InsufficientFunds)
    );

    let sold = plan(&trade_book("carol"), &trade(40, "bob"), 0).expect_err("bob no longer owns it");
    assert_eq!(
        (sold.operation, sold.reason.code()),
        (1, FailCode::WrongItemOwner)
    );
}

#[test]
fn an_item_granted_with_an_id_moves_later_in_the_same_transaction() {
    let book = Book::new([]).with_customers(&[customer_row(1, "alice", CustomerStatus::Active)]);
    let ops = [
        Operation::GrantItem {
            item_type: ItemType::parse("ticket").expect("type"),
            customer_id: None,
            properties: Some(ItemProperties::parse(r#"{"seat":"12A"}"#).expect("json")),
            item_id: it("t1"),
        },
        Operation::TransferItem {
            item: it("t1"),
            to: Some(c("alice")),
            from: Some(None),
        },
        Operation::ConsumeItem {
            item: it("t1"),
            from: None,
        },
    ];
    let done = plan(&book, &ops, 0).expect("plans");
    let item = &done.items[0];
    assert!(item.granted);
    assert_eq!(item.state.status, ItemStatus::Consumed);
    let kinds: Vec<ItemStepKind> = item.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            ItemStepKind::GrantItem,
            ItemStepKind::TransferItem,
            ItemStepKind::ConsumeItem
        ]
    );
    let two = [
        Operation::GrantItem {
            item_type: ItemType::parse("ticket").expect("type"),
            customer_id: None,
            properties: None,
            item_id: it("z-first"),
        },
        ops[0].clone(),
    ];
    let planned = plan(&book, &two, 0).expect("plans");
    let ids: Vec<&str> = planned.items.iter().map(|item| item.state.id.as_str()).collect();
    assert_eq!(ids, ["z-first", "t1"], "in operation order, not id order");
    let again = plan(&book, &[ops[0].clone(), ops[2].clone(), ops[2].clone()], 0).expect_err("consumed");
    assert_eq!(
        (again.operation, again.reason.code()),
        (2, FailCode::WrongItemStatus)
    );
}

#[test]
fn items_move_only_between_active_customers() {
    let book = Book::new([]).with_items([sword(Some("bob"))]).with_customers(&[
        customer_row(1, "alice", CustomerStatus::Suspended),
        customer_row(2, "bob", CustomerStatus::Active),
    ]);
    let to_alice = Operation::TransferItem {
        item: it("sword"),
        to: Some(c("alice")),
        from: None,
    };
    let failed = plan(&book, &[to_alice], 0).expect_err("alice is suspended");
    assert_eq!(failed.reason.code(), FailCode::WrongCustomerStatus);
    let to_stock = Operation::TransferItem {
        item: it("sword"),
        to: None,
        from: None,
    };
    assert!(plan(&book, &[to_stock], 0).is_ok(), "stock takes anything");
}

mod lots;
