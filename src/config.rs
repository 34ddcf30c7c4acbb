//! Settings: command-line flags > environment variables > config file > defaults.
//!
//! Flags and their variables (`WALLET_LISTEN`, `WALLET_DB`, `WALLET_CONFIG`)
//! are read by clap in `cli.rs`; this module merges them over the TOML file
//! documented by `config.example.toml`.

mod database;
mod validate;

pub use database::{Database, InvalidDatabase, PgUrl};

use crate::api::client_addr::TrustedProxies;
use crate::domain::AdminPassword;
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wallet_sqlite::Durability;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DB: &str = "./data/wallet.db";
/// The most `jwt_leeway_seconds` accepts: clock skew, not a grace period.
pub const MAX_JWT_LEEWAY_SECONDS: u64 = 300;
/// Ten seconds: 8 MiB (a large batch) at 7 Mbit/s, 64 KiB at 52 kbit/s.
pub const DEFAULT_BODY_TIMEOUT_SECONDS: u64 = 10;

#[derive(Clone)]
pub struct Settings {
    /// Address the HTTP server binds, `HOST:PORT`, e.g. `127.0.0.1:8080` (port 0 = any free port).
    pub listen: String,
    /// The database: a SQLite file (missing folders are created) or a
    /// PostgreSQL URL (`--db` / `WALLET_DB` / `db`; see `Database::parse`).
    pub db: Database,
    pub durability: Durability,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    pub read_connections: u32,
    pub max_batch: usize,
    /// PostgreSQL only: writer connections, each committing its own groups
    /// of jobs (`writer_connections`; 2 by default, measured in
    /// docs/performance.md). SQLite always has one writer.
    pub writer_connections: usize,
    pub max_body_bytes: usize,
    /// How long a request's whole body may take to arrive after its head;
    /// past it, 408 and the connection is closed (`body_timeout_seconds`).
    pub body_timeout: Duration,
    /// Requests per second allowed per credential identity (an authority, a
    /// customer key, an authority's JWTs for one customer; see
    /// `api::rate_limit`); over it, 429. `None`: no limit.
    pub rate_limit_per_second: Option<u32>,
    /// Seconds of clock skew allowed on JWT `exp` and `nbf`; 0 (the default):
    /// enforced to the second. At most `MAX_JWT_LEEWAY_SECONDS`.
    pub jwt_leeway_seconds: u64,
    /// Lets `Authorization: Bearer <token>` read `/metrics` without an admin session.
    pub metrics_token: Option<String>,
    /// The admin password to set on the first start (`WALLET_ADMIN_PASSWORD`);
    /// without it one is generated. Never read from the config file.
    pub admin_password: Option<AdminPassword>,
    /// Where a generated admin password is written (`admin_password_file`);
    /// `None`: next to a SQLite database, and for PostgreSQL nowhere, so a
    /// fresh PostgreSQL database needs `WALLET_ADMIN_PASSWORD` (see
    /// [`Settings::admin_password_file`]).
    pub admin_password_file: Option<PathBuf>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// admin login's lockout); empty: the header is ignored.
    pub trusted_proxies: TrustedProxies,
    /// How often the maintenance flag in memory (API v1 health, the fast
    /// refusal at the edge) is read again from the database, where another
    /// process may have switched it (`maintenance_refresh_seconds`). Writes
    /// never depend on it: each reads the switch in its own transaction.
    pub maintenance_refresh: Duration,
    /// Webhooks may reach loopback, private, link-local and metadata
    /// addresses (`webhooks_allow_private_networks`; for tests and
    /// single-host setups). Off by default.
    pub webhooks_allow_private_networks: bool,
    /// The server's key (webhook secrets, `events prune` anchors):
    /// `secret_key_file`; see [`Settings::secret_key_file`].
    pub secret_key_file: Option<PathBuf>,
    /// Every webhook retry delay divided by this (`webhook_retry_scale`, 1
    /// to 1,000,000; 1 by default). For tests only: 1000 runs the three
    /// days of retries in about four minutes.
    pub webhook_retry_scale: u32,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("durability", &self.durability)
            .field("workers", &self.workers)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "<redacted>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("maintenance_refresh", &self.maintenance_refresh)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_owned(),
            db: Database::Sqlite(PathBuf::from(DEFAULT_DB)),
            durability: Durability::Full,
            workers: 0,
            read_connections: 8,
            max_batch: 1024,
            writer_connections: 2,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECONDS),
            rate_limit_per_second: None,
            jwt_leeway_seconds: 0,
            metrics_token: None,
            admin_password: None,
            admin_password_file: None,
            trusted_proxies: TrustedProxies::default(),
            maintenance_refresh: Duration::from_secs(DEFAULT_MAINTENANCE_REFRESH_SECONDS),
            webhooks_allow_private_networks: false,
            secret_key_file: None,
            webhook_retry_scale: 1,
        }
    }
}

