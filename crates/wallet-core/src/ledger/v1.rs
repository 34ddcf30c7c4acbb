//! API v1's reads and its one other write: using an item, which is a
//! ConsumeItem of the item the entry granted (the same item API v2 shows).

use super::access::{authorize, poster, recheck};
use super::posting::post_as;
use super::Ledger;
use crate::ids::EntryId;
use crate::operation::Operation;
use crate::planner::FailReason;
use crate::policy::{Action, Caller};
use crate::v1::{InventoryFilter, InventoryLine, V1Entry, WalletTotal, WalletTotalsFilter};
use crate::{LedgerError, Missing, StoreError};

impl Ledger {
    /// Uses (consumes) the item an entry granted, wherever it is now. Any
    /// authority of the entry's project may do so; an unknown entry or one
    /// without an item is `NotFound`, a consumed item a conflict.
    pub async fn use_v1_item(&self, caller: &Caller, entry: EntryId) -> Result<V1Entry, LedgerError> {
        let authority = poster(caller)?.authority;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            recheck(tx, &caller, clock.now())?;
            let project = caller.project_id();
            let item = tx
                .item_of_v1_entry(project, entry)?
                .ok_or(LedgerError::NotFound(Missing::ItemEntry))?;
            let consume = [Operation::ConsumeItem {
                item: item.id,
                from: None,
            }];
            let description = format!("use_item of entry {entry}");
            match post_as(
                tx,
                out,
                project,
                authority,
                None,
                &consume,
                Some(&description),
                clock.as_ref(),
            ) {
                Err(LedgerError::Rejected(FailReason::WrongItemStatus { .. })) => {
                    return Err(LedgerError::Conflict("the item has already been used".to_owned()))
                }
                Err(LedgerError::Rejected(FailReason::CustomerNotActive { customer, status })) => {
                    return Err(LedgerError::WrongStatus(format!(
                        "the item's owner {customer} is {status}"
                    )))
                }
                other => other?,
            };
            Ok(tx
                .v1_entry(entry)?
                .ok_or_else(|| StoreError::Internal("a used item's entry is missing".to_owned()))?)
        })
        .await
    }

    /// Per user, the sum of the (filtered) authorities' entries in the user's
    /// default wallet.
    pub async fn v1_wallet_totals(
        &self,
        caller: &Caller,
        filter: WalletTotalsFilter,
    ) -> Result<Vec<WalletTotal>, LedgerError> {
        authorize(caller, Action::ReadTransactions)?;
        let project = caller.project_id().to_owned();
        let asset = match caller {
            Caller::Authority(a) => a.default_asset,
            Caller::Operator(o) => o.default_asset,
            Caller::Customer(_) => return Err(LedgerError::AccessDenied("customer keys are read-only")),
        };
        self.store
            .read(move |r| Ok(r.v1_wallet_totals(&project, asset, &filter)?))
            .await
    }

    pub async fn v1_inventory(
        &self,
        caller: &Caller,
        filter: InventoryFilter,
    ) -> Result<Vec<InventoryLine>, LedgerError> {
        authorize(caller, Action::ReadTransactions)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| Ok(r.v1_inventory(&project, &filter)?))
            .await
    }
}
