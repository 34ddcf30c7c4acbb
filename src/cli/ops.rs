//! `backup`, `restore`, `export`, `import`: whole-file operations.

use crate::config::Settings;
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
    let summary = ops::backup(&settings.db, &args.out)?;
    eprintln!(
        "backup of {} written to {} ({} bytes)",
        settings.db.display(),
        args.out.display(),
        summary.bytes
    );
    Ok(verdict("the backup", &summary.report))
}

pub fn restore(settings: &Settings, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let summary = match ops::restore(&settings.db, &args.from) {
        Err(OpsError::Maintenance(MaintenanceError::Violations(report))) => {
            verdict("the backup", &report);
            anyhow::bail!("{} fails the checks; nothing was restored", args.from.display());
        }
        other => other?,
    };
    if let Some(previous) = &summary.previous {
        eprintln!("the replaced database was saved to {}", previous.display());
    }
    eprintln!("{} restored from {}", settings.db.display(), args.from.display());
    Ok(verdict("the restored database", &summary.report))
}

pub async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let project = ProjectId::parse(&args.project)?;
    let store = crate::startup::open_existing_store(settings)?;
    let counts = ops::export(&store, &project, &args.out).await?;
    println!("{}", serde_json::to_string_pretty(&counts)?);
    eprintln!("project {project} exported to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (project, counts) = match ops::import(&settings.db, &args.file) {
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
    eprintln!("project {project} imported into {}", settings.db.display());
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
