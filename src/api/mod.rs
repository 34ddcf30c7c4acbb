//! The HTTP doors onto the ledger. Handlers only extract, call the core and
//! map the result; each API has its own error body and its own `configure`.

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
        .service(web::scope("/api/v1").configure(|c| v1::configure(c, limits)))
        .service(web::scope("/api/v2").configure(|c| v2::configure(c, limits)));
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
    let (req, _) = res.into_parts();
    let mut response = HttpResponse::build(status).json(serde_json::json!({ "error": message }));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
