//! The planner: the one balance rule of the ledger, as a pure function.
//!
//! Given the state of the wallets a transaction touches, its operations and
//! the time, it decides: a [`Plan`] (the ledger lines to write, every check
//! passed) or a [`Failure`] (which operation failed, and why, as data). It
//! reads no clock and touches no storage, so it is tested on its own
//! against a reference model; both APIs (a v1 entry is one Issue or Redeem)
//! and every backend go through it.

use crate::ids::{AssetId, WalletId};
use crate::model::{CustomerStatus, EntryKind, Millis, Wallet, WalletStatus};
use crate::operation::Operation;
use std::collections::BTreeMap;

/// What the planner needs of a wallet, read (and, where funds are checked,
/// locked) inside the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalletState {
    pub id: WalletId,
    pub asset: AssetId,
    pub status: WalletStatus,
    /// The owner's status; `None` for a system wallet.
    pub owner_status: Option<CustomerStatus>,
    pub balance: i64,
}

impl From<&Wallet> for WalletState {
    fn from(w: &Wallet) -> Self {
        Self {
            id: w.id,
            asset: w.asset_id,
            status: w.status,
            owner_status: w.owner.as_ref().map(|o| o.status),
            balance: w.balance,
        }
    }
}

/// The wallets a transaction may touch, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    wallets: BTreeMap<WalletId, WalletState>,
}

impl Book {
    pub fn new(wallets: impl IntoIterator<Item = WalletState>) -> Self {
        Self {
            wallets: wallets.into_iter().map(|w| (w.id, w)).collect(),
        }
    }

    pub fn wallet(&self, id: WalletId) -> Option<&WalletState> {
        self.wallets.get(&id)
    }
}

/// One ledger line to write: an entry in one wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The index of the operation that made it.
    pub operation: usize,
    pub wallet: WalletId,
    pub kind: EntryKind,
    /// Signed: positive into the wallet.
    pub amount: i64,
    /// The balance the planner expects after this line.
    pub balance_after: i64,
}

/// A transaction that passed every check: its lines, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<Line>,
}

impl Plan {
    /// The net change per wallet.
    pub fn deltas(&self) -> BTreeMap<WalletId, i128> {
        let mut deltas = BTreeMap::new();
        for line in &self.lines {
            *deltas.entry(line.wallet).or_insert(0) += i128::from(line.amount);
        }
        deltas
    }
}

/// Why a transaction fails. Data, not text: the API edge words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// An operation names a wallet the book does not hold.
    UnknownWallet { wallet: WalletId },
    /// The wallet is Suspended or Closed.
    WalletNotOpen { wallet: WalletId, status: WalletStatus },
    /// The wallet's owner is Suspended or Deleted.
    OwnerNotActive {
        wallet: WalletId,
        status: CustomerStatus,
    },
    /// A transfer between wallets of different assets.
    AssetMismatch { source: WalletId, destination: WalletId },
    /// The wallet holds less than the operation takes.
    InsufficientFunds {
        wallet: WalletId,
        needed: i64,
        available: i64,
    },
    /// The wallet's balance would pass the largest amount.
    BalanceOverflow { wallet: WalletId },
}

/// The error status a failed transaction is recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailCode {
    WrongWalletStatus,
    InsufficientFunds,
    ValidationError,
}

impl FailCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailCode::WrongWalletStatus => "WRONG_WALLET_STATUS",
            FailCode::InsufficientFunds => "INSUFFICIENT_FUNDS",
            FailCode::ValidationError => "VALIDATION_ERROR",
        }
    }
}

impl FailReason {
    pub fn code(&self) -> FailCode {
        match self {
            FailReason::WalletNotOpen { .. } | FailReason::OwnerNotActive { .. } => {
                FailCode::WrongWalletStatus
            }
            FailReason::InsufficientFunds { .. } => FailCode::InsufficientFunds,
            FailReason::UnknownWallet { .. }
            | FailReason::AssetMismatch { .. }
            | FailReason::BalanceOverflow { .. } => FailCode::ValidationError,
        }
    }
}

/// A transaction that fails: the first operation that could not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub operation: usize,
    pub reason: FailReason,
}

/// Plans `operations` in order on `book`. Every operation is checked against
/// the state the earlier ones left: statuses, assets, funds (a balance never
/// goes below zero) and overflow (a balance never passes `i64::MAX`).
///
/// `now` is the transaction's time; no rule of today's operations depends on
/// it, and expiring holds and lots will.
pub fn plan(book: &Book, operations: &[Operation], now: Millis) -> Result<Plan, Failure> {
    let _ = now;
    let mut balances: BTreeMap<WalletId, i64> = BTreeMap::new();
    let mut lines = Vec::with_capacity(operations.len() * 2);
    for (i, op) in operations.iter().enumerate() {
        let fail = |reason| Failure { operation: i, reason };
        for id in op.wallets() {
            usable(book, id).map_err(fail)?;
        }
        let mut step = |wallet: WalletId, amount: i64, kind: EntryKind| -> Result<(), Failure> {
            let state = book
                .wallet(wallet)
                .ok_or(fail(FailReason::UnknownWallet { wallet }))?;
            let balance = balances.get(&wallet).copied().unwrap_or(state.balance);
            let after = if amount < 0 {
                let needed = amount.unsigned_abs();
                match balance.checked_add(amount).filter(|after| *after >= 0) {
                    Some(after) => after,
                    None => {
                        return Err(fail(FailReason::InsufficientFunds {
                            wallet,
                            needed: i64::try_from(needed).unwrap_or(i64::MAX),
                            available: balance,
                        }))
                    }
                }
            } else {
                balance
                    .checked_add(amount)
                    .ok_or(fail(FailReason::BalanceOverflow { wallet }))?
            };
            balances.insert(wallet, after);
            lines.push(Line {
                operation: i,
                wallet,
                kind,
                amount,
                balance_after: after,
            });
            Ok(())
        };
        match *op {
            Operation::Issue { destination, amount } => step(destination, amount.get(), EntryKind::Issue)?,
            Operation::Redeem { source, amount } => step(source, -amount.get(), EntryKind::Redeem)?,
            Operation::Transfer {
                source,
                destination,
                amount,
            } => {
                let asset = |id| book.wallet(id).map(|w| w.asset);
                if asset(source) != asset(destination) {
                    return Err(fail(FailReason::AssetMismatch { source, destination }));
                }
                step(source, -amount.get(), EntryKind::Transfer)?;
                step(destination, amount.get(), EntryKind::Transfer)?;
            }
        }
    }
    Ok(Plan { lines })
}

/// Only Open wallets of Active customers (or system wallets) take part.
fn usable(book: &Book, id: WalletId) -> Result<(), FailReason> {
    let wallet = book.wallet(id).ok_or(FailReason::UnknownWallet { wallet: id })?;
    if wallet.status != WalletStatus::Open {
        return Err(FailReason::WalletNotOpen {
            wallet: id,
            status: wallet.status,
        });
    }
    match wallet.owner_status {
        Some(status) if status != CustomerStatus::Active => {
            Err(FailReason::OwnerNotActive { wallet: id, status })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
