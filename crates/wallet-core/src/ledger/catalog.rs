//! Projects, assets, customers and wallets: the rules of the catalog.

use super::access::{
    asset_in, authorize, customer_in, readable_customer, readable_wallet, readable_wallet_with_expiring,
    recheck, wallet_in,
};
use super::events::Outbox;
use super::lots::{shown, shown_page};
use super::Ledger;
use crate::events::EventType;
use crate::ids::CustomerRowId;
use crate::ids::{AssetId, WalletId};
use crate::model::{
    Asset, Customer, CustomerStatus, Entry, NewAsset, Page, PageRequest, Project, TimeRange, Wallet,
    WalletStatus,
};
use crate::policy::{Action, Caller};
use crate::port::{NewWallet, Rechecked, WriteTx};
use crate::text::{AssetCode, CustomerId, ProjectId, Text};
use crate::{wire, LedgerError, Missing};

impl Ledger {
    /// Creates a project with its default asset (`PTS`, whole units). An
    /// operator's act (CLI, admin page), outside any project.
    pub async fn create_project(&self, id: ProjectId, name: Text) -> Result<Project, LedgerError> {
        let clock = self.clock.clone();
        self.store
            .write(move |tx| {
                let now = clock.now();
                if !tx.create_project(id.as_str(), name.as_str(), &NewAsset::default_points(), now)? {
                    return Err(LedgerError::Conflict(format!("project {id} already exists")));
                }
                tx.project(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Project))
            })
            .await
    }

    /// A project by id, for the operator.
    pub async fn project_by_id(&self, id: &ProjectId) -> Result<Project, LedgerError> {
        let id = id.clone();
        self.store
            .read(move |r| {
                r.project(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Project))
            })
            .await
    }

    pub async fn projects(&self) -> Result<Vec<Project>, LedgerError> {
        self.store.read(|r| Ok(r.projects()?)).await
    }

    /// The caller's project and all its assets.
    pub async fn project(&self, caller: &Caller) -> Result<(Project, Vec<Asset>), LedgerError> {
        authorize(caller, Action::ReadProject)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                let row = r
                    .project(&project)?
                    .ok_or(LedgerError::NotFound(Missing::Project))?;
                Ok((row, r.assets(&project, PageRequest::ALL)?.items))
            })
            .await
    }

    pub async fn create_asset(
        &self,
        caller: &Caller,
        code: AssetCode,
        name: Text,
        fractions: i64,
    ) -> Result<Asset, LedgerError> {
        authorize(caller, Action::ManageAssets)?;
        if !(1..=NewAsset::MAX_FRACTIONS).contains(&fractions) {
            return Err(LedgerError::Invalid(
                "fractions must be an integer from 1 to 10^18".to_owned(),
            ));
        }
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            if tx.asset_code_taken(project, code.as_str())? {
                return Err(LedgerError::Conflict(format!(
                    "asset code {code} is taken in this project"
                )));
            }
            let asset = NewAsset {
                code: code.as_str().to_owned(),
                name: name.as_str().to_owned(),
                fractions,
            };
            let id = tx.insert_asset(project, &asset, now)?;
            let asset = asset_in(tx, project, id)?;
            out.push(EventType::AssetCreated, &wire::Asset::from(asset.clone()), [])?;
            Ok(asset)
        })
        .await
    }

    pub async fn assets(&self, caller: &Caller, page: PageRequest) -> Result<Page<Asset>, LedgerError> {
        authorize(caller, Action::ReadAssets)?;
        let project = caller.project_id().to_owned();
        self.store.read(move |r| Ok(r.assets(&project, page)?)).await
    }

    pub async fn asset(&self, caller: &Caller, id: AssetId) -> Result<Asset, LedgerError> {
        authorize(caller, Action::ReadAssets)?;
        let project = caller.project_id().to_owned();
        self.store.read(move |r| asset_in(r, &project, id)).await
    }

    pub async fn rename_asset(&self, caller: &Caller, id: AssetId, name: Text) -> Result<Asset, LedgerError> {
        authorize(caller, Action::ManageAssets)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                recheck(tx, &caller, now)?;
                asset_in(tx, caller.project_id(), id)?;
                tx.rename_asset(id, name.as_str())?;
                asset_in(tx, caller.project_id(), id)
            })
            .await
    }

    /// Deletes an asset that no wallet ever used; never the project's default.
    pub async fn delete_asset(&self, caller: &Caller, id: AssetId) -> Result<(), LedgerError> {
        authorize(caller, Action::ManageAssets)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let asset = asset_in(tx, project, id)?;
            let default = tx.project(project)?.map(|p| p.default_asset);
            if default == Some(asset.id) {
                return Err(LedgerError::Conflict(
                    "the project's default asset cannot be deleted".to_owned(),
                ));
            }
            if asset.used || !tx.delete_unused_asset(id)? {
                return Err(LedgerError::AssetIsUsed);
            }
            out.push(EventType::AssetDeleted, &wire::Asset::from(asset), [])?;
            Ok(())
        })
        .await
    }

    /// Creates a customer, or updates the given fields of an existing one.
    /// Returns the customer and whether it was created.
    pub async fn upsert_customer(
        &self,
        caller: &Caller,
        id: CustomerId,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<(Customer, bool), LedgerError> {
        authorize(caller, Action::ManageCustomers)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let name = name.as_ref().map(Text::as_str);
            let description = description.as_ref().map(Text::as_str);
            let (created, before) = match tx.lock_customer(project, id.as_str())? {
                Some(c) if c.status == CustomerStatus::Deleted => {
                    return Err(LedgerError::Conflict(format!(
                        "customer {id} was deleted; customer ids are not reused"
                    )))
                }
                Some(c) => {
                    tx.update_customer(c.rowid, name, description)?;
                    (false, Some(c))
                }
                None => {
                    if tx
                        .insert_customer(project, id.as_str(), name, description, now)?
                        .is_none()
                    {
                        // Created by a concurrent writer since the lock
                        // found nothing: run again and update it.
                        return Err(
                            crate::StoreError::Retryable(format!("customer {id} was just created")).into(),
                        );
                    }
                    (true, None)
                }
            };
            let customer = customer_in(tx, project, id.as_str())?;
            // An update that changed nothing is no event.
            let kind = match &before {
                None => Some(EventType::CustomerCreated),
                Some(b) if b.name != customer.name || b.description != customer.description => {
                    Some(EventType::CustomerUpdated)
                }
                Some(_) => None,
            };
            if let Some(kind) = kind {
                out.push(kind, &wire::Customer::from(customer.clone()), [customer.rowid])?;
            }
            Ok((customer, created))
        })
        .await
    }

    pub async fn customers(&self, caller: &Caller, page: PageRequest) -> Result<Page<Customer>, LedgerError> {
        authorize(caller, Action::ManageCustomers)?;
        let project = caller.project_id().to_owned();
        self.store.read(move |r| Ok(r.customers(&project, page)?)).await
    }

    pub async fn customer(&self, caller: &Caller, id: CustomerId) -> Result<Customer, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| readable_customer(r, &caller, id.as_str()))
            .await
    }

    /// Suspends a customer and every one of its Open wallets.
    pub async fn suspend_customer(&self, caller: &Caller, id: CustomerId) -> Result<Customer, LedgerError> {
        authorize(caller, Action::ManageCustomers)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            tx.hold_rechecks(Rechecked::Customers)?;
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let customer = tx
                .lock_customer(project, id.as_str())?
                .filter(|c| c.status != CustomerStatus::Deleted)
                .ok_or(LedgerError::NotFound(Missing::Customer))?;
            if customer.status == CustomerStatus::Suspended {
                // Nothing changes (its wallets were suspended with it and
                // none opens while it is): no event.
                return Ok(customer);
            }
            tx.set_customer_status(customer.rowid, CustomerStatus::Suspended)?;
            // The wallets the UPDATE suspended, not a list read before it:
            // on PostgreSQL a wallet opened meanwhile is suspended too.
            let suspended = tx.suspend_open_wallets(customer.rowid)?;
            customer_status_changed(tx, out, project, id.as_str(), &suspended)
        })
        .await
    }

    /// Makes a customer Active again and opens exactly the listed wallets.
    pub async fn resume_customer(
        &self,
        caller: &Caller,
        id: CustomerId,
        wallets: Vec<WalletId>,
    ) -> Result<Customer, LedgerError> {
        authorize(caller, Action::ManageCustomers)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let customer = tx
                .lock_customer(project, id.as_str())?
                .filter(|c| c.status != CustomerStatus::Deleted)
                .ok_or(LedgerError::NotFound(Missing::Customer))?;
            let mut ids = wallets.clone();
            ids.sort_unstable();
            ids.dedup();
            let locked = tx.lock_wallets(project, &ids)?;
            for wallet in &wallets {
                let row = locked
                    .iter()
                    .find(|w| w.id == *wallet && w.owner_rowid() == Some(customer.rowid))
                    .ok_or(LedgerError::NotFound(Missing::Wallet))?;
                if row.status == WalletStatus::Closed {
                    return Err(LedgerError::ChangeWalletStatus(format!(
                        "wallet {wallet} is Closed"
                    )));
                }
            }
            let reopened: Vec<WalletId> = locked
                .iter()
                .filter(|w| w.status != WalletStatus::Open)
                .map(|w| w.id)
                .collect();
            for wallet in &ids {
                tx.set_wallet_status(*wallet, WalletStatus::Open)?;
            }
            if customer.status == CustomerStatus::Active {
                // Already Active: only the wallets it opened changed.
                for wallet in &reopened {
                    wallet_status_changed(tx, out, project, *wallet)?;
                }
                return customer_in(tx, project, id.as_str());
            }
            tx.set_customer_status(customer.rowid, CustomerStatus::Active)?;
            customer_status_changed(tx, out, project, id.as_str(), &reopened)
        })
        .await
    }

    /// Marks a customer Deleted; all its wallets must be Closed (they and
    /// their history are kept).
    pub async fn delete_customer(&self, caller: &Caller, id: CustomerId) -> Result<Customer, LedgerError> {
        authorize(caller, Action::ManageCustomers)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            tx.hold_rechecks(Rechecked::Customers)?;
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let customer = tx
                .lock_customer(project, id.as_str())?
                .ok_or(LedgerError::NotFound(Missing::Customer))?;
            let wallets = tx.customer_wallets(customer.rowid, PageRequest::ALL)?;
            if wallets.items.iter().any(|w| w.status != WalletStatus::Closed) {
                return Err(LedgerError::CustomerHasActiveWallets);
            }
            if customer.status == CustomerStatus::Deleted {
                return Ok(customer);
            }
            tx.set_customer_status(customer.rowid, CustomerStatus::Deleted)?;
            customer_status_changed(tx, out, project, id.as_str(), &[])
        })
        .await
    }

    /// Opens a wallet of `asset` for a customer (who must be Active), or a
    /// system wallet when `owner` is `None`.
    pub async fn create_wallet(
        &self,
        caller: &Caller,
        owner: Option<CustomerId>,
        asset: AssetId,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<Wallet, LedgerError> {
        authorize(caller, Action::ManageWallets)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                recheck(tx, &caller, now)?;
                let project = caller.project_id();
                asset_in(tx, project, asset)?;
                let owner = match &owner {
                    None => None,
                    Some(id) => {
                        let customer = tx
                            .lock_customer(project, id.as_str())?
                            .ok_or(LedgerError::NotFound(Missing::Customer))?;
                        if customer.status != CustomerStatus::Active {
                            return Err(LedgerError::WrongStatus(format!(
                                "customer {id} is {}; only an Active customer gets a new wallet",
                                customer.status
                            )));
                        }
                        Some(customer.rowid)
                    }
                };
                let id = tx.insert_wallet(&NewWallet {
                    project_id: project,
                    asset,
                    owner,
                    name: name.as_ref().map(Text::as_str),
                    description: description.as_ref().map(Text::as_str),
                    created_at: now,
                })?;
                wallet_in(tx, project, id)
            })
            .await
    }

    /// One wallet as clients see it: a point read (one statement, with its
    /// `expiring`), which a backend may serve without a thread hop.
    pub async fn wallet(&self, caller: &Caller, id: WalletId) -> Result<Wallet, LedgerError> {
        let caller = caller.clone();
        self.store
            .read_point(move |r| readable_wallet_with_expiring(r, &caller, id))
            .await
    }

    pub async fn customer_wallets(
        &self,
        caller: &Caller,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<Wallet>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let customer = readable_customer(r, &caller, customer.as_str())?;
                let wallets = r.customer_wallets(customer.rowid, page)?;
                shown_page(r, wallets)
            })
            .await
    }

    /// The wallets of a customer key's own customer.
    pub async fn own_wallets(&self, caller: &Caller, page: PageRequest) -> Result<Page<Wallet>, LedgerError> {
        authorize(caller, Action::ListOwnWallets)?;
        let customer = caller.customer().ok_or(LedgerError::AccessDenied(
            "only a customer key has its own wallets",
        ))?;
        self.store
            .read(move |r| {
                let wallets = r.customer_wallets(customer, page)?;
                shown_page(r, wallets)
            })
            .await
    }

    pub async fn system_wallets(
        &self,
        caller: &Caller,
        page: PageRequest,
    ) -> Result<Page<Wallet>, LedgerError> {
        authorize(caller, Action::ManageWallets)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                let wallets = r.system_wallets(&project, page)?;
                shown_page(r, wallets)
            })
            .await
    }

    /// Sets a wallet's name or description. A customer key may do this on its
    /// own wallets (the one write the seed API allows it).
    pub async fn label_wallet(
        &self,
        caller: &Caller,
        id: WalletId,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<Wallet, LedgerError> {
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                recheck(tx, &caller, now)?;
                let wallet = readable_wallet(tx, &caller, id)?;
                authorize(&caller, Action::LabelWallet(wallet.owner_rowid()))?;
                if let Some(name) = &name {
                    tx.set_wallet_name(id, name.as_str())?;
                }
                if let Some(description) = &description {
                    tx.set_wallet_description(id, description.as_str())?;
                }
                let wallet = wallet_in(tx, caller.project_id(), id)?;
                shown(tx, wallet)
            })
            .await
    }

    /// Open ↔ Suspended; → Closed only at balance 0; Closed is final; a
    /// suspended customer's wallet cannot be opened (resume the customer).
    pub async fn set_wallet_status(
        &self,
        caller: &Caller,
        id: WalletId,
        status: WalletStatus,
    ) -> Result<Wallet, LedgerError> {
        authorize(caller, Action::ManageWallets)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.write_events(caller.project_id().to_owned(), move |tx, out| {
            let now = clock.now();
            recheck(tx, &caller, now)?;
            let project = caller.project_id();
            let wallet = tx
                .lock_wallets(project, &[id])?
                .pop()
                .ok_or(LedgerError::NotFound(Missing::Wallet))?;
            if wallet.status == status {
                return shown(tx, wallet);
            }
            let refuse = |why: String| Err(LedgerError::ChangeWalletStatus(why));
            if wallet.status == WalletStatus::Closed {
                return refuse(format!("wallet {id} is Closed, which is final"));
            }
            if status == WalletStatus::Closed && wallet.balance != 0 {
                return refuse(format!(
                    "wallet {id} has a balance of {}; only an empty wallet closes",
                    wallet.balance
                ));
            }
            if status == WalletStatus::Closed && wallet.held != 0 {
                return refuse(format!(
                    "wallet {id} has Open holds reserving {}; capture or void them first",
                    wallet.held
                ));
            }
            let owner_active = wallet
                .owner
                .as_ref()
                .is_none_or(|o| o.status == CustomerStatus::Active);
            if status == WalletStatus::Open && !owner_active {
                return refuse(format!(
                    "wallet {id}'s customer is not Active; resume the customer"
                ));
            }
            tx.set_wallet_status(id, status)?;
            wallet_status_changed(tx, out, project, id)
        })
        .await
    }

    pub async fn wallet_entries(
        &self,
        caller: &Caller,
        id: WalletId,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Page<Entry>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                readable_wallet(r, &caller, id)?;
                Ok(r.wallet_entries(id, range, page)?)
            })
            .await
    }
}

