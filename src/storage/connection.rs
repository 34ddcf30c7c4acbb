//! Opening connections with the pragmas set once, and the schema steps.

use super::StorageError;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// The schema of a fresh database (step 1).
const SCHEMA: &str = include_str!("../../schema.sql");

/// Step 2: a customer's first wallet of an asset is its default for that
/// asset, whichever API opened it (before, only API v1 marked one, so a
/// wallet opened through API v2 was invisible to v1, which opened a second).
/// A customer whose wallets of an asset have no default gets its oldest one
/// marked, as the rule would have done. Where API v1 already opened a
/// default beside an older v2 wallet, the v1 one stays the default: its
/// balance is what SDK users have been shown. No money moves.
const DEFAULT_WALLETS: &str = "
    UPDATE wallets SET is_default = 1
    WHERE customer_id IS NOT NULL
      AND id = (SELECT min(o.id) FROM wallets o
                WHERE o.customer_id = wallets.customer_id AND o.asset_id = wallets.asset_id)
      AND NOT EXISTS (SELECT 1 FROM wallets d
                      WHERE d.customer_id = wallets.customer_id AND d.asset_id = wallets.asset_id
                        AND d.is_default = 1);";

/// Step 3: an authority's running total in a wallet may pass i64 on a legal
/// ledger (it issues near MAX again and again while another authority
/// redeems), so it is kept as an i128 in two columns: the exact total is
/// `total_high * 2^64 + total` (see `rows::split_total`). Existing totals all
/// fit i64 and read the same with `total_high = 0`.
const WIDE_AUTHORITY_TOTALS: &str =
    "ALTER TABLE authority_totals ADD COLUMN total_high INTEGER NOT NULL DEFAULT 0;";

/// Numbered schema steps, keyed by `PRAGMA user_version`. Append only: a step
/// that has shipped is never edited.
const STEPS: &[&str] = &[SCHEMA, DEFAULT_WALLETS, WIDE_AUTHORITY_TOTALS];

/// How many schema steps this binary knows (a database beyond is refused).
pub(super) fn schema_steps() -> i64 {
    STEPS.len() as i64
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=FULL`: a committed write survives power loss. The default.
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, but the last
    /// commits may be lost on power loss. Faster on slow disks.
    Normal,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Durability::Full),
            "normal" => Ok(Durability::Normal),
            other => Err(format!("durability must be 'full' or 'normal', not {other:?}")),
        }
    }
}

pub(super) fn open_writer(path: &Path, durability: Durability) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Schema(format!(
            "could not switch the database to WAL mode (got {mode})"
        )));
    }
    // A 64 MiB page cache for the writer: transfers touch wallets and running
    // totals all over the file, and re-reading their pages showed in profiles.
    // Readers get 4 MiB each, so the process stays small with 8 of them.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;"
    ))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

pub(super) fn reader_pool(
    path: &Path,
    size: u32,
) -> Result<r2d2::Pool<SqliteConnectionManager>, StorageError> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|c| {
            c.busy_timeout(BUSY_TIMEOUT)?;
            c.set_prepared_statement_cache_capacity(64);
            c.execute_batch("PRAGMA query_only = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4096;")
        });
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?)
}

/// Refuses, without changing anything, a path that holds no wallet-service
/// database: no file, or a file without its schema (an empty file, another
/// program's database, not a database at all).
pub(super) fn require_existing(path: &Path) -> Result<(), StorageError> {
    if !path.is_file() {
        return Err(StorageError::Missing(format!(
            "no database at {}; `wallet-service serve` creates one on its first start \
             (check --db, WALLET_DB or `db` in the config file)",
            path.display()
        )));
    }
    let not_ours = || StorageError::Missing(format!("{} is not a wallet-service database", path.display()));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let step: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|_| not_ours())?;
    if step < 1 {
        return Err(not_ours());
    }
    Ok(())
}

/// Brings the schema up to date: each missing step in one transaction, then
/// makes sure the `default` project exists.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = STEPS.len() as i64;
    if version > known {
        return Err(StorageError::Schema(format!(
            "the database is at schema step {version}, newer than this binary knows ({known}); \
             upgrade wallet-service"
        )));
    }
    for (index, step) in STEPS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    let writes = super::WriteTx::new(&tx);
    let default = crate::domain::ProjectId::default_project();
    if !writes.project_exists(&default)? {
        writes.create_project(
            &default,
            "Default project",
            &super::NewAsset::default_points(),
            crate::clock::now_ms(),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The database and its WAL hold every balance: only the owner may read them.
pub(super) fn restrict_permissions(path: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}
