//! `wallet-service bench`: the `wallet-bench` crate's [`Target`], so it can
//! start this server in-process. The only place that knows the bench.
//!
//! The database is the global `--db`'s backend: a PostgreSQL URL runs the
//! bench on that database, which must be empty or one an earlier bench
//! made (`wallet_postgres::prepare_bench_database` empties that one and
//! refuses any other); with a SQLite path (or none) the bench makes a
//! temporary file of its own and never touches the named one. It opens the
//! backend itself (keeping it, for the size and balance audits only the
//! backend answers), creates the benchmark's credentials with
//! `auth::Credentials`, preloads through the backend's bulk loader
//! (`loader`), and serves it with `startup::Application::build_on`.

mod loader;

use crate::auth::Credentials;
use crate::config::{Database, Settings};
use crate::startup::AppHandle;
use crate::startup::{postgres_options, sqlite_options, Application};
use anyhow::Context;
use loader::Loader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use wallet_bench::{AssetTotals, BenchArgs, Prepared, Signer, Target};
use wallet_core::check::CheckReport;
use wallet_core::ids::AssetId;
use wallet_core::policy::Caller;
use wallet_core::port::BackendStats;
use wallet_core::text::{ProjectId, Text};
use wallet_core::{Ledger, Store};
use wallet_postgres::PostgresBackend;
use wallet_sqlite::SqliteBackend;

pub(super) async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<ExitCode> {
    wallet_bench::run(&InProcess { settings }, args).await
}

/// The global config's settings, on the bench's database and a free port.
struct InProcess<'a> {
    settings: &'a Settings,
}

/// The backend a bench runs on, kept typed for the audits.
#[derive(Clone)]
enum Opened {
    Sqlite(Arc<SqliteBackend>),
    Postgres(Arc<PostgresBackend>),
}

impl Opened {
    fn store(&self) -> Store {
        match self {
            Opened::Sqlite(backend) => Store::new(backend.clone()),
            Opened::Postgres(backend) => Store::new(backend.clone()),
        }
    }
}

impl InProcess<'_> {
    /// `dir`: the bench's temporary directory (the SQLite file, and the
    /// generated admin password a server's first start writes).
    fn settings(&self, dir: &Path) -> Settings {
        let mut settings = self.settings.clone();
        if let Database::Sqlite(_) = settings.db {
            settings.db = Database::Sqlite(sqlite_file(dir));
        }
        settings.listen = "127.0.0.1:0".to_owned();
        settings.admin_password_file = Some(dir.join("admin-password.txt"));
        // `--webhook` registers a receiver on 127.0.0.1 with this throwaway
        // server, whose key (webhook secrets) is its own, never the user's.
        settings.webhooks_allow_private_networks = true;
        settings.secret_key_file = Some(dir.join("bench.key"));
        settings
    }

    fn open(&self, dir: &Path) -> anyhow::Result<Opened> {
        let settings = self.settings(dir);
        Ok(match &settings.db {
            Database::Sqlite(db) => {
                let backend = SqliteBackend::open(&sqlite_options(&settings, db, true))
                    .with_context(|| format!("opening {}", db.display()))?;
                Opened::Sqlite(Arc::new(backend))
            }
            Database::Postgres(url) => {
                let backend = PostgresBackend::connect(&postgres_options(&settings, url, false))
                    .with_context(|| format!("opening {url}"))?;
                Opened::Postgres(Arc::new(backend))
            }
        })
    }

    /// Makes the bench's database: on PostgreSQL, claims the one `--db`
    /// names (see the module's notes); a SQLite file is made on opening.
    fn create(&self, dir: &Path) -> anyhow::Result<String> {
        let settings = self.settings(dir);
        Ok(match &settings.db {
            Database::Sqlite(db) => format!("sqlite {}", db.display()),
            Database::Postgres(url) => {
                let found = wallet_postgres::prepare_bench_database(url.expose())
                    .with_context(|| format!("preparing {url} for the bench"))?;
                format!(
                    "postgres {url} ({}; {} writer connections)",
                    match found {
                        wallet_postgres::BenchDatabase::Empty => "was empty",
                        wallet_postgres::BenchDatabase::Reset => "an earlier bench's, emptied",
                    },
                    settings.writer_connections
                )
            }
        })
    }
}

