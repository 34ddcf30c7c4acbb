//! Access inside jobs: the caller's credential checked again where the write
//! commits, and the one way a job finds a resource the caller may see.

use super::admin::maintenance_on;
use crate::ids::{AssetId, CustomerRowId, WalletId};
use crate::model::{Asset, Customer, CustomerStatus, Item, Millis, Wallet};
use crate::policy::{self, Action, AuthorityCaller, Caller, CustomerCredential};
use crate::port::ReadTx;
use crate::text::ItemId;
use crate::{Lapse, LedgerError, Missing};

/// Asks the policy; a refusal is `AccessDenied`.
pub(super) fn authorize(caller: &Caller, action: Action) -> Result<(), LedgerError> {
    policy::authorize(caller, action).map_err(|denied| LedgerError::AccessDenied(denied.0))
}

/// The authority behind a caller that posts: only authorities post.
pub(super) fn poster(caller: &Caller) -> Result<&AuthorityCaller, LedgerError> {
    authorize(caller, Action::PostTransactions)?;
    match caller {
        Caller::Authority(a) => Ok(a),
        _ => Err(LedgerError::AccessDenied("only an authority posts transactions")),
    }
}

/// The write may go ahead, checked in the write's own transaction, at its
/// start:
/// - the maintenance switch is off, as the database holds it now: a
///   process whose flag in memory has not yet heard of a switch made by
///   another process refuses all the same ([`LedgerError::Maintenance`]);
/// - the credential the request was authenticated with is still valid: a
///   revocation (or an expiry, or a customer's deletion) that committed
///   before this write is seen, so no write by a credential commits after
///   its revocation.
///
/// The operator's writes pass both: the switch is the operator's (the admin
/// API turns it off again), and an admin session was checked on arrival.
pub(super) fn recheck(r: &mut dyn ReadTx, caller: &Caller, now: Millis) -> Result<(), LedgerError> {
    if matches!(caller, Caller::Operator(_)) {
        return Ok(());
    }
    if maintenance_on(r)? {
        return Err(LedgerError::Maintenance);
    }
    let lapsed = |at: Option<Millis>| -> Result<(), LedgerError> {
        match at {
            Some(at) if at <= now => Err(LedgerError::Credential(Lapse::Expired)),
            _ => Ok(()),
        }
    };
    let live = match caller {
        Caller::Operator(_) => return Ok(()),
        Caller::Authority(a) => {
            lapsed(a.expires_at)?;
            authority_live(r, a.authority)?
        }
        Caller::Customer(c) => {
            lapsed(c.expires_at)?;
            match c.credential {
                CustomerCredential::Key(key) => match r.customer_key_by_rowid(key)? {
                    Some(k) => {
                        lapsed(k.expires_at)?;
                        k.revoked_at.is_none() && !k.customer_deleted && k.customer == c.customer
                    }
                    None => false,
                },
                CustomerCredential::Token(authority) => {
                    authority_live(r, authority)?
                        && r.customer(&c.project_id, &c.customer_id)?.is_some_and(|row| {
                            row.rowid == c.customer && row.status != CustomerStatus::Deleted
                        })
                }
            }
        }
    };
    if live {
        Ok(())
    } else {
        Err(LedgerError::Credential(Lapse::Revoked))
    }
}

fn authority_live(r: &mut dyn ReadTx, authority: crate::ids::AuthorityRowId) -> Result<bool, LedgerError> {
    Ok(r.authority_by_rowid(authority)?
        .is_some_and(|row| row.revoked_at.is_none()))
}

/// What a customer caller is answered for anything not its own, found or
/// not; others learn that it is missing.
fn missing(caller: &Caller, what: Missing) -> LedgerError {
    match caller {
        Caller::Customer(_) => LedgerError::AccessDenied(policy::NOT_YOURS.0),
        _ => LedgerError::NotFound(what),
    }
}

/// A wallet of the caller's project that the caller may read.
pub(super) fn readable_wallet(
    r: &mut dyn ReadTx,
    caller: &Caller,
    id: WalletId,
) -> Result<Wallet, LedgerError> {
    let found = r.wallet(caller.project_id(), id)?;
    may_read_wallet(caller, found)
}

/// [`readable_wallet`] with its `expiring` filled, in one statement.
pub(super) fn readable_wallet_with_expiring(
    r: &mut dyn ReadTx,
    caller: &Caller,
    id: WalletId,
) -> Result<Wallet, LedgerError> {
    let found = r.wallet_with_expiring(caller.project_id(), id)?;
    may_read_wallet(caller, found)
}

fn may_read_wallet(caller: &Caller, found: Option<Wallet>) -> Result<Wallet, LedgerError> {
    let wallet = found.ok_or_else(|| missing(caller, Missing::Wallet))?;
    authorize(caller, Action::ReadWallet(wallet.owner_rowid()))?;
    Ok(wallet)
}

/// An item of the caller's project that the caller may read (its owner's
/// customer key, or an authority).
pub(super) fn readable_item(r: &mut dyn ReadTx, caller: &Caller, id: &ItemId) -> Result<Item, LedgerError> {
    let item = r
        .item(caller.project_id(), id)?
        .ok_or_else(|| missing(caller, Missing::Item))?;
    authorize(caller, Action::ReadItem(item.owner.as_ref().map(|o| o.rowid)))?;
    Ok(item)
}

/// A customer of the caller's project that the caller may read.
pub(super) fn readable_customer(
    r: &mut dyn ReadTx,
    caller: &Caller,
    id: &str,
) -> Result<Customer, LedgerError> {
    let customer = r
        .customer(caller.project_id(), id)?
        .ok_or_else(|| missing(caller, Missing::Customer))?;
    authorize(caller, Action::ReadCustomer(customer.rowid))?;
    Ok(customer)
}

/// A wallet of `project`, for jobs whose caller was already authorized.
pub(super) fn wallet_in(r: &mut dyn ReadTx, project: &str, id: WalletId) -> Result<Wallet, LedgerError> {
    r.wallet(project, id)?
        .ok_or(LedgerError::NotFound(Missing::Wallet))
}

pub(super) fn customer_in(r: &mut dyn ReadTx, project: &str, id: &str) -> Result<Customer, LedgerError> {
    r.customer(project, id)?
        .ok_or(LedgerError::NotFound(Missing::Customer))
}

pub(super) fn asset_in(r: &mut dyn ReadTx, project: &str, id: AssetId) -> Result<Asset, LedgerError> {
    r.asset(project, id)?.ok_or(LedgerError::NotFound(Missing::Asset))
}

/// A customer that is not Deleted (deleted customers keep their history but
/// take part in nothing new).
pub(super) fn live_customer(
    r: &mut dyn ReadTx,
    project: &str,
    id: &str,
) -> Result<CustomerRowId, LedgerError> {
    let customer = customer_in(r, project, id)?;
    if customer.status == CustomerStatus::Deleted {
        return Err(LedgerError::NotFound(Missing::Customer));
    }
    Ok(customer.rowid)
}