/// What the command line (or its environment variables) set.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub db: Option<PathBuf>,
}

/// The config file; every key optional, unknown keys refused (a typo must
/// not be silently ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    db: Option<PathBuf>,
    durability: Option<Durability>,
    workers: Option<usize>,
    read_connections: Option<u32>,
    max_batch: Option<usize>,
    writer_connections: Option<usize>,
    max_body_bytes: Option<usize>,
    body_timeout_seconds: Option<f64>,
    rate_limit_per_second: Option<u32>,
    jwt_leeway_seconds: Option<u64>,
    metrics_token: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    maintenance_refresh_seconds: Option<f64>,
    admin_password_file: Option<PathBuf>,
    webhooks_allow_private_networks: Option<bool>,
    secret_key_file: Option<PathBuf>,
    webhook_retry_scale: Option<u32>,
}

impl Settings {
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let file = match &overrides.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let defaults = Settings::default();
        let settings = Settings {
            listen: overrides
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or(defaults.listen),
            db: match overrides.db.as_ref().or(file.db.as_ref()) {
                Some(value) => Database::parse(value.as_os_str())?,
                None => defaults.db,
            },
            durability: file.durability.unwrap_or(defaults.durability),
            workers: file.workers.unwrap_or(defaults.workers),
            read_connections: file.read_connections.unwrap_or(defaults.read_connections),
            max_batch: file.max_batch.unwrap_or(defaults.max_batch),
            writer_connections: file.writer_connections.unwrap_or(defaults.writer_connections),
            max_body_bytes: file.max_body_bytes.unwrap_or(defaults.max_body_bytes),
            body_timeout: match file.body_timeout_seconds {
                Some(s) => body_timeout(s)?,
                None => defaults.body_timeout,
            },
            rate_limit_per_second: file.rate_limit_per_second.filter(|r| *r > 0),
            jwt_leeway_seconds: file.jwt_leeway_seconds.unwrap_or(defaults.jwt_leeway_seconds),
            metrics_token: file.metrics_token,
            admin_password: validate::admin_password(std::env::var("WALLET_ADMIN_PASSWORD").ok())?,
            admin_password_file: file.admin_password_file,
            trusted_proxies: validate::trusted_proxies(file.trusted_proxies.unwrap_or_default())?,
            maintenance_refresh: match file.maintenance_refresh_seconds {
                Some(s) => maintenance_refresh(s)?,
                None => defaults.maintenance_refresh,
            },
            webhooks_allow_private_networks: file
                .webhooks_allow_private_networks
                .unwrap_or(defaults.webhooks_allow_private_networks),
            secret_key_file: file.secret_key_file,
            webhook_retry_scale: match file.webhook_retry_scale {
                Some(scale) => retry_scale(scale)?,
                None => defaults.webhook_retry_scale,
            },
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl Settings {
    /// Where a generated admin password goes: `admin_password_file` if set,
    /// else `admin-password.txt` next to a SQLite database. A PostgreSQL
    /// database has no folder of its own on this machine (and several
    /// servers may start on it at once, each on its own machine), so
    /// without the setting there is no file: the first start then needs
    /// `WALLET_ADMIN_PASSWORD`.
    pub fn admin_password_file(&self) -> Option<PathBuf> {
        match (&self.admin_password_file, &self.db) {
            (Some(file), _) => Some(file.clone()),
            (None, Database::Sqlite(db)) => Some(crate::api::admin::password::password_file(db)),
            (None, Database::Postgres(_)) => None,
        }
    }
}

impl Settings {
    /// The server's key file: `secret_key_file` if set, else `<db>.key`
    /// next to a SQLite database (`wallet.db.key`). For PostgreSQL there is
    /// no default: every process on the database must use the same key
    /// (the same file's bytes, copied to each machine), which a default
    /// per machine would silently break; without the setting the server
    /// runs, but refuses to register webhooks and delivers none.
    pub fn secret_key_file(&self) -> Option<PathBuf> {
        match (&self.secret_key_file, &self.db) {
            (Some(file), _) => Some(file.clone()),
            (None, Database::Sqlite(db)) => {
                let mut name = db.as_os_str().to_owned();
                name.push(".key");
                Some(PathBuf::from(name))
            }
            (None, Database::Postgres(_)) => None,
        }
    }
}

/// `webhook_retry_scale`: 1 to 1,000,000.
pub const MAX_WEBHOOK_RETRY_SCALE: u32 = 1_000_000;

fn retry_scale(scale: u32) -> anyhow::Result<u32> {
    anyhow::ensure!(
        (1..=MAX_WEBHOOK_RETRY_SCALE).contains(&scale),
        "`webhook_retry_scale` = {scale}: must be from 1 to {MAX_WEBHOOK_RETRY_SCALE}"
    );
    Ok(scale)
}

/// `body_timeout_seconds`: from 0.1 s (less would refuse honest clients on
/// any real network) to one hour.
pub const MIN_BODY_TIMEOUT_SECONDS: f64 = 0.1;
pub const MAX_BODY_TIMEOUT_SECONDS: f64 = 3600.0;

fn body_timeout(seconds: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        (MIN_BODY_TIMEOUT_SECONDS..=MAX_BODY_TIMEOUT_SECONDS).contains(&seconds),
        "`body_timeout_seconds` = {seconds}: must be from {MIN_BODY_TIMEOUT_SECONDS} to {MAX_BODY_TIMEOUT_SECONDS}"
    );
    Ok(Duration::from_secs_f64(seconds))
}

/// `maintenance_refresh_seconds`: from 0.1 s to one minute. One indexed read
/// per interval and process; health lags another process's switch by at
/// most this long.
pub const DEFAULT_MAINTENANCE_REFRESH_SECONDS: u64 = 1;
pub const MIN_MAINTENANCE_REFRESH_SECONDS: f64 = 0.1;
pub const MAX_MAINTENANCE_REFRESH_SECONDS: f64 = 60.0;

fn maintenance_refresh(seconds: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        (MIN_MAINTENANCE_REFRESH_SECONDS..=MAX_MAINTENANCE_REFRESH_SECONDS).contains(&seconds),
        "`maintenance_refresh_seconds` = {seconds}: must be from {MIN_MAINTENANCE_REFRESH_SECONDS} to {MAX_MAINTENANCE_REFRESH_SECONDS}"
    );
    Ok(Duration::from_secs_f64(seconds))
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flags_then_file_then_defaults() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndb = \"/tmp/file.db\"\ndurability = \"normal\"\n",
        )?;
        let from_file = Settings::load(&Overrides {
            config: Some(path.clone()),
            ..Overrides::default()
        })?;
        assert_eq!(from_file.listen, "0.0.0.0:9000");
        assert_eq!(from_file.durability, Durability::Normal);
        let flagged = Settings::load(&Overrides {
            config: Some(path),
            listen: Some("127.0.0.1:1".into()),
            db: None,
        })?;
        assert_eq!(flagged.listen, "127.0.0.1:1");
        assert_eq!(flagged.db, Database::Sqlite(PathBuf::from("/tmp/file.db")));
        assert_eq!(Settings::load(&Overrides::default())?.listen, DEFAULT_LISTEN);
        Ok(())
    }

    #[test]
    fn body_timeout_is_seconds_within_bounds() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text)?;
            Settings::load(&Overrides {
                config: Some(path.clone()),
                ..Overrides::default()
            })
        };
        assert_eq!(load("")?.body_timeout, Duration::from_secs(10));
        assert_eq!(
            load("body_timeout_seconds = 3\n")?.body_timeout,
            Duration::from_secs(3)
        );
        assert_eq!(
            load("body_timeout_seconds = 0.5\n")?.body_timeout,
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "0.01", "3601", "nan", "inf"] {
            assert!(
                load(&format!("body_timeout_seconds = {bad}\n")).is_err(),
                "body_timeout_seconds = {bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_maintenance_refresh_is_a_second_unless_set_and_bounded() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text)?;
            Settings::load(&Overrides {
                config: Some(path.clone()),
                ..Overrides::default()
            })
            .map(|s| s.maintenance_refresh)
        };
        assert_eq!(load("")?, Duration::from_secs(1));
        assert_eq!(
            load("maintenance_refresh_seconds = 0.25\n")?,
            Duration::from_millis(250)
        );
        for bad in ["0", "-1", "0.01", "61", "nan", "inf"] {
            assert!(
                load(&format!("maintenance_refresh_seconds = {bad}\n")).is_err(),
                "maintenance_refresh_seconds = {bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_generated_password_goes_next_to_sqlite_and_nowhere_for_postgres_unless_set() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text)?;
            Settings::load(&Overrides {
                config: Some(path.clone()),
                ..Overrides::default()
            })
            .map(|s| s.admin_password_file())
        };
        assert_eq!(
            load("db = \"/srv/wallet/wallet.db\"\n")?,
            Some(PathBuf::from("/srv/wallet/admin-password.txt"))
        );
        assert_eq!(load("db = \"postgres://w:pw@db/wallet\"\n")?, None);
        assert_eq!(
            load("db = \"postgres://w:pw@db/wallet\"\nadmin_password_file = \"/root/pw.txt\"\n")?,
            Some(PathBuf::from("/root/pw.txt"))
        );
        Ok(())
    }

    #[test]
    fn the_key_goes_next_to_sqlite_and_must_be_set_for_postgres() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text)?;
            Settings::load(&Overrides {
                config: Some(path.clone()),
                ..Overrides::default()
            })
        };
        let sqlite = load("db = \"/srv/wallet/wallet.db\"\n")?;
        assert_eq!(
            sqlite.secret_key_file(),
            Some(PathBuf::from("/srv/wallet/wallet.db.key"))
        );
        assert!(!sqlite.webhooks_allow_private_networks);
        assert_eq!(sqlite.webhook_retry_scale, 1);
        assert_eq!(
            load("db = \"postgres://w:pw@db/wallet\"\n")?.secret_key_file(),
            None
        );
        let set = load(
            "db = \"postgres://w:pw@db/wallet\"\nsecret_key_file = \"/etc/w.key\"\n\
             webhooks_allow_private_networks = true\nwebhook_retry_scale = 1000\n",
        )?;
        assert_eq!(set.secret_key_file(), Some(PathBuf::from("/etc/w.key")));
        assert!(set.webhooks_allow_private_networks);
        assert_eq!(set.webhook_retry_scale, 1000);
        assert!(load("webhook_retry_scale = 0\n").is_err());
        assert!(load("webhook_retry_scale = 1000001\n").is_err());
        Ok(())
    }

    #[test]
    fn settings_never_print_a_database_password() -> anyhow::Result<()> {
        let settings = Settings {
            db: Database::parse("postgres://w:hunter2-secret@db/wallet".as_ref())?,
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(printed.contains("postgres://w:***@db/wallet"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        Ok(())
    }

    #[test]
    fn unknown_keys_are_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"x\"\n")?;
        assert!(Settings::load(&Overrides {
            config: Some(path),
            ..Overrides::default()
        })
        .is_err());
        Ok(())
    }

    #[test]
    fn jwt_leeway_is_zero_unless_set_and_bounded() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        let load = |text: &str| {
            std::fs::write(&path, text)?;
            Settings::load(&Overrides {
                config: Some(path.clone()),
                ..Overrides::default()
            })
            .map(|s| s.jwt_leeway_seconds)
        };
        assert_eq!(load("")?, 0, "exact by default");
        assert_eq!(load("jwt_leeway_seconds = 30\n")?, 30);
        assert_eq!(load("jwt_leeway_seconds = 300\n")?, 300);
        assert!(load("jwt_leeway_seconds = 301\n").is_err(), "over the maximum");
        assert!(load("jwt_leeway_seconds = -1\n").is_err(), "negative");
        Ok(())
    }
}