/// Records `customer.status_changed` for a customer whose status a write
/// just changed, then `wallet.status_changed` for each wallet of
/// `wallets` (those the change suspended or opened); returns the customer.
fn customer_status_changed(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    project: &str,
    id: &str,
    wallets: &[WalletId],
) -> Result<Customer, LedgerError> {
    let customer = customer_in(tx, project, id)?;
    out.push(
        EventType::CustomerStatusChanged,
        &wire::Customer::from(customer.clone()),
        [customer.rowid],
    )?;
    for wallet in wallets {
        wallet_status_changed(tx, out, project, *wallet)?;
    }
    Ok(customer)
}

/// Records `wallet.status_changed` for a wallet whose status a write just
/// changed (data: the Wallet as shown); returns it.
fn wallet_status_changed(
    tx: &mut dyn WriteTx,
    out: &mut Outbox,
    project: &str,
    id: WalletId,
) -> Result<Wallet, LedgerError> {
    let wallet = wallet_in(tx, project, id)?;
    let wallet = shown(tx, wallet)?;
    let owner: Option<CustomerRowId> = wallet.owner_rowid();
    out.push(
        EventType::WalletStatusChanged,
        &wire::Wallet::from(wallet.clone()),
        owner,
    )?;
    Ok(wallet)
}
