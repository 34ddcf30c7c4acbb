//! Admin API errors: `{"error": "<message>"}`, plus `"status"` (API v2's
//! code) when the ledger refused: a script tells `WRONG_HOLD_STATUS` from
//! `HOLD_NOT_FOUND` without reading the words.

use crate::api::v2::{ErrorStatus, V2Error};
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use wallet_core::LedgerError;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AdminError {
    pub status: StatusCode,
    pub message: String,
    /// API v2's code for a refusal of the ledger.
    pub code: Option<ErrorStatus>,
    /// `Retry-After` seconds (maintenance).
    pub retry_after: Option<&'static str>,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code: None,
            retry_after: None,
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
        let mut response = HttpResponse::build(self.status);
        response.insert_header(("Cache-Control", "no-store"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        match self.code {
            Some(code) => response.json(serde_json::json!({ "error": self.message, "status": code })),
            None => response.json(serde_json::json!({ "error": self.message })),
        }
    }
}

/// The ledger's refusals mean the same here as in API v2.
impl From<V2Error> for AdminError {
    fn from(e: V2Error) -> Self {
        Self {
            code: Some(e.status),
            retry_after: e.retry_after,
            ..Self::new(e.http, e.message)
        }
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
