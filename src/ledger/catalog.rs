//! Projects, assets, customers and wallets: the rules of API v2's catalog.

use super::{Caller, CustomerViewer, Ledger, LedgerError, Missing, Poster};
use crate::clock;
use crate::domain::{AssetCode, CustomerId, ProjectId, Text};
use crate::storage::{
    AssetRow, CustomerRow, CustomerStatus, EntryRow, NewAsset, PageRequest, Paged, ProjectRow, ReadTx,
    TimeRange, WalletRow, WalletStatus,
};

fn customer_in(r: &ReadTx<'_>, project: &str, id: &CustomerId) -> Result<CustomerRow, LedgerError> {
    r.customer_row(project, id.as_str())?
        .ok_or(LedgerError::NotFound(Missing::Customer))
}

fn wallet_in(r: &ReadTx<'_>, project: &str, id: i64) -> Result<WalletRow, LedgerError> {
    r.wallet(project, id)?
        .ok_or(LedgerError::NotFound(Missing::Wallet))
}

fn asset_in(r: &ReadTx<'_>, project: &str, id: i64) -> Result<AssetRow, LedgerError> {
    r.asset(project, id)?.ok_or(LedgerError::NotFound(Missing::Asset))
}

/// A wallet the caller may see. One it may not see is, to a customer key,
/// the same as one that does not exist (`Caller::not_found`).
fn visible_wallet(r: &ReadTx<'_>, caller: &Caller, id: i64) -> Result<WalletRow, LedgerError> {
    r.wallet(caller.project_id(), id)?
        .filter(|w| caller.may_see_customer(w.customer.as_ref().map(|c| c.0)))
        .ok_or_else(|| caller.not_found(Missing::Wallet))
}

/// A customer the caller may see, as `visible_wallet`.
fn visible_customer(r: &ReadTx<'_>, caller: &Caller, id: &CustomerId) -> Result<CustomerRow, LedgerError> {
    r.customer_row(caller.project_id(), id.as_str())?
        .filter(|c| caller.may_see_customer(Some(c.rowid)))
        .ok_or_else(|| caller.not_found(Missing::Customer))
}

