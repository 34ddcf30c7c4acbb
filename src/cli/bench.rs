//! `wallet-service bench`: the `wallet-bench` crate's [`Target`], so it can
//! start this server in-process. The only place that knows the bench.
//!
//! It opens the bench's SQLite database itself (keeping the backend, for the
//! size and balance audits only a SQLite file answers), creates the
//! benchmark's credentials with `auth::Credentials`, and serves it with
//! `startup::Application::build_on`.

use crate::auth::Credentials;
use crate::config::Settings;
use crate::startup::{sqlite_options, Application};
use actix_web::dev::ServerHandle;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use wallet_bench::{AssetTotals, BenchArgs, Prepared, Signer, Target};
use wallet_core::check::CheckReport;
use wallet_core::ids::AssetId;
use wallet_core::policy::Caller;
use wallet_core::port::BackendStats;
use wallet_core::text::{ProjectId, Text};
use wallet_core::{Ledger, Store};
use wallet_sqlite::SqliteBackend;

pub(super) async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<ExitCode> {
    wallet_bench::run(&InProcess { settings }, args).await
}

/// The global config's settings, on the bench's database and a free port.
struct InProcess<'a> {
    settings: &'a Settings,
}

impl InProcess<'_> {
    fn settings(&self, db: &Path) -> Settings {
        let mut settings = self.settings.clone();
        settings.db = db.to_owned().into();
        settings.listen = "127.0.0.1:0".to_owned();
        settings
    }

    fn open(&self, db: &Path) -> anyhow::Result<Arc<SqliteBackend>> {
        let backend = SqliteBackend::open(&sqlite_options(&self.settings(db), db, true))
            .with_context(|| format!("opening {}", db.display()))?;
        Ok(Arc::new(backend))
    }
}

impl Target for InProcess<'_> {
    type Server = Running;

    async fn prepare(&self, dir: &Path) -> anyhow::Result<Prepared> {
        let db = dir.join("bench.db");
        let credentials = Credentials::new(Store::new(self.open(&db)?));
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
            db,
            project,
            asset: caller.default_asset,
            access_key,
            signer,
            authority: caller.authority,
        })
    }

    async fn start(&self, prepared: &Prepared) -> anyhow::Result<Running> {
        let backend = self.open(&prepared.db)?;
        let store = Store::new(backend.clone());
        let app = Application::build_on(&self.settings(&prepared.db), store.clone()).await?;
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
    backend: Arc<SqliteBackend>,
    ledger: Ledger,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl wallet_bench::Server for Running {
    fn url(&self) -> String {
        self.url.clone()
    }

    async fn asset_totals(&self, asset: AssetId) -> anyhow::Result<AssetTotals> {
        Ok(self.backend.asset_totals(asset).await?)
    }

    async fn database_bytes(&self) -> anyhow::Result<i64> {
        Ok(self.backend.database_bytes().await?)
    }

    fn stats(&self) -> BackendStats {
        self.ledger.stats()
    }

    async fn check(&self) -> anyhow::Result<CheckReport> {
        Ok(self.ledger.check().await?)
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.server.await??;
        Ok(())
    }
}
