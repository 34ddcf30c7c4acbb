//! Items beyond posting: reading an item, an owner's items, the project's
//! stock, and an item's history. Granting, moving, consuming and changing
//! items are operations of a transaction (see `posting`).

use super::access::{authorize, readable_customer, readable_item};
use super::Ledger;
use crate::model::{Item, ItemFilter, ItemStep, Page, PageRequest};
use crate::policy::{Action, Caller};
use crate::text::ItemId;
use crate::LedgerError;

impl Ledger {
    /// An item of the caller's project that the caller may read (its owner's
    /// customer key, or an authority).
    pub async fn item(&self, caller: &Caller, id: ItemId) -> Result<Item, LedgerError> {
        let caller = caller.clone();
        self.store.read(move |r| readable_item(r, &caller, &id)).await
    }

    /// A customer's items, oldest first.
    pub async fn customer_items(
        &self,
        caller: &Caller,
        customer: String,
        filter: ItemFilter,
        page: PageRequest,
    ) -> Result<Page<Item>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let customer = readable_customer(r, &caller, &customer)?;
                Ok(r.owner_items(caller.project_id(), Some(customer.rowid), &filter, page)?)
            })
            .await
    }

    /// The project's stock: items no customer owns, oldest first.
    pub async fn stock_items(
        &self,
        caller: &Caller,
        filter: ItemFilter,
        page: PageRequest,
    ) -> Result<Page<Item>, LedgerError> {
        authorize(caller, Action::ReadStock)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| Ok(r.owner_items(&project, None, &filter, page)?))
            .await
    }

    /// An item's history, oldest step first: readable by whoever may read
    /// the item now.
    pub async fn item_history(
        &self,
        caller: &Caller,
        id: ItemId,
        page: PageRequest,
    ) -> Result<Page<ItemStep>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                readable_item(r, &caller, &id)?;
                Ok(r.item_history(caller.project_id(), &id, page)?)
            })
            .await
    }
}
