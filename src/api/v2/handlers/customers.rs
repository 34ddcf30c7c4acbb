//! Customers and their read-only keys.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{
    description, name, optional, row_id, CustomerBody, CustomerUpdateBody, NewKeyBody, PageQuery, ResumeBody,
};
use crate::api::v2::types::{Customer, CustomerKey, CustomerKeyPage, CustomerPage};
use crate::auth::Credentials;
use actix_web::{web, HttpResponse};
use wallet_core::policy::Action;
use wallet_core::text::{CustomerId, PublicId};
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// A customer id in a path: one that cannot exist is simply not found (to a
/// customer key: not its own, as an existing one of another customer).
pub(super) fn path_customer(auth: &Auth, id: &str) -> Result<CustomerId, V2Error> {
    CustomerId::parse(id).map_err(|_| auth.not_found(Missing::Customer))
}

async fn upsert(
    auth: &Auth,
    ledger: &Ledger,
    id: CustomerId,
    fields: CustomerUpdateBody,
) -> Result<HttpResponse, V2Error> {
    let (customer, created) = ledger
        .upsert_customer(
            auth.may(Action::ManageCustomers)?,
            id,
            optional(fields.name.as_deref(), name)?,
            optional(fields.description.as_deref(), description)?,
        )
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(Customer::from(customer)))
}

/// Creates a customer, or updates the given fields of an existing one.
#[utoipa::path(post, path = "/api/v2/customers", tag = "customers", request_body = CustomerBody,
    responses((status = 201, body = Customer), (status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<CustomerBody>,
) -> Result<HttpResponse, V2Error> {
    auth.may(Action::ManageCustomers)?;
    let body = body.into_inner();
    let fields = CustomerUpdateBody {
        name: body.name,
        description: body.description,
    };
    upsert(&auth, &ledger, CustomerId::parse(&body.id)?, fields).await
}

/// Creates or updates the customer with this id.
#[utoipa::path(put, path = "/api/v2/customers/{customerId}", tag = "customers", request_body = CustomerUpdateBody,
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 201, body = Customer), (status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<CustomerUpdateBody>,
) -> Result<HttpResponse, V2Error> {
    auth.may(Action::ManageCustomers)?;
    upsert(&auth, &ledger, CustomerId::parse(&path)?, body.into_inner()).await
}

/// The project's customers, oldest first.
#[utoipa::path(get, path = "/api/v2/customers", tag = "customers", params(PageQuery),
    responses((status = 200, body = CustomerPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customers(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let customers = ledger.customers(auth.may(Action::ManageCustomers)?, page).await?;
    Ok(HttpResponse::Ok().json(CustomerPage::new(customers, page)))
}

/// One customer. A customer key reads only its own.
#[utoipa::path(get, path = "/api/v2/customers/{customerId}", tag = "customers",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let customer = ledger.customer(&auth.0, path_customer(&auth, &path)?).await?;
    Ok(HttpResponse::Ok().json(Customer::from(customer)))
}

/// Suspends a customer and all its open wallets.
#[utoipa::path(post, path = "/api/v2/customers/{customerId}/suspend", tag = "customers",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn suspend_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let customer = ledger
        .suspend_customer(auth.may(Action::ManageCustomers)?, path_customer(&auth, &path)?)
        .await?;
    Ok(HttpResponse::Ok().json(Customer::from(customer)))
}

/// Makes a customer Active and opens exactly the listed wallets.
#[utoipa::path(post, path = "/api/v2/customers/{customerId}/resume", tag = "customers", request_body = ResumeBody,
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<ResumeBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageCustomers)?;
    let wallets = body
        .wallet_ids
        .iter()
        .map(|id| row_id(id, Missing::Wallet))
        .collect::<Result<Vec<_>, _>>()?;
    let customer = ledger
        .resume_customer(poster, path_customer(&auth, &path)?, wallets)
        .await?;
    Ok(HttpResponse::Ok().json(Customer::from(customer)))
}

/// Marks a customer Deleted; all its wallets must be Closed first.
#[utoipa::path(delete, path = "/api/v2/customers/{customerId}", tag = "customers",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 200, body = Customer), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_customer(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let customer = ledger
        .delete_customer(auth.may(Action::ManageCustomers)?, path_customer(&auth, &path)?)
        .await?;
    Ok(HttpResponse::Ok().json(Customer::from(customer)))
}

/// Mints a read-only key of this customer. The token is in this reply only.
/// An `expiresAt` not in the future is a 400.
#[utoipa::path(post, path = "/api/v2/customers/{customerId}/keys", tag = "customers", request_body = NewKeyBody,
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$")),
    responses((status = 201, body = CustomerKey), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_key(
    auth: Auth,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageCustomerKeys)?;
    // The body is optional: no body means a key without expiry. A body must
    // be an object: serde would read `[null]` as `{"expiresAt": null}`.
    let body: NewKeyBody = if body.iter().all(u8::is_ascii_whitespace) {
        NewKeyBody::default()
    } else {
        let invalid = |e: serde_json::Error| V2Error::invalid(format!("invalid JSON body: {e}"));
        match serde_json::from_slice::<serde_json::Value>(&body).map_err(invalid)? {
            object @ serde_json::Value::Object(_) => serde_json::from_value(object).map_err(invalid)?,
            _ => return Err(V2Error::invalid("the body must be a JSON object (or empty)")),
        }
    };
    let created = credentials
        .create_customer_key(poster, path_customer(&auth, &path)?, body.expires_at)
        .await?;
    let mut key = CustomerKey::from(created.info);
    key.token = Some(created.token);
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(key))
}

/// The customer's keys (never their tokens).
#[utoipa::path(get, path = "/api/v2/customers/{customerId}/keys", tag = "customers", params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"), PageQuery),
    responses((status = 200, body = CustomerKeyPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_keys(
    auth: Auth,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let keys = credentials
        .customer_keys(
            auth.may(Action::ManageCustomerKeys)?,
            path_customer(&auth, &path)?,
            page,
        )
        .await?;
    Ok(HttpResponse::Ok().json(CustomerKeyPage::new(keys, page)))
}

/// Revokes a customer key at once.
#[utoipa::path(delete, path = "/api/v2/customers/{customerId}/keys/{keyId}", tag = "customers",
    params(("customerId" = String, Path, min_length = 1, max_length = 64, pattern = r"^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$"), ("keyId" = String, Path, pattern = "^[A-Za-z0-9_-]{1,30}$")),
    responses((status = 204), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_key(
    auth: Auth,
    credentials: web::Data<Credentials>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageCustomerKeys)?;
    let (customer, key) = path.into_inner();
    let key = PublicId::parse(&key).map_err(|_| V2Error::not_found(Missing::Key))?;
    credentials
        .revoke_customer_key(poster, path_customer(&auth, &customer)?, key)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
