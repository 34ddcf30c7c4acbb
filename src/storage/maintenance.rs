//! Whole-file operations: backup, restore, export and import of a project,
//! and the storage faults the reliability tests inject.
//!
//! These work on their own connections, not through the writer: a backup or
//! an export must be possible while the server runs (one read transaction is
//! one consistent snapshot in WAL mode), and a restore must be refused while
//! anyone holds the file.

mod export;
mod import;
mod records;

pub use export::export_project;
pub use import::Import;
pub use records::{
    AssetDump, AuthorityDump, CustomerDump, CustomerKeyDump, DumpCounts, DumpRecord, EntryDump, ItemDump,
    ProjectDump, TransactionDump, WalletDump,
};

use super::rows::CheckReport;
use super::{check, connection, StorageError, Store};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Why a maintenance operation refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The operation would be unsafe now (the database is in use, the project
    /// exists already); nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// The input (a backup file, an export line) is not what it must be.
    #[error("{0}")]
    Invalid(String),
    /// The result would break a ledger invariant; nothing was changed.
    #[error("the ledger invariants would not hold; nothing was changed")]
    Violations(Box<CheckReport>),
}

impl From<rusqlite::Error> for MaintenanceError {
    fn from(e: rusqlite::Error) -> Self {
        MaintenanceError::Storage(StorageError::Sqlite(e))
    }
}

impl From<std::io::Error> for MaintenanceError {
    fn from(e: std::io::Error) -> Self {
        MaintenanceError::Storage(StorageError::Io(e))
    }
}

/// How long a restore waits for the database before deciding it is in use.
const IN_USE_TIMEOUT: Duration = Duration::from_millis(250);

/// Opens a database file read-only; a missing file is an error, not a new database.
fn open_read_only(path: &Path) -> Result<Connection, MaintenanceError> {
    if !path.is_file() {
        return Err(MaintenanceError::Invalid(format!(
            "no database file at {}",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Writes a consistent copy of the live database into `out`, which must be
/// an empty file (the caller creates it, with the mode it wants). Safe while
/// the server runs: `VACUUM INTO` reads one snapshot.
pub fn backup_into(db: &Path, out: &Path) -> Result<(), MaintenanceError> {
    let conn = open_read_only(db)?;
    let out = out
        .to_str()
        .ok_or_else(|| MaintenanceError::Invalid("the backup path must be valid UTF-8".to_owned()))?;
    conn.execute("VACUUM INTO ?1", [out])?;
    Ok(())
}

/// Verifies a database file without changing it: a schema this binary knows,
/// then every invariant of `check` (which includes SQLite's integrity check).
pub fn verify(path: &Path) -> Result<CheckReport, MaintenanceError> {
    let conn = open_read_only(path)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| MaintenanceError::Invalid(format!("{} is not a database: {e}", path.display())))?;
    let known = connection::schema_steps();
    if version < 1 || version > known {
        return Err(MaintenanceError::Invalid(format!(
            "{} is at schema step {version}; this binary knows steps 1 to {known}",
            path.display()
        )));
    }
    let tx = conn.unchecked_transaction()?;
    Ok(check::run(&tx)?)
}

/// A database file held exclusively: no server and no other command can read
/// or write it until this is dropped.
pub struct ExclusiveDb {
    conn: Connection,
}

impl ExclusiveDb {
    /// Takes the file's exclusive lock, or refuses if anyone holds it. A
    /// running server always does: its connections keep a shared lock on a
    /// WAL database for as long as they are open, even when idle.
    pub fn lock(db: &Path) -> Result<Self, MaintenanceError> {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(db)?;
        conn.busy_timeout(IN_USE_TIMEOUT)?;
        // In exclusive locking mode the locks taken are kept until the
        // connection closes, so the file stays ours between the statements.
        let taken = conn
            .query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get::<_, String>(0))
            .and_then(|_| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
        match taken {
            Ok(()) => Ok(Self { conn }),
            Err(e) if is_busy(&e) => Err(MaintenanceError::Refused(format!(
                "{} is in use (is the server running?): stop every process that has it open, then retry",
                db.display()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the database holds anything a restore would lose.
    pub fn has_data(&self) -> Result<bool, MaintenanceError> {
        let tables: i64 = self.conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        Ok(tables > 0)
    }

    /// Copies the current contents into `out` (an empty file the caller made).
    pub fn copy_into(&self, out: &Path) -> Result<(), MaintenanceError> {
        let out = out
            .to_str()
            .ok_or_else(|| MaintenanceError::Invalid("the path must be valid UTF-8".to_owned()))?;
        self.conn.execute("VACUUM INTO ?1", [out])?;
        Ok(())
    }

    /// Replaces the whole database with the contents of `source`, page by
    /// page, in one step of SQLite's backup API: the file is never half
    /// old and half new.
    pub fn replace_from(&mut self, source: &Path) -> Result<CheckReport, MaintenanceError> {
        let src = open_read_only(source)?;
        {
            let backup = Backup::new(&src, &mut self.conn)?;
            let mut attempts = 0;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked if attempts < 20 => {
                        attempts += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        return Err(MaintenanceError::Refused(
                            "the backup file stayed busy; nothing was restored".to_owned(),
                        ))
                    }
                }
            }
        }
        let tx = self.conn.unchecked_transaction()?;
        let report = check::run(&tx)?;
        drop(tx);
        Ok(report)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Gives a database file (and its WAL and shared-memory files) mode 0600.
pub fn restrict_permissions(db: &Path) -> Result<(), MaintenanceError> {
    Ok(connection::restrict_permissions(db)?)
}

/// A storage fault to simulate, so tests can drive the paths of a full disk
/// or a read-only file through the real writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The database may not grow: SQLite's `max_page_count` is capped at the
    /// current size, so the next write that needs a new page fails with
    /// `SQLITE_FULL`, exactly as on a full disk.
    DiskFull,
    /// Every write fails with `SQLITE_READONLY` (`PRAGMA query_only`), as on
    /// a read-only file. It refuses the writer's `BEGIN` itself, so it cannot
    /// be lifted through the writer: it lasts until the store is reopened.
    ReadOnly,
}

/// SQLite's largest `max_page_count`: no cap.
const NO_PAGE_CAP: i64 = 0xFFFF_FFFE;

impl Store {
    /// Injects (`Some`) or lifts (`None`) a storage fault on the writer's
    /// connection. For fault-injection tests only: nothing in the server
    /// calls it. Reads are unaffected, as they would be on a full disk.
    /// Lifting `ReadOnly` fails like any write under it: reopen the store.
    pub async fn simulate_fault(&self, fault: Option<Fault>) -> Result<(), StorageError> {
        self.write(move |tx| -> Result<(), StorageError> {
            let conn = tx.conn;
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let cap = if fault == Some(Fault::DiskFull) {
                pages
            } else {
                NO_PAGE_CAP
            };
            conn.pragma_update_and_check(None, "max_page_count", cap, |r| r.get::<_, i64>(0))?;
            let query_only = i32::from(fault == Some(Fault::ReadOnly));
            conn.pragma_update(None, "query_only", query_only)?;
            Ok(())
        })
        .await
    }
}
