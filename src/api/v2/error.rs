//! API v2 errors: `{"status": "<ERROR_STATUS>", "message": "..."}`.

use crate::api::rate_limit::{OverLimit, RETRY_AFTER_SECONDS};
use crate::auth::AuthError;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use wallet_core::planner::FailCode;
use wallet_core::{LedgerError, Missing};

/// The error statuses of the Cloud Wallet API that this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorStatus {
    ValidationError,
    FractionInAmountNotValid,
    NoKey,
    IllegalToken,
    IllegalSignature,
    Expired,
    AccessDenied,
    AssetIsUsed,
    ProjectNotFound,
    AssetNotFound,
    CustomerNotFound,
    WalletNotFound,
    TransactionNotFound,
    HoldNotFound,
    KeyNotFound,
    ItemNotFound,
    WebhookNotFound,
    CustomerHasActiveWallets,
    ChangeWalletStatusError,
    WrongWalletStatus,
    WrongHoldStatus,
    WrongItemStatus,
    WrongItemOwner,
    WrongCustomerStatus,
    InsufficientFunds,
    Conflict,
    LimitExceeded,
    /// No such endpoint (a path no route matches).
    NotFound,
    /// The endpoint exists, but not with this method.
    MethodNotAllowed,
    UnknownError,
}

impl ErrorStatus {
    pub fn http(self) -> StatusCode {
        use ErrorStatus::*;
        match self {
            ValidationError | FractionInAmountNotValid => StatusCode::BAD_REQUEST,
            NoKey | IllegalToken | IllegalSignature | Expired => StatusCode::UNAUTHORIZED,
            AccessDenied | AssetIsUsed => StatusCode::FORBIDDEN,
            ProjectNotFound | AssetNotFound | CustomerNotFound | WalletNotFound | TransactionNotFound
            | HoldNotFound | KeyNotFound | ItemNotFound | WebhookNotFound => StatusCode::NOT_FOUND,
            CustomerHasActiveWallets
            | ChangeWalletStatusError
            | WrongWalletStatus
            | WrongHoldStatus
            | WrongItemStatus
            | WrongItemOwner
            | WrongCustomerStatus
            | InsufficientFunds
            | Conflict => StatusCode::CONFLICT,
            LimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            UnknownError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body of every API v2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub status: ErrorStatus,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct V2Error {
    pub status: ErrorStatus,
    pub http: StatusCode,
    pub message: String,
    /// `Retry-After` seconds, for the refusals that say when to come back.
    pub retry_after: Option<&'static str>,
}

impl V2Error {
    pub fn new(status: ErrorStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            http: status.http(),
            message: message.into(),
            retry_after: (status == ErrorStatus::LimitExceeded).then_some(RETRY_AFTER_SECONDS),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorStatus::ValidationError, message)
    }

    pub fn not_found(what: Missing) -> Self {
        let status = match what {
            Missing::Project => ErrorStatus::ProjectNotFound,
            Missing::Asset => ErrorStatus::AssetNotFound,
            Missing::Customer => ErrorStatus::CustomerNotFound,
            Missing::Wallet => ErrorStatus::WalletNotFound,
            Missing::Transaction => ErrorStatus::TransactionNotFound,
            Missing::Hold => ErrorStatus::HoldNotFound,
            // API v2 names items by their id; "an entry with an item" is API
            // v1's word for the same thing.
            Missing::Item | Missing::ItemEntry => ErrorStatus::ItemNotFound,
            Missing::Authority | Missing::Key => ErrorStatus::KeyNotFound,
            Missing::Webhook => ErrorStatus::WebhookNotFound,
        };
        Self::new(status, format!("{what} not found"))
    }
}

impl ResponseError for V2Error {
    fn status_code(&self) -> StatusCode {
        self.http
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.http);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(ErrorBody {
            status: self.status,
            message: self.message.clone(),
        })
    }
}

impl From<AuthError> for V2Error {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Missing => ErrorStatus::NoKey,
            AuthError::Malformed | AuthError::NotYetValid | AuthError::UnknownKey => {
                ErrorStatus::IllegalToken
            }
            AuthError::BadSignature => ErrorStatus::IllegalSignature,
            AuthError::Expired => ErrorStatus::Expired,
            AuthError::Unavailable => {
                return V2Error {
                    http: StatusCode::SERVICE_UNAVAILABLE,
                    ..V2Error::new(
                        ErrorStatus::UnknownError,
                        "the service cannot authenticate right now",
                    )
                }
            }
        };
        V2Error::new(status, e.to_string())
    }
}

