//! Items for the operator: a customer's items, the project's stock, and one
//! item with its history (the same objects API v2 shows).

use super::{ok, operator};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::v2::requests::{ItemsQuery, PageQuery};
use crate::api::v2::types::{Item, ItemHistoryPage, ItemPage};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use wallet_core::text::{CustomerId, ItemId};
use wallet_core::{Ledger, LedgerError, Missing};

/// A customer's items, oldest first, of one type or status or all.
pub async fn customer_items(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<(String, String)>,
    query: web::Query<ItemsQuery>,
) -> Result<HttpResponse, AdminError> {
    let (project, customer) = path.into_inner();
    let caller = operator(&ledger, &project).await?;
    let customer = CustomerId::parse(&customer).map_err(|_| LedgerError::NotFound(Missing::Customer))?;
    let (filter, page) = (query.filter()?, query.page()?);
    let items = ledger
        .customer_items(&caller, customer.into_inner(), filter, page)
        .await?;
    Ok(ok().json(ItemPage::new(items, page)))
}

/// The project's stock: the items no customer owns, oldest first.
pub async fn stock_items(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<ItemsQuery>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let (filter, page) = (query.filter()?, query.page()?);
    let items = ledger.stock_items(&caller, filter, page).await?;
    Ok(ok().json(ItemPage::new(items, page)))
}

/// The item to show, named in the query: a caller-chosen item id may hold a
/// `/`, which no URL path carries intact.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ItemQuery {
    id: String,
    page: Option<u32>,
    page_size: Option<u32>,
}

/// An item and one page of its history, oldest step first.
#[derive(Serialize)]
pub struct ItemWithHistory {
    item: Item,
    history: ItemHistoryPage,
}

pub async fn item(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<ItemQuery>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let query = query.into_inner();
    let id = ItemId::parse(&query.id).map_err(|_| LedgerError::NotFound(Missing::Item))?;
    let page = PageQuery {
        page: query.page,
        page_size: query.page_size,
    }
    .page()?;
    let item = ledger.item(&caller, id.clone()).await?;
    let history = ledger.item_history(&caller, id, page).await?;
    Ok(ok().json(ItemWithHistory {
        item: Item::from(item),
        history: ItemHistoryPage::new(history, page),
    }))
}
