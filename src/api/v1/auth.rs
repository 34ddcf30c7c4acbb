//! The extractor that authenticates an authority's JWT.

use super::V1Error;
use crate::api::rate_limit::Limiter;
use crate::auth::AuthError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::Future;
use std::pin::Pin;
use wallet_core::policy::Caller;

/// An authenticated authority, extracted from `Authorization: <JWT>`.
pub struct Authority(pub Caller);

impl FromRequest for Authority {
    type Error = V1Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    /// Authenticates, then charges the authority's rate-limit bucket (a
    /// refused credential is a 401 and charges nothing).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (credentials, header) = crate::api::credentials_and_header(req);
        let limiter = Limiter::of(req);
        Box::pin(async move {
            let credentials = credentials.ok_or(AuthError::Unavailable)?;
            let header = header?;
            let (poster, identity) = credentials.identify_authority(header.as_deref()).await?;
            limiter.admit(&identity)?;
            Ok(Authority(poster))
        })
    }
}
