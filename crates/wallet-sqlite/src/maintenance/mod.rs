//! Whole-file operations: backup, verify, restore, and import of a project.
//!
//! These work on their own connections, not through the writer: a backup
//! must be possible while the server runs (one read transaction is one
//! consistent snapshot in WAL mode), and a restore must be refused while
//! anyone holds the file. (Export is a read of the port:
//! `ReadTx::export_project`.)

mod import;

pub use import::Import;

use crate::connection;
use crate::error::DbError;
use crate::{check, migrations};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode};
use std::path::Path;
use std::time::Duration;
use wallet_core::check::CheckReport;
use wallet_core::progress::{Progress, Quiet};
use wallet_core::StoreError;

/// Why a maintenance operation refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Storage(#[from] StoreError),
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

impl From<DbError> for MaintenanceError {
    fn from(e: DbError) -> Self {
        MaintenanceError::Storage(e.0)
    }
}

impl From<rusqlite::Error> for MaintenanceError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<std::io::Error> for MaintenanceError {
    fn from(e: std::io::Error) -> Self {
        DbError::from(e).into()
    }
}

/// How long a restore waits for the database before deciding it is in use.
const IN_USE_TIMEOUT: Duration = Duration::from_millis(250);

/// Opens an existing database file read-only; a missing file is an error,
/// not a new database.
fn open_existing(path: &Path) -> Result<Connection, MaintenanceError> {
    if !path.is_file() {
        return Err(MaintenanceError::Invalid(format!(
            "no database file at {}",
            path.display()
        )));
    }
    Ok(connection::open_read_only(path)?)
}

fn utf8(path: &Path) -> Result<&str, MaintenanceError> {
    path.to_str()
        .ok_or_else(|| MaintenanceError::Invalid("the path must be valid UTF-8".to_owned()))
}

/// Writes a consistent copy of the live database into `out`, which must be
/// an empty file (the caller creates it, with the mode it wants). Safe while
/// the server runs: `VACUUM INTO` reads one snapshot.
pub fn backup_into(db: &Path, out: &Path) -> Result<(), MaintenanceError> {
    backup_into_reporting(db, out, &Quiet)
}

/// [`backup_into`], reporting the pages copied to `progress`: the
/// source's page count first, the copy's when it is written (`VACUUM INTO`
/// is one statement, so nothing in between).
pub fn backup_into_reporting(db: &Path, out: &Path, progress: &dyn Progress) -> Result<(), MaintenanceError> {
    let conn = open_existing(db)?;
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    progress.phase("copying pages", Some(u64::try_from(pages).unwrap_or(0)));
    conn.execute("VACUUM INTO ?1", [utf8(out)?])?;
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let written = std::fs::metadata(out)?.len();
    progress.done(written / u64::try_from(page_size).unwrap_or(1).max(1));
    Ok(())
}

/// Verifies a database file without changing it: a schema this binary knows,
/// then every invariant of `check` (which includes SQLite's integrity check).
pub fn verify(path: &Path) -> Result<CheckReport, MaintenanceError> {
    verify_reporting(path, &Quiet)
}

/// [`verify`], reporting each phase of the check to `progress`.
pub fn verify_reporting(path: &Path, progress: &dyn Progress) -> Result<CheckReport, MaintenanceError> {
    let conn = open_existing(path)?;
    migrations::known_version(&conn)
        .map_err(|why| MaintenanceError::Invalid(format!("{} is {why}", path.display())))?;
    let tx = conn.unchecked_transaction()?;
    Ok(check::run_since(&tx, None, progress)?)
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
        self.conn.execute("VACUUM INTO ?1", [utf8(out)?])?;
        Ok(())
    }

    /// Replaces the whole database with the contents of `source`, page by
    /// page, in one step of SQLite's backup API: the file is never half
    /// old and half new. Returns `check` on the result.
    pub fn replace_from(&mut self, source: &Path) -> Result<CheckReport, MaintenanceError> {
        let src = open_existing(source)?;
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
