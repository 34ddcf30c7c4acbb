//! Posting: the one path by which value moves. An API v2 transaction and an
//! API v1 entry both lock the wallets they touch, are planned by
//! [`planner::plan`], claim their transaction row and apply the plan with
//! the port's guarded primitives, in one write job.

use super::access::{poster, recheck};
use super::Ledger;
use crate::amount::Amount;
use crate::clock::Clock;
use crate::ids::{AuthorityRowId, CustomerRowId, EntryId, TransactionId, WalletId};
use crate::model::{
    CustomerStatus, Millis, Page, PageRequest, TimeRange, Transaction, TransactionStatus, Wallet,
};
use crate::operation::{operations_json, Operation, Quantity, TransactionRequest};
use crate::planner::{self, Book, FailReason, Failure, Plan, WalletState};
use crate::policy::{Action, AuthorityCaller, Caller};
use crate::port::{Claim, NewEntry, NewTransaction, NewWallet, WriteTx};
use crate::text::{CustomerId, ItemName, Reason};
use crate::v1::V1Entry;
use crate::{LedgerError, Missing, StoreError};

/// What became of a transaction request.
#[derive(Debug, Clone)]
pub enum TransactionOutcome {
    Completed(Transaction),
    /// Recorded as Failed, with no entries: why, as data.
    Failed(Transaction, Failure),
    /// The reference id was used before: nothing was applied now; this is the
    /// stored transaction.
    Duplicate(Transaction),
}

