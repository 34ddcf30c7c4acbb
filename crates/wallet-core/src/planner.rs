//! The planner: the one balance rule of the ledger, as a pure function.
//!
//! Given the state of the wallets and holds a transaction touches, its
//! operations and the time, it decides: a [`Plan`] (the ledger lines to
//! write, the holds placed or changed, every check passed) or a [`Failure`]
//! (which operation failed, and why, as data). It reads no clock and touches
//! no storage, so it is tested on its own against a reference model; both
//! APIs (a v1 entry is one Issue or Redeem) and every backend go through it.
//!
//! The rules, per wallet: `balance >= -credit_limit` and
//! `balance - held >= -credit_limit` always, and `available = balance -
//! held + credit_limit` never passes `i64::MAX` (so `balance + credit_limit`
//! fits in an `i64` and every backend's arithmetic is exact). What leaves a
//! wallet (Redeem, the source of a Transfer, a new Hold) may take at most its
//! available value. A hold is captured or released at most once in full,
//! and from its `expires_at` on it is Expired, recorded or not.
//!
//! Lots: value with an expiry is kept as lots of its wallet (see
//! [`lots`](self::lots) for the rules: spending order, earmarks, expiry, and
//! why credit is only used by a wallet that keeps no lot value).
//!
//! Items: every item has one owner (a customer, or the project's stock);
//! only an Active item moves, changes or is consumed, only between Active
//! customers (or stock), and a Consumed item never changes again.

use crate::ids::CustomerRowId;
use crate::ids::{AssetId, WalletId};
use crate::model::{
    Customer, CustomerStatus, Earmark, EntryKind, HoldStatus, Item, ItemStatus, ItemStepKind, Millis, Wallet,
    WalletStatus,
};
use crate::operation::{Operation, Quantity};
use crate::text::{CustomerId, HoldId, ItemId, ItemProperties, ItemType};
use std::collections::{BTreeMap, BTreeSet};

mod lots;

pub use lots::{LotKey, LotState, LotStepPlan};

/// What the planner needs of a wallet, read (and locked) inside the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalletState {
    pub id: WalletId,
    pub asset: AssetId,
    pub status: WalletStatus,
    /// The owner's status; `None` for a system wallet.
    pub owner_status: Option<CustomerStatus>,
    pub balance: i64,
    pub held: i64,
    pub credit_limit: i64,
}

impl WalletState {
    /// `balance - held + credit_limit`, exactly.
    pub fn available(&self) -> i128 {
        i128::from(self.balance) - i128::from(self.held) + i128::from(self.credit_limit)
    }
}

impl From<&Wallet> for WalletState {
    fn from(w: &Wallet) -> Self {
        Self {
            id: w.id,
            asset: w.asset_id,
            status: w.status,
            owner_status: w.owner.as_ref().map(|o| o.status),
            balance: w.balance,
            held: w.held,
            credit_limit: w.credit_limit,
        }
    }
}

/// What the planner needs of a hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldState {
    pub id: HoldId,
    pub source: WalletId,
    pub destination: Option<WalletId>,
    pub amount: i64,
    pub captured: i64,
    pub remaining: i64,
    pub status: HoldStatus,
    pub expires_at: Option<Millis>,
    /// The parts of lots it reserves (of its source), each > 0, summing to at
    /// most `remaining`; the rest of `remaining` is plain balance.
    pub earmarks: Vec<(LotKey, i64)>,
}

impl HoldState {
    /// The status as of `now`: an Open hold is Expired from its `expires_at`
    /// on, whether or not its expiry has been recorded yet.
    pub fn status_at(&self, now: Millis) -> HoldStatus {
        match (self.status, self.expires_at) {
            (HoldStatus::Open, Some(at)) if at <= now => HoldStatus::Expired,
            (status, _) => status,
        }
    }
}

impl From<&crate::model::Hold> for HoldState {
    fn from(h: &crate::model::Hold) -> Self {
        Self {
            id: h.id.clone(),
            source: h.source,
            destination: h.destination,
            amount: h.amount,
            captured: h.captured,
            remaining: h.remaining,
            status: h.status,
            expires_at: h.expires_at,
            earmarks: Vec::new(),
        }
    }
}

