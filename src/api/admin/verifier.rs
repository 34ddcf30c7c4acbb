//! Admin password verifications on a fixed pool of threads, counted for
//! `/metrics`. A login waits in a short queue for a thread, or is refused at
//! once (429) when the queue is full.
//!
//! Each argon2 verification holds ~19 MiB and most of a core for tens of
//! milliseconds: without a bound, one wave of concurrent guesses took the
//! server from 28 MB to 659 MB. Dedicated threads bound it twice over:
//! never more than `CONCURRENT_VERIFICATIONS` at once (a client that hangs
//! up does not stop its verification, so hanging up frees no slot), and
//! each thread hashes in one buffer of its own, allocated once and reused:
//! argon2's own allocation per call left a freed 19 MiB in every allocator
//! arena a thread happened to use (the peak kept growing to ~190 MiB even
//! with two at a time).

use super::password::{self, PasswordStamp};
use crate::domain::random_base32;
use argon2::password_hash::{Output, PasswordHash};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;
use wallet_core::{Ledger, LedgerError};

/// Argon2 verifications that may run at once: the verifying threads.
pub const CONCURRENT_VERIFICATIONS: usize = 2;
/// Logins that may wait for a thread; beyond, a login is refused at once.
const MAX_WAITING: usize = 16;
/// The most argon2 memory a stored hash may ask for (256 MiB; ours ask for
/// 19 MiB). A bigger one is refused rather than allocated.
const MAX_BLOCKS: usize = 256 * 1024;

/// What a verification found.
pub enum Verdict {
    /// The admin's name and password; the stamp of the hash they matched.
    Admin(PasswordStamp),
    /// A wrong name or password (one answer for both).
    Wrong,
    /// Too many logins already waiting: nothing was verified.
    Busy,
}

struct Job {
    stored: Option<String>,
    username: String,
    password: String,
    answer: oneshot::Sender<Option<PasswordStamp>>,
}

#[derive(Default)]
struct Counters {
    running: AtomicU64,
    peak: AtomicU64,
    verifications: AtomicU64,
    busy: AtomicU64,
}

/// The verifying threads and their queue. The threads end when it is dropped.
pub struct Verifier {
    jobs: SyncSender<Job>,
    counters: Arc<Counters>,
}

/// The verifier's counters, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct VerifierStats {
    pub verifications: u64,
    /// The most verifications that ran at once so far.
    pub peak: u64,
    /// Logins refused because the queue was full.
    pub busy: u64,
}

impl Verifier {
    pub fn start() -> std::io::Result<Self> {
        let (jobs, queue) = sync_channel(MAX_WAITING);
        let queue = Arc::new(Mutex::new(queue));
        let counters = Arc::new(Counters::default());
        for n in 0..CONCURRENT_VERIFICATIONS {
            let (queue, counters) = (Arc::clone(&queue), Arc::clone(&counters));
            std::thread::Builder::new()
                .name(format!("admin-login-{n}"))
                .spawn(move || work(&queue, &counters))?;
        }
        Ok(Self { jobs, counters })
    }

    /// Whether `username`/`password` are the admin's (see `verify_in`),
    /// once a thread is free.
    pub async fn verify(
        &self,
        ledger: &Ledger,
        username: &str,
        password: &str,
    ) -> Result<Verdict, LedgerError> {
        let stored = password::stored_hash(ledger).await?;
        let (answer, answered) = oneshot::channel();
        let job = Job {
            stored,
            username: username.to_owned(),
            password: password.to_owned(),
            answer,
        };
        if let Err(e) = self.jobs.try_send(job) {
            if matches!(e, TrySendError::Disconnected(_)) {
                log::error!("the admin login threads have stopped");
            }
            self.counters.busy.fetch_add(1, Ordering::Relaxed);
            return Ok(Verdict::Busy);
        }
        Ok(match answered.await {
            Ok(Some(stamp)) => Verdict::Admin(stamp),
            _ => Verdict::Wrong,
        })
    }

    pub fn stats(&self) -> VerifierStats {
        let c = &self.counters;
        VerifierStats {
            verifications: c.verifications.load(Ordering::Relaxed),
            peak: c.peak.load(Ordering::Relaxed),
            busy: c.busy.load(Ordering::Relaxed),
        }
    }
}

fn work(queue: &Mutex<Receiver<Job>>, counters: &Counters) {
    let mut memory = Vec::new();
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        // Every sender is gone: the server has stopped.
        let Ok(job) = next else { return };
        let now = counters.running.fetch_add(1, Ordering::Relaxed) + 1;
        counters.peak.fetch_max(now, Ordering::Relaxed);
        counters.verifications.fetch_add(1, Ordering::Relaxed);
        // A panic must not take a thread away; it counts as a wrong password.
        let stamp = catch_unwind(AssertUnwindSafe(|| {
            verify_in(&mut memory, job.stored.as_deref(), &job.username, &job.password)
        }))
        .unwrap_or(None);
        counters.running.fetch_sub(1, Ordering::Relaxed);
        // The login may have hung up; its verification still ran to the end.
        let _ = job.answer.send(stamp);
    }
}

