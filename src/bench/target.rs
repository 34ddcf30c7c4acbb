//! The server under test: one started in this process on a temporary
//! database, or a running one named by `--url`.

use super::http::Endpoint;
use crate::auth::Credentials;
use crate::config::Settings;
use crate::domain::{ProjectId, Text};
use crate::ledger::Ledger;
use crate::startup::{open_store, Application};
use crate::storage::{AssetTotals, CheckReport, Store, WriterStats};
use actix_web::dev::ServerHandle;
use anyhow::Context;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use tempfile::TempDir;

/// An authority that signs API v1 requests.
#[derive(Clone, Deserialize)]
pub(super) struct Signer {
    pub authority_id: String,
    pub private_key: String,
}

impl Signer {
    /// The SDK's client config file.
    pub fn from_config_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing the client config {}", path.display()))
    }

    /// One ES256 JWT reused for the whole run, as a long-lived client would.
    pub fn jwt(&self) -> anyhow::Result<String> {
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let key =
            EncodingKey::from_ec_pem(self.private_key.as_bytes()).context("the authority's private key")?;
        let claims = serde_json::json!({ "sub": self.authority_id, "iat": crate::clock::now_ms() / 1000 });
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &key,
        )?)
    }
}

/// What a fresh temporary database holds before the preload: the default
/// project's credentials for the benchmark.
pub(super) struct Prepared {
    pub dir: TempDir,
    pub settings: Settings,
    pub access_key: String,
    pub signer: Signer,
    /// The key-pair authority's row id (entries name authorities by row id).
    pub authority: i64,
    pub project: String,
    /// The project's default asset: every preloaded wallet holds it.
    pub asset: i64,
}

/// Creates the temporary database and the benchmark's credentials through
/// the library, as `wallet-service key create` and `authority create` do.
pub(super) async fn prepare(settings: &Settings) -> anyhow::Result<Prepared> {
    let dir = tempfile::Builder::new().prefix("wallet-bench").tempdir()?;
    let mut settings = settings.clone();
    settings.db = dir.path().join("bench.db");
    settings.listen = "127.0.0.1:0".to_owned();
    let store = open_store(&settings)?;
    let credentials = Credentials::new(store.clone());
    let project = ProjectId::default_project();
    let name = Text::parse("bench", "name", 200).map_err(|e| anyhow::anyhow!(e.0))?;
    let access_key = credentials
        .create_access_key(project.clone(), name.clone())
        .await
        .map_err(|e| anyhow::anyhow!("creating an access key: {e}"))?
        .token;
    let authority = credentials
        .create_authority(project.clone(), name, "http://127.0.0.1")
        .await
        .map_err(|e| anyhow::anyhow!("creating an authority: {e}"))?;
    let id = authority.info.id.clone();
    let row = store
        .read(move |r| r.authority(&id))
        .await?
        .context("the new authority is not readable")?;
    Ok(Prepared {
        dir,
        settings,
        access_key,
        signer: Signer {
            authority_id: authority.config.authority_id,
            private_key: authority.config.private_key,
        },
        authority: row.rowid,
        project: row.project_id,
        asset: row.default_asset,
    })
}

/// A server running in this process.
pub(super) struct Local {
    pub endpoint: Arc<Endpoint>,
    pub store: Store,
    pub asset: i64,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: TempDir,
}

impl Local {
    /// Starts the real application over the prepared (and preloaded) file.
    pub async fn start(prepared: Prepared) -> anyhow::Result<Self> {
        let app = Application::build(&prepared.settings).await?;
        let endpoint = Arc::new(Endpoint::local(app.port()));
        let store = app.store().clone();
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        Ok(Self {
            endpoint,
            store,
            asset: prepared.asset,
            handle,
            server,
            _dir: prepared.dir,
        })
    }

    pub async fn totals(&self) -> anyhow::Result<AssetTotals> {
        let asset = self.asset;
        Ok(self.store.read(move |r| r.asset_totals(asset)).await?)
    }

    pub async fn database_bytes(&self) -> anyhow::Result<i64> {
        Ok(self.store.read(|r| r.database_bytes()).await?)
    }

    pub fn writer_stats(&self) -> WriterStats {
        self.store.writer_stats()
    }

    /// `wallet-service check` on the file.
    pub async fn check(&self) -> anyhow::Result<CheckReport> {
        Ledger::new(self.store.clone())
            .check()
            .await
            .map_err(|e| anyhow::anyhow!("check: {e}"))
    }

    /// Stops the server gracefully; the temporary database goes with `self`.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.server.await??;
        Ok(())
    }
}
