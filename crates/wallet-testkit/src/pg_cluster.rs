//! A throwaway PostgreSQL cluster for tests, on 127.0.0.1 and a temp dir.
//!
//! [`PgCluster::shared`] starts one cluster per test binary, on first use;
//! [`PgCluster::fresh_database`] gives each test its own empty database
//! (`t_<n>`), dropped with its [`PgDatabase`] guard. The cluster is
//! `initdb`'s (trust auth, local socket and 127.0.0.1 only), run by the
//! `postgres` OS user when the tests run as root (`initdb` and `postgres`
//! refuse root), with PostgreSQL's durability settings (`fsync`,
//! `synchronous_commit`) left at their defaults: durability is what the
//! backend's tests are about. [`PgCluster::start`] takes settings for a test
//! binary that wants others.
//!
//! **Why a watchdog.** The shared cluster lives in a `static`, and Rust never
//! drops statics; a test binary that aborts, is killed by a timeout or by
//! SIGKILL runs no destructor at all. So teardown cannot depend on the test
//! binary: every cluster has a small `sh` process, started before `initdb`,
//! reading a pipe whose only writer is the test binary. However the binary
//! ends, the kernel closes that pipe; the watchdog reads end-of-file, stops
//! the postmaster (immediate shutdown) and removes the directory
//! (`tests::the_watchdog_removes_the_cluster_however_the_test_binary_ends`).
//!
//! No PostgreSQL on the machine **fails** (with how to install it), never
//! skips: a backend nobody tests is a backend nobody knows works.

mod process;
#[cfg(test)]
mod tests;

use process::{warn, RunAs, Watchdog};
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `initdb`, and then the server's start, may take on a busy
/// machine before the harness gives up with the log.
const INITDB_LIMIT: Duration = Duration::from_secs(120);
const READY_LIMIT: Duration = Duration::from_secs(60);
/// Another process may take the free port between our probe and the bind.
const PORT_ATTEMPTS: usize = 5;
/// Tests run in parallel and each backend holds a writer and a read pool.
const DEFAULT_SETTINGS: &[(&str, &str)] = &[("max_connections", "300")];
/// Every connection the harness makes, so no wait is unbounded.
const ADMIN_OPTIONS: &str = "-c statement_timeout=60000";

/// Why a cluster could not be started or a database made.
#[derive(Debug, thiserror::Error)]
pub enum PgClusterError {
    #[error(
        "PostgreSQL's server binaries (initdb, postgres) were not found in ${var}, \
         /usr/lib/postgresql/*/bin, `pg_config --bindir` or PATH. The PostgreSQL tests need \
         them: install Debian's PostgreSQL with `apt-get install -y postgresql` (or set ${var} \
         to a directory holding them)",
        var = process::BINDIR_VAR
    )]
    NotInstalled,
    #[error(
        "the tests run as root, which initdb refuses, and there is no `postgres` OS user to run \
         the cluster as (Debian's `apt-get install -y postgresql` creates it)"
    )]
    NoPostgresUser,
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: String,
        status: ExitStatus,
        output: String,
    },
    #[error("the PostgreSQL server did not accept connections ({why}); its log:\n{log}")]
    NotReady { why: String, log: String },
    #[error("{what}: {source}")]
    Sql { what: String, source: postgres::Error },
}

impl PgClusterError {
    fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

/// A running cluster: its port, its directory, and the processes that
/// serve and guard it. Dropping an owned one stops it and removes the
/// directory; the shared one goes when the test binary does.
#[derive(Debug)]
pub struct PgCluster {
    port: u16,
    dir: PathBuf,
    next_database: AtomicU64,
    /// Owns the server process too.
    watchdog: Watchdog,
}

impl PgCluster {
    /// The test binary's cluster, started on first use. Panics with the
    /// cause (the same for every test) if it cannot start.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();
        match SHARED.get_or_init(|| PgCluster::start(&[]).map_err(|error| error.to_string())) {
            Ok(cluster) => cluster,
            Err(error) => panic!("no PostgreSQL cluster for the tests: {error}"),
        }
    }

