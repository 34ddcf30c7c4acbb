//! `check`: verify every ledger invariant on a database file — everything
//! after the last checkpoint, or all of it with `--full`.

use super::progress::Reporter;
use crate::config::Settings;
use crate::startup;
use clap::Args;
use std::process::ExitCode;
use wallet_core::check::CheckMode;
use wallet_core::Ledger;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Check everything (and run SQLite's integrity_check), not only what
    /// came after the last checkpoint.
    #[arg(long)]
    full: bool,
}

pub async fn check(settings: &Settings, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::new(startup::open_existing_store(settings)?);
    // One line per phase, on a terminal only: pipes and tests stay quiet.
    let reporter = Reporter::on_stderr("check");
    let checked = ledger.check_from_checkpoint(args.full, reporter.clone()).await;
    reporter.finish();
    let (report, recorded) = checked?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.is_ok() {
        let scope = match report.mode {
            CheckMode::Full => "every invariant holds",
            CheckMode::Incremental => {
                "every invariant holds on what came after the checkpoint (integrity_check skipped: --full runs it)"
            }
        };
        eprintln!(
            "ok: {} wallets, {} entries, {} transactions; {scope}",
            report.wallets, report.entries, report.transactions
        );
        if !recorded {
            eprintln!("note: rows committed during the check; the checkpoint stays where it was");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("VIOLATIONS FOUND: see the lists above");
        Ok(ExitCode::from(1))
    }
}
