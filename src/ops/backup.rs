//! `backup` and `restore`.

use super::{write_new_file, OpsError};
use std::path::{Path, PathBuf};
use wallet_core::check::CheckReport;
use wallet_core::progress::{Progress, Quiet};
use wallet_sqlite::{self as storage, ExclusiveDb, MaintenanceError};

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupSummary {
    pub bytes: u64,
    /// `check` run on the backup file itself.
    pub report: CheckReport,
}

/// Copies the live database into `out` (a new file, mode 0600) from one
/// consistent snapshot, safe while the server runs, then checks the copy.
pub fn backup(db: &Path, out: &Path) -> Result<BackupSummary, OpsError> {
    backup_reporting(db, out, &Quiet)
}

/// [`backup`], reporting the pages copied, then the check's phases.
pub fn backup_reporting(db: &Path, out: &Path, progress: &dyn Progress) -> Result<BackupSummary, OpsError> {
    write_new_file(out, |empty| {
        // SQLite writes the file through its own handle.
        drop(empty);
        Ok(storage::backup_into_reporting(db, out, progress)?)
    })?;
    let bytes = std::fs::metadata(out).map_err(OpsError::file(out))?.len();
    let report = storage::verify_reporting(out, progress)?;
    Ok(BackupSummary { bytes, report })
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreSummary {
    /// `check` run on the restored database.
    pub report: CheckReport,
    /// Where the replaced contents were saved, if there were any.
    pub previous: Option<PathBuf>,
}

/// Replaces the database with a backup, after checking the backup (SQLite's
/// integrity check and every ledger invariant). Refused while anyone holds
/// the database, a running server above all. The replaced contents are kept
/// next to it as `<db>.pre-restore-<epoch ms>`.
pub fn restore(db: &Path, from: &Path) -> Result<RestoreSummary, OpsError> {
    let same = match (db.canonicalize(), from.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(MaintenanceError::Invalid("the backup is the database itself".to_owned()).into());
    }
    let report = storage::verify(from)?;
    if !report.is_ok() {
        return Err(MaintenanceError::Violations(Box::new(report)).into());
    }
    let mut exclusive = ExclusiveDb::lock(db)?;
    let previous = if exclusive.has_data()? {
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".pre-restore-{}", wallet_core::clock::system_now()));
        let path = PathBuf::from(name);
        write_new_file(&path, |empty| {
            drop(empty);
            Ok(exclusive.copy_into(&path)?)
        })?;
        Some(path)
    } else {
        None
    };
    let report = exclusive.replace_from(from)?;
    drop(exclusive);
    storage::restrict_permissions(db)?;
    Ok(RestoreSummary { report, previous })
}
