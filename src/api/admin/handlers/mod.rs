//! Admin API handlers: extract, call the core, map the result.

pub mod customers;
pub mod login;
pub mod projects;

use super::error::AdminError;
use crate::api::v2::requests::PageQuery;
use crate::domain::ProjectId;
use crate::ledger::{Ledger, Poster};
use crate::storage::{PageRequest, Paged};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// The operator acting in the project named by the path.
async fn operator(ledger: &Ledger, project: &str) -> Result<Poster, AdminError> {
    let id = ProjectId::parse(project).map_err(|_| {
        AdminError::from(crate::ledger::LedgerError::NotFound(
            crate::ledger::Missing::Project,
        ))
    })?;
    Ok(Poster::operator(&ledger.project_row(&id).await?))
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
