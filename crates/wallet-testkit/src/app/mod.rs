//! `TestApp`: the real application on port 0 over a fresh database of
//! either backend ([`TestBackend`]), with an HTTP client and the token
//! signing the tests need.
//!
//! A test binary binds the backend once (the root package's `tests/api`
//! runs on SQLite, `tests/api_postgres` the same modules on PostgreSQL);
//! the tests then never name it. What only a SQLite file has (a path to
//! open with rusqlite, a backup) is behind [`TestApp::sqlite_path`], which
//! refuses on PostgreSQL.
//!
//! - `database`: [`TestBackend`], [`TestDatabase`] (a fresh database and a
//!   folder beside it), raw SQL for tests that damage a database on purpose.
//! - `requests`: credentials, API v1 entries and totals, API v2 calls.
//! - `admin`: the generated password, a login, admin API calls.
//! - `tokens`: ES256 JWTs as clients (and attackers) make them.
//! - [`v2`]: the API v2 fixtures (a project's key, customers, wallets, funds).

mod admin;
mod database;
mod requests;
mod tokens;
pub mod v2;

pub use database::{data_files, db_arg, tamper, TestBackend, TestDatabase};
pub use requests::json_of;
pub use tokens::{flip_s, foreign_private_pem, is_high_s, raw_jwt, sign_es256, sign_with_header};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use wallet_core::check::CheckReport;
use wallet_core::dump::DumpRecord;
use wallet_core::{Ledger, Store};
use wallet_service::auth::Credentials;
use wallet_service::config::{Database, Settings};
use wallet_service::startup::Application;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The database the app runs on.
    pub db: Database,
    admin_password_file: PathBuf,
    store: Store,
    credentials: Credentials,
    ledger: Ledger,
    handle: wallet_service::startup::AppHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The database when the app owns it (dropped after the app stops);
    /// `None` when the caller owns it or another app does.
    database: Option<TestDatabase>,
}

/// An authority created for a test, with what a client holds.
pub struct TestAuthority {
    pub id: String,
    pub private_pem: String,
    /// A token exactly as the SDK makes it: `{"sub": id}`, ES256, no expiry.
    pub token: String,
}

