//! `wallet-service bench`: the `wallet-bench` crate's [`Target`], so it can
//! start this server in-process. The only place that knows the bench.
//!
//! Uses of the server: `startup::{open_store, Application}`,
//! `auth::Credentials::{create_access_key, create_authority}`,
//! `storage::Store::{read, writer_stats, read_pool_stats}` with
//! `ReadTx::{authority, asset_totals, database_bytes}`, `Ledger::check`, and
//! `storage::CheckReport` (copied field by field into the core's).

use crate::auth::Credentials;
use crate::config::Settings;
use crate::domain::{ProjectId, Text};
use crate::ledger::Ledger;
use crate::startup::{open_store, Application};
use crate::storage::{self, Store};
use actix_web::dev::ServerHandle;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;
use wallet_bench::{AssetTotals, BenchArgs, Prepared, Signer, Target};
use wallet_core::check::CheckReport;
use wallet_core::ids::{AssetId, AuthorityRowId};
use wallet_core::port::BackendStats;

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
        settings.db = db.to_owned();
        settings.listen = "127.0.0.1:0".to_owned();
        settings
    }
}

impl Target for InProcess<'_> {
    type Server = Running;

    async fn prepare(&self, dir: &Path) -> anyhow::Result<Prepared> {
        let db = dir.join("bench.db");
        let store = open_store(&self.settings(&db))?;
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
            db,
            project,
            asset: AssetId::new(row.default_asset),
            access_key,
            signer: Signer {
                authority_id: authority.config.authority_id,
                private_key: authority.config.private_key,
            },
            authority: AuthorityRowId::new(row.rowid),
        })
    }

    async fn start(&self, prepared: &Prepared) -> anyhow::Result<Running> {
        let app = Application::build(&self.settings(&prepared.db)).await?;
        let url = format!("http://127.0.0.1:{}", app.port());
        let store = app.store().clone();
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        Ok(Running {
            url,
            store,
            handle,
            server,
        })
    }
}

struct Running {
    url: String,
    store: Store,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl wallet_bench::Server for Running {
    fn url(&self) -> String {
        self.url.clone()
    }

    async fn asset_totals(&self, asset: AssetId) -> anyhow::Result<AssetTotals> {
        let totals = self.store.read(move |r| r.asset_totals(asset.get())).await?;
        Ok(AssetTotals {
            wallets: totals.wallets,
            balance_sum: i128::from(totals.balance_sum),
        })
    }

    async fn database_bytes(&self) -> anyhow::Result<i64> {
        Ok(self.store.read(|r| r.database_bytes()).await?)
    }

    fn stats(&self) -> BackendStats {
        let writer = self.store.writer_stats();
        let pool = self.store.read_pool_stats();
        BackendStats {
            commits: writer.commits,
            jobs: writer.jobs,
            largest_group: writer.largest_group,
            retries: 0,
            read_connections: pool.connections,
            idle_read_connections: pool.idle,
            read_waits: pool.waits,
            read_wait_micros: pool.wait_micros,
        }
    }

    async fn check(&self) -> anyhow::Result<CheckReport> {
        let storage::CheckReport {
            wallets,
            entries,
            transactions,
            balance_mismatches,
            negative_balances,
            asset_mismatches,
            transfer_mismatches,
            failed_with_entries,
            authority_total_mismatches,
            integrity,
        } = Ledger::new(self.store.clone())
            .check()
            .await
            .map_err(|e| anyhow::anyhow!("check: {e}"))?;
        Ok(CheckReport {
            wallets,
            entries,
            transactions,
            balance_mismatches,
            negative_balances,
            asset_mismatches,
            transfer_mismatches,
            failed_with_entries,
            authority_total_mismatches,
            integrity,
        })
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.server.await??;
        Ok(())
    }
}
