//! Admin API errors: `{"error": "<message>"}`.

use crate::api::v2::V2Error;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use wallet_core::LedgerError;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AdminError {
    pub status: StatusCode,
    pub message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({ "error": self.message }))
    }
}

/// The ledger's refusals mean the same here as in API v2.
impl From<V2Error> for AdminError {
    fn from(e: V2Error) -> Self {
        Self::new(e.http, e.message)
    }
}

impl From<LedgerError> for AdminError {
    fn from(e: LedgerError) -> Self {
        V2Error::from(e).into()
    }
}

impl From<wallet_core::text::InvalidValue> for AdminError {
    fn from(e: wallet_core::text::InvalidValue) -> Self {
        Self::bad_request(e.0)
    }
}

impl From<wallet_core::StoreError> for AdminError {
    fn from(e: wallet_core::StoreError) -> Self {
        LedgerError::from(e).into()
    }
}

impl From<JsonPayloadError> for AdminError {
    fn from(e: JsonPayloadError) -> Self {
        V2Error::from(e).into()
    }
}

impl From<QueryPayloadError> for AdminError {
    fn from(e: QueryPayloadError) -> Self {
        V2Error::from(e).into()
    }
}
