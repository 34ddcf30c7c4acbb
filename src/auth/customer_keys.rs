//! Customer keys: read-only opaque keys of one customer.

use super::{tokens, Credentials};
use wallet_core::model::{CustomerKey, Page, PageRequest};
use wallet_core::policy::Caller;
use wallet_core::text::{CustomerId, PublicId};
use wallet_core::LedgerError;

/// What may be shown of a customer key (never its token).
#[derive(Debug, Clone)]
pub struct CustomerKeyInfo {
    pub id: String,
    pub customer_id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<CustomerKey> for CustomerKeyInfo {
    fn from(row: CustomerKey) -> Self {
        Self {
            id: row.public_id,
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
    /// Mints a read-only key of one customer of the caller's project.
    pub async fn create_customer_key(
        &self,
        caller: &Caller,
        customer: CustomerId,
        expires_at: Option<i64>,
    ) -> Result<NewCustomerKey, LedgerError> {
        let minted = tokens::mint(tokens::CUSTOMER_KEY_PREFIX);
        let row = self
            .ledger
            .create_customer_key(caller, customer, minted.id, minted.digest, expires_at)
            .await?;
        Ok(NewCustomerKey {
            info: row.into(),
            token: minted.token,
        })
    }

    pub async fn customer_keys(
        &self,
        caller: &Caller,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<CustomerKeyInfo>, LedgerError> {
        Ok(self
            .ledger
            .customer_keys(caller, customer, page)
            .await?
            .map(CustomerKeyInfo::from))
    }

    pub async fn revoke_customer_key(
        &self,
        caller: &Caller,
        customer: CustomerId,
        key: PublicId,
    ) -> Result<(), LedgerError> {
        self.ledger.revoke_customer_key(caller, customer, key).await
    }
}
