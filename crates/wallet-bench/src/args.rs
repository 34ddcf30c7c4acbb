//! The command line of `wallet-service bench`: the binary embeds
//! [`BenchArgs`] as its `bench` subcommand.

use crate::workload::Kind;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkloadKind {
    /// v2 POST /transactions, one Transfer between random wallets.
    Transfer,
    /// As `transfer`, plus a fee of 1 from the same source to one system
    /// wallet: a hot row every transaction credits.
    TransferFee,
    /// v1 POST /entry signed by an authority's JWT.
    Entry,
    /// v2 GET /wallets/{id}.
    Balance,
    /// 90% balance reads, 10% transfers.
    Mixed,
    /// v2 POST /transactions/batch of --batch-size transfers.
    Batch,
    /// Escrow: each client places a Hold of 1 to 10 on a random wallet for
    /// another (one transaction), then Captures all of it (a second one);
    /// counted once per hold placed and captured.
    Hold,
    /// A trade: one transaction of a Transfer from a buyer to the seller and
    /// a TransferItem of the seller's item (checked with `from`) to the
    /// buyer. Each client first grants itself one item, then trades it on
    /// between the owners of random wallets.
    Trade,
    /// The HTTP ceiling: API v1's GET /health, which authenticates no one
    /// and reads nothing (the maintenance switch is in memory). What this
    /// load generator and actix-web do on this machine with no ledger
    /// work: the reference the other workloads' ratios are taken against.
    Ceiling,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Measure a running server; without it, one is started in this process
    /// on a temporary SQLite file, or on the PostgreSQL database that the
    /// global `--db postgres://…` names (it must be empty, or one an
    /// earlier bench made: that one is emptied first).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// An API v2 access key of the server at --url.
    #[arg(long, value_name = "ACCESS_KEY")]
    pub key: Option<String>,
    /// The SDK client config of an authority of the server at --url (for `entry`).
    #[arg(long, value_name = "FILE")]
    pub authority_config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "transfer")]
    pub workload: WorkloadKind,
    /// Wallets to create [default: 100000; 1000000 with --scale].
    #[arg(long)]
    pub wallets: Option<usize>,
    /// Concurrent clients, one connection each [default: 64; 8 with --scale,
    /// where latency, not throughput, is measured].
    #[arg(long)]
    pub clients: Option<usize>,
    /// Seconds to run (each query, with --scale).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Transfers per request of the `batch` workload.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// Entries in the preloaded ledger, funding entries included
    /// [default: one per wallet; 10000000 with --scale].
    #[arg(long)]
    pub preload_entries: Option<u64>,
    /// Preload a large ledger, then measure single-user queries, bytes per
    /// entry and memory.
    #[arg(long)]
    pub scale: bool,
    /// Open lots (expiring value) to give every wallet before the run, 0 to
    /// 100: one transaction of that many Issues with an expiry per wallet
    /// (preloaded with the bulk loader; through the API with --url). What
    /// leaves a wallet is then taken from its lots first, and what arrives
    /// forms lots, as expiring credit behaves.
    #[arg(long, default_value_t = 0)]
    pub lots: usize,
    /// A webhook receiver on 127.0.0.1 registered before the run (every
    /// event type): `ok` answers 204 at once, `dead` never answers. Shows
    /// what delivering events costs the writes. In-process runs only (the
    /// server allows private webhook addresses for it).
    #[arg(long, value_enum)]
    pub webhook: Option<crate::receiver::ReceiverKind>,
}

impl BenchArgs {
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.duration >= 1, "--duration must be at least 1 second");
        anyhow::ensure!(self.clients != Some(0), "--clients must be at least 1");
        anyhow::ensure!(
            (1..=8000).contains(&self.batch_size),
            "--batch-size must be 1 to 8000"
        );
        anyhow::ensure!(
            self.wallets.is_none_or(|w| w >= 2),
            "--wallets must be at least 2"
        );
        anyhow::ensure!(
            self.lots <= wallet_core::operation::MAX_OPERATIONS,
            "--lots must be 0 to {}",
            wallet_core::operation::MAX_OPERATIONS
        );
        anyhow::ensure!(
            self.webhook.is_none() || (self.url.is_none() && !self.scale),
            "--webhook is for in-process runs (not with --url or --scale)"
        );
        Ok(())
    }

    pub(crate) fn kind(&self) -> Kind {
        match self.workload {
            WorkloadKind::Transfer => Kind::Transfer,
            WorkloadKind::TransferFee => Kind::TransferFee,
            WorkloadKind::Entry => Kind::Entry,
            WorkloadKind::Balance => Kind::Balance,
            WorkloadKind::Mixed => Kind::Mixed,
            WorkloadKind::Batch => Kind::Batch(self.batch_size),
            WorkloadKind::Hold => Kind::Hold,
            WorkloadKind::Trade => Kind::Trade,
            WorkloadKind::Ceiling => Kind::Ceiling,
        }
    }

    pub(crate) fn unit(&self) -> &'static str {
        match self.workload {
            WorkloadKind::Transfer | WorkloadKind::TransferFee | WorkloadKind::Batch => "transfers",
            WorkloadKind::Entry => "entries",
            WorkloadKind::Balance => "reads",
            WorkloadKind::Mixed | WorkloadKind::Ceiling => "requests",
            WorkloadKind::Hold => "holds (placed and captured)",
            WorkloadKind::Trade => "trades (a Transfer and a TransferItem)",
        }
    }
}
