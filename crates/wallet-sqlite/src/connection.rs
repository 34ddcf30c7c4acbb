//! Opening connections with the pragmas set once: the writer's, the read
//! pool's, and the file's permissions.

use crate::backend::OpenError;
use crate::error::{DbError, DbResult};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;
use wallet_core::StoreError;

/// How long a statement waits for another process's lock before SQLite
/// reports `BUSY` (which is then `Unavailable`).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: every statement of the port
/// fits, so none is parsed twice (about 120 with lots' 16; room for more).
const STATEMENT_CACHE: usize = 192;

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

impl Durability {
    /// The `synchronous` pragma's value for it.
    pub(crate) fn synchronous(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
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

/// The write connection: WAL, foreign keys, the durability asked for.
pub(crate) fn open_writer(path: &Path, durability: Durability) -> DbResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let synchronous = durability.synchronous();
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError(StoreError::Schema(format!(
            "could not switch the database to WAL mode (got {mode})"
        ))));
    }
    // A 64 MiB page cache for the writer: transfers touch wallets and running
    // totals all over the file, and re-reading their pages showed in profiles.
    // Readers get 4 MiB each, so the process stays small with 8 of them.
    // Checkpoints run on a thread of their own (`writer::checkpoint`); the
    // writer's own only bounds the WAL.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA wal_autocheckpoint = {};",
        crate::writer::WRITER_AUTOCHECKPOINT
    ))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Read-only connections; `query_only` on top of the read-only flag, so not
/// even a pragma can write through them.
pub(crate) fn reader_pool(path: &Path, size: u32) -> DbResult<r2d2::Pool<SqliteConnectionManager>> {
    let manager = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|c| {
            c.busy_timeout(BUSY_TIMEOUT)?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.execute_batch("PRAGMA query_only = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4096;")
        });
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?)
}

/// Refuses, without changing anything, a path that holds no wallet-service
/// database: no file, or a file without its schema (an empty file, another
/// program's database, not a database at all). The messages are `main`'s,
/// word for word, so the commands print the same once they run on this
/// crate. A file that is ours but cannot be read is not "missing": that
/// error is the file's (`Unavailable`, `Corrupt`, ...).
pub(crate) fn require_existing(path: &Path) -> Result<(), OpenError> {
    if !path.is_file() {
        return Err(OpenError::Missing(format!(
            "no database at {}; `wallet-service serve` creates one on its first start \
             (check --db, WALLET_DB or `db` in the config file)",
            path.display()
        )));
    }
    let not_ours = || OpenError::Missing(format!("{} is not a wallet-service database", path.display()));
    // Read-only: SQLite creates no file and writes nothing through it.
    let conn = open_read_only(path)?;
    let step: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|_| not_ours())?;
    if step < 1 {
        return Err(not_ours());
    }
    Ok(())
}

/// Opens a database file read-only, for the maintenance tools.
pub(crate) fn open_read_only(path: &Path) -> DbResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The database and its WAL hold every balance: only the owner may read
/// them. Gives the file, its `-wal` and its `-shm` mode 0600.
pub fn restrict_permissions(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(DbError::from)?;
            }
        }
    }
    Ok(())
}
