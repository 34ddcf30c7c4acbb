//! Posting: the one path by which value moves. An API v2 transaction and an
//! API v1 entry both lock the wallets they touch, are planned by
//! [`planner::plan`], claim their transaction row and apply the plan with
//! the port's guarded primitives, in one write job.

use super::access::{poster, recheck};
use super::events::Outbox;
use super::Ledger;
use crate::amount::Amount;
use crate::clock::Clock;
use crate::events::EventType;
use crate::ids::{AuthorityRowId, CustomerRowId, EntryId, LotId, TransactionId, WalletId};
use crate::model::{
    CustomerStatus, Earmark, Hold, Item, LotStepKind, Millis, Page, PageRequest, TimeRange, Transaction,
    TransactionStatus, Wallet,
};
use crate::operation::{all_known, named_ids, operations_json, Operation, Quantity, TransactionRequest};
use crate::planner::{
    self, Book, FailReason, Failure, HoldState, HoldStep, ItemState, LotKey, LotState, Plan, WalletState,
};
use crate::policy::{Action, AuthorityCaller, Caller};
use crate::port::{
    Claim, HoldUpdate, ItemUpdate, LotUpdate, NewEntry, NewItem, NewItemStep, NewLot, NewLotStep,
    NewTransaction, NewWallet, WriteTx,
};
use crate::text::{CustomerId, HoldId, ItemId, ItemName, ItemProperties, ItemType, Reason};
use crate::v1::V1Entry;
use crate::{wire, LedgerError, Missing, StoreError};
use std::collections::BTreeMap;

/// What became of a transaction request.
#[derive(Debug, Clone)]
pub enum TransactionOutcome {
    /// Applied: the transaction and the holds and items it touched.
    Completed(Transaction, Touched),
    /// Recorded as Failed, with no entries: why, as data.
    Failed(Transaction, Failure),
    /// The reference id was used before: nothing was applied now; this is the
    /// stored transaction, with the holds it placed and the items it touched.
    Duplicate(Transaction, Touched),
}

/// The holds and items a transaction placed, granted or changed, as they are
/// now stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    pub holds: Vec<Hold>,
    pub items: Vec<Item>,
}

impl TransactionOutcome {
    pub fn transaction(&self) -> &Transaction {
        match self {
            TransactionOutcome::Completed(t, _)
            | TransactionOutcome::Failed(t, _)
            | TransactionOutcome::Duplicate(t, _) => t,
        }
    }
}

/// An item given with a v1 entry.
#[derive(Debug, Clone)]
pub struct V1Item {
    pub name: ItemName,
    /// Any JSON value, exactly as the authority sent it; `None` when it sent
    /// no `data`.
    pub data: Option<ItemProperties>,
}

/// A validated `POST /api/v1/entry`.
#[derive(Debug, Clone)]
pub struct V1EntryRequest {
    pub user: CustomerId,
    pub amount: Amount,
    pub reason: Reason,
    pub item: Option<V1Item>,
}

impl Ledger {
    /// Applies ordered operations all-or-nothing, at most once per
    /// reference id. A plan that fails is recorded as a Failed transaction
    /// (no entries), so the reference id is spent and a retry learns the
    /// outcome.
    pub async fn post_transaction(
        &self,
        caller: &Caller,
        request: TransactionRequest,
    ) -> Result<TransactionOutcome, LedgerError> {
        let poster = poster(caller)?.clone();
        request.check_times(self.now())?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(poster.project_id.clone(), move |tx, out| {
            recheck(tx, &caller, clock.now())?;
            post(tx, out, &poster, &request, clock.as_ref())
        })
        .await
    }

    /// Applies independent transactions, each all-or-nothing on its own, in
    /// one write job: one commit (one fsync) for all of them. A refused one
    /// (an unknown wallet) writes nothing and does not stop the others; a
    /// storage failure fails the whole batch, and nothing of it applies.
    pub async fn post_batch(
        &self,
        caller: &Caller,
        requests: Vec<TransactionRequest>,
    ) -> Result<Vec<Result<TransactionOutcome, LedgerError>>, LedgerError> {
        let poster = poster(caller)?.clone();
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(poster.project_id.clone(), move |tx, out| {
            recheck(tx, &caller, clock.now())?;
            let mut outcomes = Vec::with_capacity(requests.len());
            for request in &requests {
                // Refused before anything is attempted, as
                // `post_transaction` refuses it: the reference id stays
                // free.
                if let Err(e) = request.check_times(clock.now()) {
                    outcomes.push(Err(e));
                    continue;
                }
                // No savepoint per transaction: `post` checks everything
                // before its first write (and records its events after its
                // last), so a refused one wrote nothing.
                match post(tx, out, &poster, request, clock.as_ref()) {
                    Err(LedgerError::Storage(e)) => return Err(LedgerError::Storage(e)),
                    outcome => outcomes.push(outcome),
                }
            }
            Ok(outcomes)
        })
        .await
    }

