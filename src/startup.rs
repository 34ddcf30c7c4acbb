//! Building and running the server: binds its listener first and reports the
//! port, so tests can pass port 0.

use crate::api::admin::AdminState;
use crate::api::maintenance::Maintenance;
use crate::api::metrics::{Metrics, MetricsToken};
use crate::api::{self, Limits};
use crate::auth::Credentials;
use crate::config::{Database, PgUrl, Settings};
use crate::expiry::ExpiryWorker;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{from_fn, ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use wallet_core::{Ledger, Store};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_sqlite::{OpenError, SqliteBackend, SqliteOptions};

pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// The server's ledger, for the expiry worker it starts when it serves.
    ledger: Ledger,
    /// The task that keeps the maintenance flag in memory following the
    /// database; it holds a handle on the store, so it ends with the server.
    maintenance_follower: Background,
    /// The key and the address policy of webhooks, for their worker.
    webhooks: crate::webhooks::Webhooks,
    settings: Settings,
    /// Turned `true` when the server stops: event streams and long-polls end.
    stopping: tokio::sync::watch::Sender<bool>,
    /// SIGTERM and SIGINT, listened to from the start of `build`: one that
    /// arrives while the database opens stops the server cleanly once built.
    signals: ShutdownSignals,
}

/// Stops a running [`Application`]: tells its event streams and long-polls
/// to end, then stops the HTTP server (gracefully: in-flight requests finish).
#[derive(Clone)]
pub struct AppHandle {
    server: ServerHandle,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl AppHandle {
    pub async fn stop(&self, graceful: bool) {
        self.stopping.send_replace(true);
        self.server.stop(graceful).await;
    }
}

/// A background task that is aborted when this is dropped, so a server that
/// fails to start (or is never run) leaves nothing running on its store.
struct Background(Option<tokio::task::JoinHandle<()>>);

impl Background {
    /// Aborts the task and waits until it has ended (and dropped what it held).
    async fn stop(mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

impl Application {
    /// Opens the database, makes sure an admin password exists, and binds the
    /// listener; the server starts serving when `run_until_stopped` is awaited.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        // Before anything slow: from here on SIGTERM (systemd's stop) is a
        // clean stop, never the default disposition's kill.
        let signals = ShutdownSignals::listen();
        log::info!(
            "wallet-service {} starting (SIGTERM or SIGINT stops it cleanly)",
            env!("CARGO_PKG_VERSION")
        );
        settings.validate()?;
        let store = open_store(settings)?;
        Self::build_with(settings, store, signals).await
    }

    /// As [`build`](Self::build), on a store the caller opened (a test wraps
    /// one to inject faults, for instance).
    pub async fn build_on(settings: &Settings, store: Store) -> anyhow::Result<Self> {
        Self::build_with(settings, store, ShutdownSignals::listen()).await
    }

    async fn build_with(settings: &Settings, store: Store, signals: ShutdownSignals) -> anyhow::Result<Self> {
        settings.validate()?;
        let ledger = Ledger::new(store.clone());
        // Other processes' events ring this one's bell (PostgreSQL).
        ledger.watch_events().context("watching for events")?;
        let webhooks = crate::webhooks::Webhooks::load(settings)?;
        let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
        let stopping_data = web::Data::new(crate::webhooks::Stopping(stopping_rx));
        let webhooks_data = web::Data::new(webhooks.clone());
        let password_file = settings.admin_password_file();
        api::admin::password::ensure(&ledger, settings.admin_password.clone(), password_file.as_deref())
            .await?;
        let maintenance = Maintenance::load(&ledger).await?;
        let maintenance_follower = Background(Some(
            maintenance.follow(ledger.clone(), settings.maintenance_refresh),
        ));
        let maintenance = web::Data::new(maintenance);
        let metrics = web::Data::new(Metrics::default());
        let metrics_token = web::Data::new(MetricsToken(settings.metrics_token.clone()));
        let admin = web::Data::new(AdminState::new(settings.trusted_proxies.clone())?);
        // Charged by each API's authentication extractor, by credential identity.
        let rate_limit = web::Data::new(api::rate_limit::RateLimiter::new(settings.rate_limit_per_second));
        let listener =
            TcpListener::bind(&settings.listen).with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let worker_ledger = ledger.clone();
        let ledger = web::Data::new(ledger);
        let credentials =
            web::Data::new(Credentials::new(store.clone()).with_jwt_leeway(settings.jwt_leeway_seconds));
        let limits = Limits {
            max_body_bytes: settings.max_body_bytes,
            max_batch_body_bytes: settings.max_body_bytes.max(8 * 1024 * 1024),
            body_timeout: settings.body_timeout,
        };
        let mut server = HttpServer::new(move || {
            App::new()
                // Outside the APIs' scopes (each has its own error body).
                .wrap(ErrorHandlers::new().default_handler(|res| api::json_error_body(api::Api::Other, res)))
                .wrap(from_fn(api::metrics::record))
                // One line per request; no header is logged, so no token either.
                .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
                .app_data(ledger.clone())
                .app_data(credentials.clone())
                .app_data(maintenance.clone())
                .app_data(metrics.clone())
                .app_data(metrics_token.clone())
                .app_data(admin.clone())
                .app_data(rate_limit.clone())
                .app_data(webhooks_data.clone())
                .app_data(stopping_data.clone())
                .configure(|c| api::configure(c, limits))
                .default_service(web::to(api::not_found))
        })
        .listen(listener)?
        // Signals are handled in `run_until_stopped`: SIGINT and SIGTERM both
        // finish in-flight requests.
        .disable_signals()
        .shutdown_timeout(30);
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            store,
            ledger: worker_ledger,
            maintenance_follower,
            webhooks,
            settings: settings.clone(),
            stopping,
            signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> AppHandle {
        AppHandle {
            server: self.server.handle(),
            stopping: self.stopping.clone(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until stopped by [`AppHandle::stop`], SIGTERM or SIGINT, then
    /// lets the writer commit what is queued before returning. The expiry
    /// worker (holds and lots) runs while the server serves (its first pass
    /// expires what expired while the server was down).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let expiry = ExpiryWorker::start(self.ledger.clone());
        let deliveries = match self.webhooks.start_worker(self.ledger, &self.settings) {
            Ok(worker) => worker,
            Err(e) => {
                log::error!("the webhook worker did not start: {e:#}");
                None
            }
        };
        let handle = AppHandle {
            server: self.server.handle(),
            stopping: self.stopping.clone(),
        };
        let shutdown = self.signals;
        let signals = tokio::spawn(async move {
            shutdown.recv().await;
            log::info!("shutting down: finishing in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        self.stopping.send_replace(true);
        if let Some(worker) = deliveries {
            worker.stop().await;
        }
        expiry.stop().await;
        self.maintenance_follower.stop().await;
        drop(self.store);
        result
    }
}

/// Opens the database for the server, creating it (and its folders) on the first start.
pub fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    open_backend(settings, true)
}

/// Opens an existing database for a maintenance command: a missing file is
/// an error, so a mistyped `--db` never quietly starts a new, empty ledger.
pub fn open_existing_store(settings: &Settings) -> anyhow::Result<Store> {
    open_backend(settings, false)
}

/// Opens the backend `settings.db` names: the one place that chooses it.
/// `create`: whether a database that does not exist yet may be made (the
/// SQLite file and its folders; a PostgreSQL database's schema).
pub fn open_backend(settings: &Settings, create: bool) -> anyhow::Result<Store> {
    match &settings.db {
        Database::Sqlite(path) => open_sqlite_backend(settings, path, create),
        Database::Postgres(url) => open_postgres_backend(settings, url, create),
    }
}

/// The PostgreSQL backend's options from the settings; `create`: whether a
/// database without the schema gets it.
pub fn postgres_options(settings: &Settings, url: &PgUrl, create: bool) -> PgOptions {
    let mut options = PgOptions::new(url.expose());
    options.writers = settings.writer_connections;
    options.read_connections = settings.read_connections;
    options.max_batch = settings.max_batch;
    options.create = create;
    options
}

fn open_postgres_backend(settings: &Settings, url: &PgUrl, create: bool) -> anyhow::Result<Store> {
    let backend = match PostgresBackend::connect(&postgres_options(settings, url, create)) {
        Ok(backend) => backend,
        Err(wallet_postgres::OpenError::Missing(why)) => anyhow::bail!(why),
        // `url` shows `***` for the password.
        Err(e) => return Err(e).with_context(|| format!("opening database {url}")),
    };
    Ok(Store::new(Arc::new(backend)))
}

/// The SQLite backend's options from the settings; `create`: whether a
/// missing database may be created.
pub fn sqlite_options(settings: &Settings, path: &Path, create: bool) -> SqliteOptions {
    let mut options = SqliteOptions::new(path);
    options.durability = settings.durability;
    options.read_connections = settings.read_connections;
    options.max_batch = settings.max_batch;
    options.create = create;
    options
}

fn open_sqlite_backend(settings: &Settings, path: &Path, create: bool) -> anyhow::Result<Store> {
    let backend = match SqliteBackend::open(&sqlite_options(settings, path, create)) {
        Ok(backend) => backend,
        // Says what is wrong and what to do on its own.
        Err(OpenError::Missing(why)) => anyhow::bail!(why),
        Err(e) => return Err(e).with_context(|| format!("opening database {}", path.display())),
    };
    Ok(Store::new(Arc::new(backend)))
}

/// Opens (creating if needed) a SQLite database with default options: for
/// tools and tests.
pub fn open_sqlite(path: &Path) -> anyhow::Result<Store> {
    let backend = SqliteBackend::open(&SqliteOptions::new(path))
        .with_context(|| format!("opening database {}", path.display()))?;
    Ok(Store::new(Arc::new(backend)))
}

/// SIGTERM and SIGINT, registered when made: a signal that arrives before
/// [`recv`](Self::recv) is awaited is kept, not lost (nor fatal).
struct ShutdownSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    log::warn!("cannot listen for {name}: {e}");
                    None
                }
            };
            Self {
                term: listen(SignalKind::terminate(), "SIGTERM"),
                interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Until the first of them arrives (or has arrived since `listen`).
    async fn recv(self) {
        #[cfg(unix)]
        {
            async fn next(signal: Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = next(self.term) => {}
                () = next(self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
