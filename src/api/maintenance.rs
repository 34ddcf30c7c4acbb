//! The maintenance switch: while on, the APIs take no writes (503) and API v1
//! health reports not ok; reads and the admin API keep working. The flag is
//! kept in the database so it survives restarts, and in memory so checking it
//! costs nothing.

use crate::api::v2::ErrorStatus;
use crate::api::Api;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wallet_core::{Ledger, LedgerError};

#[derive(Clone, Default)]
pub struct Maintenance(Arc<AtomicBool>);

impl Maintenance {
    /// The switch as the database last saw it.
    pub async fn load(ledger: &Ledger) -> Result<Self, LedgerError> {
        let on = ledger.maintenance().await?;
        Ok(Self(Arc::new(AtomicBool::new(on))))
    }

    pub fn enabled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub async fn set(&self, ledger: &Ledger, on: bool) -> Result<(), LedgerError> {
        ledger.set_maintenance(on).await?;
        self.0.store(on, Ordering::Relaxed);
        Ok(())
    }
}

/// Middleware of each API's scope (API v1 and v2; not the admin API, which
/// turns the switch off again, nor `/metrics`): refuses writes while
/// maintenance is on, with the API's own error body. It runs after routing,
/// so however the client spells the path, a request routed to an API is
/// guarded by it.
pub async fn guard(
    api: Api,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let on = req
        .app_data::<web::Data<Maintenance>>()
        .is_some_and(|m| m.enabled());
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if on && write {
        let message = "the service is in maintenance: it takes no writes now; nothing was changed";
        let response = HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "60"))
            .json(api.error_body(ErrorStatus::UnknownError, message));
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}
