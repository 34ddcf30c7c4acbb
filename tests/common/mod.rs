//! Running the real `wallet-service` binary from integration tests: the
//! server on a free port, CLI commands, any command with a timeout, and the
//! Python SDK's virtualenv.
#![allow(dead_code)] // each test binary uses a different part of it

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_wallet-service");
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
pub const CLI_TIMEOUT: Duration = Duration::from_secs(60);
pub const SDK_REQUIREMENT: &str = "wallet-sdk-Noah-Huppert==1.1.0";
/// The Standard Webhooks verifier the webhook tests check signatures with.
pub const STANDARDWEBHOOKS_REQUIREMENT: &str = "standardwebhooks==1.1.0";
pub const PIP_TIMEOUT: Duration = Duration::from_secs(600);

/// What a finished (or killed) child process printed.
pub struct Finished {
    pub status: ExitStatus,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn describe(&self) -> String {
        format!(
            "status: {}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            if self.timed_out {
                " (killed after the timeout)"
            } else {
                ""
            },
            self.stdout,
            self.stderr
        )
    }

    pub fn ok(&self) -> bool {
        !self.timed_out && self.status.success()
    }
}

/// Reads a pipe to its end on a thread; the result is available through the handle.
pub fn drain<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error just ends the capture; what was read so far is kept.
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs a command with captured output, killing it if it runs longer than `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Finished {
    run_with_input(cmd, None, timeout)
}

/// As [`run_with_timeout`], with `input` on stdin (then closed) when given.
pub fn run_with_input(cmd: &mut Command, input: Option<&str>, timeout: Duration) -> Finished {
    let what = format!("{cmd:?}");
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
    if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
        use std::io::Write;
        // A command that exits without reading closes the pipe; that is its answer.
        let _ = pipe.write_all(input.as_bytes());
    }
    let stdout = drain(child.stdout.take().expect("stdout was piped"));
    let stderr = drain(child.stderr.take().expect("stderr was piped"));
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child
            .try_wait()
            .unwrap_or_else(|e| panic!("waiting for {what}: {e}"))
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                // It may have exited just now; either way wait() reaps it.
                let _ = child.kill();
                break child.wait().unwrap_or_else(|e| panic!("reaping {what}: {e}"));
            }
            None => thread::sleep(Duration::from_millis(50)),
        }
    };
    Finished {
        status,
        timed_out,
        stdout: stdout.join().expect("stdout reader thread panicked"),
        stderr: stderr.join().expect("stderr reader thread panicked"),
    }
}

/// A `wallet-service` command that ignores config from the environment;
/// `db`: a SQLite path or a PostgreSQL URL.
pub fn wallet_service(db: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .arg("--db")
        .arg(db.as_ref());
    cmd
}

/// The running server. Killed on drop unless it was already reaped, so a failing
/// assertion never leaves it running.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Server {
    pub fn start(db: impl AsRef<OsStr>) -> Server {
        Self::start_with_env(db, &[])
    }

    /// Starts the server with extra environment variables (e.g. `RUST_LOG`).
    pub fn start_with_env(db: impl AsRef<OsStr>, env: &[(&str, &str)]) -> Server {
        let mut child = wallet_service(db)
            .envs(env.iter().copied())
            .args(["--listen", "127.0.0.1:0", "serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("could not start the wallet-service binary");
        let stderr = drain(child.stderr.take().expect("stderr was piped"));
        let out = child.stdout.take().expect("stdout was piped");
        let stdout = Arc::new(Mutex::new(String::new()));
        let (first_line_tx, first_line_rx) = mpsc::channel();
        {
            let stdout = Arc::clone(&stdout);
            // Sends the first line, then keeps draining so the pipe never fills.
            thread::spawn(move || {
                let mut first_line_tx = Some(first_line_tx);
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let Some(tx) = first_line_tx.take() {
                        let _ = tx.send(line.clone());
                    }
                    if let Ok(mut all) = stdout.lock() {
                        all.push_str(&line);
                        all.push('\n');
                    }
                }
            });
        }
        // From here on the guard owns the child: a panic below kills it.
        let mut server = Server {
            child: Some(child),
            port: 0,
            stdout,
            stderr: Some(stderr),
        };
        let line = match first_line_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                let logs = server.stop_and_collect_logs();
                panic!(
                    "the server printed no first line on stdout within {STARTUP_TIMEOUT:?} ({e}):\n{logs}"
                );
            }
        };
        let prefix = "wallet-service listening on http://127.0.0.1:";
        server.port = line
            .strip_prefix(prefix)
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected first stdout line {line:?}, wanted `{prefix}PORT`"));
        assert_ne!(server.port, 0, "the server reported port 0");
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is still running").id()
    }

    /// Sends SIGTERM and waits for the exit; `None` if it did not exit in time.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.pid().to_string();
        let kill = run_with_timeout(Command::new("kill").args(["-TERM", &pid]), CLI_TIMEOUT);
        assert!(kill.ok(), "`kill -TERM {pid}` failed:\n{}", kill.describe());
        let child = self.child.as_mut().expect("the server is still running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the server") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server if it still runs and returns everything it printed.
    pub fn stop_and_collect_logs(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        let stdout = self.stdout.lock().map(|s| s.clone()).unwrap_or_default();
        format!("--- server stdout ---\n{stdout}\n--- server stderr ---\n{stderr}")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A virtualenv at `target/<name>` with `packages` installed from PyPI,
/// created (or re-created) unless `probe` — a program in the venv's `bin/`
/// and its arguments — already runs. Returns the venv's `bin/` folder.
/// Needs `python3` with the `venv` module on the PATH; fails the test (never
/// skips it) when the venv cannot be made.
pub fn python_venv(manifest_dir: &Path, name: &str, packages: &[&str], probe: &[&str]) -> PathBuf {
    let venv = manifest_dir.join("target").join(name);
    let bin = venv.join("bin");
    let usable = || {
        let (program, args) = probe.split_first().expect("a probe command");
        bin.join(program).exists()
            && run_with_timeout(Command::new(bin.join(program)).args(args), CLI_TIMEOUT).ok()
    };
    if usable() {
        return bin;
    }
    eprintln!("creating the virtualenv at {}", venv.display());
    let created = run_with_timeout(
        Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv),
        PIP_TIMEOUT,
    );
    assert!(
        created.ok(),
        "`python3 -m venv --clear {}` failed (python3 with the venv module is required):\n{}",
        venv.display(),
        created.describe()
    );
    let installed = run_with_timeout(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages),
        PIP_TIMEOUT,
    );
    assert!(
        installed.ok(),
        "`pip install {}` into {} failed (network access to PyPI is required):\n{}",
        packages.join(" "),
        venv.display(),
        installed.describe()
    );
    assert!(
        usable(),
        "`{}` does not run in {} after installing",
        probe.join(" "),
        venv.display()
    );
    bin
}

/// The python of the SDK virtualenv at `target/sdk-venv`.
pub fn sdk_python(manifest_dir: &Path) -> PathBuf {
    let probe = [
        "python",
        "-c",
        "import wallet_sdk, cryptography, standardwebhooks",
    ];
    python_venv(
        manifest_dir,
        "sdk-venv",
        &[SDK_REQUIREMENT, "cryptography", STANDARDWEBHOOKS_REQUIREMENT],
        &probe,
    )
    .join("python")
}
