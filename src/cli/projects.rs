//! `project …`: tenants.

use crate::config::Settings;
use crate::startup;
use clap::Subcommand;
use std::process::ExitCode;
use wallet_core::text::{ProjectId, Text};
use wallet_core::Ledger;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project, with a default asset (PTS, whole units) for API v1.
    Create {
        /// 1-30 characters of A-Z a-z 0-9 _ -
        id: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List projects.
    List,
}

pub async fn project(settings: &Settings, command: ProjectCommand) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::new(startup::open_existing_store(settings)?);
    match command {
        ProjectCommand::Create { id, name } => {
            let id = ProjectId::parse(&id)?;
            let name = Text::parse(name.as_deref().unwrap_or(id.as_str()), "name", 200)?;
            let project = ledger.create_project(id, name).await?;
            eprintln!("project {} created", project.id);
        }
        ProjectCommand::List => {
            for p in ledger.projects().await? {
                println!("{}\t{}", p.id, p.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
