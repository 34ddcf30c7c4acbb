//! Transactions: ordered Issue/Redeem/Transfer operations, applied
//! all-or-nothing, at most once per reference id.
//!
//! A transaction is planned first, in memory, on the state the writer sees:
//! every operation in order, with every check (statuses, assets, funds,
//! overflow). Only a plan that fully succeeds is written. A plan that fails is
//! recorded as a `Failed` transaction with no entries, so the reference id is
//! spent and a retry learns the outcome.

use super::{Ledger, LedgerError, Missing, Poster};
use crate::clock;
use crate::domain::{PositiveAmount, ReferenceId, Text};
use crate::storage::{
    CustomerStatus, EntryKind, NewEntry, NewTransaction, PageRequest, Paged, TimeRange, TransactionRow,
    WalletRow, WalletStatus, WriteTx,
};
use serde::Serialize;
use std::collections::HashMap;

/// Most operations one transaction may hold.
pub const MAX_OPERATIONS: usize = 100;

/// One operation; wallets are ids in the poster's project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Operation {
    Issue {
        #[serde(serialize_with = "as_string")]
        destination: i64,
        #[serde(serialize_with = "positive")]
        amount: PositiveAmount,
    },
    Redeem {
        #[serde(serialize_with = "as_string")]
        source: i64,
        #[serde(serialize_with = "positive")]
        amount: PositiveAmount,
    },
    Transfer {
        #[serde(serialize_with = "as_string")]
        source: i64,
        #[serde(serialize_with = "as_string")]
        destination: i64,
        #[serde(serialize_with = "positive")]
        amount: PositiveAmount,
    },
}

fn as_string<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

fn positive<S: serde::Serializer>(a: &PositiveAmount, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(a.get())
}

impl Operation {
    fn wallets(&self) -> impl Iterator<Item = i64> {
        let (a, b) = match *self {
            Operation::Issue { destination, .. } => (destination, None),
            Operation::Redeem { source, .. } => (source, None),
            Operation::Transfer {
                source, destination, ..
            } => (source, Some(destination)),
        };
        std::iter::once(a).chain(b)
    }
}

/// A validated `POST /transactions`.
#[derive(Debug, Clone)]
pub struct TransactionRequest {
    pub reference_id: ReferenceId,
    pub operations: Vec<Operation>,
    pub description: Option<Text>,
}

impl TransactionRequest {
    pub fn new(
        reference_id: ReferenceId,
        operations: Vec<Operation>,
        description: Option<Text>,
    ) -> Result<Self, LedgerError> {
        if operations.is_empty() || operations.len() > MAX_OPERATIONS {
            return Err(LedgerError::Invalid(format!(
                "a transaction has 1 to {MAX_OPERATIONS} operations"
            )));
        }
        for (i, op) in operations.iter().enumerate() {
            if let Operation::Transfer {
                source, destination, ..
            } = op
            {
                if source == destination {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: a transfer needs two different wallets"
                    )));
                }
            }
        }
        Ok(Self {
            reference_id,
            operations,
            description,
        })
    }
}

/// Why a recorded transaction failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    WrongWalletStatus(String),
    InsufficientFunds(String),
    Invalid(String),
}

impl FailReason {
    /// The error status stored with the transaction.
    pub fn code(&self) -> &'static str {
        match self {
            FailReason::WrongWalletStatus(_) => "WRONG_WALLET_STATUS",
            FailReason::InsufficientFunds(_) => "INSUFFICIENT_FUNDS",
            FailReason::Invalid(_) => "VALIDATION_ERROR",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            FailReason::WrongWalletStatus(m) | FailReason::InsufficientFunds(m) | FailReason::Invalid(m) => m,
        }
    }
}

/// What became of a transaction request.
#[derive(Debug, Clone)]
pub enum TransactionOutcome {
    Completed(TransactionRow),
    Failed(TransactionRow, FailReason),
    /// The reference id was used before: nothing was applied now; this is the
    /// stored transaction.
    Duplicate(TransactionRow),
}

/// One planned ledger line.
struct Line {
    wallet: i64,
    kind: EntryKind,
    amount: i64,
    balance_after: i64,
}

impl Ledger {
    pub async fn post_transaction(
        &self,
        poster: &Poster,
        request: TransactionRequest,
    ) -> Result<TransactionOutcome, LedgerError> {
        let poster = poster.clone();
        self.store
            .write(move |tx| {
                poster.admit(tx)?;
                apply(tx, &poster, &request)
            })
            .await
    }