    pub async fn transaction(&self, caller: &Caller, id: TransactionId) -> Result<Transaction, LedgerError> {
        super::access::authorize(caller, Action::ReadTransactions)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                r.transaction(&project, id)?
                    .ok_or(LedgerError::NotFound(Missing::Transaction))
            })
            .await
    }

    pub async fn transactions(
        &self,
        caller: &Caller,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Page<Transaction>, LedgerError> {
        super::access::authorize(caller, Action::ReadTransactions)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| Ok(r.transactions(&project, range, page)?))
            .await
    }

    /// Posts one signed API v1 entry in the user's default wallet of the
    /// project's default asset (both created on first use): an Issue of the
    /// amount, or a Redeem of its magnitude, through the same planner.
    pub async fn post_v1_entry(
        &self,
        caller: &Caller,
        request: V1EntryRequest,
    ) -> Result<V1Entry, LedgerError> {
        let poster = poster(caller)?.clone();
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(poster.project_id.clone(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            post_v1(tx, out, &poster, &request, now, clock.as_ref())
        })
        .await
    }
}

/// Posts one transaction. It is dated once its wallets are locked (see
/// [`lock_book`]), not when its job started.
fn post(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    poster: &AuthorityCaller,
    request: &TransactionRequest,
    clock: &dyn Clock,
) -> Result<TransactionOutcome, LedgerError> {
    let description = request.description.as_ref().map(crate::text::Text::as_str);
    post_as(
        tx,
        out,
        &poster.project_id,
        poster.authority,
        Some(request.reference_id.as_str()),
        &request.operations,
        description,
        clock,
    )
}

/// Posts operations as `authority`: claims the reference id (if any), locks
/// and plans, then records the transaction and applies the plan. A planned
/// failure is recorded as a Failed transaction when there is a reference id
/// (so a retry learns it); without one (what the server posts by itself)
/// it is `LedgerError::Rejected` and nothing is written. It is dated by
/// `clock` once what it touches is locked (see [`lock_book`]). What it
/// recorded or applied goes into `out` as events ([`record_events`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn post_as(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    project: &str,
    authority: AuthorityRowId,
    reference: Option<&str>,
    operations: &[Operation],
    description: Option<&str>,
    clock: &dyn Clock,
) -> Result<TransactionOutcome, LedgerError> {
    // Seen before: answer at once (the claim below settles a race).
    if let Some(reference) = reference {
        if let Some(existing) = tx.transaction_by_reference(project, reference)? {
            return duplicate(tx, project, existing);
        }
    }
    let (book, wallets) = lock_book(tx, project, operations)?;
    let now = clock.now();
    let operations_text = operations_json(operations);
    let mut record = NewTransaction {
        project_id: project,
        reference_id: reference,
        authority,
        status: TransactionStatus::Completed,
        error: None,
        description,
        operations: Some(&operations_text),
        created_at: now,
    };
    let planned = planner::plan(&book, operations, now);
    match &planned {
        Err(failure) if reference.is_none() => return Err(LedgerError::Rejected(failure.reason.clone())),
        Err(failure) => {
            record.status = TransactionStatus::Failed;
            record.error = Some(failure.reason.code().as_str());
        }
        Ok(_) => {}
    }
    let id = match tx.insert_transaction(&record)? {
        Claim::Inserted(id) => id,
        Claim::Duplicate => {
            let reference = reference.unwrap_or_default();
            let existing = tx
                .transaction_by_reference(project, reference)?
                .ok_or_else(|| StoreError::Retryable(format!("reference {reference} claimed and gone")))?;
            return duplicate(tx, project, existing);
        }
    };
    let transaction = recorded(id, &record);
    match planned {
        Err(failure) => {
            let customers = wallets.iter().filter_map(Wallet::owner_rowid);
            out.push(
                EventType::TransactionFailed,
                &wire::Transaction::from(transaction.clone()),
                customers,
            )?;
            Ok(TransactionOutcome::Failed(transaction, failure))
        }
        Ok(plan) => {
            let written = Written {
                authority,
                transaction: id,
                reason: description,
                now,
                project,
            };
            let (_, lots) = apply(tx, &written, &plan)?;
            write_items(tx, &book, &written, &plan, None)?;
            let touched = touched(tx, project, &plan)?;
            record_events(
                tx,
                out,
                &Posted {
                    transaction: &transaction,
                    wallets: &wallets,
                    book: &book,
                    plan: &plan,
                    lots: &lots,
                    touched: &touched,
                },
            )?;
            Ok(TransactionOutcome::Completed(transaction, touched))
        }
    }
}

