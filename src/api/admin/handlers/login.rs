//! Login, logout, the session, and the maintenance switch.

use super::{ok, reply};
use crate::api::admin::auth::Admin;
use crate::api::admin::error::AdminError;
use crate::api::admin::session::{self, COOKIE, SESSION_TTL};
use crate::api::admin::verifier::Verdict;
use crate::api::admin::AdminState;
use crate::api::maintenance::Maintenance;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use wallet_core::Ledger;

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
    let peer = req
        .peer_addr()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let client = state.proxies.client(peer, req.headers());
    // Counted now, before argon2: guesses sent at once cannot slip past.
    let Some(attempt) = state.limiter.admit(client, &body.username) else {
        return Err(AdminError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed logins for this user name from this address; wait a minute",
        ));
    };
    let verdict = match state
        .verifier
        .verify(&ledger, &body.username, &body.password)
        .await
    {
        Ok(verdict) => verdict,
        Err(e) => {
            state.limiter.refund(attempt);
            return Err(e.into());
        }
    };
    let stamp = match verdict {
        Verdict::Admin(stamp) => {
            state.limiter.succeeded(attempt);
            stamp
        }
        Verdict::Wrong => {
            return Err(AdminError::new(
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ))
        }
        Verdict::Busy => {
            state.limiter.refund(attempt);
            return Err(AdminError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "the server is busy checking other logins; try again in a few seconds",
            ));
        }
    };
    // The password changed while this login was verified: the verified one
    // is no longer the admin's.
    let Some((token, session)) = session::open(&ledger, stamp).await? else {
        return Err(AdminError::new(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password",
        ));
    };
    let cookie = Cookie::build(COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::seconds(
            i64::try_from(SESSION_TTL.as_secs()).unwrap_or(i64::MAX),
        ))
        .secure(req.connection_info().scheme() == "https")
        .finish();
    Ok(ok()
        .cookie(cookie)
        .json(json!({ "csrfToken": session.csrf, "expiresAt": session.expires_at })))
}

pub async fn session(Admin(session): Admin) -> HttpResponse {
    ok().json(json!({ "csrfToken": session.csrf, "expiresAt": session.expires_at }))
}

pub async fn logout(
    req: HttpRequest,
    _admin: Admin,
    ledger: web::Data<Ledger>,
) -> Result<HttpResponse, AdminError> {
    // `Admin` found this cookie's session live; its row goes, so no process
    // accepts the cookie again.
    if let Some(cookie) = req.cookie(COOKIE) {
        session::end(&ledger, cookie.value()).await?;
    }
    let mut gone = Cookie::build(COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(reply(HttpResponse::NoContent()).cookie(gone).finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    enabled: bool,
}

/// Read from the database, not the flag in memory: another process may
/// have switched it since this one last looked.
pub async fn get_maintenance(
    _admin: Admin,
    maintenance: web::Data<Maintenance>,
    ledger: web::Data<Ledger>,
) -> Result<HttpResponse, AdminError> {
    let on = maintenance.refresh(&ledger).await?;
    Ok(ok().json(json!({ "enabled": on })))
}

pub async fn set_maintenance(
    _admin: Admin,
    maintenance: web::Data<Maintenance>,
    ledger: web::Data<Ledger>,
    body: Json<MaintenanceBody>,
) -> Result<HttpResponse, AdminError> {
    maintenance.set(&ledger, body.enabled).await?;
    log::warn!("maintenance switched {}", if body.enabled { "on" } else { "off" });
    Ok(ok().json(json!({ "enabled": maintenance.enabled() })))
}
