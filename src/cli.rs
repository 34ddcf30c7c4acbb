//! The command line: `serve` (the default), `authority …` and `check`.

use crate::auth::Credentials;
use crate::config::{Overrides, Settings};
use crate::domain::{ProjectId, PublicId, Text};
use crate::ledger::Ledger;
use crate::startup::{self, Application};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "wallet-service",
    version,
    about = "Self-hosted wallet and ledger server"
)]
pub struct Cli {
    /// The SQLite database file (folders are created).
    #[arg(long, global = true, env = "WALLET_DB", value_name = "FILE")]
    db: Option<PathBuf>,
    /// A TOML config file (see config.example.toml).
    #[arg(long, global = true, env = "WALLET_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "WALLET_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (what runs without a subcommand).
    Serve,
    /// Manage authorities: the applications that may post entries.
    #[command(subcommand)]
    Authority(AuthorityCommand),
    /// Manage projects: tenants, each with its own assets, customers and credentials.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API v2 access keys: opaque tokens of one project.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Verify every ledger invariant on the database; exits 1 on a violation.
    /// Safe while the server runs.
    Check,
}

#[derive(Debug, Subcommand)]
enum AuthorityCommand {
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
enum ProjectCommand {
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

#[derive(Debug, Subcommand)]
enum KeyCommand {
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

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let settings = Settings::load(&Overrides {
        config: cli.config.clone(),
        listen: cli.listen.clone(),
        db: cli.db.clone(),
    })?;
    actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&settings).await,
            Command::Authority(command) => authority(&settings, command).await,
            Command::Project(command) => project(&settings, command).await,
            Command::Key(command) => key(&settings, command).await,
            Command::Check => check(&settings).await,
        }
    })
}

async fn serve(settings: &Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(settings)?;
    let addr = settings
        .listen
        .rsplit_once(':')
        .map_or("127.0.0.1", |(host, _)| host);
    log::info!("database {}", settings.db.display());
    // On stdout so scripts (and the SDK test) can read the chosen port.
    println!("wallet-service listening on http://{addr}:{}", app.port());
    std::io::stdout().flush()?;
    app.run_until_stopped().await?;
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn authority(settings: &Settings, command: AuthorityCommand) -> anyhow::Result<ExitCode> {
    let credentials = Credentials::new(startup::open_store(settings)?);
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

async fn project(settings: &Settings, command: ProjectCommand) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::new(startup::open_store(settings)?);
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

async fn key(settings: &Settings, command: KeyCommand) -> anyhow::Result<ExitCode> {
    let credentials = Credentials::new(startup::open_store(settings)?);
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

async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::new(startup::open_store(settings)?);
    let report = ledger.check().await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.is_ok() {
        eprintln!(
            "ok: {} wallets, {} entries, {} transactions; every invariant holds",
            report.wallets, report.entries, report.transactions
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("VIOLATIONS FOUND: see the lists above");
        Ok(ExitCode::from(1))
    }
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
