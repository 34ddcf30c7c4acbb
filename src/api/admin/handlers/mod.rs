//! Admin API handlers: extract, call the core, map the result.

pub mod customers;
pub mod login;
pub mod projects;

use super::error::AdminError;
use crate::api::v2::requests::PageQuery;
use crate::domain::ProjectId;
use crate::ledger::{Ledger, LedgerError, Missing, Poster};
use crate::storage::{PageRequest, Paged};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// A project id from a path: one that cannot exist is simply not found.
fn project_id(path: &str) -> Result<ProjectId, AdminError> {
    ProjectId::parse(path).map_err(|_| LedgerError::NotFound(Missing::Project).into())
}

/// The operator acting in the project named by the path.
async fn operator(ledger: &Ledger, project: &str) -> Result<Poster, AdminError> {
    Ok(Poster::operator(
        &ledger.project_row(&project_id(project)?).await?,
    ))
}

/// The id of an existing project named by the path (404 otherwise).
async fn existing_project(ledger: &Ledger, path: &str) -> Result<ProjectId, AdminError> {
    let id = project_id(path)?;
    ledger.project_row(&id).await?;
    Ok(id)
}

fn page(query: &PageQuery) -> Result<PageRequest, AdminError> {
    Ok(query.page()?)
}

/// One page of a list the core returns whole (projects, authorities: few).
fn page_of<T>(all: Vec<T>, page: PageRequest) -> Paged<T> {
    let total = all.len() as i64;
    let start = usize::try_from(page.page as u64 * page.size as u64).unwrap_or(usize::MAX);
    let items = all.into_iter().skip(start).take(page.size as usize).collect();
    Paged { items, total }
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
