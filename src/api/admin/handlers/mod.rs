//! Admin API handlers: extract, call the core, map the result.

pub mod customers;
pub mod dashboard;
pub mod events;
pub mod holds;
pub mod items;
pub mod login;
pub mod projects;

use super::error::AdminError;
use crate::api::v2::requests::PageQuery;
use actix_web::{HttpResponse, HttpResponseBuilder};
use wallet_core::model::{Page, PageRequest};
use wallet_core::policy::{Caller, OperatorCaller};
use wallet_core::text::ProjectId;
use wallet_core::{Ledger, LedgerError, Missing};

/// A project id from a path: one that cannot exist is simply not found.
fn project_id(path: &str) -> Result<ProjectId, AdminError> {
    ProjectId::parse(path).map_err(|_| LedgerError::NotFound(Missing::Project).into())
}

/// The operator acting in the project named by the path.
async fn operator(ledger: &Ledger, project: &str) -> Result<Caller, AdminError> {
    let project = ledger.project_by_id(&project_id(project)?).await?;
    Ok(Caller::Operator(OperatorCaller {
        project_id: project.id,
        default_asset: project.default_asset,
    }))
}

/// The id of an existing project named by the path (404 otherwise).
async fn existing_project(ledger: &Ledger, path: &str) -> Result<ProjectId, AdminError> {
    let id = project_id(path)?;
    ledger.project_by_id(&id).await?;
    Ok(id)
}

fn page(query: &PageQuery) -> Result<PageRequest, AdminError> {
    Ok(query.page()?)
}

/// One page of a list the core returns whole (projects, authorities: few).
fn page_of<T>(all: Vec<T>, page: PageRequest) -> Page<T> {
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let start = usize::try_from(u64::from(page.page) * u64::from(page.size)).unwrap_or(usize::MAX);
    let items = all.into_iter().skip(start).take(page.size as usize).collect();
    Page { items, total }
}

/// Every admin reply may carry secrets or personal data: never cache it.
fn reply(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header(("Cache-Control", "no-store"));
    builder
}

fn ok() -> HttpResponseBuilder {
    reply(HttpResponse::Ok())
}

fn created() -> HttpResponseBuilder {
    reply(HttpResponse::Created())
}
