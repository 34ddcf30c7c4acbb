//! The extractor that requires an admin session, and its CSRF token on writes.

use super::error::AdminError;
use super::session::{self, Session, COOKIE};
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;
use wallet_core::Ledger;

/// The header a cookie-authenticated write must carry.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A logged-in admin.
pub struct Admin(pub Session);

/// The session of this request, if its cookie names a live one opened under
/// the password stored now. The database, not this process's memory,
/// decides: the session may have been opened by another process, and
/// `admin set-password` may have run in another.
pub async fn session_of(req: &HttpRequest) -> Result<Option<Session>, AdminError> {
    let (Some(ledger), Some(cookie)) = (req.app_data::<web::Data<Ledger>>(), req.cookie(COOKIE)) else {
        return Ok(None);
    };
    Ok(session::find(ledger, cookie.value()).await?)
}

impl FromRequest for Admin {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authorize(&req).await })
    }
}

async fn authorize(req: &HttpRequest) -> Result<Admin, AdminError> {
    let session = session_of(req)
        .await?
        .ok_or_else(|| AdminError::new(StatusCode::UNAUTHORIZED, "not logged in"))?;
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