impl TestApp {
    /// The app on a fresh database of `backend`, which it owns.
    pub async fn spawn(backend: TestBackend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// As [`spawn`](Self::spawn), with settings changed by `adjust`.
    pub async fn spawn_with(backend: TestBackend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_on(backend.fresh_database(), adjust).await
    }

    /// The app on `database`, which it owns from now on.
    pub async fn spawn_on(database: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut app = start(database.db(), password_setting(&database), adjust).await;
        app.database = Some(database);
        app
    }

    /// Another app on this app's database, as a second server process behind
    /// the same load balancer would be (its own writer, pools and memory),
    /// with settings changed by `adjust`. Stop it before this one.
    pub async fn spawn_beside(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        start(&self.db, Some(self.admin_password_file.clone()), adjust).await
    }

    /// Stops the app gracefully and starts it again on the same database
    /// (with default settings), as an operator's restart does.
    pub async fn restart(self) -> TestApp {
        let (db, password_file) = (self.db.clone(), self.admin_password_file.clone());
        let database = self.stop().await;
        let mut app = start(&db, Some(password_file), |_| {}).await;
        app.database = database;
        app
    }

    /// Stops the server gracefully and waits until it has stopped; hands
    /// back the database if the app owned it.
    pub async fn stop(self) -> Option<TestDatabase> {
        self.handle.stop(true).await;
        self.server.await.expect("server task").expect("server result");
        drop(self.credentials);
        drop(self.ledger);
        drop(self.store);
        self.database
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The backend the app runs on.
    pub fn backend(&self) -> TestBackend {
        TestBackend::of(&self.db)
    }

    /// The SQLite file, for the tests that are about the file itself
    /// (backup, restore, its mode). Panics on PostgreSQL: such a test
    /// belongs to the SQLite binary only.
    pub fn sqlite_path(&self) -> &Path {
        self.db
            .sqlite_path()
            .expect("a test of the SQLite file runs on SQLite only (see tests/api_postgres)")
    }

    /// The value of `--db` that names the app's database, for the CLI.
    pub fn db_arg(&self) -> OsString {
        db_arg(&self.db)
    }

    /// The ledger the app runs on, for tests that call the core directly.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The app's store (the port), for tests that read what was written.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The app's credentials, as a request's `Authorization` header would find them.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The writer's counters: commits, jobs, largest group.
    pub fn writer_stats(&self) -> wallet_core::port::BackendStats {
        self.ledger.stats()
    }

    /// A ledger on the app's database with a store of its own, as a
    /// maintenance command (`admin set-password`, say) opens it from
    /// another process; the app's memory is not told.
    pub fn other_process(&self) -> Ledger {
        let settings = Settings {
            db: self.db.clone(),
            ..Settings::default()
        };
        let store =
            wallet_service::startup::open_existing_store(&settings).expect("the app's database opens");
        Ledger::new(store)
    }

    /// Runs every invariant check on the live database.
    pub async fn check(&self) -> CheckReport {
        self.ledger.check().await.expect("check runs")
    }

    pub async fn assert_invariants(&self) {
        let report = self.check().await;
        assert!(report.is_ok(), "invariants violated: {report:#?}");
    }

    /// Every row of `project`, as `export` writes them (through the port,
    /// on one snapshot): what a test compares to see what a request wrote.
    pub async fn dump(&self, project: &str) -> Vec<DumpRecord> {
        let project = project.to_owned();
        self.store
            .read(move |r| {
                let mut records = Vec::new();
                r.export_project(&project, &mut |record| {
                    records.push(record);
                    Ok(())
                })?;
                Ok::<_, wallet_core::StoreError>(records)
            })
            .await
            .expect("the project exports")
    }

    /// Runs raw SQL on the app's database past the ledger (see [`tamper`]).
    pub fn tamper(&self, sqlite: &str, postgres: &str) {
        tamper(&self.db, sqlite, postgres);
    }
}

/// `admin_password_file` for a server on `database`: left to the server's
/// default next to a SQLite file (so the default is what the tests use), set
/// for PostgreSQL, which has no folder of its own.
fn password_setting(database: &TestDatabase) -> Option<PathBuf> {
    match database.backend() {
        TestBackend::Sqlite => None,
        TestBackend::Postgres => Some(database.admin_password_file()),
    }
}

/// Starts the app on an existing (or new) SQLite file.
pub async fn spawn_app_at(db: &Path) -> TestApp {
    spawn_app_configured(db, |_| {}).await
}

/// Starts the app on an existing (or new) SQLite file, with settings
/// changed by `adjust`.
pub async fn spawn_app_configured(db: &Path, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    start(&Database::Sqlite(db.to_owned()), None, adjust).await
}

async fn start(
    db: &Database,
    admin_password_file: Option<PathBuf>,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        db: db.clone(),
        workers: 2,
        admin_password_file,
        ..Settings::default()
    };
    // A PostgreSQL database has no default key file; every app on one
    // database shares this one (as every process of a deployment must).
    if settings.secret_key_file.is_none() && matches!(db, Database::Postgres(_)) {
        settings.secret_key_file = settings
            .admin_password_file
            .as_ref()
            .map(|p| p.with_file_name("server.key"));
    }
    adjust(&mut settings);
    let admin_password_file = settings
        .admin_password_file()
        .expect("a test app knows where its admin password is written");
    let app = Application::build(&settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let credentials = Credentials::new(store.clone());
    let ledger = Ledger::new(store.clone());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db: settings.db,
        admin_password_file,
        store,
        credentials,
        ledger,
        handle,
        server,
        database: None,
    }
}
