//! Driving the load: C clients, each one keep-alive connection sending one
//! request at a time until the deadline, with a progress line every second.
//!
//! All clients run as tasks on the caller's single-threaded runtime: one
//! thread of load generation, so the server keeps the rest of the machine.

use super::http::{Conn, Endpoint};
use super::workload::{judge, Generator};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request that takes longer is counted as an error and its connection
/// dropped; a benchmark must end even if the server hangs.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Live counters for the progress line.
#[derive(Default)]
struct Live {
    ops: AtomicU64,
    errors: AtomicU64,
}

/// What a run measured.
pub(super) struct Totals {
    pub elapsed: Duration,
    pub requests: u64,
    pub ops: u64,
    /// Latency of every answered request, in microseconds.
    pub latency: Histogram<u64>,
    pub errors: BTreeMap<String, u64>,
    /// Sum of the amounts of acknowledged v1 entries.
    pub acknowledged: i64,
    /// Requests whose outcome is unknown (no answer): they may have applied.
    pub unanswered: u64,
    /// Largest VmRSS of this process seen during the run, in KiB.
    pub peak_rss_kib: Option<u64>,
}

impl Totals {
    pub(super) fn empty() -> anyhow::Result<Self> {
        Ok(Self {
            elapsed: Duration::ZERO,
            requests: 0,
            ops: 0,
            latency: new_histogram()?,
            errors: BTreeMap::new(),
            acknowledged: 0,
            unanswered: 0,
            peak_rss_kib: None,
        })
    }

    pub(super) fn merge(&mut self, other: Totals) -> anyhow::Result<()> {
        self.requests += other.requests;
        self.ops += other.ops;
        self.latency.add(&other.latency)?;
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        self.acknowledged += other.acknowledged;
        self.unanswered += other.unanswered;
        Ok(())
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    // 1 µs to 10 minutes at 3 significant digits.
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

/// Runs `generators.len()` clients against `endpoint` for `duration`.
/// `label` starts each progress line; `watch_rss` samples this process's
/// memory (meaningful when the server runs in-process).
pub(super) async fn run(
    endpoint: Arc<Endpoint>,
    generators: Vec<Generator>,
    duration: Duration,
    label: &str,
    watch_rss: bool,
) -> anyhow::Result<Totals> {
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + duration;
    let progress = tokio::spawn(progress(
        Arc::clone(&live),
        Arc::clone(&done),
        label.to_owned(),
        watch_rss,
    ));
    let clients: Vec<_> = generators
        .into_iter()
        .map(|generator| {
            let conn = Conn::new(Arc::clone(&endpoint));
            tokio::spawn(client(conn, generator, deadline, Arc::clone(&live)))
        })
        .collect();
    let mut totals = Totals::empty()?;
    for handle in clients {
        totals.merge(handle.await??)?;
    }
    totals.elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    totals.peak_rss_kib = progress.await?;
    Ok(totals)
}

async fn client(
    mut conn: Conn,
    mut generator: Generator,
    deadline: Instant,
    live: Arc<Live>,
) -> anyhow::Result<Totals> {
    let mut totals = Totals::empty()?;
    let mut request = Vec::with_capacity(4096);
    while Instant::now() < deadline {
        let sent = generator.next(&mut request);
        let start = Instant::now();
        totals.requests += 1;
        let error = match tokio::time::timeout(REQUEST_TIMEOUT, conn.roundtrip(&request)).await {
            Ok(Ok(response)) => {
                let micros = start.elapsed().as_micros().try_into().unwrap_or(u64::MAX);
                totals.latency.saturating_record(micros.max(1));
                let verdict = judge(sent, response.status, response.body);
                totals.ops += verdict.ops;
                totals.acknowledged += verdict.acknowledged;
                live.ops.fetch_add(verdict.ops, Ordering::Relaxed);
                verdict.error
            }
            Ok(Err(e)) => {
                totals.unanswered += 1;
                Some(e.kind().to_owned())
            }
            Err(_) => {
                // The cancelled roundtrip dropped its connection; the next dials anew.
                totals.unanswered += 1;
                Some("timeout".to_owned())
            }
        };
        if let Some(kind) = error {
            live.errors.fetch_add(1, Ordering::Relaxed);
            *totals.errors.entry(kind).or_default() += 1;
            // Errors that come back at once (a refused connection) must not spin.
            if totals.unanswered > 0 && totals.unanswered % 100 == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Ok(totals)
}

/// Prints one line a second until `done`; returns the peak RSS it saw.
async fn progress(live: Arc<Live>, done: Arc<AtomicBool>, label: String, watch_rss: bool) -> Option<u64> {
    let started = Instant::now();
    let mut last = 0;
    let mut peak = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        if done.load(Ordering::Relaxed) {
            return peak;
        }
        if watch_rss {
            peak = peak.max(super::report::rss_kib("VmRSS"));
        }
        let ops = live.ops.load(Ordering::Relaxed);
        eprintln!(
            "{label} [{:>3}s] {:>8} ops/s  total {:>9}  errors {}",
            started.elapsed().as_secs(),
            ops - last,
            ops,
            live.errors.load(Ordering::Relaxed)
        );
        last = ops;
    }
}
