//! `authority …` and `key …`: credentials of applications.

use crate::auth::Credentials;
use crate::config::Settings;
use crate::domain::{ProjectId, PublicId, Text};
use crate::startup;
use anyhow::Context;
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuthorityCommand {
    /// Create an authority and write its client config file (holding the only
    /// copy of its private key).
    Create {
        /// A name to recognise it by.
        name: String,
        /// The URL clients reach this server at, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        api_base_url: String,
        #[arg(long, default_value = "default")]
        project: String,
        /// Write the config here (mode 0600, never overwritten) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List authorities.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke an authority: its tokens are refused from the next request on.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an access key and print it once (only its digest is stored).
    Create {
        #[arg(long, default_value = "default")]
        project: String,
        /// A name to recognise it by.
        #[arg(long, default_value = "access key")]
        name: String,
    },
    /// List access keys and authorities.
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Revoke an access key: it is refused from the next request on.
    Revoke { id: String },
}

pub async fn authority(settings: &Settings, command: AuthorityCommand) -> anyhow::Result<ExitCode> {
    let credentials = Credentials::new(startup::open_existing_store(settings)?);
    match command {
        AuthorityCommand::Create {
            name,
            api_base_url,
            project,
            out,
        } => {
            let project = ProjectId::parse(&project)?;
            let name = Text::parse(&name, "name", 200)?;
            let created = credentials.create_authority(project, name, &api_base_url).await?;
            let json = serde_json::to_string_pretty(&created.config)? + "\n";
            match out {
                Some(path) => {
                    write_secret_file(&path, json.as_bytes())?;
                    eprintln!(
                        "authority {} created in project {}; client config written to {}",
                        created.info.id,
                        created.info.project,
                        path.display()
                    );
                }
                None => {
                    eprintln!(
                        "authority {} created in project {}",
                        created.info.id, created.info.project
                    );
                    print!("{json}");
                }
            }
        }
        AuthorityCommand::List { project } => {
            let project = project.as_deref().map(ProjectId::parse).transpose()?;
            for a in credentials.list_authorities(project).await? {
                let state = if a.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{}", a.id, a.project, state, a.name);
            }
        }
        AuthorityCommand::Revoke { id } => {
            credentials.revoke_authority(PublicId::parse(&id)?).await?;
            eprintln!("authority {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn print_authorities(credentials: &Credentials, project: Option<String>) -> anyhow::Result<()> {
    let project = project.as_deref().map(ProjectId::parse).transpose()?;
    for a in credentials.list_authorities(project).await? {
        let state = if a.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!("{}\t{}\t{}\t{}\t{}", a.id, a.project, a.kind, state, a.name);
    }
    Ok(())
}

pub async fn key(settings: &Settings, command: KeyCommand) -> anyhow::Result<ExitCode> {
    let credentials = Credentials::new(startup::open_existing_store(settings)?);
    match command {
        KeyCommand::Create { project, name } => {
            let project = ProjectId::parse(&project)?;
            let created = credentials
                .create_access_key(project, Text::parse(&name, "name", 200)?)
                .await?;
            eprintln!(
                "access key {} created in project {}; it is shown only now:",
                created.info.id, created.info.project
            );
            println!("{}", created.token);
        }
        KeyCommand::List { project } => print_authorities(&credentials, project).await?,
        KeyCommand::Revoke { id } => {
            credentials.revoke_authority(PublicId::parse(&id)?).await?;
            eprintln!("key {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a file only its owner can read, refusing to overwrite one.
fn write_secret_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating {} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}
