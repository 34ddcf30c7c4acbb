//! The extractor that authenticates any v2 credential.

use super::error::V2Error;
use crate::api::rate_limit::Limiter;
use crate::auth::AuthError;
use crate::ledger::{Caller, CustomerViewer, Missing, Poster};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;

/// An authenticated caller: an authority (access key or JWT) or a customer.
pub struct Auth(pub Caller);

impl Auth {
    /// The authority, or 403 `ACCESS_DENIED` for a customer key.
    pub fn poster(&self) -> Result<&Poster, V2Error> {
        Ok(self.0.poster()?)
    }

    /// "Not found" as this caller must hear it: a customer key hears the
    /// same 403 for what is not its own and for what does not exist.
    pub fn not_found(&self, what: Missing) -> V2Error {
        self.0.not_found(what).into()
    }

    /// The customer, or 403 `ACCESS_DENIED` for an authority.
    pub fn customer(&self) -> Result<&CustomerViewer, V2Error> {
        match &self.0 {
            Caller::Customer(c) => Ok(c),
            Caller::Authority(_) => Err(V2Error::new(
                super::error::ErrorStatus::AccessDenied,
                "only a customer key lists its own wallets here; use /customers/{customerId}/wallets",
            )),
        }
    }
}

impl FromRequest for Auth {
    type Error = V2Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    /// Authenticates, then charges the credential's rate-limit bucket (a
    /// refused credential is a 401 and charges nothing).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (credentials, header) = crate::api::credentials_and_header(req);
        let limiter = Limiter::of(req);
        Box::pin(async move {
            let credentials = credentials.ok_or(AuthError::Unavailable)?;
            let header = header?;
            let (caller, identity) = credentials.identify(header.as_deref()).await?;
            limiter.admit(&identity)?;
            Ok(Auth(caller))
        })
    }
}
