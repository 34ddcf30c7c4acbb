//! The extractor that requires an admin session, and its CSRF token on writes.

use super::error::AdminError;
use super::session::{Session, COOKIE};
use super::AdminState;
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The header a cookie-authenticated write must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A logged-in admin.
pub struct Admin(pub Session);

/// The session of this request, if its cookie names a live one.
pub fn session_of(req: &HttpRequest) -> Option<Session> {
    let state = req.app_data::<web::Data<AdminState>>()?;
    let cookie = req.cookie(COOKIE)?;
    state.sessions.get(cookie.value())
}

impl FromRequest for Admin {
    type Error = AdminError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authorize(req))
    }
}

fn authorize(req: &HttpRequest) -> Result<Admin, AdminError> {
    let session =
        session_of(req).ok_or_else(|| AdminError::new(StatusCode::UNAUTHORIZED, "not logged in"))?;
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reads_only {
        // A cookie rides along with any cross-site request; this header
        // cannot, so it proves the page itself made the request.
        let token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !token.is_some_and(|t| session.csrf_matches(t)) {
            return Err(AdminError::new(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token",
            ));
        }
    }
    Ok(Admin(session))
}
