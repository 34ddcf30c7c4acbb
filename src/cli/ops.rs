//! `backup`, `restore`, `export`, `import`: whole-database operations.
//! `backup` and `restore` are of a SQLite file; on PostgreSQL they point at
//! `pg_dump`/`pg_restore` and exit 2.

use super::progress::Reporter;
use crate::config::{Database, PgUrl, Settings};
use crate::domain::ProjectId;
use crate::ops::{self, OpsError};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wallet_core::check::CheckReport;
use wallet_sqlite::MaintenanceError;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to create (mode 0600; an existing file is never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `backup`.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The project to export.
    #[arg(long)]
    project: String,
    /// The JSON Lines file to create (mode 0600; never overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file written by `export`.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
}

pub fn backup(settings: &Settings, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let db = match &settings.db {
        Database::Sqlite(db) => db,
        Database::Postgres(url) => return Ok(not_for_postgres("backup", url)),
    };
    let progress = Reporter::on_stderr("backup");
    let backed_up = ops::backup_reporting(db, &args.out, &*progress);
    progress.finish();
    let summary = backed_up?;
    eprintln!(
        "backup of {} written to {} ({} bytes)",
        db.display(),
        args.out.display(),
        summary.bytes
    );
    Ok(verdict("the backup", &summary.report))
}

pub fn restore(settings: &Settings, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let db = match &settings.db {
        Database::Sqlite(db) => db,
        Database::Postgres(url) => return Ok(not_for_postgres("restore", url)),
    };
    let summary = match ops::restore(db, &args.from) {
        Err(OpsError::Maintenance(MaintenanceError::Violations(report))) => {
            verdict("the backup", &report);
            anyhow::bail!("{} fails the checks; nothing was restored", args.from.display());
        }
        other => other?,
    };
    if let Some(previous) = &summary.previous {
        eprintln!("the replaced database was saved to {}", previous.display());
    }
    eprintln!("{} restored from {}", db.display(), args.from.display());
    Ok(verdict("the restored database", &summary.report))
}

/// `backup` and `restore` copy a SQLite file; a PostgreSQL database has its
/// own tools, which know its replication and point-in-time recovery. Says
/// which, and exits 2 (the command does not apply), having done nothing.
fn not_for_postgres(command: &str, url: &PgUrl) -> ExitCode {
    let how = match command {
        "backup" => {
            "back it up with PostgreSQL's own tools: `pg_dump --format=custom --file=wallet.dump <url>` \
             (a consistent snapshot, safe while servers run), or the cluster's own backups \
             (pgBackRest, Barman, a managed service's snapshots with point-in-time recovery)"
        }
        _ => {
            "restore it with PostgreSQL's own tools, every wallet-service process stopped: \
             `pg_restore --clean --if-exists --dbname=<url> wallet.dump`, or the cluster's own \
             point-in-time recovery; then run `wallet-service check`"
        }
    };
    eprintln!(
        "error: `{command}` works on a SQLite file; {url} is a PostgreSQL database: {how}. \
         To move one project between databases of either kind, use `export` and `import`."
    );
    ExitCode::from(2)
}
pub async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let project = ProjectId::parse(&args.project)?;
    let store = crate::startup::open_existing_store(settings)?;
    let progress = Reporter::on_stderr("export");
    let exported = ops::export_reporting(&store, &project, &args.out, progress.clone()).await;
    progress.finish();
    let counts = exported?;
    println!("{}", serde_json::to_string_pretty(&counts)?);
    eprintln!("project {project} exported to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let progress = Reporter::on_stderr("import");
    let imported = ops::import_reporting(&settings.db, &args.file, &*progress);
    progress.finish();
    let (project, counts) = match imported {
        Err(OpsError::Maintenance(MaintenanceError::Violations(report))) => {
            verdict("the imported database", &report);
            anyhow::bail!(
                "importing {} would break the ledger; nothing was imported",
                args.file.display()
            );
        }
        other => other?,
    };
    println!("{}", serde_json::to_string_pretty(&counts)?);
    eprintln!("project {project} imported into {}", settings.db);
    Ok(ExitCode::SUCCESS)
}

/// Prints a check report; exit code 1 when it found violations.
fn verdict(what: &str, report: &CheckReport) -> ExitCode {
    if report.is_ok() {
        eprintln!(
            "check of {what}: ok: {} wallets, {} entries, {} transactions",
            report.wallets, report.entries, report.transactions
        );
        ExitCode::SUCCESS
    } else {
        match serde_json::to_string_pretty(report) {
            Ok(json) => eprintln!("{json}"),
            Err(e) => eprintln!("{report:?} ({e})"),
        }
        eprintln!("check of {what}: VIOLATIONS FOUND");
        ExitCode::from(1)
    }
}
