//! Login, logout, the session, and the maintenance switch.

use super::{ok, reply};
use crate::api::admin::auth::{session_of, Admin};
use crate::api::admin::error::AdminError;
use crate::api::admin::password;
use crate::api::admin::session::{COOKIE, SESSION_TTL};
use crate::api::admin::AdminState;
use crate::api::maintenance::Maintenance;
use crate::ledger::Ledger;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

/// A JSON object body, with this API's error replies.
type Json<T> = crate::api::json::Object<T, AdminError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AdminState>,
    ledger: web::Data<Ledger>,
    body: Json<LoginBody>,
) -> Result<HttpResponse, AdminError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    if !state.limiter.allows(ip) {
        return Err(AdminError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins from this address; wait a minute",
        ));
    }
    if !password::verify(ledger.store(), &body.username, &body.password).await? {
        state.limiter.failed(ip);
        return Err(AdminError::new(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password",
        ));
    }
    state.limiter.succeeded(ip);
    let (token, session) = state.sessions.create();
    let cookie = Cookie::build(COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(SESSION_TTL.as_secs() as i64))
        .secure(req.connection_info().scheme() == "https")
        .finish();
    Ok(ok()
        .cookie(cookie)
        .json(json!({ "csrfToken": session.csrf, "expiresAt": session.expires_at })))
}

pub async fn session(Admin(session): Admin) -> HttpResponse {
    ok().json(json!({ "csrfToken": session.csrf, "expiresAt": session.expires_at }))
}

pub async fn logout(req: HttpRequest, _admin: Admin, state: web::Data<AdminState>) -> HttpResponse {
    if let (Some(cookie), Some(_)) = (req.cookie(COOKIE), session_of(&req)) {
        state.sessions.end(cookie.value());
    }
    let mut gone = Cookie::build(COOKIE, "").path("/").finish();
    gone.make_removal();
    reply(HttpResponse::NoContent()).cookie(gone).finish()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    enabled: bool,
}

pub async fn get_maintenance(_admin: Admin, maintenance: web::Data<Maintenance>) -> HttpResponse {
    ok().json(json!({ "enabled": maintenance.enabled() }))
}

pub async fn set_maintenance(
    _admin: Admin,
    maintenance: web::Data<Maintenance>,
    ledger: web::Data<Ledger>,
    body: Json<MaintenanceBody>,
) -> Result<HttpResponse, AdminError> {
    maintenance.set(ledger.store(), body.enabled).await?;
    log::warn!("maintenance switched {}", if body.enabled { "on" } else { "off" });
    Ok(ok().json(json!({ "enabled": maintenance.enabled() })))
}
