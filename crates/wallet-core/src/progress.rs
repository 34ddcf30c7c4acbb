//! Progress of long work — an export's rows, an import's, a backup's pages,
//! a bench preload's wallets — reported to whoever shows it. The core and
//! the backends only count; the command line decides whether anything is
//! drawn (on a terminal) or not (on a pipe, in a test), so the work itself
//! never writes to a terminal. `check` reports its phases here too (numbered
//! by `check::Phases`).

use std::sync::Arc;

/// Receives the progress of one piece of work. Shared (`&self`, `Send +
/// Sync`): the work may run on another thread than the one that shows it.
pub trait Progress: Send + Sync {
    /// A phase of the work starts; `total`: how many units it will count,
    /// when known beforehand.
    fn phase(&self, name: &str, total: Option<u64>);
    /// `count` units of the current phase are done (a running total).
    fn done(&self, count: u64);
}

/// Progress nobody shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn phase(&self, _: &str, _: Option<u64>) {}
    fn done(&self, _: u64) {}
}

/// A shared reporter that shows nothing.
pub fn quiet() -> Arc<dyn Progress> {
    Arc::new(Quiet)
}
