//! Prometheus metrics at `/metrics`: requests by status class, a latency
//! histogram, the writer's commits and groups, and read-pool waits. Counters
//! are plain atomics; the text is written on demand.

use crate::api::admin::{session_of, AdminState};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use subtle::ConstantTimeEq;
use wallet_core::Ledger;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Who may read `/metrics` besides a logged-in admin.
#[derive(Clone, Default)]
pub struct MetricsToken(pub Option<String>);

impl Metrics {
    fn observe(&self, status: u16, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Middleware: counts every request and its latency.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let start = Instant::now();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        metrics.observe(response.status().as_u16(), start.elapsed());
    }
    Ok(response)
}

async fn allowed(req: &HttpRequest, token: &MetricsToken) -> bool {
    if session_of(req).await.is_ok_and(|s| s.is_some()) {
        return true;
    }
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&token.0, given) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
}

pub async fn serve(
    req: HttpRequest,
    metrics: web::Data<Metrics>,
    token: web::Data<MetricsToken>,
    ledger: web::Data<Ledger>,
    admin: web::Data<AdminState>,
) -> HttpResponse {
    if !allowed(&req, &token).await {
        return HttpResponse::Unauthorized()
            .json(serde_json::json!({ "error": "log in as admin or send the metrics token" }));
    }
    let mut out = String::with_capacity(2048);
    let _ = render(&mut out, &metrics, &ledger, &admin);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}

fn render(out: &mut String, m: &Metrics, ledger: &Ledger, admin: &AdminState) -> std::fmt::Result {
    writeln!(
        out,
        "# HELP wallet_http_requests_total HTTP requests answered, by status class."
    )?;
    writeln!(out, "# TYPE wallet_http_requests_total counter")?;
    for (i, class) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
        writeln!(
            out,
            "wallet_http_requests_total{{class=\"{class}\"}} {}",
            m.by_class[i].load(Ordering::Relaxed)
        )?;
    }
    writeln!(
        out,
        "# HELP wallet_http_request_duration_seconds Time to answer a request."
    )?;
    writeln!(out, "# TYPE wallet_http_request_duration_seconds histogram")?;
    let mut cumulative = 0;
    for (i, bound) in BUCKETS.iter().enumerate() {
        cumulative += m.buckets[i].load(Ordering::Relaxed);
        writeln!(
            out,
            "wallet_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
        )?;
    }
    let count = m.count.load(Ordering::Relaxed);
    writeln!(
        out,
        "wallet_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
    )?;
    let sum = m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    writeln!(out, "wallet_http_request_duration_seconds_sum {sum}")?;
    writeln!(out, "wallet_http_request_duration_seconds_count {count}")?;
    let stats = ledger.stats();
    let login = admin.login_stats();
    let gauges = [
        (
            "wallet_writer_commits_total",
            "counter",
            "Group commits of the writer.",
            stats.commits,
        ),
        (
            "wallet_writer_jobs_total",
            "counter",
            "Write jobs committed.",
            stats.jobs,
        ),
        (
            "wallet_writer_largest_group",
            "gauge",
            "Most jobs committed together so far.",
            stats.largest_group,
        ),
        (
            "wallet_read_pool_connections",
            "gauge",
            "Read connections open.",
            u64::from(stats.read_connections),
        ),
        (
            "wallet_read_pool_idle_connections",
            "gauge",
            "Read connections idle.",
            u64::from(stats.idle_read_connections),
        ),
        (
            "wallet_read_pool_waits_total",
            "counter",
            "Reads that waited for a connection.",
            stats.read_waits,
        ),
        (
            "wallet_read_pool_wait_microseconds_total",
            "counter",
            "Time reads waited for a connection.",
            stats.read_wait_micros,
        ),
        (
            "wallet_writer_retries_total",
            "counter",
            "Write jobs run again after a conflict with a concurrent write.",
            stats.retries,
        ),
        (
            "wallet_admin_login_verifications_total",
            "counter",
            "Admin passwords verified with argon2.",
            login.verifier.verifications,
        ),
        (
            "wallet_admin_login_verifications_peak",
            "gauge",
            "Most admin password verifications that ran at once so far.",
            login.verifier.peak,
        ),
        (
            "wallet_admin_login_busy_total",
            "counter",
            "Admin logins refused because too many were waiting to be verified.",
            login.verifier.busy,
        ),
        (
            "wallet_admin_login_locked_out_total",
            "counter",
            "Admin logins refused by the lockout on failed attempts.",
            login.locked_out,
        ),
    ];
    for (name, kind, help, value) in gauges {
        writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}")?;
    }
    Ok(())
}
