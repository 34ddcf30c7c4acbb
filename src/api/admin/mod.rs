//! The admin API (`/admin/api/`) and the admin page (`/admin/`), for the
//! server's operator across all projects. See `docs/admin.md`.
//!
//! Cookie sessions kept in the database (every process knows them; see
//! `session`) with a CSRF token on every write; a strict CSP on every
//! `/admin/` response; the page's static files are compiled into the binary.

mod auth;
mod error;
mod handlers;
mod lockout;
pub mod password;
mod session;
mod types;
mod verifier;

pub use auth::session_of;
pub use error::AdminError;

use crate::api::client_addr::TrustedProxies;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, HttpResponse};
use handlers::{customers, dashboard, events, holds, items, login, projects};
use lockout::LoginLimiter;
use verifier::Verifier;

/// What the admin endpoints share.
pub struct AdminState {
    limiter: LoginLimiter,
    verifier: Verifier,
    proxies: TrustedProxies,
}

/// The login's counters, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct LoginStats {
    pub verifier: verifier::VerifierStats,
    /// Attempts refused by the lockout.
    pub locked_out: u64,
}

impl AdminState {
    /// `proxies`: whose `X-Forwarded-For` names the client for the lockout.
    /// Starts the password-verifying threads.
    pub fn new(proxies: TrustedProxies) -> std::io::Result<Self> {
        Ok(Self {
            limiter: LoginLimiter::default(),
            verifier: Verifier::start()?,
            proxies,
        })
    }

    pub fn login_stats(&self) -> LoginStats {
        LoginStats {
            verifier: self.verifier.stats(),
            locked_out: self.limiter.refused(),
        }
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page's files, compiled in: no build step, nothing to deploy beside the binary.
const PAGE: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../../../static/admin/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../static/admin/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../../static/admin/app.css"),
    ),
    // uPlot 1.6.32 from npm, as published (docs/admin.md: where from, how
    // to update), with its licence.
    (
        "vendor/uplot/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../static/admin/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "vendor/uplot/uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("../../../static/admin/vendor/uplot/uPlot.min.css"),
    ),
    (
        "vendor/uplot/LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../../../static/admin/vendor/uplot/LICENSE"),
    ),
];

async fn page_file(path: web::Path<String>) -> HttpResponse {
    match PAGE.iter().find(|(name, _, _)| *name == path.as_str()) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "no-cache"))
            .body(*body),
        None => HttpResponse::NotFound().json(serde_json::json!({ "error": "no such file" })),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, limits: super::Limits) {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"));
    cfg.route(
        "/admin",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/admin/"))
                .finish()
        }),
    )
    .service(
        web::scope("/admin")
            .wrap(headers)
            // The login body is read before any authentication: bound its wait.
            .wrap(from_fn(move |req, next| {
                super::body_timeout::limit(super::Api::Other, limits.body_timeout, req, next)
            }))
            .app_data(
                web::JsonConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|e, _| AdminError::from(e).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| AdminError::from(e).into()))
            .service(web::scope("/api").configure(api_routes))
            .route("/{file:[A-Za-z./]*}", web::get().to(page_file)),
    );
}

fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::post().to(login::login))
        .route("/logout", web::post().to(login::logout))
        .route("/session", web::get().to(login::session))
        .route("/maintenance", web::get().to(login::get_maintenance))
        .route("/maintenance", web::put().to(login::set_maintenance))
        .route("/projects", web::get().to(projects::list_projects))
        .route("/projects", web::post().to(projects::create_project))
        .route("/projects/{p}/assets", web::get().to(projects::list_assets))
        .route("/projects/{p}/assets", web::post().to(projects::create_asset))
        .route(
            "/projects/{p}/authorities",
            web::get().to(projects::list_authorities),
        )
        .route(
            "/projects/{p}/authorities",
            web::post().to(projects::create_authority),
        )
        .route(
            "/projects/{p}/access-keys",
            web::post().to(projects::create_access_key),
        )
        .route(
            "/authorities/{id}/revoke",
            web::post().to(projects::revoke_authority),
        )
        .route(
            "/projects/{p}/customers",
            web::get().to(customers::list_customers),
        )
        .route(
            "/projects/{p}/customers/{c}",
            web::get().to(customers::get_customer),
        )
        .route(
            "/projects/{p}/customers/{c}/suspend",
            web::post().to(customers::suspend_customer),
        )
        .route(
            "/projects/{p}/customers/{c}/resume",
            web::post().to(customers::resume_customer),
        )
        .route(
            "/projects/{p}/customers/{c}/keys",
            web::get().to(customers::list_keys),
        )
        .route(
            "/projects/{p}/customers/{c}/keys",
            web::post().to(customers::create_key),
        )
        .route(
            "/projects/{p}/customers/{c}/keys/{k}",
            web::delete().to(customers::revoke_key),
        )
        .route(
            "/projects/{p}/customers/{c}/items",
            web::get().to(items::customer_items),
        )
        .route("/projects/{p}/stock", web::get().to(items::stock_items))
        .route("/projects/{p}/item", web::get().to(items::item))
        .route(
            "/projects/{p}/wallets/{w}/entries",
            web::get().to(customers::list_entries),
        )
        .route(
            "/projects/{p}/wallets/{w}/holds",
            web::get().to(holds::list_holds),
        )
        .route("/projects/{p}/wallets/{w}/lots", web::get().to(holds::list_lots))
        .route(
            "/projects/{p}/wallets/{w}/credit-limit",
            web::put().to(holds::set_credit_limit),
        )
        .route("/projects/{p}/holds/void", web::post().to(holds::void_hold))
        .route("/projects/{p}/overview", web::get().to(dashboard::overview))
        .route("/projects/{p}/search", web::get().to(dashboard::search))
        .route("/projects/{p}/events/stream", web::get().to(dashboard::stream))
        .route("/projects/{p}/events", web::get().to(events::list_events))
        .route("/projects/{p}/events/head", web::get().to(events::head))
        .route("/projects/{p}/webhooks", web::get().to(events::list_webhooks))
        .route(
            "/projects/{p}/webhooks/{w}/replay",
            web::post().to(events::replay),
        )
        .route(
            "/projects/{p}/transactions/{t}",
            web::get().to(customers::get_transaction),
        )
        .default_service(web::to(|| async {
            HttpResponse::NotFound().json(serde_json::json!({ "error": "no such admin endpoint" }))
        }));
}
