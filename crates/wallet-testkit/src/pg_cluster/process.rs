//! The processes behind a [`PgCluster`](super::PgCluster): where PostgreSQL's
//! binaries are, which OS user runs them, the watchdog, and bounded waits.

use super::PgClusterError;
use std::env;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Points the harness at a `bin` directory holding `initdb` and `postgres`
/// when they are not where Debian puts them.
pub(super) const BINDIR_VAR: &str = "WALLET_TEST_PG_BINDIR";

/// The directory holding `initdb` and `postgres`: [`BINDIR_VAR`], then
/// Debian's `/usr/lib/postgresql/<major>/bin` (newest major first), then
/// `pg_config --bindir`, then `PATH`.
pub(super) fn find_bindir() -> Result<PathBuf, PgClusterError> {
    let mut candidates: Vec<PathBuf> = env::var_os(BINDIR_VAR).map(PathBuf::from).into_iter().collect();
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        let mut majors: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let major = entry.file_name().to_str()?.parse().ok()?;
                Some((major, entry.path().join("bin")))
            })
            .collect();
        majors.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
        candidates.extend(majors.into_iter().map(|(_, bin)| bin));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    if let Some(path) = env::var_os("PATH") {
        candidates.extend(env::split_paths(&path));
    }
    first_with_binaries(candidates)
}

/// The first of `candidates` holding both `initdb` and `postgres`.
pub(super) fn first_with_binaries(
    candidates: impl IntoIterator<Item = PathBuf>,
) -> Result<PathBuf, PgClusterError> {
    candidates
        .into_iter()
        .find(|dir| ["initdb", "postgres"].iter().all(|bin| dir.join(bin).is_file()))
        .ok_or(PgClusterError::NotInstalled)
}

/// The OS user the cluster runs as: `initdb` and `postgres` refuse root, so
/// tests running as root hand the cluster to the `postgres` user (Debian's
/// package creates it); anyone else runs it as themselves.
#[derive(Debug, Clone, Copy)]
pub(super) enum RunAs {
    CurrentUser,
    Postgres { uid: u32, gid: u32 },
}

impl RunAs {
    pub(super) fn detect() -> Result<Self, PgClusterError> {
        if id(&["-u"])? != 0 {
            return Ok(Self::CurrentUser);
        }
        match (id(&["-u", "postgres"]), id(&["-g", "postgres"])) {
            (Ok(uid), Ok(gid)) => Ok(Self::Postgres { uid, gid }),
            _ => Err(PgClusterError::NoPostgresUser),
        }
    }

    /// `program` as this user (std drops root's supplementary groups too).
    pub(super) fn command(self, program: impl AsRef<Path>) -> Command {
        let mut command = Command::new(program.as_ref());
        if let Self::Postgres { uid, gid } = self {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Hands a directory the tests created to this user.
    pub(super) fn own(self, dir: &Path) -> Result<(), PgClusterError> {
        match self {
            Self::CurrentUser => Ok(()),
            Self::Postgres { uid, gid } => std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .map_err(|source| PgClusterError::io(format!("chown {}", dir.display()), source)),
        }
    }
}

fn id(args: &[&str]) -> Result<u32, PgClusterError> {
    let what = format!("id {}", args.join(" "));
    let out = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map_err(|source| PgClusterError::io(what.clone(), source))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| PgClusterError::Command {
            what,
            status: out.status,
            output: String::new(),
        })
}

/// On end of input: stop the last postmaster named on stdin (SIGQUIT is
/// `pg_ctl stop -m immediate`), wait for it (bounded, then SIGKILL), and
/// remove the cluster's directory. An empty line un-names it (the test
/// binary stopped and reaped it itself). A named pid cannot be stale: the
/// postmaster is the test binary's child, not reaped while the binary lives,
/// and the watchdog acts the moment the binary is gone. A zombie counts as
/// gone.
const WATCHDOG: &str = r#"
trap '' INT HUP
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  read -r stat < "/proc/$1/stat" 2>/dev/null || return 0
  case ${stat##*") "} in Z*) return 1 ;; esac
}
dir=$1 pid=
while read -r line; do pid=$line; done
if [ -n "$pid" ] && alive "$pid"; then
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while alive "$pid" && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$dir"
"#;

/// What tears a cluster down whenever the test binary ends (see the module
/// doc of [`pg_cluster`](super)), and the owner of its server process.
///
/// The `sh` child's stdin is a pipe whose only writer is this process (std
/// opens pipes close-on-exec, so no other child inherits it): the kernel
/// closes it however this process ends. Dropped normally, the guard stops
/// and reaps the server itself, then lets the watchdog remove the directory
/// and waits for it.
#[derive(Debug)]
pub(super) struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
    postmaster: Option<Child>,
}