/// What a completed transaction wrote, for its events.
struct Posted<'a> {
    transaction: &'a Transaction,
    /// Every wallet it locked, as locked (before it).
    wallets: &'a [Wallet],
    book: &'a Book,
    plan: &'a Plan,
    /// The stored ids of the lots it formed or changed.
    lots: &'a BTreeMap<LotKey, LotId>,
    touched: &'a Touched,
}

/// Records a completed transaction's events, in this order:
/// `transaction.completed`; one `wallet.balance_changed` per wallet whose
/// balance or held value it moved (wallet id order); for each hold it
/// touched, one `hold.*` per operation on it; for each item, one `item.*`
/// per operation on it; one `lot.expired` per lot that expired in it.
/// Holds, items and lots are shown as they are after the transaction.
fn record_events(tx: &mut dyn WriteTx, out: &mut Outbox, posted: &Posted<'_>) -> Result<(), StoreError> {
    let Posted {
        transaction,
        wallets,
        book,
        plan,
        lots,
        touched,
    } = *posted;
    let owner = |id: WalletId| wallets.iter().find(|w| w.id == id).and_then(Wallet::owner_rowid);
    let customer_row = |id: &CustomerId| book.customer(id).map(|c| c.rowid);
    let mut everyone: Vec<CustomerRowId> = wallets.iter().filter_map(Wallet::owner_rowid).collect();
    for item in &plan.items {
        for step in &item.steps {
            everyone.extend(step.from.iter().chain(&step.to).filter_map(customer_row));
        }
    }
    out.push(
        EventType::TransactionCompleted,
        &wire::Transaction::from(transaction.clone()),
        everyone,
    )?;

    // Balances and held values after the transaction, from the book and
    // what the plan moved: no read.
    let mut moved: BTreeMap<WalletId, (i128, i128)> = BTreeMap::new();
    for line in &plan.lines {
        moved.entry(line.wallet).or_default().0 += i128::from(line.amount);
    }
    for reservation in &plan.reservations {
        moved.entry(reservation.wallet).or_default().1 += i128::from(reservation.amount);
    }
    for (id, (balance_delta, held_delta)) in moved {
        let (Some(state), Some(wallet)) = (book.wallet(id), wallets.iter().find(|w| w.id == id)) else {
            return Err(StoreError::Internal(format!(
                "wallet {id} moved but was not locked"
            )));
        };
        let past = |what: &str| StoreError::Internal(format!("wallet {id}'s {what} past i64"));
        let balance =
            i64::try_from(i128::from(state.balance) + balance_delta).map_err(|_| past("balance"))?;
        let held = i64::try_from(i128::from(state.held) + held_delta).map_err(|_| past("held value"))?;
        out.push(
            EventType::WalletBalanceChanged,
            &wire::BalanceChanged {
                wallet_id: id.to_string(),
                customer_id: wallet.owner.as_ref().map(|o| o.id.clone()),
                asset_id: wallet.asset_id.to_string(),
                balance,
                held,
                available: crate::model::available(balance, held, state.credit_limit),
                transaction_id: transaction.id.to_string(),
            },
            wallet.owner_rowid(),
        )?;
    }

    for (planned, hold) in plan.holds.iter().zip(&touched.holds) {
        let customers: Vec<CustomerRowId> = std::iter::once(hold.source)
            .chain(hold.destination)
            .filter_map(owner)
            .collect();
        for (_, step) in &planned.steps {
            let kind = match step {
                HoldStep::Placed => EventType::HoldCreated,
                HoldStep::Captured { .. } => EventType::HoldCaptured,
                HoldStep::Voided => EventType::HoldVoided,
                HoldStep::Expired => EventType::HoldExpired,
            };
            out.push(kind, &wire::Hold::from(hold.clone()), customers.iter().copied())?;
        }
    }

    for (planned, item) in plan.items.iter().zip(&touched.items) {
        for step in &planned.steps {
            let kind = match step.kind {
                crate::model::ItemStepKind::GrantItem => EventType::ItemGranted,
                crate::model::ItemStepKind::TransferItem => EventType::ItemTransferred,
                crate::model::ItemStepKind::ConsumeItem => EventType::ItemConsumed,
                crate::model::ItemStepKind::SetItemProperties => EventType::ItemUpdated,
            };
            let customers: Vec<CustomerRowId> = step
                .from
                .iter()
                .chain(&step.to)
                .filter_map(customer_row)
                .chain(item.owner.as_ref().map(|o| o.rowid))
                .collect();
            out.push(kind, &wire::Item::from(item.clone()), customers)?;
        }
    }

    let mut expired: Vec<LotId> = Vec::new();
    for step in plan.lot_steps.iter().filter(|s| s.kind == LotStepKind::Expire) {
        let id = lot_id(lots, step.lot)?;
        if !expired.contains(&id) {
            expired.push(id);
        }
    }
    for id in expired {
        let lot = tx
            .lot(id)?
            .ok_or_else(|| StoreError::Internal(format!("lot {id} was just written")))?;
        let customers = owner(lot.wallet);
        out.push(EventType::LotExpired, &wire::Lot::from(lot), customers)?;
    }
    Ok(())
}

