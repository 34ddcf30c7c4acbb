//! API v1's reads and its one other write: using an item.

use super::access::{authorize, poster, recheck};
use super::Ledger;
use crate::ids::EntryId;
use crate::policy::{Action, Caller};
use crate::port::ItemUse;
use crate::v1::{InventoryFilter, InventoryLine, V1Entry, WalletTotal, WalletTotalsFilter};
use crate::{LedgerError, Missing, StoreError};

impl Ledger {
    /// Marks the item of an entry used. Any authority of the entry's project
    /// may do so; an unknown entry or one without an item is `NotFound`.
    pub async fn use_v1_item(&self, caller: &Caller, entry: EntryId) -> Result<V1Entry, LedgerError> {
        poster(caller)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                recheck(tx, &caller, clock.now())?;
                match tx.mark_item_used(caller.project_id(), entry)? {
                    ItemUse::NoSuchItem => Err(LedgerError::NotFound(Missing::Item)),
                    ItemUse::AlreadyUsed => {
                        Err(LedgerError::Conflict("the item has already been used".to_owned()))
                    }
                    ItemUse::Marked => Ok(tx
                        .v1_entry(entry)?
                        .ok_or_else(|| StoreError::Internal("a used item's entry is missing".to_owned()))?),
                }
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
