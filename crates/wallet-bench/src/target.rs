//! The server under test when it runs in this process: what the bench needs
//! of it, as a port the server implements (the bench knows no server
//! internals and no storage backend, and the server's library does not know
//! the bench).
//!
//! The sequence is fixed: [`Target::prepare`] makes a fresh database, the
//! bulk preload goes through [`Target::loader`] (no server has the database
//! open yet), [`Target::start`] serves the preloaded database, the run and
//! its audits go through [`Server`], then [`Server::stop`]. Which database
//! that is (a temporary SQLite file, or the PostgreSQL database `--db`
//! names) is the target's business. A server named by `--url` is set up
//! and audited through its public API instead, and needs none of this.

use anyhow::Context;
use serde::Deserialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use wallet_core::check::CheckReport;
use wallet_core::ids::{AssetId, AuthorityRowId, EntryId, LotId, TransactionId, WalletId};
use wallet_core::model::Millis;
use wallet_core::port::{BackendStats, NewEntry, NewTransaction};
use wallet_core::text::ProjectId;
use wallet_core::StoreError;

/// Starts the real application on a database of the bench's choosing.
/// `Sync`: the preload runs on a thread of its own (a blocking database
/// client may not run on the async one).
pub trait Target: Sync {
    type Server: Server;
    type Loader: BulkLoad;

    /// Creates a fresh database (a file in `dir`, which the bench owns and
    /// removes afterwards, or a database of the target's own) and the
    /// benchmark's credentials in it, as `wallet-service key create` and
    /// `authority create` would. Nothing may keep the database open on
    /// return: the bulk loader writes it next.
    fn prepare(&self, dir: &Path) -> impl Future<Output = anyhow::Result<Prepared>>;

    /// Opens the backend's bulk loader on the prepared database. Called
    /// (and the loader used and dropped) on a thread that runs no async
    /// code.
    fn loader(&self, prepared: &Prepared) -> anyhow::Result<Self::Loader>;

    /// Starts serving the prepared (and preloaded) database on a loopback
    /// port, with request logging as `RUST_LOG` says.
    fn start(&self, prepared: &Prepared) -> impl Future<Output = anyhow::Result<Self::Server>>;
}

/// A server started by [`Target::start`], running in this process (its
/// memory is what the bench reports as the server's).
pub trait Server {
    /// Where it listens: `http://127.0.0.1:<port>`.
    fn url(&self) -> String;

    /// The wallets of `asset` and the sum of their balances, on one snapshot.
    fn asset_totals(&self, asset: AssetId) -> impl Future<Output = anyhow::Result<AssetTotals>>;

    /// Bytes in use by the database (pages times page size).
    fn database_bytes(&self) -> impl Future<Output = anyhow::Result<i64>>;

    /// The storage's counters (group commits, jobs).
    fn stats(&self) -> BackendStats;

    /// `wallet-service check` on the database (`--full` if `full`, else
    /// from the last checkpoint); a check that finds nothing records the
    /// next checkpoint, as the command does.
    fn check(&self, full: bool) -> impl Future<Output = anyhow::Result<CheckReport>>;

    /// Finishes in-flight requests and stops; the database is closed on return.
    fn stop(self) -> impl Future<Output = anyhow::Result<()>>;
}

/// What [`Target::prepare`] made: the database and the benchmark's
/// credentials, all of one project.
pub struct Prepared {
    /// The directory given to `prepare`.
    pub dir: PathBuf,
    /// Which database and backend, for the report (never a password).
    pub database: String,
    pub project: ProjectId,
    /// The project's default asset: every preloaded wallet holds it.
    pub asset: AssetId,
    /// An API v2 access key of the project.
    pub access_key: String,
    /// A key-pair authority of the project, for API v1.
    pub signer: Signer,
    /// The same authority's row (the preload's entries name it).
    pub authority: AuthorityRowId,
}

/// An authority that signs API v1 requests: its public id and private key,
/// as in the SDK's client config file.
#[derive(Clone, Deserialize)]
pub struct Signer {
    pub authority_id: String,
    /// PEM (PKCS#8) of its P-256 key.
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
        let claims =
            serde_json::json!({ "sub": self.authority_id, "iat": wallet_core::clock::system_now() / 1000 });
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &key,
        )?)
    }
}

/// How many wallets hold an asset, and the sum of their balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetTotals {
    pub wallets: i64,
    /// In i128: each balance is bounded, their sum is not.
    pub balance_sum: i128,
}

/// A backend's bulk path: rows written straight into a database no server
/// has open yet, in large transactions, leaving it as the ledger would have
/// (the preload computes every balance; the loader only writes rows).
/// SQLite's `BulkLoader` and PostgreSQL's (`COPY`) implement it through the
/// server's [`Target`].
pub trait BulkLoad {
    /// Runs `work` as one transaction of the load: all of it is written,
    /// or nothing.
    fn chunk<T>(
        &mut self,
        work: impl FnOnce(&mut dyn BulkRows) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;

    /// Ends the load: the database is left as a server expects to find it.
    fn finish(self) -> Result<(), StoreError>;

    /// Where the preload reports its progress (wallets, transfers, lots
    /// written); by default nowhere. The command line's loader draws it on
    /// a terminal.
    fn progress(&self) -> &dyn wallet_core::progress::Progress {
        &wallet_core::progress::Quiet
    }
}

/// The rows of one [`BulkLoad::chunk`].
pub trait BulkRows {
    /// A customer with its default wallet of `asset` (balance 0 until
    /// [`BulkRows::set_balance`]). Returns the wallet id.
    fn customer_wallet(
        &mut self,
        project: &str,
        asset: AssetId,
        external_id: &str,
        now: Millis,
    ) -> Result<WalletId, StoreError>;

    /// A transaction row; returns its id.
    fn transaction(&mut self, transaction: &NewTransaction<'_>) -> Result<TransactionId, StoreError>;

    /// An entry, without touching its wallet's balance.
    fn entry(&mut self, entry: &NewEntry<'_>) -> Result<EntryId, StoreError>;

    /// An unused inventory item given with `entry`.
    fn item(&mut self, entry: EntryId, name: &str, data: Option<&str>) -> Result<(), StoreError>;

    /// The wallet's final balance, and `authority`'s running total in it
    /// (every preloaded entry is by one authority).
    fn set_balance(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
        balance: i64,
    ) -> Result<(), StoreError>;

    /// Marks the asset used, as opening a wallet through the ledger does.
    fn mark_asset_used(&mut self, asset: AssetId) -> Result<(), StoreError>;

    /// An Issue entry (without touching its wallet's balance) and the Open
    /// lot it forms, expiring at `expires_at`; returns the lot's id. Written
    /// after every preloaded spend of its wallet (a spend takes lot value
    /// first, so lots written before would not add up).
    fn lot(&mut self, issue: &NewEntry<'_>, expires_at: Millis) -> Result<LotId, StoreError>;
}
