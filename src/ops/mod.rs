//! Operations on a whole database file, for the command line: a consistent
//! backup while the server runs, a verified restore while it does not, and
//! a project moved between databases as JSON Lines.
//!
//! The SQL lives in the backend crates; this module owns the files (created
//! 0600, never overwritten, synced) and the export format. Backup and
//! restore are of a SQLite file; a PostgreSQL database is backed up with
//! PostgreSQL's own tools (`cli::ops` says which). Export reads through the
//! port, so it works on any backend; import goes through a backend's
//! [`ProjectImport`].

mod backup;
mod transfer;

pub use backup::{backup, backup_reporting, restore, BackupSummary, RestoreSummary};
pub use transfer::{
    export, export_reporting, import, import_reporting, ExportHeader, ProjectImport, EXPORT_FORMAT,
    EXPORT_VERSION,
};

use std::fs::File;
use std::path::{Path, PathBuf};
use wallet_sqlite::MaintenanceError;

/// Why an operation failed. Nothing was changed unless the message says so.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Maintenance(#[from] MaintenanceError),
    #[error("{}: {error}", path.display())]
    File { path: PathBuf, error: std::io::Error },
    /// A line of an import file that cannot go in.
    #[error("line {line}: {error}")]
    Line {
        line: usize,
        error: Box<MaintenanceError>,
    },
}

impl From<wallet_core::StoreError> for OpsError {
    fn from(e: wallet_core::StoreError) -> Self {
        OpsError::Maintenance(MaintenanceError::Storage(e))
    }
}

impl OpsError {
    fn file(path: &Path) -> impl FnOnce(std::io::Error) -> OpsError + '_ {
        move |error| OpsError::File {
            path: path.to_owned(),
            error,
        }
    }
}

/// Creates a new, empty file only its owner can read. An existing file is
/// never overwritten: a backup or export must not destroy another.
fn create_private_file(path: &Path) -> Result<File, OpsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|error| OpsError::File {
        path: path.to_owned(),
        error: std::io::Error::new(
            error.kind(),
            format!("cannot create it (an existing file is never overwritten): {error}"),
        ),
    })
}

/// Makes a finished file durable: its contents, then its name in the folder.
fn sync_file(path: &Path) -> Result<(), OpsError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(OpsError::file(path))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(OpsError::file(dir))?;
    }
    Ok(())
}

/// Runs `write` into a new private file at `path`; on failure the partial
/// file is removed, so a failed backup or export never looks finished.
fn write_new_file<T>(path: &Path, write: impl FnOnce(File) -> Result<T, OpsError>) -> Result<T, OpsError> {
    let file = create_private_file(path)?;
    let outcome = write(file).and_then(|out| sync_file(path).map(|()| out));
    if outcome.is_err() {
        if let Err(e) = std::fs::remove_file(path) {
            log::warn!("could not remove the partial file {}: {e}", path.display());
        }
    }
    outcome
}