fn sqlite_file(dir: &Path) -> PathBuf {
    dir.join("bench.db")
}

impl Target for InProcess<'_> {
    type Server = Running;
    type Loader = Loader;

    async fn prepare(&self, dir: &Path) -> anyhow::Result<Prepared> {
        let database = self.create(dir)?;
        let credentials = Credentials::new(self.open(dir)?.store());
        let project = ProjectId::default_project();
        let name = Text::parse("bench", "name", 200)?;
        let access_key = credentials
            .create_access_key(project.clone(), name.clone())
            .await
            .context("creating an access key")?
            .token;
        let authority = credentials
            .create_authority(project.clone(), name, "http://127.0.0.1")
            .await
            .context("creating an authority")?;
        let signer = Signer {
            authority_id: authority.config.authority_id,
            private_key: authority.config.private_key,
        };
        let Caller::Authority(caller) = credentials
            .authenticate_authority(Some(&signer.jwt()?))
            .await
            .context("the new authority does not authenticate")?
        else {
            anyhow::bail!("the new authority authenticates as something else");
        };
        Ok(Prepared {
            dir: dir.to_owned(),
            database,
            project,
            asset: caller.default_asset,
            access_key,
            signer,
            authority: caller.authority,
        })
    }

    fn loader(&self, prepared: &Prepared) -> anyhow::Result<Loader> {
        Loader::open(&self.settings(&prepared.dir).db)
    }

    async fn start(&self, prepared: &Prepared) -> anyhow::Result<Running> {
        let backend = self.open(&prepared.dir)?;
        let store = backend.store();
        let app = Application::build_on(&self.settings(&prepared.dir), store.clone()).await?;
        let url = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        Ok(Running {
            url,
            backend,
            ledger: Ledger::new(store),
            handle,
            server,
        })
    }
}

struct Running {
    url: String,
    backend: Opened,
    ledger: Ledger,
    handle: AppHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl wallet_bench::Server for Running {
    fn url(&self) -> String {
        self.url.clone()
    }

    async fn asset_totals(&self, asset: AssetId) -> anyhow::Result<AssetTotals> {
        Ok(match &self.backend {
            Opened::Sqlite(backend) => {
                let totals = backend.asset_totals(asset).await?;
                AssetTotals {
                    wallets: totals.wallets,
                    balance_sum: totals.balance_sum,
                }
            }
            Opened::Postgres(backend) => {
                let totals = backend.asset_totals(asset).await?;
                AssetTotals {
                    wallets: totals.wallets,
                    balance_sum: totals.balance_sum,
                }
            }
        })
    }

    async fn database_bytes(&self) -> anyhow::Result<i64> {
        Ok(match &self.backend {
            Opened::Sqlite(backend) => backend.database_bytes().await?,
            Opened::Postgres(backend) => backend.database_bytes().await?,
        })
    }

    fn stats(&self) -> BackendStats {
        self.ledger.stats()
    }

    async fn check(&self, full: bool) -> anyhow::Result<CheckReport> {
        // Each phase's start on stderr, beside the per-second progress: where
        // a long check spends its time.
        let progress = std::sync::Arc::new(PhaseLines(std::time::Instant::now()));
        let (report, _recorded) = self.ledger.check_from_checkpoint(full, progress).await?;
        Ok(report)
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.server.await??;
        Ok(())
    }
}

/// A check's phases as lines on stderr with the time since it started,
/// whatever stderr is: the bench's report reads them (where a long check
/// spends its time).
struct PhaseLines(std::time::Instant);

impl wallet_core::progress::Progress for PhaseLines {
    fn phase(&self, name: &str, _total: Option<u64>) {
        eprintln!("check: {name} at {:.1} s", self.0.elapsed().as_secs_f64());
    }

    fn done(&self, _count: u64) {}
}
