//! The server under test when it runs in this process: what the bench needs
//! of it, as a port the server implements (the bench knows no server
//! internals, and the server's library does not know the bench).
//!
//! The sequence is fixed: [`Target::prepare`] on an empty directory, the
//! bulk preload into [`Prepared::db`] (no server has the file open yet),
//! [`Target::start`] over the preloaded file, the run and its audits through
//! [`Server`], then [`Server::stop`]. A server named by `--url` is set up and
//! audited through its public API instead, and needs none of this.

use anyhow::Context;
use serde::Deserialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use wallet_core::check::CheckReport;
use wallet_core::ids::{AssetId, AuthorityRowId};
use wallet_core::port::BackendStats;
use wallet_core::text::ProjectId;
pub use wallet_sqlite::AssetTotals;

/// Starts the real application on a database of the bench's choosing.
pub trait Target {
    type Server: Server;

    /// Creates a fresh database in `dir` (which the bench owns and removes
    /// afterwards) and the benchmark's credentials in it, as `wallet-service
    /// key create` and `authority create` would. Nothing may keep the file
    /// open on return: the bulk loader writes it next.
    fn prepare(&self, dir: &Path) -> impl Future<Output = anyhow::Result<Prepared>>;

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

    /// `wallet-service check` on the database.
    fn check(&self) -> impl Future<Output = anyhow::Result<CheckReport>>;

    /// Finishes in-flight requests and stops; the database is closed on return.
    fn stop(self) -> impl Future<Output = anyhow::Result<()>>;
}

/// What [`Target::prepare`] made: the database and the benchmark's
/// credentials, all of one project.
pub struct Prepared {
    /// The database file, inside the directory given to `prepare`.
    pub db: PathBuf,
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
