//! Lots: value of a wallet that expires at a time, and the rules the
//! planner applies to them.
//!
//! A wallet's balance is its lots' `remaining` plus its *plain* value (the
//! rest, which never expires). The rules:
//!
//! - **Spending order.** What leaves a wallet (a Redeem, a Transfer's
//!   source) and what a Hold reserves is taken from the wallet's Open lots
//!   by earliest `expires_at` (ties: the lot formed first), then from plain
//!   value. Only a lot's *free* part (`remaining - earmarked`) is taken, and
//!   never from a lot at or past its `expires_at`, recorded or not.
//! - **Value keeps its expiry.** What a Transfer or Capture takes from lots
//!   arrives as lots with the same `expires_at` (one lot per expiry an
//!   operation brings, formed soonest-expiring first); plain value arrives
//!   as plain value.
//! - **Holds.** A Hold earmarks the lot parts it takes; a Capture moves its
//!   earmarked parts first (soonest-expiring first), then takes the rest in
//!   spending order; a Void or the hold's expiry gives the parts back, and a
//!   part whose lot has meanwhile expired expires at once (an `Expire` line
//!   in the same transaction). A Capture of an earmarked part whose lot has
//!   expired moves it, and it expires at once in the destination.
//! - **Expiry.** [`Operation::ExpireLot`](crate::operation::Operation)
//!   (posted by the server) expires a due lot's free part.
//! - **Credit.** The invariant every store keeps — a wallet's Open lots
//!   hold at most `max(balance, 0)` — needs the plain value to stay at or
//!   above what the holds reserve of it while the wallet keeps lot value. So
//!   a wallet's credit limit is used only by an operation after which the
//!   wallet keeps no lot value (a Redeem or Transfer that spends every lot;
//!   a Hold never, if the wallet has lots, since its earmarks stay lot
//!   value), and value with an expiry arriving in a wallet that uses its
//!   credit (below zero, or holds reserving more than its balance, after
//!   the plain value arriving with it) first covers that shortfall, as
//!   plain value. A wallet without a credit limit never meets either case.

use super::{FailReason, HoldState, Step, Work};
use crate::ids::{LotId, WalletId};
use crate::model::{EntryKind, Lot, LotStatus, LotStepKind, Millis};
use crate::operation::Quantity;
use std::collections::BTreeMap;

/// A lot as the planner names it: one the store holds, or the `n`th one
/// this transaction forms. Stored lots order before new ones, and each
/// kind by its formation: the tie order of the spending rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LotKey {
    Stored(LotId),
    New(usize),
}

impl std::fmt::Display for LotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LotKey::Stored(id) => write!(f, "lot {id}"),
            LotKey::New(n) => write!(f, "new lot {n}"),
        }
    }
}

/// What the planner needs of a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotState {
    pub key: LotKey,
    pub wallet: WalletId,
    pub amount: i64,
    pub remaining: i64,
    pub earmarked: i64,
    pub expires_at: Millis,
    pub status: LotStatus,
}

impl LotState {
    /// What may be spent or earmarked of it (before its time).
    pub fn free(&self) -> i64 {
        self.remaining - self.earmarked
    }

    /// From `expires_at` on nothing is spent of it.
    pub fn due(&self, now: Millis) -> bool {
        self.expires_at <= now
    }

    /// Once nothing remains: Spent before its time, Expired at or after it.
    fn settle(&mut self, now: Millis) {
        if self.remaining == 0 && self.status == LotStatus::Open {
            self.status = if self.due(now) {
                LotStatus::Expired
            } else {
                LotStatus::Spent
            };
        }
    }
}

impl From<&Lot> for LotState {
    fn from(lot: &Lot) -> Self {
        Self {
            key: LotKey::Stored(lot.id),
            wallet: lot.wallet,
            amount: lot.amount,
            remaining: lot.remaining,
            earmarked: lot.earmarked,
            expires_at: lot.expires_at,
            status: lot.status,
        }
    }
}

