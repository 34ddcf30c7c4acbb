//! Customer keys: read-only opaque keys of one customer.

use super::{tokens, Credentials};
use crate::clock;
use crate::domain::{CustomerId, PublicId};
use crate::ledger::{LedgerError, Missing, Poster};
use crate::storage::{CustomerKeyRow, PageRequest, Paged};

/// What may be shown of a customer key (never its token).
#[derive(Debug, Clone)]
pub struct CustomerKeyInfo {
    pub id: String,
    pub customer_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<CustomerKeyRow> for CustomerKeyInfo {
    fn from(row: CustomerKeyRow) -> Self {
        Self {
            id: row.id,
            customer_id: row.customer_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new customer key: the token is shown once.
pub struct NewCustomerKey {
    pub info: CustomerKeyInfo,
    pub token: String,
}

impl Credentials {
    /// Mints a read-only key of one customer of the poster's project.
    pub async fn create_customer_key(
        &self,
        poster: &Poster,
        customer: CustomerId,
        expires_at: Option<i64>,
    ) -> Result<NewCustomerKey, LedgerError> {
        let now = clock::now_ms();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(LedgerError::Invalid("expiresAt must be in the future".to_owned()));
        }
        let (project, admitted) = (poster.project_id.clone(), poster.clone());
        let minted = tokens::mint(tokens::CUSTOMER_KEY_PREFIX);
        let (id, digest) = (minted.id.clone(), minted.digest);
        let row = self
            .store
            .write(move |tx| {
                admitted.admit(tx)?;
                let customer = live_customer(tx.read(), &project, &customer)?;
                tx.insert_customer_key(id.as_str(), customer, &digest, expires_at, now)?;
                tx.read()
                    .customer_key(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Key))
            })
            .await?;
        Ok(NewCustomerKey {
            info: row.into(),
            token: minted.token,
        })
    }

    pub async fn customer_keys(
        &self,
        poster: &Poster,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Paged<CustomerKeyInfo>, LedgerError> {
        let project = poster.project_id.clone();
        self.store
            .read(move |r| {
                let customer = r
                    .customer_row(&project, customer.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Customer))?;
                let page = r.customer_keys_page(customer.rowid, page)?;
                Ok(Paged {
                    items: page.items.into_iter().map(CustomerKeyInfo::from).collect(),
                    total: page.total,
                })
            })
            .await
    }

    pub async fn revoke_customer_key(
        &self,
        poster: &Poster,
        customer: CustomerId,
        key: PublicId,
    ) -> Result<(), LedgerError> {
        let (project, admitted) = (poster.project_id.clone(), poster.clone());
        self.store
            .write(move |tx| {
                admitted.admit(tx)?;
                let customer = tx
                    .read()
                    .customer_row(&project, customer.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Customer))?;
                match tx.revoke_customer_key(customer.rowid, key.as_str(), clock::now_ms())? {
                    true => Ok(()),
                    false => Err(LedgerError::NotFound(Missing::Key)),
                }
            })
            .await
    }
}

fn live_customer(r: crate::storage::ReadTx<'_>, project: &str, id: &CustomerId) -> Result<i64, LedgerError> {
    let customer = r
        .customer_row(project, id.as_str())?
        .ok_or(LedgerError::NotFound(Missing::Customer))?;
    if customer.status == crate::storage::CustomerStatus::Deleted {
        return Err(LedgerError::NotFound(Missing::Customer));
    }
    Ok(customer.rowid)
}
