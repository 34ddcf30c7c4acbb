//! `admin …`: the operator's own credentials.

use crate::api::admin::password;
use crate::config::Settings;
use crate::domain::AdminPassword;
use crate::startup;
use anyhow::Context;
use clap::Subcommand;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set the admin password (user `admin`), read as one line from stdin.
    /// Takes effect at once, also for a running server.
    SetPassword,
}

pub async fn admin(settings: &Settings, command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::SetPassword => {
            let store = startup::open_existing_store(settings)?;
            if atty_stdin() {
                eprintln!(
                    "new admin password ({} to {} characters), then Enter:",
                    AdminPassword::MIN_CHARS,
                    AdminPassword::MAX_CHARS
                );
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            let new_password = AdminPassword::parse(line.trim_end_matches(['\r', '\n']))?;
            password::set(&wallet_core::Ledger::new(store), &new_password).await?;
            eprintln!("admin password set; every admin session has ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether stdin is a terminal (then a prompt helps; in a pipe it is noise).
fn atty_stdin() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}
