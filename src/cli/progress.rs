//! Progress of long commands on stderr, drawn with indicatif only when
//! stderr is a terminal: a pipe, a log file or a test sees nothing, and
//! stdout (an export's counts, a check's report) is never touched.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use wallet_core::progress::Progress;

/// Shows one command's [`Progress`]: a line as each phase starts, a bar (or
/// a counter, when the total is unknown) while it runs, and its count when
/// it ends.
pub struct Reporter {
    command: &'static str,
    bar: ProgressBar,
    started: Instant,
    /// The phase running and how far it got.
    current: Mutex<Option<(String, u64)>>,
}

/// Where a command's progress is drawn: stderr on a terminal, nowhere
/// otherwise. Explicit, not left to indicatif's own detection, because
/// "quiet when not a terminal" is a promise of the command line.
pub fn draw_target(stderr_is_terminal: bool) -> ProgressDrawTarget {
    if stderr_is_terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

impl Reporter {
    /// The progress of `command`, drawn on stderr if it is a terminal.
    pub fn on_stderr(command: &'static str) -> Arc<Self> {
        Arc::new(Self::drawn_to(
            command,
            draw_target(std::io::stderr().is_terminal()),
        ))
    }

    fn drawn_to(command: &'static str, target: ProgressDrawTarget) -> Self {
        Self {
            command,
            bar: ProgressBar::with_draw_target(None, target),
            started: Instant::now(),
            current: Mutex::new(None),
        }
    }

    /// Ends the display: the last phase's count, and the bar cleared.
    pub fn finish(&self) {
        self.end_phase();
        self.bar.finish_and_clear();
    }

    fn end_phase(&self) {
        let ended = self.current.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((name, count)) = ended.filter(|(_, count)| *count > 0) {
            self.bar.println(format!(
                "{}: {name}: {count} ({:.1} s)",
                self.command,
                self.elapsed()
            ));
        }
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

impl Progress for Reporter {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.end_phase();
        let style = match total {
            Some(_) => ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})"),
            None => ProgressStyle::with_template("{spinner} {msg}: {pos} ({elapsed})"),
        };
        if let Ok(style) = style {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_message(name.to_owned());
        self.bar
            .println(format!("{}: {name} … {:.1} s", self.command, self.elapsed()));
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some((name.to_owned(), 0));
    }

    fn done(&self, count: u64) {
        self.bar.set_position(count);
        if let Some((_, done)) = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            *done = count;
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_drawn_only_on_a_terminal() {
        assert!(draw_target(false).is_hidden(), "a pipe gets nothing");
        // Under `cargo test` stderr may or may not be a terminal; the
        // choice for one is what matters here, the real terminal is
        // exercised by tests/api/progress.rs under a pseudo-terminal.
        let reporter = Reporter::drawn_to("test", draw_target(false));
        reporter.phase("rows", None);
        reporter.done(3);
        reporter.finish();
        assert!(reporter.bar.is_hidden());
    }
}