/// What the planner needs of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    pub id: ItemId,
    pub item_type: ItemType,
    /// `None`: the project's stock.
    pub owner: Option<CustomerId>,
    pub status: ItemStatus,
    pub properties: Option<ItemProperties>,
}

impl From<&Item> for ItemState {
    fn from(item: &Item) -> Self {
        Self {
            id: item.id.clone(),
            item_type: item.item_type.clone(),
            owner: item.owner.as_ref().map(|o| o.id.clone()),
            status: item.status,
            properties: item.properties.clone(),
        }
    }
}

/// What the planner needs of a customer an item moves to or from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerState {
    pub rowid: CustomerRowId,
    pub status: CustomerStatus,
}

/// The wallets, holds, items and customers a transaction may touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Book {
    wallets: BTreeMap<WalletId, WalletState>,
    holds: BTreeMap<HoldId, HoldState>,
    items: BTreeMap<ItemId, ItemState>,
    customers: BTreeMap<CustomerId, CustomerState>,
    lots: BTreeMap<LotKey, LotState>,
}

impl Book {
    pub fn new(wallets: impl IntoIterator<Item = WalletState>) -> Self {
        Self {
            wallets: wallets.into_iter().map(|w| (w.id, w)).collect(),
            ..Self::default()
        }
    }

    /// Adds the items the transaction names (found in the store): those it
    /// moves, changes or consumes, and any whose id a GrantItem would take.
    pub fn with_items(mut self, items: impl IntoIterator<Item = ItemState>) -> Self {
        self.items.extend(items.into_iter().map(|i| (i.id.clone(), i)));
        self
    }

    /// Adds the customers the transaction names and those that own its
    /// items.
    pub fn with_customers(mut self, customers: &[Customer]) -> Self {
        for c in customers {
            // Ids read from the store were valid when they were written.
            if let Ok(id) = CustomerId::parse(&c.id) {
                self.customers.insert(
                    id,
                    CustomerState {
                        rowid: c.rowid,
                        status: c.status,
                    },
                );
            }
        }
        self
    }

    pub fn item(&self, id: &ItemId) -> Option<&ItemState> {
        self.items.get(id)
    }

    pub fn customer(&self, id: &CustomerId) -> Option<&CustomerState> {
        self.customers.get(id)
    }

    /// Adds the holds the transaction names (found in the store): those it
    /// captures or voids, and any whose id a new Hold would take.
    pub fn with_holds(mut self, holds: impl IntoIterator<Item = HoldState>) -> Self {
        self.holds.extend(holds.into_iter().map(|h| (h.id.clone(), h)));
        self
    }

    /// Adds the Open lots of the wallets value may leave: every wallet an
    /// operation spends from or places a hold on, and the source of every
    /// hold it captures, voids or expires. (A wallet value only arrives in
    /// needs none: arriving value forms new lots.)
    pub fn with_lots(mut self, lots: impl IntoIterator<Item = LotState>) -> Self {
        self.lots.extend(lots.into_iter().map(|l| (l.key, l)));
        self
    }

    /// Adds what the holds already reserve of lots (read with the holds).
    pub fn with_earmarks(mut self, earmarks: impl IntoIterator<Item = (HoldId, Earmark)>) -> Self {
        for (hold, earmark) in earmarks {
            if let Some(state) = self.holds.get_mut(&hold) {
                state.earmarks.push((LotKey::Stored(earmark.lot), earmark.amount));
            }
        }
        self
    }

    pub fn wallet(&self, id: WalletId) -> Option<&WalletState> {
        self.wallets.get(&id)
    }

    pub fn hold(&self, id: &HoldId) -> Option<&HoldState> {
        self.holds.get(id)
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

/// A change of a wallet's reserved value, in operation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub operation: usize,
    pub wallet: WalletId,
    /// Positive: reserved (a Hold); negative: released (a Capture, Void or
    /// expiry).
    pub amount: i64,
    pub held_after: i64,
}

/// What one operation did to a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStep {
    Placed,
    Captured { amount: i64, destination: WalletId },
    Voided,
    Expired,
}

/// A hold the transaction placed or changed: its state after the
/// transaction, and what each operation did to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldPlan {
    /// Placed by this transaction (else it existed before).
    pub placed: bool,
    /// Its earmarks differ from what they were (to be written).
    pub earmarks_changed: bool,
    pub state: HoldState,
    pub steps: Vec<(usize, HoldStep)>,
}

