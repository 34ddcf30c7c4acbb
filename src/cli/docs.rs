//! `completions` and `man`: the shell completion scripts and the man page,
//! generated from the parser itself so they always match the binary.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `wallet-service.1` and one page per subcommand
    /// (`wallet-service-check.1`, …) into this folder instead of printing
    /// the main page on stdout.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    // Into memory first: the generator panics on a failed write (a closed
    // pipe), which is the reader's doing, not a bug.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "wallet-service", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page (roff) on stdout, or writes every page into a folder.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = super::Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            clap_mangen::generate_to(command, &dir)?;
            eprintln!("man pages written to {}", dir.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
