//! Credentials as the ledger keeps them: authorities and customer keys.
//!
//! Making them (key pairs, random tokens) and verifying them (signatures,
//! digests) is the server's `auth` module's work; the ledger stores what it
//! hands over (public keys, digests), looks them up for it, and decides who
//! may mint or revoke a customer's keys.

use super::access::{authorize, live_customer, readable_customer, recheck};
use super::Ledger;
use crate::model::{Authority, AuthorityCredential, Customer, CustomerKey, Millis, Page, PageRequest};
use crate::policy::{Action, Caller};
use crate::port::{NewCustomerKey, Rechecked};
use crate::text::{CustomerId, ProjectId, PublicId, Text};
use crate::{LedgerError, Missing};

impl Ledger {
    /// Stores a new authority of `project` (an operator's act).
    pub async fn create_authority(
        &self,
        project: ProjectId,
        name: Text,
        public_id: PublicId,
        credential: AuthorityCredential,
    ) -> Result<Authority, LedgerError> {
        let clock = self.clock.clone();
        self.store
            .write(move |tx| {
                let now = clock.now();
                if tx.project(project.as_str())?.is_none() {
                    return Err(LedgerError::NotFound(Missing::Project));
                }
                tx.insert_authority(
                    public_id.as_str(),
                    project.as_str(),
                    name.as_str(),
                    &credential,
                    now,
                )?;
                tx.authority(public_id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Authority))
            })
            .await
    }

    /// Revokes an authority or access key: no write by it commits after
    /// this one (writes check it again in their own transaction), and none
    /// is dated after it (its time is read once the writes in flight that
    /// saw it live have committed).
    pub async fn revoke_authority(&self, public_id: PublicId) -> Result<(), LedgerError> {
        let clock = self.clock.clone();
        self.store
            .write(move |tx| {
                tx.hold_rechecks(Rechecked::Authorities)?;
                let now = clock.now();
                if tx.revoke_authority(public_id.as_str(), now)? {
                    Ok(())
                } else {
                    Err(LedgerError::NotFound(Missing::Authority))
                }
            })
            .await
    }

    pub async fn authorities(&self, project: Option<ProjectId>) -> Result<Vec<Authority>, LedgerError> {
        self.store
            .read(move |r| Ok(r.authorities(project.as_ref().map(ProjectId::as_str))?))
            .await
    }

    /// An authority by public id, revoked or not: for authentication and
    /// the operator.
    pub async fn authority(&self, public_id: PublicId) -> Result<Option<Authority>, LedgerError> {
        self.store
            .read(move |r| Ok(r.authority(public_id.as_str())?))
            .await
    }

    /// A customer key by public id: for authentication.
    pub async fn customer_key_by_id(&self, public_id: PublicId) -> Result<Option<CustomerKey>, LedgerError> {
        self.store
            .read(move |r| Ok(r.customer_key(public_id.as_str())?))
            .await
    }

    /// The authority a token names and the customer it is for, read on one
    /// snapshot: for authenticating offline customer tokens.
    pub async fn authority_and_customer(
        &self,
        authority: PublicId,
        customer: CustomerId,
    ) -> Result<Option<(Authority, Option<Customer>)>, LedgerError> {
        self.store
            .read(move |r| {
                let Some(row) = r.authority(authority.as_str())? else {
                    return Ok(None);
                };
                let customer = r.customer(&row.project_id, customer.as_str())?;
                Ok(Some((row, customer)))
            })
            .await
    }

    /// Stores a key of `customer` (who must not be Deleted); the caller made
    /// the token and hands over its public id and digest.
    pub async fn create_customer_key(
        &self,
        caller: &Caller,
        customer: CustomerId,
        public_id: PublicId,
        token_digest: Vec<u8>,
        expires_at: Option<Millis>,
    ) -> Result<CustomerKey, LedgerError> {
        authorize(caller, Action::ManageCustomerKeys)?;
        let now = self.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(LedgerError::Invalid("expiresAt must be in the future".to_owned()));
        }
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                recheck(tx, &caller, now)?;
                let customer = live_customer(tx, caller.project_id(), customer.as_str())?;
                tx.insert_customer_key(&NewCustomerKey {
                    public_id: public_id.as_str(),
                    customer,
                    token_digest: &token_digest,
                    created_at: now,
                    expires_at,
                })?;
                tx.customer_key(public_id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Key))
            })
            .await
    }

    pub async fn customer_keys(
        &self,
        caller: &Caller,
        customer: CustomerId,
        page: PageRequest,
    ) -> Result<Page<CustomerKey>, LedgerError> {
        authorize(caller, Action::ManageCustomerKeys)?;
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let customer = readable_customer(r, &caller, customer.as_str())?;
                Ok(r.customer_keys(customer.rowid, page)?)
            })
            .await
    }

    pub async fn revoke_customer_key(
        &self,
        caller: &Caller,
        customer: CustomerId,
        key: PublicId,
    ) -> Result<(), LedgerError> {
        authorize(caller, Action::ManageCustomerKeys)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                tx.hold_rechecks(Rechecked::CustomerKeys)?;
                let now = clock.now();
                recheck(tx, &caller, now)?;
                let customer = readable_customer(tx, &caller, customer.as_str())?;
                if tx.revoke_customer_key(customer.rowid, key.as_str(), now)? {
                    Ok(())
                } else {
                    Err(LedgerError::NotFound(Missing::Key))
                }
            })
            .await
    }
}