/// What one operation did to an item: a step of its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemStepPlan {
    pub operation: usize,
    pub kind: ItemStepKind,
    /// The owner before (`None`: stock, or nothing before a grant).
    pub from: Option<CustomerId>,
    /// The owner after (`None`: stock).
    pub to: Option<CustomerId>,
    /// The properties after.
    pub properties: Option<ItemProperties>,
}

/// An item the transaction granted or changed: its state after the
/// transaction, and the steps that led there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPlan {
    /// Granted by this transaction (else it existed before).
    pub granted: bool,
    pub state: ItemState,
    pub steps: Vec<ItemStepPlan>,
}

/// A transaction that passed every check, to be written in this order:
/// reservations and lines as they come, holds at their final state, then
/// the lots (formed ones inserted in key order, changed ones updated, at
/// their final state), the lots' steps, the holds' earmarks, and items at
/// their final state with each item's steps in operation order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<Line>,
    pub reservations: Vec<Reservation>,
    pub holds: Vec<HoldPlan>,
    pub items: Vec<ItemPlan>,
    /// The lots the transaction formed (`LotKey::New`, in the order they
    /// formed) or changed (`LotKey::Stored`), at their state after it;
    /// stored ones first.
    pub lots: Vec<LotState>,
    /// What each operation did to lots, in operation order.
    pub lot_steps: Vec<LotStepPlan>,
}

impl Plan {
    /// The net change of each wallet's balance.
    pub fn deltas(&self) -> BTreeMap<WalletId, i128> {
        let mut deltas = BTreeMap::new();
        for line in &self.lines {
            *deltas.entry(line.wallet).or_insert(0) += i128::from(line.amount);
        }
        deltas
    }
}

/// Why a transaction fails. Data, not text: the API edge words it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Value between wallets of different assets.
    AssetMismatch { source: WalletId, destination: WalletId },
    /// The wallet has less available than the operation takes.
    InsufficientFunds {
        wallet: WalletId,
        needed: i64,
        available: i64,
    },
    /// The wallet's available value would pass the largest amount.
    BalanceOverflow { wallet: WalletId },
    /// A Capture or Void names a hold the book does not hold.
    UnknownHold { hold: HoldId },
    /// A new Hold's id is taken in the project.
    HoldIdTaken { hold: HoldId },
    /// The hold is not Open (or its time ran out).
    WrongHoldStatus { hold: HoldId, status: HoldStatus },
    /// An expiry posted for a hold whose time has not come.
    HoldNotDue { hold: HoldId },
    /// A Capture of more than the hold still reserves.
    HoldInsufficient {
        hold: HoldId,
        needed: i64,
        remaining: i64,
    },
    /// A Capture names no destination and its hold has none.
    NoDestination { hold: HoldId },
    /// A Capture names another destination than the one its hold fixed.
    DestinationMismatch { hold: HoldId, destination: WalletId },
    /// A Capture into the hold's own source.
    CaptureIntoSource { hold: HoldId },
    /// A Hold set to expire at or before the transaction's time.
    ExpiryNotInFuture { hold: HoldId },
    /// An Issue whose lot would expire at or before the transaction's time.
    LotExpiryNotInFuture { expires_at: Millis },
    /// A lot that is not in the book (or not of the wallet named).
    UnknownLot { lot: LotKey },
    /// An expiry posted for a lot whose time has not come, or that has
    /// nothing left to expire (spent, or all earmarked by Open holds).
    LotNotDue { lot: crate::ids::LotId },
    /// An item operation names an item the book does not hold.
    UnknownItem { item: ItemId },
    /// A GrantItem's id is taken in the project.
    ItemIdTaken { item: ItemId },
    /// The item is Consumed.
    WrongItemStatus { item: ItemId, status: ItemStatus },
    /// `from` is not the item's owner.
    WrongItemOwner { item: ItemId, owner: Option<CustomerId> },
    /// An operation names a customer the book does not hold.
    UnknownCustomer { customer: CustomerId },
    /// An item would move to or from a Suspended or Deleted customer.
    CustomerNotActive {
        customer: CustomerId,
        status: CustomerStatus,
    },
}

