//! `verify` and `events prune`: the audit side of the event log.

use crate::config::Settings;
use crate::startup;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use wallet_core::text::ProjectId;
use wallet_core::Ledger;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Only this project (default: every project).
    #[arg(long)]
    project: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Drop a project's events created before a time, keeping a signed
    /// anchor (the last dropped seq and hash) so the chain still verifies.
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Epoch milliseconds: events created before it are dropped.
    #[arg(long)]
    before: i64,
    /// The project (default: `default`).
    #[arg(long, default_value = "default")]
    project: String,
}

/// Recomputes every chain and the ledger from it; exits 1 at the first
/// mismatch of any project, 0 when all verify.
pub async fn verify(settings: &Settings, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let project = args
        .project
        .map(|p| ProjectId::parse(&p).map(ProjectId::into_inner))
        .transpose()?;
    let ledger = Ledger::new(startup::open_existing_store(settings)?);
    // The anchors of pruned events are checked against the server's key
    // when there is one (verify never makes a key).
    let signer = match settings.secret_key_file() {
        Some(path) if path.exists() => Some(wallet_webhooks::ServerKey::load(&path)?.anchor_signer()),
        _ => {
            eprintln!("no server key: the anchors of pruned events are not checked");
            None
        }
    };
    let reports = ledger.verify(project, signer).await?;
    let mut ok = true;
    for report in &reports {
        match &report.mismatch {
            None => println!(
                "{}: ok, {} events verified (seq {} to {})",
                report.project,
                report.events,
                report.from_seq + 1,
                report.from_seq + i64::try_from(report.events).unwrap_or(i64::MAX)
            ),
            Some(m) => {
                ok = false;
                println!("{}: MISMATCH at seq {}: {}", report.project, m.seq, m.reason);
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub async fn events(settings: &Settings, command: EventsCommand) -> anyhow::Result<ExitCode> {
    match command {
        EventsCommand::Prune(args) => {
            let project = ProjectId::parse(&args.project)?.into_inner();
            let ledger = Ledger::new(startup::open_existing_store(settings)?);
            let key = crate::webhooks::server_key(settings)?.ok_or_else(|| {
                anyhow::anyhow!("prune signs its anchor with the server's key: set secret_key_file")
            })?;
            let dropped = ledger
                .prune_events(project.clone(), args.before, key.anchor_signer())
                .await?;
            println!("{project}: {dropped} events pruned");
            Ok(ExitCode::SUCCESS)
        }
    }
}