/// Whether `username`/`password` are the admin's, against the `stored`
/// hash: the stamp of that hash if so. Runs the same verification whatever
/// is wrong, so a wrong user name, a wrong password and no password set
/// take the same time and get the same answer.
fn verify_in(
    memory: &mut Vec<Block>,
    stored: Option<&str>,
    username: &str,
    password: &str,
) -> Option<PasswordStamp> {
    // A hash of a random password stands in when none is set.
    static STAND_IN: OnceLock<String> = OnceLock::new();
    let phc = match stored {
        Some(phc) => phc,
        None => STAND_IN.get_or_init(|| password::hash(&random_base32(24)).unwrap_or_default()),
    };
    let matches =
        PasswordHash::new(phc).is_ok_and(|parsed| argon2_matches(memory, &parsed, password.as_bytes()));
    stored
        .filter(|_| matches && username == password::ADMIN_USER)
        .map(PasswordStamp::of)
}

/// `PasswordVerifier::verify_password`, but hashing in `memory` (grown to
/// the hash's memory cost once, then reused) instead of a fresh allocation.
fn argon2_matches(memory: &mut Vec<Block>, phc: &PasswordHash<'_>, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(phc.algorithm), Params::try_from(phc)) else {
        return false;
    };
    let Ok(version) = phc.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        log::error!("the stored admin password hash asks for {blocks} KiB of memory; refused");
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        &mut out,
        &mut memory[..blocks],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AdminPassword;

    #[test]
    fn hashing_in_reused_memory_agrees_with_argon2s_own_verification() -> anyhow::Result<()> {
        use argon2::password_hash::PasswordVerifier;
        let right = "correct horse battery staple";
        let phc = password::hash(right)?;
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut memory = Vec::new();
        for (guess, expected) in [(right, true), ("wrong", false), ("", false), (right, true)] {
            let theirs = Argon2::default()
                .verify_password(guess.as_bytes(), &parsed)
                .is_ok();
            assert_eq!(theirs, expected, "{guess:?}");
            assert_eq!(
                argon2_matches(&mut memory, &parsed, guess.as_bytes()),
                expected,
                "{guess:?}"
            );
        }
        assert_eq!(
            memory.len(),
            Params::default().block_count(),
            "allocated once, at the hash's cost"
        );
        let stamp = verify_in(&mut memory, Some(&phc), password::ADMIN_USER, right);
        assert!(stamp == Some(PasswordStamp::of(&phc)));
        for (stored, user, guess) in [
            (Some(phc.as_str()), "root", right),
            (Some(phc.as_str()), password::ADMIN_USER, "wrong"),
            (None, password::ADMIN_USER, right),
            (Some("$argon2id$garbage"), password::ADMIN_USER, right),
            (
                Some("$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
                password::ADMIN_USER,
                right,
            ),
        ] {
            assert!(
                verify_in(&mut memory, stored, user, guess).is_none(),
                "{stored:?} {user} {guess}"
            );
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_the_bound_run_at_once_and_the_overflow_is_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = crate::startup::open_sqlite(&dir.path().join("w.db"))?;
        let store = Ledger::new(store);
        let right = "correct horse battery staple";
        password::set(&store, &AdminPassword::parse(right)?).await?;
        let verifier = Arc::new(Verifier::start()?);
        let mut logins = tokio::task::JoinSet::new();
        for n in 0..40 {
            let (verifier, store) = (Arc::clone(&verifier), store.clone());
            logins.spawn(async move {
                verifier
                    .verify(&store, password::ADMIN_USER, &format!("guess {n}"))
                    .await
            });
        }
        let (mut wrong, mut busy) = (0, 0);
        while let Some(verdict) = logins.join_next().await {
            match verdict?? {
                Verdict::Wrong => wrong += 1,
                Verdict::Busy => busy += 1,
                Verdict::Admin(_) => anyhow::bail!("a wrong guess was taken"),
            }
        }
        let stats = verifier.stats();
        assert_eq!(wrong + busy, 40);
        assert_eq!(stats.verifications, wrong, "every answer but Busy was verified");
        assert_eq!(stats.busy, busy);
        assert!(
            (1..=CONCURRENT_VERIFICATIONS as u64).contains(&stats.peak),
            "{stats:?}"
        );
        assert!(
            matches!(
                verifier.verify(&store, password::ADMIN_USER, right).await?,
                Verdict::Admin(_)
            ),
            "the queue drained; the right password works"
        );
        Ok(())
    }
}