/// The error status a failed transaction is recorded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailCode {
    WrongWalletStatus,
    InsufficientFunds,
    ValidationError,
    WrongHoldStatus,
    Conflict,
    WrongItemStatus,
    WrongItemOwner,
    WrongCustomerStatus,
}

impl FailCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailCode::WrongWalletStatus => "WRONG_WALLET_STATUS",
            FailCode::InsufficientFunds => "INSUFFICIENT_FUNDS",
            FailCode::ValidationError => "VALIDATION_ERROR",
            FailCode::WrongHoldStatus => "WRONG_HOLD_STATUS",
            FailCode::Conflict => "CONFLICT",
            FailCode::WrongItemStatus => "WRONG_ITEM_STATUS",
            FailCode::WrongItemOwner => "WRONG_ITEM_OWNER",
            FailCode::WrongCustomerStatus => "WRONG_CUSTOMER_STATUS",
        }
    }
}

impl FailReason {
    pub fn code(&self) -> FailCode {
        match self {
            FailReason::WalletNotOpen { .. } | FailReason::OwnerNotActive { .. } => {
                FailCode::WrongWalletStatus
            }
            FailReason::InsufficientFunds { .. } | FailReason::HoldInsufficient { .. } => {
                FailCode::InsufficientFunds
            }
            FailReason::WrongHoldStatus { .. } | FailReason::HoldNotDue { .. } => FailCode::WrongHoldStatus,
            FailReason::HoldIdTaken { .. } | FailReason::ItemIdTaken { .. } => FailCode::Conflict,
            FailReason::WrongItemStatus { .. } => FailCode::WrongItemStatus,
            FailReason::WrongItemOwner { .. } => FailCode::WrongItemOwner,
            FailReason::CustomerNotActive { .. } => FailCode::WrongCustomerStatus,
            FailReason::UnknownItem { .. }
            | FailReason::UnknownCustomer { .. }
            | FailReason::UnknownWallet { .. }
            | FailReason::AssetMismatch { .. }
            | FailReason::BalanceOverflow { .. }
            | FailReason::UnknownHold { .. }
            | FailReason::NoDestination { .. }
            | FailReason::DestinationMismatch { .. }
            | FailReason::CaptureIntoSource { .. }
            | FailReason::ExpiryNotInFuture { .. }
            | FailReason::LotExpiryNotInFuture { .. }
            | FailReason::UnknownLot { .. }
            | FailReason::LotNotDue { .. } => FailCode::ValidationError,
        }
    }
}

/// A transaction that fails: the first operation that could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub operation: usize,
    pub reason: FailReason,
}

/// Plans `operations` in order on `book` at time `now`. Every operation is
/// checked against the state the earlier ones left.
pub fn plan(book: &Book, operations: &[Operation], now: Millis) -> Result<Plan, Failure> {
    let mut work = Work {
        book,
        wallets: book.wallets.clone(),
        holds: BTreeMap::new(),
        items: BTreeMap::new(),
        lots: book.lots.clone(),
        formed: 0,
        touched_lots: BTreeSet::new(),
        plan: Plan::default(),
        now,
    };
    for (i, op) in operations.iter().enumerate() {
        work.apply(i, op)
            .map_err(|reason| Failure { operation: i, reason })?;
    }
    let mut plan = work.plan;
    plan.holds = work.holds.into_values().collect();
    for hold in &mut plan.holds {
        let before = book.hold(&hold.state.id).map_or(&[][..], |h| &h.earmarks[..]);
        hold.earmarks_changed = hold.state.earmarks != before;
    }
    plan.items = work.items.into_values().collect();
    // In the order the operations first touched them: items granted by one
    // transaction are created (and listed, oldest first) in operation order.
    plan.items
        .sort_by_key(|item| item.steps.first().map_or(usize::MAX, |step| step.operation));
    plan.lots = work
        .touched_lots
        .iter()
        .filter_map(|key| work.lots.get(key).copied())
        .collect();
    Ok(plan)
}

/// The state as the operations so far left it.
struct Work<'b> {
    book: &'b Book,
    wallets: BTreeMap<WalletId, WalletState>,
    /// Holds this transaction touched, by id.
    holds: BTreeMap<HoldId, HoldPlan>,
    /// Items this transaction touched, by id.
    items: BTreeMap<ItemId, ItemPlan>,
    /// Every lot as the operations so far left it: the book's, and those
    /// formed since (`LotKey::New(0..formed)`).
    lots: BTreeMap<LotKey, LotState>,
    formed: usize,
    touched_lots: BTreeSet<LotKey>,
    plan: Plan,
    now: Millis,
}