fn duplicate(
    tx: &mut dyn WriteTx,
    project: &str,
    existing: Transaction,
) -> Result<TransactionOutcome, LedgerError> {
    let touched = Touched {
        holds: tx.transaction_holds(project, existing.id)?,
        items: tx.transaction_items(project, existing.id)?,
    };
    Ok(TransactionOutcome::Duplicate(existing, touched))
}

/// The holds and items a plan placed, granted or changed, as now stored.
fn touched(tx: &mut dyn WriteTx, project: &str, plan: &Plan) -> Result<Touched, StoreError> {
    let mut touched = Touched {
        holds: Vec::with_capacity(plan.holds.len()),
        items: Vec::with_capacity(plan.items.len()),
    };
    for planned in &plan.holds {
        let hold = tx
            .hold(project, &planned.state.id)?
            .ok_or_else(|| StoreError::Internal(format!("hold {} was just written", planned.state.id)))?;
        touched.holds.push(hold);
    }
    for planned in &plan.items {
        let item = tx
            .item(project, &planned.state.id)?
            .ok_or_else(|| StoreError::Internal(format!("item {} was just written", planned.state.id)))?;
        touched.items.push(item);
    }
    Ok(touched)
}

/// What every row a plan writes shares: who posted it, in which
/// transaction, why and when.
struct Written<'a> {
    authority: AuthorityRowId,
    transaction: TransactionId,
    reason: Option<&'a str>,
    now: Millis,
    project: &'a str,
}

/// The transaction as stored, without reading it back.
fn recorded(id: TransactionId, record: &NewTransaction<'_>) -> Transaction {
    Transaction {
        id,
        reference_id: record.reference_id.map(str::to_owned),
        status: record.status,
        error: record.error.map(str::to_owned),
        description: record.description.map(str::to_owned),
        operations: record.operations.map(str::to_owned),
        created_at: record.created_at,
    }
}

