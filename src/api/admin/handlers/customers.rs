//! Customers, their wallets and keys, entries and transactions.

use super::{created, ok, operator, page};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::admin::types::Wallet;
use crate::api::v2::requests::{row_id, NewKeyBody, PageQuery, RangeQuery, ResumeBody};
use crate::api::v2::types::{Customer, CustomerKey, CustomerKeyPage, CustomerPage, EntryPage, Transaction};
use crate::api::v2::V2Error;
use crate::auth::Credentials;
use actix_web::{web, HttpResponse};
use wallet_core::model::PageRequest;
use wallet_core::text::{CustomerId, PublicId};
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, AdminError>;

fn customer_id(id: &str) -> Result<CustomerId, AdminError> {
    CustomerId::parse(id).map_err(|_| V2Error::not_found(Missing::Customer).into())
}

pub async fn list_customers(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let poster = operator(&ledger, &path).await?;
    let request = page(&query)?;
    let customers = ledger.customers(&poster, request).await?;
    Ok(ok().json(CustomerPage::new(customers, request)))
}

/// A customer with all its wallets: balances, held, available, credit limits.
pub async fn get_customer(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let id = customer_id(&customer)?;
    let row = ledger.customer(&caller, id.clone()).await?;
    let wallets = ledger
        .customer_wallets(&caller, id, PageRequest { page: 0, size: 1000 })
        .await?;
    let wallets: Vec<Wallet> = wallets.items.into_iter().map(Wallet::from).collect();
    Ok(ok().json(serde_json::json!({ "customer": Customer::from(row), "wallets": wallets })))
}

pub async fn suspend_customer(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let row = ledger.suspend_customer(&poster, customer_id(&customer)?).await?;
    Ok(ok().json(Customer::from(row)))
}

pub async fn resume_customer(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    body: Json<ResumeBody>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let wallets = body
        .wallet_ids
        .iter()
        .map(|id| row_id(id, Missing::Wallet))
        .collect::<Result<Vec<_>, _>>()?;
    let row = ledger
        .resume_customer(&poster, customer_id(&customer)?, wallets)
        .await?;
    Ok(ok().json(Customer::from(row)))
}

pub async fn list_keys(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<(String, String)>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let request = page(&query)?;
    let keys = credentials
        .customer_keys(&poster, customer_id(&customer)?, request)
        .await?;
    Ok(ok().json(CustomerKeyPage::new(keys, request)))
}

pub async fn create_key(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<(String, String)>,
    body: Json<NewKeyBody>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let minted = credentials
        .create_customer_key(&poster, customer_id(&customer)?, body.expires_at)
        .await?;
    let mut key = CustomerKey::from(minted.info);
    key.token = Some(minted.token);
    Ok(created().json(key))
}

pub async fn revoke_key(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer, key) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let key = PublicId::parse(&key).map_err(|_| AdminError::from(V2Error::not_found(Missing::Key)))?;
    credentials
        .revoke_customer_key(&poster, customer_id(&customer)?, key)
        .await?;
    Ok(super::reply(HttpResponse::NoContent()).finish())
}

pub async fn list_entries(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AdminError> {
    let (project, wallet) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let request = query.page()?;
    let entries = ledger
        .wallet_entries(&caller, row_id(&wallet, Missing::Wallet)?, query.range(), request)
        .await?;
    Ok(ok().json(EntryPage::new(entries, request)))
}

pub async fn get_transaction(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (project, transaction) = path.into_inner();
    let poster = operator(&ledger, &project).await?;
    let row = ledger
        .transaction(&poster, row_id(&transaction, Missing::Transaction)?)
        .await?;
    Ok(ok().json(Transaction::from(row)))
}