type Step = Result<(), FailReason>;

impl Work<'_> {
    fn apply(&mut self, i: usize, op: &Operation) -> Step {
        match op {
            Operation::Issue {
                destination,
                amount,
                expires_at,
            } => {
                self.usable(*destination)?;
                if let Some(at) = *expires_at {
                    if at <= self.now {
                        return Err(FailReason::LotExpiryNotInFuture { expires_at: at });
                    }
                }
                let parts = [lots::Part {
                    expires_at: *expires_at,
                    amount: amount.get(),
                }];
                self.receive(i, *destination, &parts, EntryKind::Issue)
            }
            Operation::Redeem { source, amount } => {
                self.usable(*source)?;
                self.spend(i, *source, *amount, EntryKind::Redeem).map(drop)
            }
            Operation::Transfer {
                source,
                destination,
                amount,
            } => {
                self.usable(*source)?;
                self.usable(*destination)?;
                self.same_asset(*source, *destination)?;
                let parts = self.spend(i, *source, *amount, EntryKind::Transfer)?;
                self.receive(i, *destination, &parts, EntryKind::Transfer)
            }
            Operation::Hold {
                source,
                amount,
                destination,
                expires_at,
                hold_id,
            } => self.place(i, *source, *amount, *destination, *expires_at, hold_id),
            Operation::Capture {
                hold,
                amount,
                destination,
            } => self.capture(i, hold, *amount, *destination),
            Operation::Void { hold } => self.release(i, hold, false),
            Operation::ExpireHold { hold } => self.release(i, hold, true),
            Operation::ExpireLot { wallet, lot } => self.expire_lot(i, *wallet, *lot),
            Operation::GrantItem {
                item_type,
                customer_id,
                properties,
                item_id,
            } => self.grant(i, item_id, item_type, customer_id.as_ref(), properties.as_ref()),
            Operation::TransferItem { item, to, from } => {
                let mut state = self.movable(item, from.as_ref())?;
                self.active_owner(to.as_ref())?;
                let before = std::mem::replace(&mut state.owner, to.clone());
                self.step(i, state, ItemStepKind::TransferItem, before);
                Ok(())
            }
            Operation::ConsumeItem { item, from } => {
                let mut state = self.movable(item, from.as_ref())?;
                state.status = ItemStatus::Consumed;
                let before = state.owner.clone();
                self.step(i, state, ItemStepKind::ConsumeItem, before);
                Ok(())
            }
            Operation::SetItemProperties { item, properties } => {
                let mut state = self.item(item)?;
                active_item(&state)?;
                state.properties = Some(properties.clone());
                let before = state.owner.clone();
                self.step(i, state, ItemStepKind::SetItemProperties, before);
                Ok(())
            }
        }
    }

    /// The item as this transaction left it so far, or as the book holds it.
    fn item(&self, id: &ItemId) -> Result<ItemState, FailReason> {
        if let Some(plan) = self.items.get(id) {
            return Ok(plan.state.clone());
        }
        self.book
            .item(id)
            .cloned()
            .ok_or_else(|| FailReason::UnknownItem { item: id.clone() })
    }

    /// An item that may move or be consumed: Active, owned by `from` if the
    /// operation names one, and its owner Active (or stock).
    fn movable(&self, id: &ItemId, from: Option<&Option<CustomerId>>) -> Result<ItemState, FailReason> {
        let state = self.item(id)?;
        active_item(&state)?;
        if let Some(from) = from {
            if *from != state.owner {
                return Err(FailReason::WrongItemOwner {
                    item: id.clone(),
                    owner: state.owner,
                });
            }
        }
        self.active_owner(state.owner.as_ref())?;
        Ok(state)
    }

    /// An owner items may move to or from: an Active customer, or stock.
    fn active_owner(&self, owner: Option<&CustomerId>) -> Step {
        let Some(id) = owner else { return Ok(()) };
        let customer = self
            .book
            .customer(id)
            .ok_or_else(|| FailReason::UnknownCustomer { customer: id.clone() })?;
        if customer.status != CustomerStatus::Active {
            return Err(FailReason::CustomerNotActive {
                customer: id.clone(),
                status: customer.status,
            });
        }
        Ok(())
    }

    fn grant(
        &mut self,
        i: usize,
        id: &ItemId,
        item_type: &ItemType,
        owner: Option<&CustomerId>,
        properties: Option<&ItemProperties>,
    ) -> Step {
        self.active_owner(owner)?;
        if self.items.contains_key(id) || self.book.item(id).is_some() {
            return Err(FailReason::ItemIdTaken { item: id.clone() });
        }
        let state = ItemState {
            id: id.clone(),
            item_type: item_type.clone(),
            owner: owner.cloned(),
            status: ItemStatus::Active,
            properties: properties.cloned(),
        };
        self.step(i, state, ItemStepKind::GrantItem, None);
        Ok(())
    }

    /// Records what operation `i` did to an item: its state after, and the
    /// owner before.
    fn step(&mut self, i: usize, state: ItemState, kind: ItemStepKind, from: Option<CustomerId>) {
        let step = ItemStepPlan {
            operation: i,
            kind,
            from,
            to: state.owner.clone(),
            properties: state.properties.clone(),
        };
        let plan = self.items.entry(state.id.clone()).or_insert_with(|| ItemPlan {
            granted: kind == ItemStepKind::GrantItem,
            state: state.clone(),
            steps: Vec::new(),
        });
        plan.state = state;
        plan.steps.push(step);
    }

    fn wallet(&self, id: WalletId) -> Result<&WalletState, FailReason> {
        self.wallets
            .get(&id)
            .ok_or(FailReason::UnknownWallet { wallet: id })
    }

    fn wallet_mut(&mut self, id: WalletId) -> Result<&mut WalletState, FailReason> {
        self.wallets
            .get_mut(&id)
            .ok_or(FailReason::UnknownWallet { wallet: id })
    }

    /// Only Open wallets of Active customers (or system wallets) take part.
    fn usable(&self, id: WalletId) -> Step {
        let wallet = self.wallet(id)?;
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

    fn same_asset(&self, source: WalletId, destination: WalletId) -> Step {
        if self.wallet(source)?.asset != self.wallet(destination)?.asset {
            return Err(FailReason::AssetMismatch { source, destination });
        }
        Ok(())
    }

    fn line(&mut self, operation: usize, wallet: WalletId, kind: EntryKind, amount: i64, balance_after: i64) {
        self.plan.lines.push(Line {
            operation,
            wallet,
            kind,
            amount,
            balance_after,
        });
    }

    /// Moves `amount` into (positive) or out of (negative) the wallet's held
    /// value.
    fn reserve(&mut self, i: usize, id: WalletId, amount: i64) -> Step {
        let wallet = self.wallet_mut(id)?;
        // Placing takes at most what is available, releasing at most what is
        // held: `held` stays within 0..=balance + limit <= i64::MAX.
        wallet.held += amount;
        let held_after = wallet.held;
        self.plan.reservations.push(Reservation {
            operation: i,
            wallet: id,
            amount,
            held_after,
        });
        Ok(())
    }

    /// The hold as this transaction left it so far, or as the book holds it.
    fn hold(&self, id: &HoldId) -> Result<HoldState, FailReason> {
        if let Some(plan) = self.holds.get(id) {
            return Ok(plan.state.clone());
        }
        self.book
            .hold(id)
            .cloned()
            .ok_or_else(|| FailReason::UnknownHold { hold: id.clone() })
    }

    fn record(&mut self, i: usize, state: HoldState, step: HoldStep) {
        let id = state.id.clone();
        let entry = self.holds.entry(id).or_insert_with(|| HoldPlan {
            placed: step == HoldStep::Placed,
            earmarks_changed: false,
            state: state.clone(),
            steps: Vec::new(),
        });
        entry.state = state;
        entry.steps.push((i, step));
    }

    fn place(
        &mut self,
        i: usize,
        source: WalletId,
        amount: Quantity,
        destination: Option<WalletId>,
        expires_at: Option<Millis>,
        id: &HoldId,
    ) -> Step {
        self.usable(source)?;
        if let Some(destination) = destination {
            self.usable(destination)?;
            self.same_asset(source, destination)?;
        }
        if expires_at.is_some_and(|at| at <= self.now) {
            return Err(FailReason::ExpiryNotInFuture { hold: id.clone() });
        }
        if self.holds.contains_key(id) || self.book.hold(id).is_some() {
            return Err(FailReason::HoldIdTaken { hold: id.clone() });
        }
        let lot_value = self.lot_value(source);
        self.afford(source, amount.get(), lot_value)?;
        self.reserve(i, source, amount.get())?;
        let earmarks = self.earmark(i, source, amount.get());
        let state = HoldState {
            id: id.clone(),
            source,
            destination,
            amount: amount.get(),
            captured: 0,
            remaining: amount.get(),
            status: HoldStatus::Open,
            expires_at,
            earmarks,
        };
        self.record(i, state, HoldStep::Placed);
        Ok(())
    }

    fn capture(
        &mut self,
        i: usize,
        id: &HoldId,
        amount: Option<Quantity>,
        destination: Option<WalletId>,
    ) -> Step {
        let mut hold = self.hold(id)?;
        let status = hold.status_at(self.now);
        if status != HoldStatus::Open {
            return Err(FailReason::WrongHoldStatus {
                hold: id.clone(),
                status,
            });
        }
        let destination = match (destination, hold.destination) {
            (Some(asked), Some(fixed)) if asked != fixed => {
                return Err(FailReason::DestinationMismatch {
                    hold: id.clone(),
                    destination: asked,
                })
            }
            (Some(destination), _) | (None, Some(destination)) => destination,
            (None, None) => return Err(FailReason::NoDestination { hold: id.clone() }),
        };
        if destination == hold.source {
            return Err(FailReason::CaptureIntoSource { hold: id.clone() });
        }
        self.usable(hold.source)?;
        self.usable(destination)?;
        self.same_asset(hold.source, destination)?;
        let amount = amount.map_or(hold.remaining, Quantity::get);
        if amount > hold.remaining {
            return Err(FailReason::HoldInsufficient {
                hold: id.clone(),
                needed: amount,
                remaining: hold.remaining,
            });
        }
        let source = hold.source;
        // Released first: the captured value leaves held and balance together,
        // so what the source has available does not change.
        self.reserve(i, source, -amount)?;
        let parts = self.take_captured(i, &mut hold, amount)?;
        let wallet = self.wallet_mut(source)?;
        wallet.balance -= amount;
        let balance_after = wallet.balance;
        self.line(i, source, EntryKind::Capture, -amount, balance_after);
        self.receive(i, destination, &parts, EntryKind::Capture)?;
        hold.captured += amount;
        hold.remaining -= amount;
        if hold.remaining == 0 {
            hold.status = HoldStatus::Captured;
        }
        self.record(i, hold, HoldStep::Captured { amount, destination });
        Ok(())
    }

    /// A Void (`expiry` false) or the server's expiry of a hold.
    fn release(&mut self, i: usize, id: &HoldId, expiry: bool) -> Step {
        let mut hold = self.hold(id)?;
        let status = hold.status_at(self.now);
        if expiry {
            if hold.status != HoldStatus::Open {
                return Err(FailReason::WrongHoldStatus {
                    hold: id.clone(),
                    status: hold.status,
                });
            }
            if status != HoldStatus::Expired {
                return Err(FailReason::HoldNotDue { hold: id.clone() });
            }
        } else {
            if status != HoldStatus::Open {
                return Err(FailReason::WrongHoldStatus {
                    hold: id.clone(),
                    status,
                });
            }
            // A Void needs its source Open; an expiry happens whatever the
            // wallet's status (time runs out on a suspended wallet too).
            self.usable(hold.source)?;
        }
        self.reserve(i, hold.source, -hold.remaining)?;
        self.release_earmarks(i, &mut hold)?;
        hold.remaining = 0;
        hold.status = if expiry {
            HoldStatus::Expired
        } else {
            HoldStatus::Voided
        };
        let step = if expiry {
            HoldStep::Expired
        } else {
            HoldStep::Voided
        };
        self.record(i, hold, step);
        Ok(())
    }
}

/// Only an Active item moves, changes or is consumed.
fn active_item(item: &ItemState) -> Step {
    if item.status != ItemStatus::Active {
        return Err(FailReason::WrongItemStatus {
            item: item.id.clone(),
            status: item.status,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