impl Ledger {
    /// Creates a project with its default asset (`PTS`, whole units).
    pub async fn create_project(&self, id: ProjectId, name: Text) -> Result<ProjectRow, LedgerError> {
        self.store
            .write(move |tx| {
                if tx.project_exists(&id)? {
                    return Err(LedgerError::Conflict(format!("project {id} already exists")));
                }
                tx.create_project(&id, name.as_str(), &NewAsset::default_points(), clock::now_ms())?;
                tx.read()
                    .project(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Project))
            })
            .await
    }

    pub async fn project_row(&self, id: &ProjectId) -> Result<ProjectRow, LedgerError> {
        let id = id.clone();
        self.store
            .read(move |r| {
                r.project(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Project))
            })
            .await
    }

    pub async fn projects(&self) -> Result<Vec<ProjectRow>, LedgerError> {
        self.store.read(|r| Ok(r.projects()?)).await
    }

    /// The caller's project and all its assets.
    pub async fn project(&self, poster: &Poster) -> Result<(ProjectRow, Vec<AssetRow>), LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| {
                let row = r
                    .project(&project)?
                    .ok_or(LedgerError::NotFound(Missing::Project))?;
                Ok((row, r.assets(&project)?))
            })
            .await
    }

    pub async fn create_asset(
        &self,
        poster: &Poster,
        code: AssetCode,
        name: Text,
        fractions: i64,
    ) -> Result<AssetRow, LedgerError> {
        if !(1..=1_000_000_000_000_000_000).contains(&fractions) {
            return Err(LedgerError::Invalid(
                "fractions must be an integer from 1 to 10^18".to_owned(),
            ));
        }
        let project = ProjectId::parse(&poster.project_id)?;
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                if tx.read().asset_code_taken(project.as_str(), code.as_str())? {
                    return Err(LedgerError::Conflict(format!(
                        "asset code {code} is taken in this project"
                    )));
                }
                let asset = NewAsset {
                    code: code.into_inner(),
                    name: name.into_inner(),
                    fractions,
                };
                let id = tx.create_asset(&project, &asset, clock::now_ms())?;
                asset_in(&tx.read(), project.as_str(), id)
            })
            .await
    }

    pub async fn assets(&self, caller: &Caller, page: PageRequest) -> Result<Paged<AssetRow>, LedgerError> {
        let project = caller.project_id().to_owned();
        self.store.read(move |r| Ok(r.assets_page(&project, page)?)).await
    }

    pub async fn asset(&self, caller: &Caller, id: i64) -> Result<AssetRow, LedgerError> {
        let project = caller.project_id().to_owned();
        self.store.read(move |r| asset_in(r, &project, id)).await
    }

    pub async fn rename_asset(&self, poster: &Poster, id: i64, name: Text) -> Result<AssetRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                asset_in(&tx.read(), &project, id)?;
                tx.rename_asset(id, name.as_str())?;
                asset_in(&tx.read(), &project, id)
            })
            .await
    }

    /// Deletes an asset that no wallet ever used; never the project's default.
    pub async fn delete_asset(&self, poster: &Poster, id: i64) -> Result<(), LedgerError> {
        let project = poster.project_id.clone();
        let default_asset = poster.default_asset;
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let asset = asset_in(&tx.read(), &project, id)?;
                if asset.id == default_asset {
                    return Err(LedgerError::Conflict(
                        "the project's default asset cannot be deleted".to_owned(),
                    ));
                }
                if asset.used || !tx.delete_unused_asset(id)? {
                    return Err(LedgerError::AssetIsUsed);
                }
                Ok(())
            })
            .await
    }

    /// Creates a customer, or updates the given fields of an existing one.
    /// Returns the customer and whether it was created.
    pub async fn upsert_customer(
        &self,
        poster: &Poster,
        id: CustomerId,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<(CustomerRow, bool), LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let name = name.as_ref().map(Text::as_str);
                let description = description.as_ref().map(Text::as_str);
                let created = match tx.read().customer_row(&project, id.as_str())? {
                    Some(c) if c.status == CustomerStatus::Deleted => {
                        return Err(LedgerError::Conflict(format!(
                            "customer {id} was deleted; customer ids are not reused"
                        )))
                    }
                    Some(c) => {
                        tx.update_customer(c.rowid, name, description)?;
                        false
                    }
                    None => {
                        tx.insert_customer(&project, id.as_str(), name, description, clock::now_ms())?;
                        true
                    }
                };
                Ok((customer_in(&tx.read(), &project, &id)?, created))
            })
            .await
    }

    pub async fn customers(
        &self,
        poster: &Poster,
        page: PageRequest,
    ) -> Result<Paged<CustomerRow>, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| Ok(r.customers_page(&project, page)?))
            .await
    }

    pub async fn customer(&self, caller: &Caller, id: CustomerId) -> Result<CustomerRow, LedgerError> {
        let caller = caller.clone();
        self.store.read(move |r| visible_customer(r, &caller, &id)).await
    }

    /// Suspends a customer and every one of its Open wallets.
    pub async fn suspend_customer(
        &self,
        poster: &Poster,
        id: CustomerId,
    ) -> Result<CustomerRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let customer = customer_in(&tx.read(), &project, &id)?;
                if customer.status == CustomerStatus::Deleted {
                    return Err(LedgerError::NotFound(Missing::Customer));
                }
                tx.set_customer_status(customer.rowid, CustomerStatus::Suspended)?;
                tx.suspend_open_wallets(customer.rowid)?;
                customer_in(&tx.read(), &project, &id)
            })
            .await
    }

    /// Makes a customer Active again and opens exactly the listed wallets.
    pub async fn resume_customer(
        &self,
        poster: &Poster,
        id: CustomerId,
        wallets: Vec<i64>,
    ) -> Result<CustomerRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let customer = customer_in(&tx.read(), &project, &id)?;
                if customer.status == CustomerStatus::Deleted {
                    return Err(LedgerError::NotFound(Missing::Customer));
                }
                for wallet in &wallets {
                    let row = wallet_in(&tx.read(), &project, *wallet)?;
                    if row.customer.as_ref().map(|c| c.0) != Some(customer.rowid) {
                        return Err(LedgerError::NotFound(Missing::Wallet));
                    }
                    if row.status == WalletStatus::Closed {
                        return Err(LedgerError::ChangeWalletStatus(format!(
                            "wallet {wallet} is Closed"
                        )));
                    }
                    tx.set_wallet_status(*wallet, WalletStatus::Open)?;
                }
                tx.set_customer_status(customer.rowid, CustomerStatus::Active)?;
                customer_in(&tx.read(), &project, &id)
            })
            .await
    }

    /// Marks a customer Deleted; all its wallets must be Closed (they and
    /// their history are kept).
    pub async fn delete_customer(&self, poster: &Poster, id: CustomerId) -> Result<CustomerRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let customer = customer_in(&tx.read(), &project, &id)?;
                let all = PageRequest {
                    page: 0,
                    size: u32::MAX,
                };
                let wallets = tx.read().customer_wallets(customer.rowid, all)?;
                if wallets.items.iter().any(|w| w.status != WalletStatus::Closed) {
                    return Err(LedgerError::CustomerHasActiveWallets);
                }
                tx.set_customer_status(customer.rowid, CustomerStatus::Deleted)?;
                customer_in(&tx.read(), &project, &id)
            })
            .await
    }

    /// Opens a wallet of `asset` for a customer (who must be Active), or a
    /// system wallet when `owner` is `None`.
    pub async fn create_wallet(
        &self,
        poster: &Poster,
        owner: Option<CustomerId>,
        asset: i64,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<WalletRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                asset_in(&tx.read(), &project, asset)?;
                let customer = match &owner {
                    None => None,
                    Some(id) => {
                        let customer = customer_in(&tx.read(), &project, id)?;
                        if customer.status != CustomerStatus::Active {
                            return Err(LedgerError::WrongStatus(format!(
                                "customer {id} is {}; only an Active customer gets a new wallet",
                                customer.status.as_str()
                            )));
                        }
                        Some(customer.rowid)
                    }
                };
                let id = tx.create_wallet(
                    &project,
                    asset,
                    customer,
                    name.as_ref().map(Text::as_str),
                    description.as_ref().map(Text::as_str),
                    clock::now_ms(),
                )?;
                wallet_in(&tx.read(), &project, id)
            })
            .await
    }

    pub async fn wallet(&self, caller: &Caller, id: i64) -> Result<WalletRow, LedgerError> {
        let caller = caller.clone();
        self.store.read(move |r| visible_wallet(r, &caller, id)).await
    }

    pub async fn customer_wallets(
        &self,
        caller: &Caller,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Paged<WalletRow>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let customer = visible_customer(r, &caller, &customer)?;
                Ok(r.customer_wallets(customer.rowid, page)?)
            })
            .await
    }

    /// The wallets of a customer key's own customer.
    pub async fn own_wallets(
        &self,
        viewer: &CustomerViewer,
        page: PageRequest,
    ) -> Result<Paged<WalletRow>, LedgerError> {
        let customer = viewer.customer;
        self.store
            .read(move |r| Ok(r.customer_wallets(customer, page)?))
            .await
    }

    pub async fn system_wallets(
        &self,
        poster: &Poster,
        page: PageRequest,
    ) -> Result<Paged<WalletRow>, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| Ok(r.system_wallets(&project, page)?))
            .await
    }

    /// Sets a wallet's name or description. A customer key may do this on its
    /// own wallets (the one write the seed API allows it).
    pub async fn label_wallet(
        &self,
        caller: &Caller,
        id: i64,
        name: Option<Text>,
        description: Option<Text>,
    ) -> Result<WalletRow, LedgerError> {
        let caller = caller.clone();
        self.store
            .write(move |tx| {
                caller.admit(tx)?;
                visible_wallet(&tx.read(), &caller, id)?;
                if let Some(name) = &name {
                    tx.set_wallet_name(id, name.as_str())?;
                }
                if let Some(description) = &description {
                    tx.set_wallet_description(id, description.as_str())?;
                }
                wallet_in(&tx.read(), caller.project_id(), id)
            })
            .await
    }

    /// Open ↔ Suspended; → Closed only at balance 0; Closed is final; a
    /// suspended customer's wallet cannot be opened (resume the customer).
    pub async fn set_wallet_status(
        &self,
        poster: &Poster,
        id: i64,
        status: WalletStatus,
    ) -> Result<WalletRow, LedgerError> {
        let project = poster.project_id.clone();
        let admitted = poster.clone();
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let wallet = wallet_in(&tx.read(), &project, id)?;
                if wallet.status == status {
                    return Ok(wallet);
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
                let owner_active = wallet.customer_status.is_none_or(|s| s == CustomerStatus::Active);
                if status == WalletStatus::Open && !owner_active {
                    return refuse(format!(
                        "wallet {id}'s customer is not Active; resume the customer"
                    ));
                }
                tx.set_wallet_status(id, status)?;
                wallet_in(&tx.read(), &project, id)
            })
            .await
    }

    pub async fn wallet_entries(
        &self,
        caller: &Caller,
        id: i64,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Paged<EntryRow>, LedgerError> {
        let caller = caller.clone();
        self.store
            .read(move |r| {
                visible_wallet(r, &caller, id)?;
                Ok(r.wallet_entries(id, range, page)?)
            })
            .await
    }
}
