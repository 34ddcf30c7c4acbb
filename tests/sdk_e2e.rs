//! End-to-end test with the real, unmodified Python SDK (`wallet-sdk-Noah-Huppert` 1.1.0).
//!
//! Starts the real binary on a fresh database, creates two authorities with the CLI,
//! runs `tests/sdk/e2e.py` (which drives every SDK method and revokes one authority
//! with the CLI), then stops the server with SIGTERM and runs `wallet-service check`.
//!
//! The virtualenv lives at `target/sdk-venv` and is created (with pip, from PyPI)
//! when missing or broken. Needs `python3` with the `venv` module on the PATH.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_wallet-service");
const SDK_REQUIREMENT: &str = "wallet-sdk-Noah-Huppert==1.1.0";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
const PIP_TIMEOUT: Duration = Duration::from_secs(600);
const E2E_TIMEOUT: Duration = Duration::from_secs(120);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// What a finished (or killed) child process printed.
struct Finished {
    status: ExitStatus,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn describe(&self) -> String {
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

    fn ok(&self) -> bool {
        !self.timed_out && self.status.success()
    }
}

/// Reads a pipe to its end on a thread; the result is available through the handle.
fn drain<R: Read + Send + 'static>(mut pipe: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error just ends the capture; what was read so far is kept.
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs a command with captured output, killing it if it runs longer than `timeout`.
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Finished {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {what}: {e}"));
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

/// A `wallet-service` command that ignores config from the environment.
fn wallet_service(db: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .arg("--db")
        .arg(db);
    cmd
}

/// Returns the venv's python, creating the venv and installing the SDK if needed.
fn sdk_python(manifest_dir: &Path) -> PathBuf {
    let venv = manifest_dir.join("target").join("sdk-venv");
    let python = venv.join("bin").join("python");
    let usable = || {
        python.exists()
            && run_with_timeout(
                Command::new(&python).args(["-c", "import wallet_sdk, cryptography"]),
                CLI_TIMEOUT,
            )
            .ok()
    };
    if usable() {
        return python;
    }
    eprintln!("creating the SDK virtualenv at {}", venv.display());
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
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SDK_REQUIREMENT,
            "cryptography",
        ]),
        PIP_TIMEOUT,
    );
    assert!(
        installed.ok(),
        "`pip install {SDK_REQUIREMENT} cryptography` into {} failed (network access to PyPI is required):\n{}",
        venv.display(),
        installed.describe()
    );
    assert!(
        usable(),
        "the SDK virtualenv at {} still cannot `import wallet_sdk, cryptography` after installing",
        venv.display()
    );
    python
}

/// The running server. Killed on drop unless it was already reaped, so a failing
/// assertion never leaves it running.
struct Server {
    child: Option<Child>,
    port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Server {
    fn start(db: &Path) -> Server {
        let mut child = wallet_service(db)
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

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is still running").id()
    }

    /// Sends SIGTERM and waits for the exit; `None` if it did not exit in time.
    fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
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
    fn stop_and_collect_logs(&mut self) -> String {
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

fn create_authority(db: &Path, name: &str, port: u16, out: &Path) {
    let created = run_with_timeout(
        wallet_service(db)
            .args(["authority", "create", name, "--api-base-url"])
            .arg(format!("http://127.0.0.1:{port}"))
            .arg("--out")
            .arg(out),
        CLI_TIMEOUT,
    );
    assert!(
        created.ok(),
        "`authority create {name}` failed:\n{}",
        created.describe()
    );
    let mode = std::fs::metadata(out)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", out.display()))
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "{} must have mode 0600, has {:o}",
        out.display(),
        mode & 0o777
    );
    let text = std::fs::read_to_string(out).unwrap_or_else(|e| panic!("reading {}: {e}", out.display()));
    assert!(
        text.contains(r#""config_schema_version": "0.1.0""#),
        "{} lacks \"config_schema_version\": \"0.1.0\":\n{text}",
        out.display()
    );
}

#[test]
fn python_sdk_drives_every_method() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = sdk_python(manifest_dir);
    let script = manifest_dir.join("tests").join("sdk").join("e2e.py");
    assert!(script.exists(), "{} is missing", script.display());

    let tmp = tempfile::tempdir().expect("creating a temporary directory");
    let db = tmp.path().join("wallet.db");
    let config_a = tmp.path().join("a.json");
    let config_b = tmp.path().join("b.json");

    let mut server = Server::start(&db);
    eprintln!("server listening on port {}", server.port);
    create_authority(&db, "sdk-a", server.port, &config_a);
    create_authority(&db, "sdk-b", server.port, &config_b);

    let e2e = run_with_timeout(
        Command::new(&python)
            .env("PYTHONUNBUFFERED", "1")
            .arg(&script)
            .arg(&config_a)
            .arg(&config_b)
            .arg(BIN)
            .arg(&db),
        E2E_TIMEOUT,
    );
    if !e2e.ok() {
        let logs = server.stop_and_collect_logs();
        panic!("tests/sdk/e2e.py failed:\n{}\n{logs}", e2e.describe());
    }
    print!("{}", e2e.stdout);
    assert!(
        e2e.stdout.contains("checks passed"),
        "e2e.py exited 0 without its summary line:\n{}",
        e2e.describe()
    );

    // Graceful shutdown on SIGTERM.
    match server.terminate(SHUTDOWN_TIMEOUT) {
        Some(status) => {
            if !status.success() {
                let logs = server.stop_and_collect_logs();
                panic!("the server exited with {status} after SIGTERM, expected 0:\n{logs}");
            }
        }
        None => {
            let logs = server.stop_and_collect_logs();
            panic!("the server did not exit within {SHUTDOWN_TIMEOUT:?} of SIGTERM:\n{logs}");
        }
    }

    // Every ledger invariant holds on what the SDK left behind.
    let check = run_with_timeout(wallet_service(&db).arg("check"), CLI_TIMEOUT);
    assert!(
        check.ok(),
        "`wallet-service check` found a problem:\n{}",
        check.describe()
    );
    println!("wallet-service check: {}", check.stderr.trim());
}
