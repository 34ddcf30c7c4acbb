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

fn open(id: i64, asset: i64, balance: i64) -> WalletState {
    WalletState {
        id: w(id),
        asset: AssetId::new(asset),
        status: WalletStatus::Open,
        owner_status: Some(CustomerStatus::Active),
        balance,
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
fn spending_to_exactly_zero_is_allowed() {
    let book = Book::new([open(1, 1, 7)]);
    let ops = [Operation::Redeem {
        source: w(1),
        amount: q(7),
    }];
    assert_eq!(plan(&book, &ops, 0).map(|p| p.lines[0].balance_after), Ok(0));
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
            plan(&book, &[ok, op], 0),
            Err(Failure { operation: 1, reason }),
            "{op:?}"
        );
    }
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
        }],
        0,
    )
    .expect("plans")
    .lines;
    assert_eq!((lines[0].amount, lines[0].balance_after), (0, 3));
}

// ---- the reference model ---------------------------------------------------

/// The rules written as plainly as possible, over i128 so nothing wraps.
fn model(wallets: &[WalletState], ops: &[Operation]) -> Result<BTreeMap<WalletId, i64>, (usize, FailCode)> {
    let mut balances: BTreeMap<WalletId, i128> =
        wallets.iter().map(|w| (w.id, i128::from(w.balance))).collect();
    let find = |id: WalletId| wallets.iter().find(|w| w.id == id);
    for (i, op) in ops.iter().enumerate() {
        for id in op.wallets() {
            let Some(wallet) = find(id) else {
                return Err((i, FailCode::ValidationError));
            };
            let owner_ok = wallet.owner_status.is_none_or(|s| s == CustomerStatus::Active);
            if wallet.status != WalletStatus::Open || !owner_ok {
                return Err((i, FailCode::WrongWalletStatus));
            }
        }
        let mut change = |id: WalletId, delta: i128| -> Result<(), FailCode> {
            let balance = balances.get_mut(&id).ok_or(FailCode::ValidationError)?;
            let after = *balance + delta;
            if after < 0 {
                return Err(FailCode::InsufficientFunds);
            }
            if after > i128::from(i64::MAX) {
                return Err(FailCode::ValidationError);
            }
            *balance = after;
            Ok(())
        };
        let result = match *op {
            Operation::Issue { destination, amount } => change(destination, amount.get().into()),
            Operation::Redeem { source, amount } => change(source, -i128::from(amount.get())),
            Operation::Transfer {
                source,
                destination,
                amount,
            } => {
                if find(source).map(|w| w.asset) != find(destination).map(|w| w.asset) {
                    Err(FailCode::ValidationError)
                } else {
                    change(source, -i128::from(amount.get()))
                        .and_then(|()| change(destination, amount.get().into()))
                }
            }
        };
        result.map_err(|code| (i, code))?;
    }
    Ok(balances
        .into_iter()
        .map(|(id, b)| (id, i64::try_from(b).unwrap_or(i64::MAX)))
        .collect())
}

fn amount() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        4 => (0i64..50).prop_map(q),
        1 => (i64::MAX - 50..=i64::MAX).prop_map(q),
    ]
}

fn wallet_state() -> impl Strategy<Value = (i64, WalletStatus, Option<CustomerStatus>, i64)> {
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
    (1i64..=2, status, owner, balance)
}

fn operation() -> impl Strategy<Value = Operation> {
    // Wallet 5 is never in the book: an unknown wallet.
    let wallet = (1i64..=5).prop_map(w);
    prop_oneof![
        (wallet.clone(), amount()).prop_map(|(destination, amount)| Operation::Issue { destination, amount }),
        (wallet.clone(), amount()).prop_map(|(source, amount)| Operation::Redeem { source, amount }),
        (wallet.clone(), wallet, amount())
            .prop_filter("two wallets", |(s, d, _)| s != d)
            .prop_map(|(source, destination, amount)| Operation::Transfer {
                source,
                destination,
                amount
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The planner agrees with the model on every random sequence: the same
    /// final balances, or the same failing operation with the same code; it
    /// never goes below zero or past i64, and a transaction's lines move
    /// exactly what its operations say (conservation).
    #[test]
    fn the_planner_agrees_with_the_reference_model(
        states in proptest::collection::vec(wallet_state(), 4),
        ops in proptest::collection::vec(operation(), 1..8),
    ) {
        let wallets: Vec<WalletState> = states
            .iter()
            .enumerate()
            .map(|(i, &(asset, status, owner_status, balance))| WalletState {
                id: w(i as i64 + 1),
                asset: AssetId::new(asset),
                status,
                owner_status,
                balance,
            })
            .collect();
        let book = Book::new(wallets.iter().copied());
        let planned = plan(&book, &ops, 0);
        match (model(&wallets, &ops), planned) {
            (Ok(expected), Ok(plan)) => {
                let mut last: BTreeMap<WalletId, i64> = wallets.iter().map(|w| (w.id, w.balance)).collect();
                for line in &plan.lines {
                    prop_assert!(line.balance_after >= 0);
                    let before = last[&line.wallet];
                    prop_assert_eq!(i128::from(before) + i128::from(line.amount), i128::from(line.balance_after));
                    last.insert(line.wallet, line.balance_after);
                }
                prop_assert_eq!(last, expected);
                let issued: i128 = ops.iter().map(|op| match *op {
                    Operation::Issue { amount, .. } => i128::from(amount.get()),
                    Operation::Redeem { amount, .. } => -i128::from(amount.get()),
                    Operation::Transfer { .. } => 0,
                }).sum();
                prop_assert_eq!(plan.deltas().values().sum::<i128>(), issued);
            }
            (Err((op, code)), Err(failure)) => {
                prop_assert_eq!(failure.operation, op);
                prop_assert_eq!(failure.reason.code(), code);
            }
            (expected, got) => prop_assert!(false, "model {:?} but planner {:?}", expected, got),
        }
    }
}
