//! Holds beyond posting: reading them, a wallet's balance at a time, its
//! credit limit, and what the server does by itself — expiring holds whose
//! time ran out — and what the operator may do: void one.

use super::access::{authorize, readable_wallet, recheck};
use super::admin::maintenance_on;
use super::lots::shown;
use super::posting::{post_as, TransactionOutcome};
use super::Ledger;
use crate::ids::WalletId;
use crate::model::{Hold, HoldStatus, Millis, Page, PageRequest, Wallet};
use crate::operation::Operation;
use crate::policy::{Action, Caller};
use crate::text::HoldId;
use crate::{LedgerError, Missing};

/// Most credit a wallet may be given: 2^62 smallest parts, so that
/// `balance + credit_limit` of any wallet fits in an `i64` with room to
/// spare.
pub const MAX_CREDIT_LIMIT: i64 = 1 << 62;

/// Most expiries one pass posts; the next pass takes the rest.
const EXPIRY_BATCH: u32 = 256;

impl Ledger {
    /// A hold of the caller's project that the caller may read (the source
    /// wallet owner's customer key, or an authority).
    pub async fn hold(&self, caller: &Caller, id: HoldId) -> Result<Hold, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let hold = r
                    .hold(caller.project_id(), &id)?
                    .ok_or_else(|| not_found(&caller))?;
                readable_wallet(r, &caller, hold.source).map_err(|e| match e {
                    // The hold exists but its wallet is not the caller's:
                    // answered like a missing hold.
                    LedgerError::NotFound(Missing::Wallet) => not_found(&caller),
                    other => other,
                })?;
                Ok(hold)
            })
            .await
    }

    /// A wallet's holds (as source), newest first.
    pub async fn wallet_holds(
        &self,
        caller: &Caller,
        wallet: WalletId,
        status: Option<HoldStatus>,
        page: PageRequest,
    ) -> Result<Page<Hold>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                readable_wallet(r, &caller, wallet)?;
                Ok(r.wallet_holds(wallet, status, page)?)
            })
            .await
    }

    /// The wallet's posted balance after every entry with `created_at <= at`
    /// (0 before its first).
    pub async fn balance_at(
        &self,
        caller: &Caller,
        wallet: WalletId,
        at: Millis,
    ) -> Result<i64, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                readable_wallet(r, &caller, wallet)?;
                Ok(r.balance_at(wallet, at)?.unwrap_or(0))
            })
            .await
    }

    /// Sets how far below zero a wallet's balance may go. A limit below what
    /// the wallet already uses (`-(balance - held)`) is a conflict.
    pub async fn set_credit_limit(
        &self,
        caller: &Caller,
        wallet: WalletId,
        limit: i64,
    ) -> Result<Wallet, LedgerError> {
        authorize(caller, Action::ManageWallets)?;
        if !(0..=MAX_CREDIT_LIMIT).contains(&limit) {
            return Err(LedgerError::Invalid(format!(
                "creditLimit must be an integer from 0 to {MAX_CREDIT_LIMIT}"
            )));
        }
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                recheck(tx, &caller, clock.now())?;
                let project = caller.project_id();
                let current = tx
                    .lock_wallets(project, &[wallet])?
                    .pop()
                    .ok_or(LedgerError::NotFound(Missing::Wallet))?;
                if !tx.set_credit_limit(wallet, limit)? {
                    // The port refuses for either of two reasons; say which.
                    if i128::from(current.balance) + i128::from(limit) > i128::from(i64::MAX) {
                        return Err(LedgerError::Conflict(format!(
                            "wallet {wallet} holds {}; with a credit limit of {limit} its available \
                             value would pass the largest amount",
                            current.balance
                        )));
                    }
                    return Err(LedgerError::Conflict(format!(
                        "wallet {wallet} uses {} below zero (balance {} minus held {}); \
                         its credit limit cannot be less",
                        -(i128::from(current.balance) - i128::from(current.held)).min(0),
                        current.balance,
                        current.held
                    )));
                }
                let wallet = tx
                    .wallet(project, wallet)?
                    .ok_or(LedgerError::NotFound(Missing::Wallet))?;
                shown(tx, wallet)
            })
            .await
    }

    /// The operator voids a hold (from the admin page): a transaction of the
    /// project's system authority.
    ///
    /// Refused in maintenance ([`LedgerError::Maintenance`]), read in the
    /// write's own transaction as `recheck` reads it for every poster: while
    /// the switch is on no transaction commits, so the history of a project
    /// being exported stands still. (The operator's other writes — settings,
    /// credentials — go on; the switch is theirs to turn off first.)
    pub async fn void_hold_as_operator(
        &self,
        caller: &Caller,
        hold: HoldId,
    ) -> Result<TransactionOutcome, LedgerError> {
        if !matches!(caller, Caller::Operator(_)) {
            return Err(LedgerError::AccessDenied(
                "only the operator voids holds this way",
            ));
        }
        let project = caller.project_id().to_owned();
        let description = format!("hold {hold} voided by the operator");
        self.post_system(
            project,
            vec![Operation::Void { hold }],
            description,
            Maintenance::Refuse,
        )
        .await
    }

    /// When the soonest Open hold expires, if any hold does.
    pub async fn next_hold_expiry(&self) -> Result<Option<Millis>, LedgerError> {
        self.store.read(|r| Ok(r.next_hold_expiry()?)).await
    }

    /// Expires every Open hold whose `expires_at` has come, each in a
    /// transaction of its own (`referenceId` null, description
    /// `hold <id> expired`). Returns how many it expired. Safe to run from
    /// several processes at once: each expiry locks its hold, and one that
    /// another process expired first is left alone.
    pub async fn expire_due_holds(&self) -> Result<usize, LedgerError> {
        let now = self.now();
        let due = self
            .store
            .read(move |r| Ok::<_, LedgerError>(r.due_holds(now, EXPIRY_BATCH)?))
            .await?;
        let expiries = due.into_iter().map(|(project, hold)| {
            let description = format!("hold {hold} expired");
            (project, vec![Operation::ExpireHold { hold }], description)
        });
        self.post_expiries(expiries).await
    }

    /// Posts each expiry in a transaction of its own; returns how many
    /// applied. One that no longer applies — expired, captured, voided or
    /// spent by another writer meanwhile — is left alone.
    pub(super) async fn post_expiries(
        &self,
        expiries: impl Iterator<Item = (String, Vec<Operation>, String)>,
    ) -> Result<usize, LedgerError> {
        let mut expired = 0;
        for (project, operations, description) in expiries {
            match self
                .post_system(project, operations, description, Maintenance::Proceed)
                .await
            {
                Ok(_) => expired += 1,
                Err(LedgerError::Rejected(_) | LedgerError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(expired)
    }

    /// Posts what the server does by itself (or the operator through it),
    /// as the project's system authority. A planned failure is not recorded
    /// (nothing asked for it): it is `LedgerError::Rejected`.
    pub(super) async fn post_system(
        &self,
        project: String,
        operations: Vec<Operation>,
        description: String,
        maintenance: Maintenance,
    ) -> Result<TransactionOutcome, LedgerError> {
        let clock = self.clock.clone();
        self.write_events(project.clone(), move |tx, out| {
            if maintenance == Maintenance::Refuse && maintenance_on(tx)? {
                return Err(LedgerError::Maintenance);
            }
            let now = clock.now();
            let authority = tx.system_authority(&project, now)?;
            post_as(
                tx,
                out,
                &project,
                authority,
                None,
                &operations,
                Some(&description),
                clock.as_ref(),
            )
        })
        .await
    }
}

/// Whether a server-posted transaction is refused while maintenance is on:
/// the operator's voids are, expiries are not (time passes in maintenance
/// too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Maintenance {
    Refuse,
    Proceed,
}

fn not_found(caller: &Caller) -> LedgerError {
    match caller {
        Caller::Customer(_) => LedgerError::AccessDenied(crate::policy::NOT_YOURS.0),
        _ => LedgerError::NotFound(Missing::Hold),
    }
}