    /// A new cluster of its own, with `settings` (`postgresql.conf` names
    /// and values, e.g. `("fsync", "off")` for a test binary that asks for
    /// it) on top of the defaults.
    pub fn start(settings: &[(&str, &str)]) -> Result<Self, PgClusterError> {
        off_runtime(|| Self::start_blocking(settings, None))
    }

    /// A new cluster of its own that also accepts TLS on its port, with this
    /// certificate (chain) and key, both PEM. Connections without TLS are
    /// still accepted, so a test can show what each `sslmode` does.
    pub fn start_tls(certificate_pem: &str, key_pem: &str) -> Result<Self, PgClusterError> {
        off_runtime(|| Self::start_blocking(&[], Some((certificate_pem, key_pem))))
    }

    fn start_blocking(settings: &[(&str, &str)], tls: Option<(&str, &str)>) -> Result<Self, PgClusterError> {
        let started = Instant::now();
        let bindir = process::find_bindir()?;
        let user = RunAs::detect()?;
        let dir = tempfile::Builder::new()
            .prefix("wallet-pg-")
            .tempdir()
            .map_err(|source| PgClusterError::io("create a temp dir for the cluster", source))?
            // The watchdog removes it, also when this process cannot.
            .keep();
        let mut watchdog = Watchdog::spawn(&dir).inspect_err(|_| {
            let _ = fs::remove_dir(&dir);
        })?;
        user.own(&dir)?;
        let sockets = dir.join("sock");
        fs::create_dir(&sockets).map_err(|source| PgClusterError::io("create the socket dir", source))?;
        user.own(&sockets)?;

        let data = dir.join("data");
        let mut initdb = user.command(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ])
            .current_dir(&dir);
        process::run_logged(initdb, "initdb", &dir.join("initdb.log"), INITDB_LIMIT)?;
        // Trust, but only on the socket in our dir and on 127.0.0.1.
        fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .map_err(|source| PgClusterError::io("write pg_hba.conf", source))?;

        // PostgreSQL reads the key only if its owner alone may (0600).
        let mut tls_settings = Vec::new();
        if let Some((certificate, key)) = tls {
            let (cert_file, key_file) = (dir.join("server.crt"), dir.join("server.key"));
            for (file, text) in [(&cert_file, certificate), (&key_file, key)] {
                fs::write(file, text).map_err(|source| PgClusterError::io("write a TLS file", source))?;
                fs::set_permissions(file, fs::Permissions::from_mode(0o600))
                    .map_err(|source| PgClusterError::io("chmod a TLS file", source))?;
                user.own(file)?;
            }
            tls_settings.push(("ssl".to_owned(), "on".to_owned()));
            tls_settings.push(("ssl_cert_file".to_owned(), cert_file.display().to_string()));
            tls_settings.push(("ssl_key_file".to_owned(), key_file.display().to_string()));
        }