impl From<OverLimit> for V2Error {
    fn from(e: OverLimit) -> Self {
        V2Error::new(ErrorStatus::LimitExceeded, e.to_string())
    }
}

impl From<LedgerError> for V2Error {
    fn from(e: LedgerError) -> Self {
        let status = match &e {
            LedgerError::Invalid(_) => ErrorStatus::ValidationError,
            LedgerError::Rejected(reason) => {
                let status = match reason.code() {
                    FailCode::InsufficientFunds => ErrorStatus::InsufficientFunds,
                    FailCode::WrongWalletStatus => ErrorStatus::WrongWalletStatus,
                    FailCode::WrongHoldStatus => ErrorStatus::WrongHoldStatus,
                    FailCode::Conflict => ErrorStatus::Conflict,
                    FailCode::ValidationError => ErrorStatus::ValidationError,
                    FailCode::WrongItemStatus => ErrorStatus::WrongItemStatus,
                    FailCode::WrongItemOwner => ErrorStatus::WrongItemOwner,
                    FailCode::WrongCustomerStatus => ErrorStatus::WrongCustomerStatus,
                };
                return V2Error::new(status, crate::api::failure::reason(reason));
            }
            // Found inside the write: answered as the edge answers it
            // (`api::maintenance::refusal`).
            LedgerError::Maintenance => {
                return V2Error {
                    http: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after: Some(crate::api::maintenance::RETRY_AFTER_SECONDS),
                    ..V2Error::new(ErrorStatus::UnknownError, e.to_string())
                }
            }
            LedgerError::NotFound(what) => return V2Error::not_found(*what),
            // Refused exactly as the same credential is on a request's arrival.
            LedgerError::Credential(lapse) => return AuthError::from(*lapse).into(),
            LedgerError::AccessDenied(_) => ErrorStatus::AccessDenied,
            LedgerError::Conflict(_) => ErrorStatus::Conflict,
            LedgerError::WrongStatus(_) => ErrorStatus::WrongWalletStatus,
            LedgerError::ChangeWalletStatus(_) => ErrorStatus::ChangeWalletStatusError,
            LedgerError::AssetIsUsed => ErrorStatus::AssetIsUsed,
            LedgerError::CustomerHasActiveWallets => ErrorStatus::CustomerHasActiveWallets,
            LedgerError::Storage(storage) => {
                // The cause goes to the log, never to the client.
                log::error!("API v2 request failed: {storage}");
                let (http, message) = if storage.is_unavailable() {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the service cannot take this request right now; nothing was changed",
                    )
                } else {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                };
                return V2Error {
                    http,
                    ..V2Error::new(ErrorStatus::UnknownError, message)
                };
            }
        };
        V2Error::new(status, e.to_string())
    }
}

impl From<wallet_core::text::InvalidValue> for V2Error {
    fn from(e: wallet_core::text::InvalidValue) -> Self {
        V2Error::invalid(e.0)
    }
}

impl From<JsonPayloadError> for V2Error {
    fn from(e: JsonPayloadError) -> Self {
        match e {
            JsonPayloadError::Overflow { limit } | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                V2Error {
                    http: StatusCode::PAYLOAD_TOO_LARGE,
                    ..V2Error::invalid(format!("the request body is larger than {limit} bytes"))
                }
            }
            JsonPayloadError::ContentType => {
                V2Error::invalid("the body must be JSON (Content-Type: application/json)")
            }
            JsonPayloadError::Deserialize(e) => V2Error::invalid(format!("invalid JSON body: {e}")),
            other => V2Error::invalid(format!("invalid JSON body: {other}")),
        }
    }
}

impl From<QueryPayloadError> for V2Error {
    fn from(e: QueryPayloadError) -> Self {
        V2Error::invalid(format!("invalid query string: {e}"))
    }
}

impl From<PathError> for V2Error {
    fn from(e: PathError) -> Self {
        V2Error::invalid(format!("invalid path: {e}"))
    }
}
