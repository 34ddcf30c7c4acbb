//! API v1 errors: `{"error": "<message>"}` with a fitting status.

use crate::api::rate_limit::{OverLimit, RETRY_AFTER_SECONDS};
use crate::auth::AuthError;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use wallet_core::planner::FailReason;
use wallet_core::LedgerError;

#[derive(Debug, thiserror::Error)]
pub enum V1Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    OverLimit(#[from] OverLimit),
    #[error(transparent)]
    Ledger(LedgerError),
}

impl From<LedgerError> for V1Error {
    fn from(e: LedgerError) -> Self {
        match e {
            // Refused exactly as the same credential is on a request's arrival.
            LedgerError::Credential(lapse) => V1Error::Auth(lapse.into()),
            other => V1Error::Ledger(other),
        }
    }
}

impl ResponseError for V1Error {
    fn status_code(&self) -> StatusCode {
        match self {
            V1Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            V1Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            V1Error::Auth(AuthError::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
            V1Error::Auth(_) => StatusCode::UNAUTHORIZED,
            V1Error::OverLimit(_) => StatusCode::TOO_MANY_REQUESTS,
            V1Error::Ledger(e) => match e {
                LedgerError::Invalid(_) => StatusCode::BAD_REQUEST,
                LedgerError::Rejected(reason) => match reason {
                    // The SDK turns 402 into NotEnoughFundsError.
                    FailReason::InsufficientFunds { .. } => StatusCode::PAYMENT_REQUIRED,
                    FailReason::WalletNotOpen { .. } | FailReason::OwnerNotActive { .. } => {
                        StatusCode::CONFLICT
                    }
                    _ => StatusCode::BAD_REQUEST,
                },
                LedgerError::Maintenance => StatusCode::SERVICE_UNAVAILABLE,
                LedgerError::NotFound(_) => StatusCode::NOT_FOUND,
                LedgerError::AccessDenied(_) | LedgerError::AssetIsUsed => StatusCode::FORBIDDEN,
                LedgerError::Conflict(_)
                | LedgerError::WrongStatus(_)
                | LedgerError::ChangeWalletStatus(_)
                | LedgerError::CustomerHasActiveWallets => StatusCode::CONFLICT,
                LedgerError::Credential(_) => StatusCode::UNAUTHORIZED,
                LedgerError::Storage(s) if s.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
                LedgerError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let V1Error::Ledger(LedgerError::Maintenance) = self {
            // Found inside the write: answered as the edge answers it.
            return crate::api::maintenance::refusal(crate::api::Api::V1);
        }
        let status = self.status_code();
        let message = if status.is_server_error() {
            // The cause goes to the log, never to the client.
            log::error!("API v1 request failed: {self}");
            match status {
                StatusCode::SERVICE_UNAVAILABLE => {
                    "the service cannot take this request right now; nothing was changed"
                }
                _ => "internal error",
            }
            .to_owned()
        } else if let V1Error::Ledger(LedgerError::Rejected(reason)) = self {
            rejected(reason)
        } else {
            self.to_string()
        };
        let mut response = HttpResponse::build(status);
        if let V1Error::OverLimit(_) = self {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
        }
        response.json(serde_json::json!({ "error": message }))
    }
}

/// Why an entry could not apply, as API v1 has always said it.
fn rejected(reason: &FailReason) -> String {
    match reason {
        FailReason::InsufficientFunds { .. } => {
            "not enough funds: the balance would go below zero".to_owned()
        }
        FailReason::BalanceOverflow { .. } => {
            "the balance would pass the largest amount a wallet can hold".to_owned()
        }
        other => crate::api::failure::reason(other),
    }
}

impl From<JsonPayloadError> for V1Error {
    fn from(e: JsonPayloadError) -> Self {
        match e {
            JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                V1Error::TooLarge(limit)
            }
            JsonPayloadError::ContentType => {
                V1Error::BadRequest("the body must be JSON (Content-Type: application/json)".to_owned())
            }
            JsonPayloadError::Deserialize(e) => V1Error::BadRequest(format!("invalid JSON body: {e}")),
            other => V1Error::BadRequest(format!("invalid JSON body: {other}")),
        }
    }
}

impl From<QueryPayloadError> for V1Error {
    fn from(e: QueryPayloadError) -> Self {
        V1Error::BadRequest(format!("invalid query string: {e}"))
    }
}

impl From<PathError> for V1Error {
    fn from(e: PathError) -> Self {
        V1Error::BadRequest(format!("invalid path: {e}"))
    }
}