    /// Applies independent transactions, each all-or-nothing on its own, in
    /// one writer job: one commit (one fsync) for all of them.
    pub async fn post_batch(
        &self,
        poster: &Poster,
        requests: Vec<TransactionRequest>,
    ) -> Result<Vec<Result<TransactionOutcome, LedgerError>>, LedgerError> {
        let poster = poster.clone();
        self.store
            .write(move |tx| {
                // Once for the batch: one poster, one job, one transaction.
                poster.admit(tx)?;
                let mut outcomes = Vec::with_capacity(requests.len());
                for request in &requests {
                    // No savepoint per transaction: `apply` checks everything
                    // before it writes, so a refused or failed transaction
                    // wrote nothing of its own (a savepoint each made a batch
                    // quadratic in SQLite's sub-journal). A database failure
                    // fails the whole batch, and nothing of it is applied.
                    match apply(tx, &poster, request) {
                        Err(LedgerError::Storage(e)) => return Err(LedgerError::Storage(e)),
                        outcome => outcomes.push(outcome),
                    }
                }
                Ok(outcomes)
            })
            .await
    }

    pub async fn transaction(&self, poster: &Poster, id: i64) -> Result<TransactionRow, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| {
                r.transaction(&project, id)?
                    .ok_or(LedgerError::NotFound(Missing::Transaction))
            })
            .await
    }

    pub async fn transactions(
        &self,
        poster: &Poster,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Paged<TransactionRow>, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| Ok(r.transactions_page(&project, range, page)?))
            .await
    }
}

fn apply(
    tx: &WriteTx<'_>,
    poster: &Poster,
    request: &TransactionRequest,
) -> Result<TransactionOutcome, LedgerError> {
    let project = poster.project_id.as_str();
    let read = tx.read();
    if let Some(existing) = read.transaction_by_reference(project, request.reference_id.as_str())? {
        return Ok(TransactionOutcome::Duplicate(existing));
    }
    // Unknown wallets make the request invalid: nothing is recorded.
    let mut wallets: HashMap<i64, WalletRow> = HashMap::new();
    for id in request.operations.iter().flat_map(Operation::wallets) {
        if let std::collections::hash_map::Entry::Vacant(slot) = wallets.entry(id) {
            slot.insert(
                read.wallet(project, id)?
                    .ok_or(LedgerError::NotFound(Missing::Wallet))?,
            );
        }
    }
    let now = clock::now_ms();
    let operations = serde_json::to_string(&request.operations)
        .map_err(|e| LedgerError::Invalid(format!("operations: {e}")))?;
    let mut record = NewTransaction {
        project_id: project,
        reference_id: Some(request.reference_id.as_str()),
        authority: poster.authority,
        completed: true,
        error: None,
        description: request.description.as_ref().map(Text::as_str),
        operations: Some(&operations),
        created_at: now,
    };
    // Everything is checked before the first write, so the writes below can
    // only fail if the database does (and then the whole job rolls back).
    let planned = plan(&request.operations, &mut wallets)
        .map_err(Refusal::Fail)
        .and_then(|lines| Ok((running_totals(tx, poster.authority, &lines)?, lines)));
    let (totals, lines) = match planned {
        Ok(planned) => planned,
        Err(Refusal::Storage(e)) => return Err(e.into()),
        Err(Refusal::Fail(reason)) => {
            record.completed = false;
            record.error = Some(reason.code());
            let id = tx.insert_transaction(&record)?;
            let row = read
                .transaction(project, id)?
                .ok_or(LedgerError::NotFound(Missing::Transaction))?;
            return Ok(TransactionOutcome::Failed(row, reason));
        }
    };
    let transaction = tx.insert_transaction(&record)?;
    for line in &lines {
        tx.append_entry(&NewEntry {
            wallet: line.wallet,
            transaction,
            authority: poster.authority,
            kind: line.kind,
            amount: line.amount,
            balance_after: line.balance_after,
            reason: record.description,
            created_at: now,
        })?;
    }
    for (wallet, total) in totals {
        tx.set_authority_total(wallet, poster.authority, total)?;
    }
    let row = read
        .transaction(project, transaction)?
        .ok_or(LedgerError::NotFound(Missing::Transaction))?;
    Ok(TransactionOutcome::Completed(row))
}

/// Why a plan stops: the transaction fails (and is recorded), or the
/// database failed under it.
enum Refusal {
    Fail(FailReason),
    Storage(crate::storage::StorageError),
}

impl From<FailReason> for Refusal {
    fn from(reason: FailReason) -> Self {
        Refusal::Fail(reason)
    }
}

impl From<crate::storage::StorageError> for Refusal {
    fn from(e: crate::storage::StorageError) -> Self {
        Refusal::Storage(e)
    }
}

