//! The project and its assets.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::requests::{name, row_id, NameBody, NewAssetBody, PageQuery};
use crate::api::v2::types::{Asset, AssetPage, Project};
use actix_web::{web, HttpResponse};
use wallet_core::policy::Action;
use wallet_core::text::AssetCode;
use wallet_core::{Ledger, Missing};

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, V2Error>;

/// The caller's project and its assets.
#[utoipa::path(get, path = "/api/v2/project", tag = "project",
    responses((status = 200, body = Project), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_project(auth: Auth, ledger: web::Data<Ledger>) -> Result<HttpResponse, V2Error> {
    let (project, assets) = ledger.project(auth.may(Action::ReadProject)?).await?;
    Ok(HttpResponse::Ok().json(Project::new(project, assets)))
}

/// Creates an asset.
#[utoipa::path(post, path = "/api/v2/assets", tag = "assets", request_body = NewAssetBody,
    responses((status = 201, body = Asset), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_asset(
    auth: Auth,
    ledger: web::Data<Ledger>,
    body: Json<NewAssetBody>,
) -> Result<HttpResponse, V2Error> {
    let body = body.into_inner();
    let asset = ledger
        .create_asset(
            auth.may(Action::ManageAssets)?,
            AssetCode::parse(&body.code)?,
            name(&body.name)?,
            body.fractions,
        )
        .await?;
    Ok(HttpResponse::Created().json(Asset::from(asset)))
}

/// The project's assets. Also with a customer key.
#[utoipa::path(get, path = "/api/v2/assets", tag = "assets", params(PageQuery),
    responses((status = 200, body = AssetPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_assets(
    auth: Auth,
    ledger: web::Data<Ledger>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, V2Error> {
    let page = query.page()?;
    let assets = ledger.assets(&auth.0, page).await?;
    Ok(HttpResponse::Ok().json(AssetPage::new(assets, page)))
}

/// One asset. Also with a customer key.
#[utoipa::path(get, path = "/api/v2/assets/{assetId}", tag = "assets",
    params(("assetId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Asset), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_asset(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let asset = ledger.asset(&auth.0, row_id(&path, Missing::Asset)?).await?;
    Ok(HttpResponse::Ok().json(Asset::from(asset)))
}

/// Renames an asset.
#[utoipa::path(put, path = "/api/v2/assets/{assetId}/name", tag = "assets", request_body = NameBody,
    params(("assetId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 200, body = Asset), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rename_asset(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
    body: Json<NameBody>,
) -> Result<HttpResponse, V2Error> {
    let poster = auth.may(Action::ManageAssets)?;
    let asset = ledger
        .rename_asset(poster, row_id(&path, Missing::Asset)?, name(&body.name)?)
        .await?;
    Ok(HttpResponse::Ok().json(Asset::from(asset)))
}

/// Deletes an asset no wallet ever used (403 `ASSET_IS_USED` otherwise).
#[utoipa::path(delete, path = "/api/v2/assets/{assetId}", tag = "assets",
    params(("assetId" = String, Path, pattern = "^[1-9][0-9]{0,18}$")),
    responses((status = 204), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_asset(
    auth: Auth,
    ledger: web::Data<Ledger>,
    path: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    ledger
        .delete_asset(auth.may(Action::ManageAssets)?, row_id(&path, Missing::Asset)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
