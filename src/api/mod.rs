//! The HTTP doors onto the ledger. Handlers only extract, call the core and
//! map the result; each API has its own error body and its own `configure`.

pub mod admin;
pub mod client_addr;
pub mod json;
pub mod maintenance;
pub mod metrics;
pub mod rate_limit;
pub mod v1;
pub mod v2;

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse};

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted body of `POST /api/v2/transactions/batch`.
    pub max_batch_body_bytes: usize,
}

/// Registers every API on an app: used by the server and by the tests.
pub fn configure(cfg: &mut web::ServiceConfig, limits: Limits) {
    cfg.route("/", web::get().to(index))
        .route("/metrics", web::get().to(metrics::serve))
        .configure(admin::configure)
        .service(web::scope("/api/v1").configure(|c| v1::configure(c, limits)))
        .service(web::scope("/api/v2").configure(|c| v2::configure(c, limits)));
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
    HttpResponse::NotFound().json(serde_json::json!({ "error": "no such endpoint" }))
}

/// Gives every error response without a JSON body (a wrong method, a
/// framework-level refusal) a JSON one, so clients can always parse errors.
pub fn json_error_body<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
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
    let body = if res.request().path().starts_with("/api/v2") {
        // API v2's error body, with the status its clients switch on.
        let code = match status.as_u16() {
            404 => "NOT_FOUND",
            405 => "METHOD_NOT_ALLOWED",
            400..=499 => "VALIDATION_ERROR",
            _ => "UNKNOWN_ERROR",
        };
        serde_json::json!({ "status": code, "message": message })
    } else {
        serde_json::json!({ "error": message })
    };
    let (req, _) = res.into_parts();
    let mut response = HttpResponse::build(status).json(body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
