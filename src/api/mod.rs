//! The HTTP doors onto the ledger. Handlers only extract, call the core and
//! map the result; each API has its own error body and its own `configure`.

pub mod admin;
pub mod body_timeout;
pub mod client_addr;
pub mod failure;
pub mod json;
pub mod maintenance;
pub mod metrics;
pub mod rate_limit;
pub mod v1;
pub mod v2;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpResponse, Scope};
use std::time::Duration;

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted body of `POST /api/v2/transactions/batch`.
    pub max_batch_body_bytes: usize,
    /// Longest wait for a request's whole body, from the moment its head was
    /// read (see `body_timeout`).
    pub body_timeout: Duration,
}

/// Which API a request was routed to: it decides the error body and whether
/// the maintenance switch applies. Known from the scope that routed the
/// request, never from the raw path: the router matches the percent-decoded
/// path (`/%61pi/v2/...` is routed as `/api/v2/...`), so a test on the
/// client's spelling can be walked around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `{"error": "..."}`.
    V1,
    /// `{"status": "<ERROR_STATUS>", "message": "..."}`.
    V2,
    /// The admin API and everything outside the APIs: `{"error": "..."}`.
    Other,
}

impl Api {
    /// This API's error body; `status` is what API v2 clients switch on.
    pub fn error_body(self, status: v2::ErrorStatus, message: &str) -> serde_json::Value {
        match self {
            Api::V2 => serde_json::json!({ "status": status, "message": message }),
            Api::V1 | Api::Other => serde_json::json!({ "error": message }),
        }
    }
}

/// Registers every API on an app: used by the server and by the tests.
pub fn configure(cfg: &mut web::ServiceConfig, limits: Limits) {
    cfg.route("/", web::get().to(index))
        .route("/metrics", web::get().to(metrics::serve))
        .configure(|c| admin::configure(c, limits))
        .service(api_scope("/api/v1", Api::V1, limits).configure(|c| v1::configure(c, limits)))
        .service(api_scope("/api/v2", Api::V2, limits).configure(|c| v2::configure(c, limits)));
}

/// The scope of one API with what every route of it shares, decided on the
/// route: its error body, the maintenance switch, the body timeout.
fn api_scope(
    path: &str,
    api: Api,
    limits: Limits,
) -> Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(path)
        .wrap(from_fn(move |req, next| maintenance::guard(api, req, next)))
        .wrap(from_fn(move |req, next| {
            body_timeout::limit(api, limits.body_timeout, req, next)
        }))
        .wrap(ErrorHandlers::new().default_handler(move |res| json_error_body(api, res)))
}

/// The credentials store and the `Authorization` header of a request, as
/// both APIs' extractors need them (read before the request is moved).
pub(crate) fn credentials_and_header(
    req: &actix_web::HttpRequest,
) -> (
    Option<web::Data<crate::auth::Credentials>>,
    Result<Option<String>, crate::auth::AuthError>,
) {
    let credentials = req.app_data::<web::Data<crate::auth::Credentials>>().cloned();
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| crate::auth::AuthError::Malformed)
        })
        .transpose();
    (credentials, header)
}

/// The landing page at `/`, compiled into the binary.
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("../../static/index.html"))
}

/// The answer to a path no route matches.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(Api::Other.error_body(v2::ErrorStatus::NotFound, "no such endpoint"))
}

/// Gives every error response without a JSON body (a wrong method, a
/// framework-level refusal) a JSON one in `api`'s error shape, so clients can
/// always parse errors. Each API's scope has its own; the app's catches the
/// rest with `Api::Other`.
pub fn json_error_body<B>(api: Api, res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = status.canonical_reason().unwrap_or("error").to_lowercase();
    let code = match status.as_u16() {
        404 => v2::ErrorStatus::NotFound,
        405 => v2::ErrorStatus::MethodNotAllowed,
        400..=499 => v2::ErrorStatus::ValidationError,
        _ => v2::ErrorStatus::UnknownError,
    };
    let (req, _) = res.into_parts();
    let mut response = HttpResponse::build(status).json(api.error_body(code, &message));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