impl Watchdog {
    /// Started before anything is put in `dir`, so a kill at any later step
    /// still removes it.
    pub(super) fn spawn(dir: &Path) -> Result<Self, PgClusterError> {
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG, "wallet-pg-watchdog"])
            .arg(dir)
            .stdin(Stdio::piped())
            // Never the test binary's stdout: whoever reads it would wait
            // for the watchdog too.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Out of the terminal's process group: Ctrl-C stops the tests,
            // not the cleanup.
            .process_group(0)
            .spawn()
            .map_err(|source| PgClusterError::io("start the watchdog (sh)", source))?;
        let stdin = child.stdin.take();
        Ok(Self {
            child,
            stdin,
            postmaster: None,
        })
    }

    /// Takes charge of a just-started server (stopping any earlier one).
    pub(super) fn watch(&mut self, postmaster: Child) -> Result<&mut Child, PgClusterError> {
        self.stop_postmaster();
        let pid = postmaster.id();
        let postmaster = self.postmaster.insert(postmaster);
        let told = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{pid}").and_then(|()| stdin.flush()),
            None => Ok(()),
        };
        told.map_err(|source| PgClusterError::io("tell the watchdog the postmaster's pid", source))?;
        Ok(postmaster)
    }

    pub(super) fn postmaster_pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(Child::id)
    }

    /// Immediate shutdown (SIGQUIT, as `pg_ctl stop -m immediate`), SIGKILL
    /// if that takes over 30 s; reaped, and un-named to the watchdog.
    fn stop_postmaster(&mut self) {
        let Some(mut postmaster) = self.postmaster.take() else {
            return;
        };
        if !matches!(postmaster.try_wait(), Ok(Some(_))) {
            let quit = Command::new("kill")
                .args(["-QUIT", &postmaster.id().to_string()])
                .stderr(Stdio::null())
                .status();
            if quit.is_err()
                || !matches!(
                    wait_bounded(&mut postmaster, Duration::from_secs(30)),
                    Ok(Some(_))
                )
            {
                let _ = postmaster.kill();
                let _ = postmaster.wait();
            }
        }
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = writeln!(stdin).and_then(|()| stdin.flush());
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop_postmaster();
        self.stdin = None;
        if !matches!(
            wait_bounded(&mut self.child, Duration::from_secs(60)),
            Ok(Some(_))
        ) {
            warn("the PostgreSQL watchdog did not finish within 60 s");
        }
    }
}

/// A line on stderr that never panics (`eprintln!` does when stderr is
/// gone, which would abort a drop during unwinding).
pub(super) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "wallet-testkit: {message}");
}

/// Waits for `child` to exit, at most `limit`; `None` if it still runs.
pub(super) fn wait_bounded(child: &mut Child, limit: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` to its end within `limit`, its output going to `log`;
/// killed and reported with that output if it fails or hangs.
pub(super) fn run_logged(
    mut command: Command,
    what: &str,
    log: &Path,
    limit: Duration,
) -> Result<(), PgClusterError> {
    let file = fs::File::create(log)
        .map_err(|source| PgClusterError::io(format!("create {}", log.display()), source))?;
    let file2 = file
        .try_clone()
        .map_err(|source| PgClusterError::io("dup a log file", source))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .spawn()
        .map_err(|source| PgClusterError::io(format!("start {what}"), source))?;
    let waited = wait_bounded(&mut child, limit)
        .map_err(|source| PgClusterError::io(format!("wait for {what}"), source))?;
    let status = match waited {
        Some(status) if status.success() => return Ok(()),
        Some(status) => status,
        None => {
            // Best effort: the error below is what matters.
            let _ = child.kill();
            child
                .wait()
                .map_err(|source| PgClusterError::io(format!("wait for {what}"), source))?
        }
    };
    Err(PgClusterError::Command {
        what: what.to_owned(),
        status,
        output: tail(log),
    })
}

/// The last lines of a log, for an error message.
pub(super) fn tail(log: &Path) -> String {
    match fs::read_to_string(log) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        }
        Err(error) => format!("({} unreadable: {error})", log.display()),
    }
}
