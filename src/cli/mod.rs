//! The command line: `serve` (the default) and the administration commands.
//! Each group of subcommands lives in its own module; this one parses and
//! dispatches.

mod admin;
mod bench;
mod check;
mod credentials;
mod docs;
mod events;
mod openapi;
mod ops;
pub(crate) mod progress;
mod projects;

use crate::config::{Overrides, Settings};
use crate::startup::Application;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "wallet-service",
    version,
    about = "Self-hosted wallet and ledger server"
)]
pub struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL
    /// postgres://user:password@host:5432/database (also postgresql://, with
    /// libpq parameters such as ?sslmode=require). `serve` creates it (the
    /// SQLite file and its folders; a PostgreSQL database's schema) on the
    /// first start; every other command needs an existing one.
    #[arg(
        long,
        global = true,
        env = "WALLET_DB",
        hide_env_values = true,
        value_name = "FILE|URL"
    )]
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
    Authority(credentials::AuthorityCommand),
    /// The operator's own credentials (the admin page's password).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Manage projects: tenants, each with its own assets, customers and credentials.
    #[command(subcommand)]
    Project(projects::ProjectCommand),
    /// Manage API v2 access keys: opaque tokens of one project.
    #[command(subcommand)]
    Key(credentials::KeyCommand),
    /// Verify every ledger invariant on the database; exits 1 on a violation.
    /// Checks only what came after the last clean check's checkpoint unless
    /// --full. Safe while the server runs.
    Check(check::CheckArgs),
    /// Recompute every project's event chain and the ledger from it; prints
    /// the first seq that does not match and exits 1. Safe while the server
    /// runs.
    Verify(events::VerifyArgs),
    /// The event log: prune old events.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Measure throughput and latency (in-process server on a temporary
    /// database, or --url), then check that money was conserved.
    Bench(wallet_bench::BenchArgs),
    /// Write a consistent copy of the database to a new file; safe while the
    /// server runs. Exits 1 if the copy fails `check`.
    Backup(ops::BackupArgs),
    /// Replace the database with a backup after verifying it; refused while
    /// the server (or anything else) has the database open.
    Restore(ops::RestoreArgs),
    /// Write one project as JSON Lines (no private key or token); safe while
    /// the server runs.
    Export(ops::ExportArgs),
    /// Add a project from an export file, all or nothing; refused if the
    /// project exists or the result would break an invariant.
    Import(ops::ImportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff), or write every page into --dir.
    Man(docs::ManArgs),
    /// Print the OpenAPI document of API v2 (what /api/v2/openapi.json serves).
    Openapi,
}

/// Parses the command line and runs it.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // Need no database or config: they describe the binary.
    match cli.command {
        Some(Command::Completions(args)) => return docs::completions(args),
        Some(Command::Man(args)) => return docs::man(args),
        _ => {}
    }
    let settings = Settings::load(&Overrides {
        config: cli.config.clone(),
        listen: cli.listen.clone(),
        db: cli.db.clone(),
    })?;
    actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&settings).await,
            Command::Authority(command) => credentials::authority(&settings, command).await,
            Command::Project(command) => projects::project(&settings, command).await,
            Command::Key(command) => credentials::key(&settings, command).await,
            Command::Admin(command) => admin::admin(&settings, command).await,
            Command::Check(args) => check::check(&settings, args).await,
            Command::Verify(args) => events::verify(&settings, args).await,
            Command::Events(command) => events::events(&settings, command).await,
            Command::Bench(args) => bench::run(&settings, args).await,
            Command::Backup(args) => ops::backup(&settings, args),
            Command::Restore(args) => ops::restore(&settings, args),
            Command::Export(args) => ops::export(&settings, args).await,
            Command::Import(args) => ops::import(&settings, args),
            Command::Completions(_) | Command::Man(_) => Ok(ExitCode::SUCCESS),
            Command::Openapi => openapi::openapi(),
        }
    })
}

async fn serve(settings: &Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(settings).await?;
    let addr = settings
        .listen
        .rsplit_once(':')
        .map_or("127.0.0.1", |(host, _)| host);
    // A URL's password is redacted by its Display.
    log::info!("database {} ({})", settings.db, settings.db.kind());
    // On stdout so scripts (and the SDK test) can read the chosen port.
    println!("wallet-service listening on http://{addr}:{}", app.port());
    std::io::stdout().flush()?;
    app.run_until_stopped().await?;
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