/// An item given with a v1 entry.
#[derive(Debug, Clone)]
pub struct V1Item {
    pub name: ItemName,
    /// Any JSON value, as the authority sent it (JSON text).
    pub data: Option<String>,
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
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                recheck(tx, &caller, clock.now())?;
                post(tx, &poster, &request, clock.as_ref())
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
        self.store
            .write(move |tx| {
                recheck(tx, &caller, clock.now())?;
                let mut outcomes = Vec::with_capacity(requests.len());
                for request in &requests {
                    // No savepoint per transaction: `post` checks everything
                    // before its first write, so a refused one wrote nothing.
                    match post(tx, &poster, request, clock.as_ref()) {
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
        self.store
            .write(move |tx| {
                let now = clock.now();
                recheck(tx, &caller, now)?;
                post_v1(tx, &poster, &request, now, clock.as_ref())
            })
            .await
    }
}

/// Posts one transaction. It is dated once its wallets are locked (see
/// [`lock_book`]), not when its job started.
fn post(
    tx: &mut dyn WriteTx,
    poster: &AuthorityCaller,
    request: &TransactionRequest,
    clock: &dyn Clock,
) -> Result<TransactionOutcome, LedgerError> {
    let project = poster.project_id.as_str();
    let reference = request.reference_id.as_str();
    // Seen before: answer at once (the claim below settles a race).
    if let Some(existing) = tx.transaction_by_reference(project, reference)? {
        return Ok(TransactionOutcome::Duplicate(existing));
    }
    let book = lock_book(tx, project, &request.operations)?;
    let now = clock.now();
    let operations = request.operations_json();
    let mut record = NewTransaction {
        project_id: project,
        reference_id: Some(reference),
        authority: poster.authority,
        status: TransactionStatus::Completed,
        error: None,
        description: request.description.as_ref().map(super::super::text::Text::as_str),
        operations: Some(&operations),
        created_at: now,
    };
    let planned = planner::plan(&book, &request.operations, now);
    if let Err(failure) = &planned {
        record.status = TransactionStatus::Failed;
        record.error = Some(failure.reason.code().as_str());
    }
    let id = match tx.insert_transaction(&record)? {
        Claim::Inserted(id) => id,
        Claim::Duplicate => {
            let existing = tx
                .transaction_by_reference(project, reference)?
                .ok_or_else(|| StoreError::Retryable(format!("reference {reference} claimed and gone")))?;
            return Ok(TransactionOutcome::Duplicate(existing));
        }
    };
    let transaction = recorded(id, &record);
    match planned {
        Err(failure) => Ok(TransactionOutcome::Failed(transaction, failure)),
        Ok(plan) => {
            apply(tx, poster.authority, id, &plan, record.description, now)?;
            Ok(TransactionOutcome::Completed(transaction))
        }
    }
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

/// Locks every wallet the operations touch, in id order, and reads them
/// into a book. An unknown wallet makes the request invalid: nothing is
/// recorded.
///
/// What is posted on the book is dated after this returns: with several
/// writers (PostgreSQL's, or several processes), a job may wait here for
/// another that started later and locked first. Dated at its start, it
/// would list before that one among its wallet's entries (newest first, by
/// time) although it applied after it, and the `balanceAfter` of a
/// wallet's history would not follow from one entry to the next.
fn lock_book(tx: &mut dyn WriteTx, project: &str, operations: &[Operation]) -> Result<Book, LedgerError> {
    let mut ids: Vec<WalletId> = operations.iter().flat_map(Operation::wallets).collect();
    ids.sort_unstable();
    ids.dedup();
    let wallets = tx.lock_wallets(project, &ids)?;
    if wallets.len() != ids.len() {
        return Err(LedgerError::NotFound(Missing::Wallet));
    }
    Ok(Book::new(wallets.iter().map(WalletState::from)))
}

/// Writes a plan: each line moves its wallet's balance with a guarded debit
/// or a credit by delta and appends its entry; the poster's running total in
/// each wallet moves by the net. Returns the entries, in line order.
fn apply(
    tx: &mut dyn WriteTx,
    authority: AuthorityRowId,
    transaction: TransactionId,
    plan: &Plan,
    reason: Option<&str>,
    now: Millis,
) -> Result<Vec<EntryId>, StoreError> {
    let mut entries = Vec::with_capacity(plan.lines.len());
    for line in &plan.lines {
        let balance_after = if line.amount < 0 {
            tx.debit(line.wallet, -line.amount, 0)?
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
    for (wallet, delta) in plan.deltas() {
        // A wallet's net change stays within i64: its balance does.
        let delta =
            i64::try_from(delta).map_err(|_| StoreError::Internal("net change past i64".to_owned()))?;
        tx.add_authority_total(wallet, authority, delta)?;
    }
    Ok(entries)
}

/// Posts one API v1 entry; `now` dates a customer or wallet it creates,
/// the entry itself is dated once its wallet is locked (see [`lock_book`]).
fn post_v1(
    tx: &mut dyn WriteTx,
    poster: &AuthorityCaller,
    request: &V1EntryRequest,
    now: Millis,
    clock: &dyn Clock,
) -> Result<V1Entry, LedgerError> {
    let project = poster.project_id.as_str();
    let user = request.user.as_str();
    let customer = ensure_customer(tx, project, user, now)?;
    let wallet = ensure_default_wallet(tx, project, customer, poster, now)?;
    let amount = request.amount.get();
    let magnitude =
        Quantity::new(amount.unsigned_abs().try_into().unwrap_or(i64::MAX)).unwrap_or(Quantity::ZERO);
    let operation = if amount < 0 {
        Operation::Redeem {
            source: wallet.id,
            amount: magnitude,
        }
    } else {
        Operation::Issue {
            destination: wallet.id,
            amount: magnitude,
        }
    };
    let book = lock_book(tx, project, &[operation])?;
    let now = clock.now();
    let plan = planner::plan(&book, &[operation], now).map_err(|f| LedgerError::Rejected(f.reason))?;
    let operations = operations_json(&[operation]);
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
    let entries = apply(tx, poster.authority, id, &plan, record.description, now)?;
    let entry = *entries
        .first()
        .ok_or_else(|| StoreError::Internal("an entry's plan had no line".to_owned()))?;
    if let Some(item) = &request.item {
        tx.insert_item(entry, item.name.as_str(), item.data.as_deref())?;
    }
    Ok(tx
        .v1_entry(entry)?
        .ok_or_else(|| StoreError::Internal("the entry just written is missing".to_owned()))?)
}

/// The user's customer row, created Active on first use (API v1 creates
/// customers implicitly). A customer that is not Active posts nothing.
fn ensure_customer(
    tx: &mut dyn WriteTx,
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
            tx.customer(project, user)?
                .ok_or(LedgerError::NotFound(Missing::Customer))?
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