        let log = dir.join("postgres.log");
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            let out =
                fs::File::create(&log).map_err(|source| PgClusterError::io("create postgres.log", source))?;
            let err = out
                .try_clone()
                .map_err(|source| PgClusterError::io("dup postgres.log", source))?;
            let mut server = user.command(bindir.join("postgres"));
            server.arg("-D").arg(&data).arg("-p").arg(port.to_string());
            server.arg("-c").arg("listen_addresses=127.0.0.1");
            server
                .arg("-c")
                .arg(format!("unix_socket_directories={}", sockets.display()));
            for (name, value) in DEFAULT_SETTINGS.iter().chain(settings) {
                server.arg("-c").arg(format!("{name}={value}"));
            }
            for (name, value) in &tls_settings {
                server.arg("-c").arg(format!("{name}={value}"));
            }
            let postmaster = server
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|source| PgClusterError::io("start postgres", source))?;
            let postmaster = watchdog.watch(postmaster)?;
            match wait_ready(port, postmaster, &log) {
                Ok(()) => {
                    warn(&format!(
                        "PostgreSQL on 127.0.0.1:{port} in {} ({:.1} s)",
                        dir.display(),
                        started.elapsed().as_secs_f64()
                    ));
                    return Ok(Self {
                        port,
                        dir,
                        next_database: AtomicU64::new(1),
                        watchdog,
                    });
                }
                Err(PgClusterError::NotReady { log: text, .. })
                    if attempt < PORT_ATTEMPTS && text.contains("could not bind") =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (`data/`, `sock/`, `postgres.log`): for
    /// diagnostics, gone when the cluster is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        // Always there: `start` returns a cluster only with its server.
        self.watchdog.postmaster_pid().unwrap_or_default()
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        url(self.port, database)
    }

    /// A new, empty database `t_<n>` that no other test sees. Panics if it
    /// cannot be made: a test without its database has nothing to say.
    pub fn fresh_database(&self) -> PgDatabase {
        let name = format!("t_{}", self.next_database.fetch_add(1, Ordering::Relaxed));
        let made = off_runtime(|| admin(self.port, &format!("CREATE DATABASE {name}")));
        if let Err(error) = made {
            panic!("no fresh PostgreSQL database {name}: {error}");
        }
        PgDatabase {
            port: self.port,
            url: url(self.port, &name),
            name,
        }
    }
}

/// A test's database; dropped (with `FORCE`) when the guard is.
#[derive(Debug)]
pub struct PgDatabase {
    port: u16,
    name: String,
    url: String,
}

impl PgDatabase {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `postgres://postgres@127.0.0.1:<port>/t_<n>`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // It goes with the cluster anyway: a failure here is only noise.
        if let Err(error) = off_runtime(|| admin(self.port, &sql)) {
            warn(&format!("could not drop {}: {error}", self.name));
        }
    }
}

fn url(port: u16, database: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{database}")
}

fn connect(port: u16, database: &str, timeout: Duration) -> Result<postgres::Client, postgres::Error> {
    postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname(database)
        .options(ADMIN_OPTIONS)
        .connect_timeout(timeout)
        .connect(postgres::NoTls)
}

/// One statement on the `postgres` database (CREATE/DROP DATABASE cannot run
/// in the database they name).
fn admin(port: u16, sql: &str) -> Result<(), PgClusterError> {
    let what = || format!("`{sql}` on 127.0.0.1:{port}");
    let mut client = connect(port, "postgres", Duration::from_secs(10))
        .map_err(|source| PgClusterError::Sql { what: what(), source })?;
    client
        .batch_execute(sql)
        .map_err(|source| PgClusterError::Sql { what: what(), source })
}

fn free_port() -> Result<u16, PgClusterError> {
    let probe = |source| PgClusterError::io("find a free port on 127.0.0.1", source);
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(probe)?;
    Ok(listener.local_addr().map_err(probe)?.port())
}

/// Until the server answers `SELECT 1`, it exits, or [`READY_LIMIT`]
/// passes.
fn wait_ready(port: u16, postmaster: &mut Child, log: &Path) -> Result<(), PgClusterError> {
    let deadline = Instant::now() + READY_LIMIT;
    let not_ready = |why: String| PgClusterError::NotReady {
        why,
        log: process::tail(log),
    };
    loop {
        if let Some(status) = postmaster
            .try_wait()
            .map_err(|source| PgClusterError::io("wait for postgres", source))?
        {
            return Err(not_ready(format!("postgres exited: {status}")));
        }
        let answered = connect(port, "postgres", Duration::from_secs(2))
            .and_then(|mut client| client.simple_query("SELECT 1"));
        match answered {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() >= deadline => {
                return Err(not_ready(format!("not within {READY_LIMIT:?}; last: {error}")));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Runs `work` on a thread of its own: the `postgres` crate's blocking
/// client runs its own runtime, which panics inside a tokio test's.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
