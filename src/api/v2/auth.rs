//! The extractor that authenticates any v2 credential.

use super::error::V2Error;
use crate::api::rate_limit::Limiter;
use crate::auth::AuthError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;
use wallet_core::policy::{self, Action, Caller};
use wallet_core::{LedgerError, Missing};

/// An authenticated caller: an authority (access key or JWT) or a customer.
pub struct Auth(pub Caller);

impl Auth {
    /// Asks the policy before a handler reads its input, so a caller that may
    /// not do this at all hears 403 whatever it sent.
    pub fn may(&self, action: Action) -> Result<&Caller, V2Error> {
        policy::authorize(&self.0, action).map_err(|denied| LedgerError::AccessDenied(denied.0))?;
        Ok(&self.0)
    }

    /// "Not found" as this caller must hear it: a customer key hears the
    /// same 403 for what is not its own and for what does not exist.
    pub fn not_found(&self, what: Missing) -> V2Error {
        match self.0 {
            Caller::Customer(_) => LedgerError::AccessDenied(policy::NOT_YOURS.0).into(),
            _ => V2Error::not_found(what),
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
