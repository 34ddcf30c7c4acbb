//! API v1's operations: signed entries in a user's default wallet of the
//! project's default asset, optionally carrying an inventory item.

use super::{checked_add, Ledger, LedgerError, Missing, Poster};
use crate::clock;
use crate::domain::{Amount, CustomerId, ItemName, Reason};
use crate::storage::{
    CustomerStatus, EntryKind, InventoryFilter, InventoryRow, ItemUse, NewEntry, NewTransaction,
    StorageError, V1EntryRow, WalletStatus, WalletTotalRow, WalletTotalsFilter,
};

/// An item given with an entry.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub name: ItemName,
    /// Any JSON value, as JSON text.
    pub data: Option<String>,
}

/// A validated `POST /api/v1/entry`.
#[derive(Debug, Clone)]
pub struct V1EntryRequest {
    pub user: CustomerId,
    pub amount: Amount,
    pub reason: Reason,
    pub item: Option<NewItem>,
}

impl Ledger {
    /// Posts one signed entry. A spend is checked against the balance inside
    /// the writer, so concurrent spends can never overdraw.
    pub async fn post_v1_entry(
        &self,
        poster: &Poster,
        request: V1EntryRequest,
    ) -> Result<V1EntryRow, LedgerError> {
        let poster = poster.clone();
        self.store
            .write(move |tx| {
                poster.admit(tx)?;
                let now = clock::now_ms();
                let project = poster.project_id.as_str();
                let customer = tx.ensure_customer(project, &request.user, now)?;
                if customer.status != CustomerStatus::Active {
                    return Err(LedgerError::WrongStatus(format!(
                        "user {} is {}",
                        request.user,
                        customer.status.as_str()
                    )));
                }
                let wallet = tx.ensure_default_wallet(project, customer.rowid, poster.default_asset, now)?;
                if wallet.status != WalletStatus::Open {
                    return Err(LedgerError::WrongStatus(format!(
                        "the wallet of user {} is {}",
                        request.user,
                        wallet.status.as_str()
                    )));
                }
                let amount = request.amount.get();
                let balance_after = checked_add(wallet.balance, amount)?;
                if balance_after < 0 {
                    return Err(LedgerError::InsufficientFunds);
                }
                // i128: what one authority put into a wallet may pass i64
                // while the balance does not (another authority redeemed it).
                let authority_total = tx
                    .authority_total(wallet.rowid, poster.authority)?
                    .unwrap_or(0)
                    .checked_add(i128::from(amount))
                    .filter(|t| crate::storage::split_total(*t).is_some())
                    .ok_or(LedgerError::Overflow)?;
                let kind = if amount < 0 {
                    EntryKind::Redeem
                } else {
                    EntryKind::Issue
                };
                // The same shape API v2 shows: one Issue or Redeem of the magnitude.
                let side = if amount < 0 { "source" } else { "destination" };
                let operations = serde_json::json!([{
                    "type": kind.as_str(),
                    side: wallet.rowid.to_string(),
                    "amount": amount.unsigned_abs(),
                }])
                .to_string();
                let transaction = tx.insert_transaction(&NewTransaction {
                    project_id: project,
                    reference_id: None,
                    authority: poster.authority,
                    completed: true,
                    error: None,
                    description: Some(request.reason.as_str()),
                    operations: Some(&operations),
                    created_at: now,
                })?;
                let entry = tx.append_entry(&NewEntry {
                    wallet: wallet.rowid,
                    transaction,
                    authority: poster.authority,
                    kind: if amount < 0 {
                        EntryKind::Redeem
                    } else {
                        EntryKind::Issue
                    },
                    amount,
                    balance_after,
                    reason: Some(request.reason.as_str()),
                    created_at: now,
                })?;
                tx.set_authority_total(wallet.rowid, poster.authority, authority_total)?;
                if let Some(item) = &request.item {
                    tx.insert_item(entry, item.name.as_str(), item.data.as_deref())?;
                }
                Ok(tx.v1_entry(entry)?.ok_or(StorageError::Corrupt("entries.id"))?)
            })
            .await
    }

    /// Marks the item of an entry used. Any authority of the entry's project
    /// may do so; an unknown entry or one without an item is `NotFound`.
    pub async fn use_v1_item(&self, poster: &Poster, entry: i64) -> Result<V1EntryRow, LedgerError> {
        let poster = poster.clone();
        self.store
            .write(move |tx| {
                poster.admit(tx)?;
                match tx.use_item(&poster.project_id, entry)? {
                    ItemUse::NoSuchItem => Err(LedgerError::NotFound(Missing::Item)),
                    ItemUse::AlreadyUsed => {
                        Err(LedgerError::Conflict("the item has already been used".to_owned()))
                    }
                    ItemUse::Marked => Ok(tx.v1_entry(entry)?.ok_or(StorageError::Corrupt("entries.id"))?),
                }
            })
            .await
    }

    pub async fn v1_wallet_totals(
        &self,
        poster: &Poster,
        filter: WalletTotalsFilter,
    ) -> Result<Vec<WalletTotalRow>, LedgerError> {
        let (project, asset) = (poster.project_id.clone(), poster.default_asset);
        self.store
            .read(move |r| Ok(r.v1_wallet_totals(&project, asset, &filter)?))
            .await
    }

    pub async fn v1_inventory(
        &self,
        poster: &Poster,
        filter: InventoryFilter,
    ) -> Result<Vec<InventoryRow>, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| Ok(r.v1_inventory(&project, &filter)?))
            .await
    }
}
