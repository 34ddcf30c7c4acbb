//! Which database a [`TestApp`](super::TestApp) runs on: a fresh one per
//! test, of either backend, with a private folder beside it for the files a
//! test writes (the generated admin password, exports).

use crate::pg_cluster::{off_runtime, PgCluster, PgDatabase};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tempfile::TempDir;
use wallet_service::config::{Database, PgUrl};

/// The backend a test binary runs its HTTP suite on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A file `wallet.db` in a fresh temp dir (WAL needs a real file).
    Sqlite,
    /// A fresh database of the test binary's throwaway cluster
    /// ([`cluster`]).
    Postgres,
}

/// What the HTTP suites' cluster runs without: the flushes that make a
/// commit survive a crash of the machine. These suites are about what the
/// server answers and what it lets commit, never about a crash (the crash
/// tests are SQLite's; the conformance suite and `wallet-postgres`' own
/// tests run PostgreSQL's defaults), and a hundred apps each creating,
/// migrating and dropping a database (a checkpoint) spent most of their
/// time waiting for the disk. Locking, isolation and what a commit makes
/// visible are the same either way.
pub const NOT_DURABLE: &[(&str, &str)] = &[
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
];

/// The test binary's cluster for [`TestBackend::Postgres`]: started on
/// first use, with [`NOT_DURABLE`], and torn down like
/// [`PgCluster::shared`]'s (by its watchdog, however the binary ends).
/// Panics with the cause if it cannot start: no PostgreSQL fails the
/// tests, never skips them.
pub fn cluster() -> &'static PgCluster {
    static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| PgCluster::start(NOT_DURABLE).map_err(|error| error.to_string())) {
        Ok(cluster) => cluster,
        Err(error) => panic!("no PostgreSQL cluster for the tests: {error}"),
    }
}

impl TestBackend {
    /// A new, empty database that no other test sees. Panics if it cannot
    /// be made: a test without its database has nothing to say.
    pub fn fresh_database(self) -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temp dir for the test's files");
        match self {
            TestBackend::Sqlite => TestDatabase {
                db: Database::Sqlite(dir.path().join("wallet.db")),
                pg: None,
                dir,
            },
            TestBackend::Postgres => {
                let pg = cluster().fresh_database();
                let url = PgUrl::parse(pg.url()).expect("the cluster's URL is a PostgreSQL URL");
                TestDatabase {
                    db: Database::Postgres(url),
                    pg: Some(pg),
                    dir,
                }
            }
        }
    }

    /// `sqlite` or `postgres`, as `Backend::kind` says it.
    pub fn kind(self) -> &'static str {
        match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "postgres",
        }
    }

    pub fn of(db: &Database) -> Self {
        match db {
            Database::Sqlite(_) => TestBackend::Sqlite,
            Database::Postgres(_) => TestBackend::Postgres,
        }
    }
}

/// A test's database and its folder; both go when this is dropped (the
/// PostgreSQL database with `FORCE`, so a server still connected cannot
/// keep it).
#[derive(Debug)]
pub struct TestDatabase {
    db: Database,
    // Field order is drop order: the database goes before its folder.
    pg: Option<PgDatabase>,
    dir: TempDir,
}

impl TestDatabase {
    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn backend(&self) -> TestBackend {
        TestBackend::of(&self.db)
    }

    /// A private folder that lives as long as the database: the SQLite
    /// file's own folder, or one beside a PostgreSQL database.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where a server on this database writes the admin password it
    /// generates: next to a SQLite file (the server's default), in
    /// [`dir`](Self::dir) for PostgreSQL (set as `admin_password_file`,
    /// which a fresh PostgreSQL database needs).
    pub fn admin_password_file(&self) -> PathBuf {
        self.dir.path().join("admin-password.txt")
    }

    /// The value of `--db` for this database.
    pub fn arg(&self) -> OsString {
        db_arg(&self.db)
    }

    /// The PostgreSQL database's name (`t_<n>`), if it is one.
    pub fn pg_name(&self) -> Option<&str> {
        self.pg.as_ref().map(PgDatabase::name)
    }
}

/// The value of `--db` (or `WALLET_DB`) that names `db`: the file's path,
/// or the whole URL (its `Display` hides a password; the tests' URLs have
/// none, but the command needs what the server needs).
pub fn db_arg(db: &Database) -> OsString {
    match db {
        Database::Sqlite(path) => path.as_os_str().to_owned(),
        Database::Postgres(url) => url.expose().into(),
    }
}

/// Runs raw SQL on the database, past the ledger: for tests that damage
/// a database on purpose to see `check` find it. One statement per
/// backend, since the schemas differ.
pub fn tamper(db: &Database, sqlite: &str, postgres: &str) {
    match db {
        Database::Sqlite(path) => {
            let connection = rusqlite::Connection::open(path).expect("the SQLite file opens");
            connection
                .execute_batch(sqlite)
                .unwrap_or_else(|e| panic!("`{sqlite}` on {}: {e}", path.display()));
        }
        Database::Postgres(url) => off_runtime(|| {
            let mut client =
                postgres::Client::connect(url.expose(), postgres::NoTls).expect("the database connects");
            client
                .batch_execute(postgres)
                .unwrap_or_else(|e| panic!("`{postgres}` on {url}: {e}"));
        }),
    }
}

/// The files a database keeps its data in, for tests that look for a
/// secret on disk: the SQLite file with its WAL and shared memory, or the
/// whole data directory of the PostgreSQL cluster (its WAL holds every
/// change since the last checkpoint, whichever database made it).
pub fn data_files(db: &Database) -> Vec<PathBuf> {
    match db {
        Database::Sqlite(path) => ["", "-wal", "-shm"]
            .into_iter()
            .map(|suffix| {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                PathBuf::from(file)
            })
            .filter(|file| file.exists())
            .collect(),
        Database::Postgres(_) => {
            let mut files = Vec::new();
            walk(&cluster().dir().join("data"), &mut files);
            files
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    // The server removes files as it goes (a dropped database): what is
    // gone holds no secret.
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, files),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
}
