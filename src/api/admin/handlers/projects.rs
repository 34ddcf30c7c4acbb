//! Projects, assets, authorities and access keys.

use super::{created, existing_project, ok, operator, page, page_of};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::v2::requests::{name, PageQuery};
use crate::api::v2::types::{Asset, AssetPage};
use crate::auth::{AuthorityInfo, Credentials};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use wallet_core::model::Project;
use wallet_core::text::{AssetCode, ProjectId, PublicId};
use wallet_core::Ledger;

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, AdminError>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary {
    id: String,
    name: String,
    default_asset_id: String,
    created_at: i64,
}

impl From<Project> for ProjectSummary {
    fn from(p: Project) -> Self {
        Self {
            id: p.id,
            name: p.name,
            default_asset_id: p.default_asset.to_string(),
            created_at: p.created_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListPage<T> {
    items: Vec<T>,
    page: u32,
    page_size: u32,
    total: i64,
}

fn list<T, R: From<T>>(all: Vec<T>, query: &PageQuery) -> Result<ListPage<R>, AdminError> {
    let request = page(query)?;
    let paged = page_of(all, request);
    Ok(ListPage {
        items: paged.items.into_iter().map(R::from).collect(),
        page: request.page,
        page_size: request.size,
        total: paged.total,
    })
}

pub async fn list_projects(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let page: ListPage<ProjectSummary> = list(ledger.projects().await?, &query)?;
    Ok(ok().json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    id: String,
    name: Option<String>,
}

pub async fn create_project(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    body: Json<NewProject>,
) -> Result<HttpResponse, AdminError> {
    let id = ProjectId::parse(&body.id)?;
    let name = name(body.name.as_deref().unwrap_or(id.as_str()))?;
    let project = ledger.create_project(id, name).await?;
    Ok(created().json(ProjectSummary::from(project)))
}

pub async fn list_assets(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let caller = operator(&ledger, &path).await?;
    let request = page(&query)?;
    let assets = ledger.assets(&caller, request).await?;
    Ok(ok().json(AssetPage::new(assets, request)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    code: String,
    name: String,
    fractions: i64,
}

pub async fn create_asset(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<NewAsset>,
) -> Result<HttpResponse, AdminError> {
    let poster = operator(&ledger, &path).await?;
    let asset = ledger
        .create_asset(
            &poster,
            AssetCode::parse(&body.code)?,
            name(&body.name)?,
            body.fractions,
        )
        .await?;
    Ok(created().json(Asset::from(asset)))
}

pub async fn list_authorities(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AdminError> {
    let project = existing_project(&ledger, &path).await?;
    let page: ListPage<AuthorityInfo> = list(credentials.list_authorities(Some(project)).await?, &query)?;
    Ok(ok().json(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAuthority {
    name: String,
    api_base_url: String,
}

/// The reply is the SDK's client config file, as a download: the private key
/// exists only in it.
pub async fn create_authority(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
    body: Json<NewAuthority>,
) -> Result<HttpResponse, AdminError> {
    let project = existing_project(&ledger, &path).await?;
    let name = name(&body.name)?;
    let created = credentials
        .create_authority(project, name, &body.api_base_url)
        .await?;
    let disposition = format!("attachment; filename=\"{}.json\"", created.info.id);
    // Indented like the file the CLI writes: people open it.
    let file = serde_json::to_string_pretty(&created.config)
        .map_err(|e| AdminError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(super::created()
        .content_type("application/json")
        .insert_header(("Content-Disposition", disposition))
        .body(file + "\n"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccessKey {
    name: String,
}

pub async fn create_access_key(
    _admin: Admin,
    ledger: web::Data<Ledger>,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
    body: Json<NewAccessKey>,
) -> Result<HttpResponse, AdminError> {
    let project = existing_project(&ledger, &path).await?;
    let key = credentials.create_access_key(project, name(&body.name)?).await?;
    Ok(created().json(serde_json::json!({ "id": key.info.id, "token": key.token })))
}

pub async fn revoke_authority(
    _admin: Admin,
    credentials: web::Data<Credentials>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let id = PublicId::parse(&path)
        .map_err(|_| AdminError::new(actix_web::http::StatusCode::NOT_FOUND, "authority not found"))?;
    credentials.revoke_authority(id.clone()).await?;
    Ok(ok().json(credentials.authority_info(&id).await?))
}