/// Locks what the operations touch and reads it into a book: first the
/// holds they name (to capture, void or expire them, and any whose id a new
/// Hold would take) with their earmarks, then every wallet the operations
/// and those holds name, then the Open lots of the wallets value may leave,
/// each set in id order (holds before wallets in every job, so two jobs
/// never wait for each other in a circle). An unknown wallet, or a Capture
/// or Void of a hold that neither exists nor is placed earlier in the
/// transaction, makes the request invalid: nothing is recorded.
///
/// What is posted on the book is dated after this returns: with several
/// writers (PostgreSQL's, or several processes), a job may wait here for
/// another that started later and locked first. Dated at its start, it
/// would list before that one among its wallet's entries (newest first, by
/// time) although it applied after it, and the `balanceAfter` of a
/// wallet's history would not follow from one entry to the next.
fn lock_book(
    tx: &mut dyn WriteTx,
    project: &str,
    operations: &[Operation],
) -> Result<(Book, Vec<Wallet>), LedgerError> {
    let holds = lock_holds(tx, project, operations)?;
    let earmarks = if holds.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<HoldId> = holds.iter().map(|h| h.id.clone()).collect();
        tx.hold_earmarks(project, &ids)?
    };
    let (items, customers) = lock_items(tx, project, operations)?;
    let mut ids: Vec<WalletId> = operations.iter().flat_map(Operation::wallets).collect();
    ids.extend(
        holds
            .iter()
            .flat_map(|h| std::iter::once(h.source).chain(h.destination)),
    );
    ids.sort_unstable();
    ids.dedup();
    let wallets = if ids.is_empty() {
        Vec::new()
    } else {
        tx.lock_wallets(project, &ids)?
    };
    if wallets.len() != ids.len() {
        return Err(LedgerError::NotFound(Missing::Wallet));
    }
    // The lots of every wallet value may leave (their wallets are locked).
    let mut spenders: Vec<WalletId> = operations.iter().filter_map(Operation::spends_from).collect();
    spenders.extend(holds.iter().map(|h| h.source));
    spenders.sort_unstable();
    spenders.dedup();
    let lots = if spenders.is_empty() {
        Vec::new()
    } else {
        tx.lots_of(&spenders)?
    };
    let book = Book::new(wallets.iter().map(WalletState::from))
        .with_holds(holds.iter().map(HoldState::from))
        .with_earmarks(earmarks)
        .with_lots(lots.iter().map(LotState::from))
        .with_items(items.iter().map(ItemState::from))
        .with_customers(&customers);
    Ok((book, wallets))
}

/// Locks the holds the operations capture, void or expire, and any whose id
/// a new Hold would take.
fn lock_holds(
    tx: &mut dyn WriteTx,
    project: &str,
    operations: &[Operation],
) -> Result<Vec<Hold>, LedgerError> {
    let hold_ids = named_ids(operations, Operation::hold, Operation::placed_hold);
    let holds = if hold_ids.is_empty() {
        Vec::new()
    } else {
        tx.lock_holds(project, &hold_ids)?
    };
    if !all_known(operations, Operation::hold, Operation::placed_hold, |id| {
        holds.iter().any(|h| &h.id == id)
    }) {
        return Err(LedgerError::NotFound(Missing::Hold));
    }
    Ok(holds)
}

/// Locks the items the operations move, change or consume (and any whose id
/// a GrantItem would take), then the customers the operations name and
/// those that own the items. An item that neither exists nor is granted
/// earlier in the transaction, or a customer that does not exist, makes the
/// request invalid: nothing is recorded.
fn lock_items(
    tx: &mut dyn WriteTx,
    project: &str,
    operations: &[Operation],
) -> Result<(Vec<Item>, Vec<crate::model::Customer>), LedgerError> {
    let item_ids = named_ids(operations, Operation::item, Operation::granted_item);
    if item_ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let items = tx.lock_items(project, &item_ids)?;
    if !all_known(operations, Operation::item, Operation::granted_item, |id| {
        items.iter().any(|item| &item.id == id)
    }) {
        return Err(LedgerError::NotFound(Missing::Item));
    }
    let named: Vec<&CustomerId> = operations.iter().flat_map(Operation::customers).collect();
    let mut customer_ids: Vec<CustomerId> = named.iter().map(|&id| id.clone()).collect();
    customer_ids.extend(
        items
            .iter()
            .filter_map(|item| item.owner.as_ref().map(|o| o.id.clone())),
    );
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let customers = if customer_ids.is_empty() {
        Vec::new()
    } else {
        tx.lock_customers(project, &customer_ids)?
    };
    if named
        .iter()
        .any(|id| !customers.iter().any(|c| c.id == id.as_str()))
    {
        return Err(LedgerError::NotFound(Missing::Customer));
    }
    Ok((items, customers))
}

