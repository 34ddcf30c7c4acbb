//! `check`: verify every ledger invariant on a database file.

use crate::config::Settings;
use crate::startup;
use std::process::ExitCode;
use wallet_core::Ledger;

pub async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let ledger = Ledger::new(startup::open_existing_store(settings)?);
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
