//! What a call can fail with.

/// An error of a call: the server's refusal (its JSON error body), or a
/// request that got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the request with its error body
    /// (`{"status": "WALLET_NOT_FOUND", "message": "…"}`).
    #[error("HTTP {http} {code}: {message}")]
    Api {
        /// The HTTP status code (400, 401, 403, 404, 409, 429, …).
        http: u16,
        /// The error code of the body's `status` (`VALIDATION_ERROR`, …).
        code: String,
        message: String,
    },
    /// An answer that is not what the endpoint answers (not its JSON, or a
    /// status it never uses): a proxy in between, or a different server.
    #[error("HTTP {http} with an unexpected body: {body}")]
    Unexpected { http: u16, body: String },
    /// No answer: the connection failed, was dropped, or timed out (after
    /// the retries the request allows).
    #[error("the request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// An event of the stream that is not an Event.
    #[error("an unreadable event: {0}")]
    Decode(#[from] serde_json::Error),
    /// The base URL given to the client is not an `http(s)://` URL.
    #[error("not an http(s) base URL: {0}")]
    BaseUrl(String),
}

impl Error {
    /// The server's error code (`WALLET_NOT_FOUND`, …), when it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api { http, .. } | Error::Unexpected { http, .. } => Some(*http),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::Decode(_) | Error::BaseUrl(_) => None,
        }
    }
}

/// The server's error body.
#[derive(serde::Deserialize)]
pub(crate) struct ErrorBody {
    pub status: String,
    pub message: String,
}

/// The error an answer of status `http` with `body` is.
pub(crate) fn refusal(http: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => Error::Api {
            http,
            code: e.status,
            message: e.message,
        },
        Err(_) => Error::Unexpected {
            http,
            body: String::from_utf8_lossy(body).chars().take(500).collect(),
        },
    }
}