/// Writes a plan's value: each line moves its wallet's balance with a
/// guarded debit or a credit by delta and appends its entry; holds are
/// written at their final state; the poster's running total in each wallet
/// moves by the net. Returns the entries, in line order, and the stored ids
/// of the lots it formed or changed. Items follow with [`write_items`].
fn apply(
    tx: &mut dyn WriteTx,
    at: &Written<'_>,
    plan: &Plan,
) -> Result<(Vec<EntryId>, BTreeMap<LotKey, LotId>), StoreError> {
    let Written {
        authority,
        transaction,
        reason,
        now,
        project,
    } = *at;
    let mut entries = Vec::with_capacity(plan.lines.len());
    let mut reservations = plan.reservations.iter().peekable();
    let mut lines = plan.lines.iter().peekable();
    // In operation order, and within one operation reservations first: a
    // Capture releases what it takes before the debit, so every guarded
    // write sees a state the invariant allows.
    while reservations.peek().is_some() || lines.peek().is_some() {
        let next = match (reservations.peek(), lines.peek()) {
            (Some(r), Some(l)) => r.operation.min(l.operation),
            (Some(r), None) => r.operation,
            (None, Some(l)) => l.operation,
            (None, None) => break,
        };
        while let Some(reservation) = reservations.next_if(|r| r.operation == next) {
            tx.adjust_held(reservation.wallet, reservation.amount)?;
        }
        while let Some(line) = lines.next_if(|l| l.operation == next) {
            let balance_after = if line.amount < 0 {
                tx.debit(line.wallet, -line.amount)?
            } else {
                tx.credit(line.wallet, line.amount)?
            };
            entries.push(tx.append_entry(&NewEntry {
                wallet: line.wallet,
                transaction,
                authority,
                kind: line.kind,
                amount: line.amount,
                balance_after,
                reason,
                created_at: now,
            })?);
        }
    }
    write_holds(tx, project, transaction, plan, now)?;
    let lots = write_lots(tx, at, plan)?;
    for (wallet, delta) in plan.deltas() {
        // A wallet's net change stays within i64: its balance does.
        let delta =
            i64::try_from(delta).map_err(|_| StoreError::Internal("net change past i64".to_owned()))?;
        tx.add_authority_total(wallet, authority, delta)?;
    }
    Ok((entries, lots))
}

/// Writes the items a plan granted or changed, at their state after the
/// transaction, and each one's steps in operation order. A granted item
/// names `v1_entry` when an API v1 entry granted it.
fn write_items(
    tx: &mut dyn WriteTx,
    book: &Book,
    at: &Written<'_>,
    plan: &Plan,
    v1_entry: Option<EntryId>,
) -> Result<(), StoreError> {
    let rowid = |owner: Option<&CustomerId>| -> Result<_, StoreError> {
        owner
            .map(|id| {
                book.customer(id)
                    .map(|c| c.rowid)
                    .ok_or_else(|| StoreError::Internal(format!("customer {id} is not in the book")))
            })
            .transpose()
    };
    for planned in &plan.items {
        let state = &planned.state;
        let owner = rowid(state.owner.as_ref())?;
        if planned.granted {
            tx.insert_item(
                at.project,
                &NewItem {
                    id: &state.id,
                    item_type: &state.item_type,
                    properties: state.properties.as_ref(),
                    owner,
                    status: state.status,
                    v1_entry,
                    created_at: at.now,
                },
            )?;
        } else {
            tx.update_item(
                at.project,
                &ItemUpdate {
                    id: &state.id,
                    owner,
                    status: state.status,
                    properties: state.properties.as_ref(),
                    updated_at: at.now,
                },
            )?;
        }
        for step in &planned.steps {
            tx.append_item_step(
                at.project,
                &NewItemStep {
                    item: &state.id,
                    transaction: at.transaction,
                    kind: step.kind,
                    from: rowid(step.from.as_ref())?,
                    to: rowid(step.to.as_ref())?,
                    properties: step.properties.as_ref(),
                    created_at: at.now,
                },
            )?;
        }
    }
    Ok(())
}

