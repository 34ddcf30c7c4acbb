//! The maintenance switch: while on, the APIs take no writes (503) and API v1
//! health reports not ok; reads and the admin API keep working.
//!
//! The switch is a setting in the database, so it survives restarts and
//! every server process on the database shares it. It is enforced twice:
//! - inside every write of an authority or a customer: the core's
//!   `recheck` reads the setting in the write's own transaction and refuses
//!   with `LedgerError::Maintenance`, which each API answers exactly as the
//!   guard below does. So a process that has not heard of a switch made by
//!   another still refuses, and no write commits after the switch did.
//! - at the edge, from a flag in memory: a fast refusal before a request
//!   is read, and API v1 health, which the SDK calls before every request
//!   and which therefore reads no database. The flag follows the database
//!   from one background task ([`Maintenance::follow`]), so health may lag
//!   a switch made by another process by at most one refresh interval (a
//!   second by default), and a process may refuse writes at its edge for as
//!   long after the switch is turned off elsewhere.

use crate::api::v2::ErrorStatus;
use crate::api::Api;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wallet_core::{Ledger, LedgerError};

/// Seconds a client is told to wait before it writes again.
pub const RETRY_AFTER_SECONDS: &str = "60";

#[derive(Clone, Default)]
pub struct Maintenance(Arc<AtomicBool>);

impl Maintenance {
    /// The switch as the database last saw it.
    pub async fn load(ledger: &Ledger) -> Result<Self, LedgerError> {
        let on = ledger.maintenance().await?;
        Ok(Self(Arc::new(AtomicBool::new(on))))
    }

    /// The flag in memory (see the module's doc for how far it may lag).
    pub fn enabled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Reads the switch from the database into the flag; returns it.
    pub async fn refresh(&self, ledger: &Ledger) -> Result<bool, LedgerError> {
        let on = ledger.maintenance().await?;
        self.0.store(on, Ordering::Relaxed);
        Ok(on)
    }

    pub async fn set(&self, ledger: &Ledger, on: bool) -> Result<(), LedgerError> {
        ledger.set_maintenance(on).await?;
        self.0.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// Refreshes the flag every `interval` until the task is aborted: one
    /// indexed read of the settings table per interval and process. A
    /// failed read keeps the last value (the write re-check still holds)
    /// and is logged once until reads work again.
    pub fn follow(&self, ledger: Ledger, interval: Duration) -> tokio::task::JoinHandle<()> {
        let flag = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                ticks.tick().await;
                match flag.refresh(&ledger).await {
                    Ok(_) if failing => {
                        failing = false;
                        log::info!("reading the maintenance switch works again");
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        failing = true;
                        log::warn!(
                            "cannot read the maintenance switch (the flag in memory stays as it was): {e}"
                        );
                    }
                    Err(_) => {}
                }
            }
        })
    }
}

/// The answer to a write while maintenance is on, in `api`'s error body:
/// the same whether the flag at the edge or the re-check inside the write
/// refused it.
pub fn refusal(api: Api) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS))
        .json(api.error_body(ErrorStatus::UnknownError, &LedgerError::Maintenance.to_string()))
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
        return Ok(req.into_response(refusal(api)).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}
