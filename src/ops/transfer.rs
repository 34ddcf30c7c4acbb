//! `export` and `import`: one project as JSON Lines.
//!
//! The first line is an [`ExportHeader`]; every other line is one
//! [`DumpRecord`](crate::storage::DumpRecord), tagged by `type`, each after
//! the rows it refers to (project, assets, authorities, customers, customer
//! keys, wallets, transactions, entries, items). Credentials appear as the
//! server holds them: public keys and SHA-256 digests, never a private key
//! or a token.

use super::OpsError;
use crate::config::Database;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use wallet_core::dump::{DumpCounts, DumpRecord, ProjectDump};
use wallet_core::progress::{self, Progress};
use wallet_core::text::ProjectId;
use wallet_core::{Store, StoreError};
use wallet_sqlite::{Import, MaintenanceError};

pub const EXPORT_FORMAT: &str = "wallet-service-export";
pub const EXPORT_VERSION: u32 = 1;

/// The first line of an export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportHeader {
    pub format: String,
    pub version: u32,
    pub project: String,
    pub exported_at: i64,
}

/// Writes `project` into `out` (a new file, mode 0600) from one consistent
/// snapshot of `store`; safe while the server runs.
pub async fn export(store: &Store, project: &ProjectId, out: &Path) -> Result<DumpCounts, OpsError> {
    export_reporting(store, project, out, progress::quiet()).await
}

/// [`export`], reporting the rows written to `progress` (both backends
/// hand their rows through the same port, so they report alike).
pub async fn export_reporting(
    store: &Store,
    project: &ProjectId,
    out: &Path,
    progress: Arc<dyn Progress>,
) -> Result<DumpCounts, OpsError> {
    let file = super::create_private_file(out)?;
    let header = ExportHeader {
        format: EXPORT_FORMAT.to_owned(),
        version: EXPORT_VERSION,
        project: project.to_string(),
        exported_at: wallet_core::clock::system_now(),
    };
    let (project, path) = (project.clone(), out.to_owned());
    let written = store
        .read(move |r| {
            let mut writer = BufWriter::new(file);
            write_line(&mut writer, &header).map_err(OpsError::file(&path))?;
            if r.project(project.as_str())?.is_none() {
                return Err(OpsError::from(MaintenanceError::Invalid(format!(
                    "there is no project {project}"
                ))));
            }
            // A failed write is the export file's fault, not the database's:
            // keep the error to report it against the file.
            let mut write_error = None;
            progress.phase("rows", None);
            let mut rows = 0;
            let counts = r.export_project(project.as_str(), &mut |record| {
                rows += 1;
                progress.done(rows);
                write_line(&mut writer, &record).map_err(|e| {
                    let message = e.to_string();
                    write_error = Some(e);
                    StoreError::Internal(message)
                })
            });
            if let Some(error) = write_error {
                return Err(OpsError::File { path, error });
            }
            let counts = counts.map_err(MaintenanceError::from)?;
            let file = writer.into_inner().map_err(|e| OpsError::File {
                path: path.clone(),
                error: e.into_error(),
            })?;
            drop(file);
            super::sync_file(&path)?;
            Ok(counts)
        })
        .await;
    if written.is_err() {
        // Leave no partial export behind.
        let _ = std::fs::remove_file(out);
    }
    written
}

fn write_line(writer: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *writer, value)?;
    writer.write_all(b"\n")
}

fn at(line: usize) -> impl FnOnce(MaintenanceError) -> OpsError {
    move |e| OpsError::Line {
        line,
        error: Box::new(e),
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, line: usize) -> Result<T, OpsError> {
    serde_json::from_str(text).map_err(|e| at(line)(MaintenanceError::Invalid(e.to_string())))
}

/// One backend's all-or-nothing import of a project (`wallet_sqlite::Import`
/// and its PostgreSQL twin): rows go in one by one, each checked by
/// `wallet_core::dump::ImportCheck` first, and `finish` commits only if
/// every invariant holds. Dropped without `finish`, nothing stays.
pub trait ProjectImport: Sized {
    fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError>;
    fn finish(self) -> Result<DumpCounts, MaintenanceError>;
}

impl ProjectImport for Import {
    fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        Import::insert(self, record)
    }

    fn finish(self) -> Result<DumpCounts, MaintenanceError> {
        Import::finish(self)
    }
}