/// What one operation did to a lot after it formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotStepPlan {
    pub operation: usize,
    pub lot: LotKey,
    pub kind: LotStepKind,
    /// Positive (see [`LotStepKind::effect`]).
    pub amount: i64,
}

/// Value on its way between wallets: with the expiry of the lot it came
/// from, or plain (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Part {
    pub expires_at: Option<Millis>,
    pub amount: i64,
}

impl Work<'_> {
    /// The value of the wallet's Open lots.
    pub(super) fn lot_value(&self, wallet: WalletId) -> i128 {
        self.open_lots(wallet).map(|l| i128::from(l.remaining)).sum()
    }

    fn open_lots(&self, wallet: WalletId) -> impl Iterator<Item = &LotState> {
        self.lots
            .values()
            .filter(move |l| l.wallet == wallet && l.status == LotStatus::Open)
    }

    /// The lots value may be taken from, in spending order.
    fn spendable(&self, wallet: WalletId) -> Vec<LotKey> {
        let now = self.now;
        let mut lots: Vec<&LotState> = self
            .open_lots(wallet)
            .filter(|l| l.free() > 0 && !l.due(now))
            .collect();
        lots.sort_by_key(|l| (l.expires_at, l.key));
        lots.into_iter().map(|l| l.key).collect()
    }

    /// Refuses to take `amount` of the wallet when it has less: with lot
    /// value left after the operation (`lots_after`), what it has without
    /// credit and without the free value of lots past their time; without,
    /// its `available` (see the module's note on credit).
    pub(super) fn afford(&self, wallet: WalletId, amount: i64, lots_after: i128) -> Step {
        let state = self.wallet(wallet)?;
        let can = if lots_after > 0 {
            let now = self.now;
            let lapsed: i128 = self
                .open_lots(wallet)
                .filter(|l| l.due(now))
                .map(|l| i128::from(l.free()))
                .sum();
            i128::from(state.balance) - i128::from(state.held) - lapsed
        } else {
            state.available()
        };
        if i128::from(amount) > can {
            return Err(FailReason::InsufficientFunds {
                wallet,
                needed: amount,
                available: i64::try_from(can.max(0)).unwrap_or(i64::MAX),
            });
        }
        Ok(())
    }

    /// Takes `amount` out of the wallet in spending order, writing the line;
    /// returns the parts it took (lot parts with their expiry, then plain).
    pub(super) fn spend(
        &mut self,
        i: usize,
        wallet: WalletId,
        amount: Quantity,
        kind: EntryKind,
    ) -> Result<Vec<Part>, FailReason> {
        let amount = amount.get();
        let free: i128 = self
            .spendable(wallet)
            .iter()
            .filter_map(|key| self.lots.get(key))
            .map(|l| i128::from(l.free()))
            .sum();
        let lots_after = self.lot_value(wallet) - free.min(i128::from(amount));
        self.afford(wallet, amount, lots_after)?;
        let mut parts = self.take_free(i, wallet, amount);
        let taken: i64 = parts.iter().map(|p| p.amount).sum();
        if amount > taken {
            parts.push(Part {
                expires_at: None,
                amount: amount - taken,
            });
        }
        let state = self.wallet_mut(wallet)?;
        // `afford` keeps this at or above the wallet's limit.
        state.balance -= amount;
        let balance_after = state.balance;
        self.line(i, wallet, kind, -amount, balance_after);
        Ok(parts)
    }

    /// Takes up to `amount` of the wallet's spendable lots (a Spend step
    /// each); the balance is the caller's.
    fn take_free(&mut self, i: usize, wallet: WalletId, amount: i64) -> Vec<Part> {
        self.walk_spendable(i, wallet, amount, LotStepKind::Spend)
            .into_iter()
            .map(|(_, expires_at, amount)| Part {
                expires_at: Some(expires_at),
                amount,
            })
            .collect()
    }

    /// Earmarks up to `amount` of the wallet's spendable lots for a new
    /// hold; returns the earmarks.
    pub(super) fn earmark(&mut self, i: usize, wallet: WalletId, amount: i64) -> Vec<(LotKey, i64)> {
        self.walk_spendable(i, wallet, amount, LotStepKind::Earmark)
            .into_iter()
            .map(|(key, _, amount)| (key, amount))
            .collect()
    }

    /// Walks the wallet's spendable lots in spending order, applying a
    /// `kind` step (Spend or Earmark) of up to what is left of `amount` to
    /// each one's free part: the (lot, expiry, amount) of each step.
    fn walk_spendable(
        &mut self,
        i: usize,
        wallet: WalletId,
        amount: i64,
        kind: LotStepKind,
    ) -> Vec<(LotKey, Millis, i64)> {
        let now = self.now;
        let mut steps = Vec::new();
        let mut left = amount;
        for key in self.spendable(wallet) {
            if left == 0 {
                break;
            }
            let Some(lot) = self.lots.get_mut(&key) else {
                continue;
            };
            let x = lot.free().min(left);
            let (remaining, earmarked) = kind.effect(x);
            lot.remaining += remaining;
            lot.earmarked += earmarked;
            lot.settle(now);
            left -= x;
            steps.push((key, lot.expires_at, x));
            self.lot_step(i, key, kind, x);
        }
        steps
    }

    /// The parts a Capture of `amount` takes of its hold's source: the
    /// hold's earmarks first (soonest-expiring first), then spendable lots,
    /// then plain value. The hold's earmarks shrink by what it took; the
    /// source's balance, held value and line are the caller's.
    pub(super) fn take_captured(
        &mut self,
        i: usize,
        hold: &mut HoldState,
        amount: i64,
    ) -> Result<Vec<Part>, FailReason> {
        let mut order = Vec::with_capacity(hold.earmarks.len());
        for (n, (key, _)) in hold.earmarks.iter().enumerate() {
            let lot = self.lots.get(key).ok_or(FailReason::UnknownLot { lot: *key })?;
            order.push((lot.expires_at, *key, n));
        }
        order.sort_unstable();
        let mut parts = Vec::new();
        let mut left = amount;
        for (_, key, n) in order {
            if left == 0 {
                break;
            }
            let now = self.now;
            let part = &mut hold.earmarks[n].1;
            let Some(lot) = self.lots.get_mut(&key) else {
                continue;
            };
            let x = (*part).min(left);
            lot.remaining -= x;
            lot.earmarked -= x;
            lot.settle(now);
            *part -= x;
            left -= x;
            parts.push(Part {
                expires_at: Some(lot.expires_at),
                amount: x,
            });
            self.lot_step(i, key, LotStepKind::Capture, x);
        }
        hold.earmarks.retain(|&(_, part)| part > 0);
        let more = self.take_free(i, hold.source, left);
        left -= more.iter().map(|p| p.amount).sum::<i64>();
        parts.extend(more);
        if left > 0 {
            parts.push(Part {
                expires_at: None,
                amount: left,
            });
        }
        Ok(parts)
    }

    /// Gives a voided or expired hold's earmarks back to their lots; a part
    /// whose lot is past its time expires at once. The held value is the
    /// caller's.
    pub(super) fn release_earmarks(&mut self, i: usize, hold: &mut HoldState) -> Step {
        for (key, x) in std::mem::take(&mut hold.earmarks) {
            let now = self.now;
            let lot = self
                .lots
                .get_mut(&key)
                .ok_or(FailReason::UnknownLot { lot: key })?;
            lot.earmarked -= x;
            let lapsed = lot.due(now);
            if lapsed {
                lot.remaining -= x;
                lot.settle(now);
            }
            self.lot_step(i, key, LotStepKind::Release, x);
            if lapsed {
                self.expire(i, hold.source, key, x)?;
            }
        }
        Ok(())
    }

    /// Adds arriving parts to the wallet (one line of their sum): plain
    /// parts as plain value, each expiry's parts as one new lot, soonest
    /// first — after covering what the wallet's holds reserve beyond its
    /// balance — which expires at once if its time has passed.
    pub(super) fn receive(&mut self, i: usize, wallet: WalletId, parts: &[Part], kind: EntryKind) -> Step {
        let total: i64 = parts.iter().map(|p| p.amount).sum();
        let state = self.wallet_mut(wallet)?;
        let limit = i128::from(state.balance) + i128::from(total) + i128::from(state.credit_limit);
        if limit > i128::from(i64::MAX) {
            return Err(FailReason::BalanceOverflow { wallet });
        }
        // What the holds reserve beyond the balance once the plain parts are
        // in (credit in use): value not yet due covers it before forming lots.
        let plain: i64 = parts
            .iter()
            .filter(|p| p.expires_at.is_none())
            .map(|p| p.amount)
            .sum();
        let mut shortfall = (i128::from(state.held) - i128::from(state.balance) - i128::from(plain)).max(0);
        state.balance += total;
        let balance_after = state.balance;
        self.line(i, wallet, kind, total, balance_after);
        // One lot per expiry, soonest first; value not yet due first covers
        // the shortfall.
        let mut lots: BTreeMap<Millis, i64> = BTreeMap::new();
        for part in parts {
            if let Some(at) = part.expires_at {
                *lots.entry(at).or_insert(0) += part.amount;
            }
        }
        for (&at, x) in &mut lots {
            if at > self.now {
                let cover = shortfall.min(i128::from(*x));
                shortfall -= cover;
                // cover <= x, an i64.
                *x -= i64::try_from(cover).unwrap_or(*x);
            }
        }
        for (expires_at, amount) in lots {
            if amount == 0 {
                continue;
            }
            let key = LotKey::New(self.formed);
            self.formed += 1;
            self.lots.insert(
                key,
                LotState {
                    key,
                    wallet,
                    amount,
                    remaining: amount,
                    earmarked: 0,
                    expires_at,
                    status: LotStatus::Open,
                },
            );
            self.touched_lots.insert(key);
            if expires_at <= self.now {
                let now = self.now;
                if let Some(lot) = self.lots.get_mut(&key) {
                    lot.remaining = 0;
                    lot.settle(now);
                }
                self.expire(i, wallet, key, amount)?;
            }
        }
        Ok(())
    }

    /// The server's expiry of a due lot's free part.
    pub(super) fn expire_lot(&mut self, i: usize, wallet: WalletId, id: LotId) -> Step {
        let key = LotKey::Stored(id);
        let now = self.now;
        let lot = self
            .lots
            .get_mut(&key)
            .filter(|l| l.wallet == wallet)
            .ok_or(FailReason::UnknownLot { lot: key })?;
        let x = lot.free();
        if lot.status != LotStatus::Open || !lot.due(now) || x == 0 {
            return Err(FailReason::LotNotDue { lot: id });
        }
        lot.remaining -= x;
        lot.settle(now);
        self.expire(i, wallet, key, x)
    }

    /// Writes the Expire step of `amount` of a lot (already taken off it)
    /// and the Expire line that takes it off the wallet's balance.
    fn expire(&mut self, i: usize, wallet: WalletId, key: LotKey, amount: i64) -> Step {
        self.lot_step(i, key, LotStepKind::Expire, amount);
        let state = self.wallet_mut(wallet)?;
        state.balance -= amount;
        let balance_after = state.balance;
        self.line(i, wallet, EntryKind::Expire, -amount, balance_after);
        Ok(())
    }

    fn lot_step(&mut self, operation: usize, lot: LotKey, kind: LotStepKind, amount: i64) {
        self.touched_lots.insert(lot);
        self.plan.lot_steps.push(LotStepPlan {
            operation,
            lot,
            kind,
            amount,
        });
    }
}
