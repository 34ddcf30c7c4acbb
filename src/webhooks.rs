//! The server's side of events and webhooks: the key, the address policy
//! and the delivery worker, from the settings (the delivery itself is the
//! `wallet-webhooks` crate), and the shutdown signal that ends open event
//! streams and long-polls.

use crate::config::Settings;
use anyhow::Context;
use tokio::sync::watch;
use wallet_core::events::RetrySchedule;
use wallet_core::Ledger;
use wallet_webhooks::{AddressPolicy, Sender, ServerKey, WebhookWorker, WorkerConfig};

/// What the webhook handlers need: the key secrets are derived from (none:
/// webhooks are off, see [`Settings::secret_key_file`]) and the policy
/// URLs are checked against.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub key: Option<ServerKey>,
    pub policy: AddressPolicy,
}

impl Webhooks {
    /// Loads (or creates) the key the settings name, once.
    pub fn load(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            key: server_key(settings)?,
            policy: AddressPolicy::new(settings.webhooks_allow_private_networks),
        })
    }

    /// Starts the delivery worker, if webhooks are on.
    pub fn start_worker(&self, ledger: Ledger, settings: &Settings) -> anyhow::Result<Option<WebhookWorker>> {
        let Some(key) = self.key.clone() else {
            log::info!(
                "no secret_key_file is set for this PostgreSQL database: webhooks are off \
                 (set the same file on every server process to turn them on)"
            );
            return Ok(None);
        };
        let schedule = match settings.webhook_retry_scale {
            0 | 1 => RetrySchedule::standard(),
            scale => RetrySchedule::scaled_down(scale),
        };
        let config = WorkerConfig {
            key,
            sender: Sender::new(self.policy).context("building the webhooks' HTTP client")?,
            schedule,
            owner: WorkerConfig::random_owner(),
        };
        Ok(Some(WebhookWorker::start(ledger, config)))
    }
}

/// The server key of these settings, created if missing; `None` when the
/// settings name none (PostgreSQL without `secret_key_file`).
pub fn server_key(settings: &Settings) -> anyhow::Result<Option<ServerKey>> {
    let Some(path) = settings.secret_key_file() else {
        return Ok(None);
    };
    Ok(Some(ServerKey::load_or_create(&path)?))
}

/// Whether the server is stopping: open event streams and long-polls end
/// when it turns `true`, so a graceful shutdown does not wait on them.
#[derive(Clone, Debug)]
pub struct Stopping(pub watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server is stopping.
    pub async fn wait(&mut self) {
        // An error: the sender is gone, the server with it.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}