/// Imports the project of an export file in one transaction, into a
/// database that does not hold it yet. Nothing is written unless every row
/// is valid and every invariant of `check` holds on the result.
pub fn import(db: &Database, file: &Path) -> Result<(String, DumpCounts), OpsError> {
    import_reporting(db, file, &progress::Quiet)
}

/// [`import`], reporting the rows read to `progress`, then the final check;
/// the same on either backend (the file is read here, not in the backend).
pub fn import_reporting(
    db: &Database,
    file: &Path,
    progress: &dyn Progress,
) -> Result<(String, DumpCounts), OpsError> {
    match db {
        Database::Sqlite(path) => import_sqlite(path, file, progress),
        Database::Postgres(url) => import_into(file, progress, |project| {
            wallet_postgres::Import::begin(url.expose(), project)
                .map(PostgresImport)
                .map_err(from_postgres)
        }),
    }
}

/// `wallet_postgres::Import`, answering in the maintenance commands' error.
struct PostgresImport(wallet_postgres::Import);

impl ProjectImport for PostgresImport {
    fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        self.0.insert(record).map_err(from_postgres)
    }

    fn finish(self) -> Result<DumpCounts, MaintenanceError> {
        self.0.finish().map_err(from_postgres)
    }
}

fn from_postgres(e: wallet_postgres::MaintenanceError) -> MaintenanceError {
    use wallet_postgres::MaintenanceError as Pg;
    match e {
        Pg::Storage(e) => MaintenanceError::Storage(e),
        Pg::Refused(why) => MaintenanceError::Refused(why),
        Pg::Invalid(why) => MaintenanceError::Invalid(why),
        Pg::Violations(report) => MaintenanceError::Violations(report),
    }
}

fn import_sqlite(db: &Path, file: &Path, progress: &dyn Progress) -> Result<(String, DumpCounts), OpsError> {
    let existed = db.exists();
    let outcome = import_into(file, progress, |project| Import::begin(db, project));
    if outcome.is_err() && !existed {
        // Leave no empty database behind where there was none.
        for suffix in ["", "-wal", "-shm"] {
            let mut path = db.as_os_str().to_owned();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    outcome
}

/// Reads the export `file` into the import that `begin` starts with the
/// file's project row.
fn import_into<I: ProjectImport>(
    file: &Path,
    progress: &dyn Progress,
    begin: impl FnOnce(&ProjectDump) -> Result<I, MaintenanceError>,
) -> Result<(String, DumpCounts), OpsError> {
    let reader = BufReader::new(std::fs::File::open(file).map_err(OpsError::file(file))?);
    let mut lines = reader.lines().enumerate().map(|(i, text)| (i + 1, text));
    let mut next = || -> Result<Option<(usize, String)>, OpsError> {
        match lines.next() {
            None => Ok(None),
            Some((n, text)) => Ok(Some((n, text.map_err(OpsError::file(file))?))),
        }
    };
    let missing = |what: &str| MaintenanceError::Invalid(format!("the file ends before its {what} line"));
    let (n, text) = next()?.ok_or_else(|| missing("header"))?;
    let header: ExportHeader = parse(&text, n)?;
    if header.format != EXPORT_FORMAT || header.version != EXPORT_VERSION {
        return Err(at(n)(MaintenanceError::Invalid(format!(
            "not a {EXPORT_FORMAT} file of version {EXPORT_VERSION}"
        ))));
    }
    let (n, text) = next()?.ok_or_else(|| missing("project"))?;
    let DumpRecord::Project(project) = parse(&text, n)? else {
        return Err(at(n)(MaintenanceError::Invalid(
            "the second line must be the project".to_owned(),
        )));
    };
    if project.id != header.project {
        return Err(at(n)(MaintenanceError::Invalid(format!(
            "the header names project {} but the file holds {}",
            header.project, project.id
        ))));
    }
    let mut import = begin(&project).map_err(at(n))?;
    progress.phase("rows", None);
    let mut rows = 0;
    while let Some((n, text)) = next()? {
        if text.trim().is_empty() {
            continue;
        }
        let record: DumpRecord = parse(&text, n)?;
        import.insert(&record).map_err(at(n))?;
        rows += 1;
        progress.done(rows);
    }
    progress.phase("checking every invariant, then committing", None);
    let counts = import.finish()?;
    Ok((project.id, counts))
}