/// The poster's running total in each wallet after the lines. A total is
/// bookkeeping for API v1's per-authority view, kept in i128: it may pass
/// i64 on a legal ledger (an authority issuing again what another redeemed),
/// and must not stop a legal issue. Only past about ±2^127, which takes 2^63
/// entries, would a transaction fail for it.
fn running_totals(tx: &WriteTx<'_>, authority: i64, lines: &[Line]) -> Result<HashMap<i64, i128>, Refusal> {
    let mut totals: HashMap<i64, i128> = HashMap::new();
    for line in lines {
        let total = match totals.get(&line.wallet) {
            Some(total) => *total,
            None => tx.authority_total(line.wallet, authority)?.unwrap_or(0),
        };
        let total = total
            .checked_add(i128::from(line.amount))
            .filter(|t| crate::storage::split_total(*t).is_some())
            .ok_or_else(|| {
                FailReason::Invalid(format!(
                    "wallet {}: this authority's running total would pass the largest amount",
                    line.wallet
                ))
            })?;
        totals.insert(line.wallet, total);
    }
    Ok(totals)
}

/// Runs the operations in order on in-memory balances. Returns the ledger
/// lines of a transaction that fully succeeds, or why it fails.
fn plan(operations: &[Operation], wallets: &mut HashMap<i64, WalletRow>) -> Result<Vec<Line>, FailReason> {
    let mut lines = Vec::with_capacity(operations.len() * 2);
    for (i, op) in operations.iter().enumerate() {
        for id in op.wallets() {
            usable(i, wallets.get(&id))?;
        }
        match *op {
            Operation::Issue { destination, amount } => {
                lines.push(credit(i, wallets, destination, amount.get(), EntryKind::Issue)?);
            }
            Operation::Redeem { source, amount } => {
                lines.push(debit(i, wallets, source, amount.get(), EntryKind::Redeem)?);
            }
            Operation::Transfer {
                source,
                destination,
                amount,
            } => {
                let assets = (
                    wallets.get(&source).map(|w| w.asset_id),
                    wallets.get(&destination).map(|w| w.asset_id),
                );
                if assets.0 != assets.1 {
                    return Err(FailReason::Invalid(format!(
                        "operation {i}: wallets {source} and {destination} hold different assets"
                    )));
                }
                lines.push(debit(i, wallets, source, amount.get(), EntryKind::Transfer)?);
                lines.push(credit(
                    i,
                    wallets,
                    destination,
                    amount.get(),
                    EntryKind::Transfer,
                )?);
            }
        }
    }
    Ok(lines)
}

fn usable(i: usize, wallet: Option<&WalletRow>) -> Result<(), FailReason> {
    let wallet = wallet.ok_or_else(|| FailReason::Invalid(format!("operation {i}: unknown wallet")))?;
    if wallet.status != WalletStatus::Open {
        return Err(FailReason::WrongWalletStatus(format!(
            "operation {i}: wallet {} is {}",
            wallet.id,
            wallet.status.as_str()
        )));
    }
    if let Some(status) = wallet.customer_status.filter(|s| *s != CustomerStatus::Active) {
        return Err(FailReason::WrongWalletStatus(format!(
            "operation {i}: the customer of wallet {} is {}",
            wallet.id,
            status.as_str()
        )));
    }
    Ok(())
}

fn credit(
    i: usize,
    wallets: &mut HashMap<i64, WalletRow>,
    id: i64,
    amount: i64,
    kind: EntryKind,
) -> Result<Line, FailReason> {
    let wallet = wallets
        .get_mut(&id)
        .ok_or_else(|| FailReason::Invalid(format!("operation {i}: unknown wallet")))?;
    let balance_after = wallet.balance.checked_add(amount).ok_or_else(|| {
        FailReason::Invalid(format!(
            "operation {i}: wallet {id}'s balance would pass the largest amount"
        ))
    })?;
    wallet.balance = balance_after;
    Ok(Line {
        wallet: id,
        kind,
        amount,
        balance_after,
    })
}

fn debit(
    i: usize,
    wallets: &mut HashMap<i64, WalletRow>,
    id: i64,
    amount: i64,
    kind: EntryKind,
) -> Result<Line, FailReason> {
    let wallet = wallets
        .get_mut(&id)
        .ok_or_else(|| FailReason::Invalid(format!("operation {i}: unknown wallet")))?;
    let balance_after = wallet.balance - amount;
    if balance_after < 0 {
        return Err(FailReason::InsufficientFunds(format!(
            "operation {i}: wallet {id} holds {} but {amount} would leave it",
            wallet.balance
        )));
    }
    wallet.balance = balance_after;
    Ok(Line {
        wallet: id,
        kind,
        amount: -amount,
        balance_after,
    })
}
