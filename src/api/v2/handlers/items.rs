//! Items (`docs/api-v2.md`, "Items"): granted, moved, consumed and changed
//! by operations of `POST /transactions`; these are their reads. An access
//! key reads any item of its project; a customer key only the items its
//! customer owns now (another's, the stock's and missing ones are the same
//! 403).

use super::customers::path_customer;
use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{ItemsQuery, PageQuery, StockOwner, StockQuery};
use crate::api::v2::types::{Item, ItemHistoryPage, ItemPage};
use actix_web::{web, HttpResponse};
use wallet_core::policy::Action;
use wallet_core::text::ItemId;
use wallet_core::{Ledger, Missing};

/// An item id in a path: one that cannot exist is not found (to a customer
/// key: not its own).
fn item_id(auth: &Auth, path: &str) -> Result<ItemId, V2Error> {
    ItemId::parse(path).map_err(|_| auth.not_found(Missing::Item))
}

/// One item.
#[utoipa::path(get, path = "/api/v2/items/{itemId}", tag = "items",
    params(("itemId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Item), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_item(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let item = ledger.item(&auth.0, item_id(&auth, &path)?).await?;
    Ok(HttpResponse::Ok().json(Item::from(item)))
}

/// The items a customer owns now, oldest first, of one type or status or
/// all. A customer key lists only its own customer's.
#[utoipa::path(get, path = "/api/v2/customers/{customerId}/items", tag = "items",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"), ItemsQuery),
    responses((status = 200, body = ItemPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customer_items(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<ItemsQuery>,
) -> Result<HttpResponse, V2Error> {
    let customer = path_customer(&auth, &path)?;
    let (filter, page) = (query.filter()?, query.page()?);
    let items = ledger
        .customer_items(&auth.0, customer.into_inner(), filter, page)
        .await?;
    Ok(HttpResponse::Ok().json(ItemPage::new(items, page)))
}

/// The project's stock (`owner=stock`, required): the items no customer
/// owns, oldest first. Access keys only.
#[utoipa::path(get, path = "/api/v2/items", tag = "items", params(StockQuery),
    responses((status = 200, body = ItemPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_stock_items(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<StockQuery>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ReadStock)?;
    let (filter, page) = (query.filter()?, query.page()?);
    let items = match query.owner {
        StockOwner::Stock => ledger.stock_items(caller, filter, page).await?,
    };
    Ok(HttpResponse::Ok().json(ItemPage::new(items, page)))
}

/// What the operations did to an item, oldest step first: its grant, moves,
/// property changes and its consumption. Readable by whoever may read the
/// item now.
#[utoipa::path(get, path = "/api/v2/items/{itemId}/history", tag = "items",
    params(("itemId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"), PageQuery),
    responses((status = 200, body = ItemHistoryPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn item_history(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let id = item_id(&auth, &path)?;
    let page = query.page()?;
    let steps = ledger.item_history(&auth.0, id, page).await?;
    Ok(HttpResponse::Ok().json(ItemHistoryPage::new(steps, page)))
}
