//! The ledger's answers the suite matches on, each named once.
//!
//! The core's API may still move (error variants merged or renamed); every
//! conformance test asks these functions instead of matching on the core's
//! enums itself, so such a change is one line here.

use wallet_core::model::{Hold, Transaction};
use wallet_core::planner::{FailCode, FailReason, Failure};
use wallet_core::{LedgerError, Missing, StoreError, Touched, TransactionOutcome};

/// The credential stopped being valid (revoked, expired, its customer
/// deleted) before the write committed.
pub fn is_lapsed(e: &LedgerError) -> bool {
    matches!(e, LedgerError::Credential(_))
}

/// The maintenance switch was on when the write ran.
pub fn is_maintenance(e: &LedgerError) -> bool {
    matches!(e, LedgerError::Maintenance)
}

/// Not in the caller's project (what an authority or the operator hears).
pub fn is_not_found(e: &LedgerError, what: Missing) -> bool {
    matches!(e, LedgerError::NotFound(m) if *m == what)
}

/// The policy refused: the text, to compare two refusals word for word.
pub fn denial(e: &LedgerError) -> Option<&'static str> {
    match e {
        LedgerError::AccessDenied(why) => Some(why),
        _ => None,
    }
}

/// An API v1 entry the planner refused, and why.
pub fn rejection(e: &LedgerError) -> Option<FailReason> {
    match e {
        LedgerError::Rejected(reason) => Some(reason.clone()),
        _ => None,
    }
}

/// A v1 entry refused for lack of funds.
pub fn is_insufficient_funds(e: &LedgerError) -> bool {
    matches!(rejection(e), Some(FailReason::InsufficientFunds { .. }))
}

/// The request conflicts with the state (an item used, an id taken).
pub fn is_conflict(e: &LedgerError) -> bool {
    conflict(e).is_some()
}

/// What a conflict says, to tell two conflicts apart.
pub fn conflict(e: &LedgerError) -> Option<&str> {
    match e {
        LedgerError::Conflict(why) => Some(why),
        _ => None,
    }
}

/// A customer or wallet in a status that does not allow this.
pub fn is_wrong_status(e: &LedgerError) -> bool {
    matches!(
        e,
        LedgerError::WrongStatus(_) | LedgerError::ChangeWalletStatus(_)
    )
}

pub fn is_asset_used(e: &LedgerError) -> bool {
    matches!(e, LedgerError::AssetIsUsed)
}

pub fn is_customer_has_active_wallets(e: &LedgerError) -> bool {
    matches!(e, LedgerError::CustomerHasActiveWallets)
}

/// The store could not take the write (a full disk, a lost connection).
pub fn is_unavailable(e: &LedgerError) -> bool {
    matches!(e, LedgerError::Storage(StoreError::Unavailable(_)))
}

/// The transaction of a Completed outcome; panics on any other.
pub fn completed(outcome: TransactionOutcome) -> Transaction {
    completed_with_holds(outcome).0
}

/// The transaction of a Completed outcome and the holds it placed or
/// changed; panics on any other.
pub fn completed_with_holds(outcome: TransactionOutcome) -> (Transaction, Vec<Hold>) {
    let (t, touched) = completed_touching(outcome);
    (t, touched.holds)
}

/// The transaction of a Completed outcome and the holds and items it
/// touched; panics on any other.
pub fn completed_touching(outcome: TransactionOutcome) -> (Transaction, Touched) {
    match outcome {
        TransactionOutcome::Completed(t, touched) => (t, touched),
        other => panic!("expected Completed, got {other:?}"),
    }
}

/// The request was refused as invalid before anything was recorded.
pub fn is_invalid(e: &LedgerError) -> bool {
    matches!(e, LedgerError::Invalid(_))
}

/// The transaction and failure of a Failed outcome with `code`; panics on
/// any other.
pub fn failed(outcome: TransactionOutcome, code: FailCode) -> (Transaction, Failure) {
    match outcome {
        TransactionOutcome::Failed(t, f) if f.reason.code() == code => {
            assert_eq!(t.error.as_deref(), Some(code.as_str()), "the stored code");
            (t, f)
        }
        other => panic!("expected Failed {}, got {other:?}", code.as_str()),
    }
}

/// The stored transaction of a Duplicate outcome; panics on any other.
pub fn duplicate(outcome: TransactionOutcome) -> Transaction {
    duplicate_with_holds(outcome).0
}

/// The stored transaction of a Duplicate outcome and the holds it placed;
/// panics on any other.
pub fn duplicate_with_holds(outcome: TransactionOutcome) -> (Transaction, Vec<Hold>) {
    let (t, touched) = duplicate_touching(outcome);
    (t, touched.holds)
}

/// The stored transaction of a Duplicate outcome and the holds and items
/// it touched; panics on any other.
pub fn duplicate_touching(outcome: TransactionOutcome) -> (Transaction, Touched) {
    match outcome {
        TransactionOutcome::Duplicate(t, touched) => (t, touched),
        other => panic!("expected Duplicate, got {other:?}"),
    }
}