/// Writes the lots a plan formed (in the order they formed) or changed, at
/// their state after the transaction, then their steps, then the earmarks
/// of the holds whose earmarks changed. Returns the lots' stored ids.
fn write_lots(
    tx: &mut dyn WriteTx,
    at: &Written<'_>,
    plan: &Plan,
) -> Result<BTreeMap<LotKey, LotId>, StoreError> {
    if plan.lots.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut ids: BTreeMap<LotKey, LotId> = BTreeMap::new();
    for lot in &plan.lots {
        let id = match lot.key {
            LotKey::Stored(id) => {
                tx.update_lot(&LotUpdate {
                    id,
                    remaining: lot.remaining,
                    earmarked: lot.earmarked,
                    status: lot.status,
                    updated_at: at.now,
                })?;
                id
            }
            LotKey::New(_) => tx.insert_lot(&NewLot {
                wallet: lot.wallet,
                amount: lot.amount,
                remaining: lot.remaining,
                earmarked: lot.earmarked,
                expires_at: lot.expires_at,
                status: lot.status,
                transaction: at.transaction,
                created_at: at.now,
            })?,
        };
        ids.insert(lot.key, id);
    }
    let id_of = |key: LotKey| lot_id(&ids, key);
    for step in &plan.lot_steps {
        tx.append_lot_step(&NewLotStep {
            lot: id_of(step.lot)?,
            transaction: at.transaction,
            kind: step.kind,
            amount: step.amount,
            created_at: at.now,
        })?;
    }
    for hold in plan.holds.iter().filter(|h| h.earmarks_changed) {
        let earmarks = hold
            .state
            .earmarks
            .iter()
            .map(|&(key, amount)| {
                Ok(Earmark {
                    lot: id_of(key)?,
                    amount,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.set_earmarks(at.project, &hold.state.id, &earmarks)?;
    }
    Ok(ids)
}

/// The stored id of a lot a step or an earmark names: a stored lot's own
/// (an earmark may name one the transaction left alone: a Capture of part
/// of a hold keeps its other earmarks), a formed lot's as just written.
fn lot_id(formed: &BTreeMap<LotKey, LotId>, key: LotKey) -> Result<LotId, StoreError> {
    match key {
        LotKey::Stored(id) => Ok(id),
        LotKey::New(_) => formed
            .get(&key)
            .copied()
            .ok_or_else(|| StoreError::Internal(format!("{key} is named but the plan did not form it"))),
    }
}

/// Writes the holds a plan placed (at their state after the transaction) and
/// the changes it made to existing ones.
fn write_holds(
    tx: &mut dyn WriteTx,
    project: &str,
    transaction: TransactionId,
    plan: &Plan,
    now: Millis,
) -> Result<(), StoreError> {
    for planned in &plan.holds {
        let state = &planned.state;
        if planned.placed {
            let asset = tx
                .wallet(project, state.source)?
                .ok_or_else(|| StoreError::Internal(format!("wallet {} of a new hold", state.source)))?
                .asset_id;
            tx.insert_hold(
                project,
                &Hold {
                    id: state.id.clone(),
                    source: state.source,
                    destination: state.destination,
                    asset,
                    amount: state.amount,
                    captured: state.captured,
                    remaining: state.remaining,
                    status: state.status,
                    expires_at: state.expires_at,
                    created_at: now,
                    transaction,
                    updated_at: now,
                },
            )?;
        } else {
            tx.update_hold(
                project,
                &HoldUpdate {
                    id: &state.id,
                    captured: state.captured,
                    remaining: state.remaining,
                    status: state.status,
                    updated_at: now,
                },
            )?;
        }
    }
    Ok(())
}

/// Posts one API v1 entry, and the item it carries as a GrantItem in the
/// same transaction (owned by the user, naming the entry); `now` dates a
/// customer or wallet it creates, the entry itself is dated once its wallet
/// is locked (see [`lock_book`]).
fn post_v1(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    poster: &AuthorityCaller,
    request: &V1EntryRequest,
    now: Millis,
    clock: &dyn Clock,
) -> Result<V1Entry, LedgerError> {
    let project = poster.project_id.as_str();
    let user = request.user.as_str();
    let customer = ensure_customer(tx, out, project, user, now)?;
    let wallet = ensure_default_wallet(tx, project, customer, poster, now)?;
    let amount = request.amount.get();
    let magnitude =
        Quantity::new(amount.unsigned_abs().try_into().unwrap_or(i64::MAX)).unwrap_or(Quantity::ZERO);
    let mut operations = vec![if amount < 0 {
        Operation::Redeem {
            source: wallet.id,
            amount: magnitude,
        }
    } else {
        Operation::Issue {
            destination: wallet.id,
            amount: magnitude,
            expires_at: None,
        }
    }];
    if let Some(item) = &request.item {
        operations.push(Operation::GrantItem {
            item_type: ItemType::of_v1_item(&item.name),
            customer_id: Some(request.user.clone()),
            properties: item.data.clone(),
            item_id: ItemId::random(),
        });
    }
    let (book, wallets) = lock_book(tx, project, &operations)?;
    let now = clock.now();
    let plan = planner::plan(&book, &operations, now).map_err(|f| LedgerError::Rejected(f.reason))?;
    let operations = operations_json(&operations);
    let record = NewTransaction {
        project_id: project,
        reference_id: None,
        authority: poster.authority,
        status: TransactionStatus::Completed,
        error: None,
        description: Some(request.reason.as_str()),
        operations: Some(&operations),
        created_at: now,
    };
    let Claim::Inserted(id) = tx.insert_transaction(&record)? else {
        return Err(
            StoreError::Internal("an entry without a reference id was a duplicate".to_owned()).into(),
        );
    };
    let written = Written {
        authority: poster.authority,
        transaction: id,
        reason: record.description,
        now,
        project,
    };
    let (entries, lots) = apply(tx, &written, &plan)?;
    let entry = *entries
        .first()
        .ok_or_else(|| StoreError::Internal("an entry's plan had no line".to_owned()))?;
    write_items(tx, &book, &written, &plan, Some(entry))?;
    let touched = touched(tx, project, &plan)?;
    record_events(
        tx,
        out,
        &Posted {
            transaction: &recorded(id, &record),
            wallets: &wallets,
            book: &book,
            plan: &plan,
            lots: &lots,
            touched: &touched,
        },
    )?;
    Ok(tx
        .v1_entry(entry)?
        .ok_or_else(|| StoreError::Internal("the entry just written is missing".to_owned()))?)
}

/// The user's customer row, created Active on first use (API v1 creates
/// customers implicitly). A customer that is not Active posts nothing.
fn ensure_customer(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    project: &str,
    user: &str,
    now: Millis,
) -> Result<CustomerRowId, LedgerError> {
    let customer = match tx.customer(project, user)? {
        Some(customer) => customer,
        None => {
            if tx.insert_customer(project, user, None, None, now)?.is_none() {
                return Err(StoreError::Retryable(format!("customer {user} was just created")).into());
            }
            let customer = tx
                .customer(project, user)?
                .ok_or(LedgerError::NotFound(Missing::Customer))?;
            out.push(
                EventType::CustomerCreated,
                &wire::Customer::from(customer.clone()),
                [customer.rowid],
            )?;
            customer
        }
    };
    if customer.status != CustomerStatus::Active {
        return Err(LedgerError::WrongStatus(format!(
            "user {user} is {}",
            customer.status
        )));
    }
    Ok(customer.rowid)
}

/// The customer's default wallet of the project's default asset, opened on
/// first use: the same wallet API v2 shows as the customer's first wallet of
/// that asset.
fn ensure_default_wallet(
    tx: &mut dyn WriteTx,
    project: &str,
    customer: CustomerRowId,
    poster: &AuthorityCaller,
    now: Millis,
) -> Result<Wallet, LedgerError> {
    if let Some(wallet) = tx.default_wallet(customer, poster.default_asset)? {
        return Ok(wallet);
    }
    tx.insert_wallet(&NewWallet {
        project_id: project,
        asset: poster.default_asset,
        owner: Some(customer),
        name: None,
        description: None,
        created_at: now,
    })?;
    Ok(tx
        .default_wallet(customer, poster.default_asset)?
        .ok_or_else(|| StoreError::Retryable("the default wallet was just opened".to_owned()))?)
}

impl From<FailReason> for LedgerError {
    fn from(reason: FailReason) -> Self {
        LedgerError::Rejected(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Capture of part of a hold whose earmarks span two lots touches
    /// one of them; the hold's earmarks still name the other, which is in
    /// no map of lots the plan wrote.
    #[test]
    fn an_earmark_of_a_lot_the_transaction_left_alone_keeps_its_id() {
        let formed = BTreeMap::from([
            (LotKey::Stored(LotId::new(1)), LotId::new(1)),
            (LotKey::New(0), LotId::new(9)),
        ]);
        assert_eq!(lot_id(&formed, LotKey::Stored(LotId::new(2))), Ok(LotId::new(2)));
        assert_eq!(lot_id(&formed, LotKey::Stored(LotId::new(1))), Ok(LotId::new(1)));
        assert_eq!(lot_id(&formed, LotKey::New(0)), Ok(LotId::new(9)));
        assert!(matches!(
            lot_id(&formed, LotKey::New(1)),
            Err(StoreError::Internal(_))
        ));
    }
}
