//! Every setting checked in one place, with a message that names its key:
//! a bad value stops the program at start with a clear error, never a panic
//! deep inside (actix refuses more than 512 workers with a backtrace) and
//! never a silently odd server.

use super::Settings;
use crate::api::client_addr::{IpRange, TrustedProxies};
use crate::domain::AdminPassword;
use std::net::SocketAddr;

/// actix-web's own limit.
const MAX_WORKERS: usize = 512;
const MAX_READ_CONNECTIONS: u32 = 256;
const MAX_WRITER_CONNECTIONS: usize = 64;
const MAX_BATCH: usize = 65_536;
const MIN_BODY_BYTES: usize = 1024;
/// 64 MiB: a body is held in memory whole before it is parsed.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
const MAX_RATE_PER_SECOND: u32 = 1_000_000;
const MIN_METRICS_TOKEN: usize = 16;
const MAX_METRICS_TOKEN: usize = 512;

impl Settings {
    /// Refuses any value out of bounds. `Settings::load` calls it, and so
    /// does `Application::build` for settings made in code.
    pub fn validate(&self) -> anyhow::Result<()> {
        listen(&self.listen)?;
        if let Some(db) = self.db.sqlite_path() {
            anyhow::ensure!(!db.as_os_str().is_empty(), "`db` must name a database file");
            anyhow::ensure!(
                !db.is_dir(),
                "`db` = {}: that is a folder; name the database file in it, e.g. {}",
                db.display(),
                db.join("wallet.db").display()
            );
        }
        if let Some(file) = &self.admin_password_file {
            anyhow::ensure!(
                !file.as_os_str().is_empty() && !file.is_dir(),
                "`admin_password_file` = {}: must name a file",
                file.display()
            );
        }
        within("workers", self.workers, 0, MAX_WORKERS, " (0 = one per CPU core)")?;
        within(
            "read_connections",
            self.read_connections,
            1,
            MAX_READ_CONNECTIONS,
            "",
        )?;
        within("max_batch", self.max_batch, 1, MAX_BATCH, "")?;
        within(
            "writer_connections",
            self.writer_connections,
            1,
            MAX_WRITER_CONNECTIONS,
            "",
        )?;
        within(
            "max_body_bytes",
            self.max_body_bytes,
            MIN_BODY_BYTES,
            MAX_BODY_BYTES,
            "",
        )?;
        if let Some(rate) = self.rate_limit_per_second {
            within(
                "rate_limit_per_second",
                rate,
                0,
                MAX_RATE_PER_SECOND,
                " (0 = no limit)",
            )?;
        }
        if let Some(token) = &self.metrics_token {
            metrics_token(token)?;
        }
        within(
            "jwt_leeway_seconds",
            self.jwt_leeway_seconds,
            0,
            super::MAX_JWT_LEEWAY_SECONDS,
            "",
        )?;
        within(
            "body_timeout_seconds",
            self.body_timeout.as_secs_f64(),
            super::MIN_BODY_TIMEOUT_SECONDS,
            super::MAX_BODY_TIMEOUT_SECONDS,
            "",
        )?;
        Ok(())
    }
}

fn within<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    min: T,
    max: T,
    note: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        value >= min && value <= max,
        "`{key}` = {value}: must be from {min} to {max}{note}"
    );
    Ok(())
}

/// `HOST:PORT`: an IP address (IPv6 in brackets) or a host name, and a port.
/// Checked without a DNS lookup; binding reports a name that does not resolve.
fn listen(value: &str) -> anyhow::Result<()> {
    if value.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let valid = value.rsplit_once(':').is_some_and(|(host, port)| {
        let host_ok = !host.is_empty()
            && !host.starts_with(['-', '.'])
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        host_ok && port.parse::<u16>().is_ok()
    });
    anyhow::ensure!(
        valid,
        "`listen` = {value:?}: expected HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or localhost:8080 \
         (port 0 = any free port)"
    );
    Ok(())
}

/// A bearer secret sent in a header: long enough not to be guessed, and
/// only characters a header can carry (else it could never match).
fn metrics_token(token: &str) -> anyhow::Result<()> {
    let printable = token.chars().all(|c| c.is_ascii_graphic());
    anyhow::ensure!(
        printable && (MIN_METRICS_TOKEN..=MAX_METRICS_TOKEN).contains(&token.len()),
        "`metrics_token`: must be {MIN_METRICS_TOKEN} to {MAX_METRICS_TOKEN} characters of printable \
         ASCII without spaces (e.g. the output of `openssl rand -hex 24`)"
    );
    Ok(())
}

/// `WALLET_ADMIN_PASSWORD` under the one admin password policy (empty = unset).
pub(super) fn admin_password(value: Option<String>) -> anyhow::Result<Option<AdminPassword>> {
    value
        .filter(|p| !p.is_empty())
        .map(|p| AdminPassword::parse(&p).map_err(|e| anyhow::anyhow!("WALLET_ADMIN_PASSWORD: {e}")))
        .transpose()
}

pub(super) fn trusted_proxies(list: Vec<String>) -> anyhow::Result<TrustedProxies> {
    let ranges = list
        .iter()
        .map(|entry| IpRange::parse(entry).map_err(|e| anyhow::anyhow!("`trusted_proxies`: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(TrustedProxies(ranges))
}

#[cfg(test)]
mod tests {
    use super::super::{Overrides, Settings};

    fn load(toml: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(&path, toml)?;
        Settings::load(&Overrides {
            config: Some(path),
            ..Overrides::default()
        })
    }

    #[test]
    fn every_bad_value_is_refused_with_its_key_named() {
        let cases = [
            ("workers = 600", "workers"),
            ("workers = -1", "workers"),
            ("read_connections = 0", "read_connections"),
            ("read_connections = 100000", "read_connections"),
            ("max_batch = 0", "max_batch"),
            ("max_batch = 100000000", "max_batch"),
            ("writer_connections = 0", "writer_connections"),
            ("writer_connections = 65", "writer_connections"),
            ("max_body_bytes = 10", "max_body_bytes"),
            ("max_body_bytes = 100000000000", "max_body_bytes"),
            ("rate_limit_per_second = 100000000", "rate_limit_per_second"),
            ("rate_limit_per_second = -5", "rate_limit_per_second"),
            ("listen = \"localhost\"", "listen"),
            ("listen = \"127.0.0.1:99999\"", "listen"),
            ("listen = \"\"", "listen"),
            ("listen = \"::1:8080\"", "listen"),
            ("listen = \"bad host:8080\"", "listen"),
            ("db = \"\"", "db"),
            ("db = \"/\"", "db"),
            ("durability = \"fast\"", "durability"),
            ("metrics_token = \"\"", "metrics_token"),
            ("metrics_token = \"short\"", "metrics_token"),
            (
                "metrics_token = \"has spaces in it, so no header\"",
                "metrics_token",
            ),
            ("trusted_proxies = [\"not-an-address\"]", "trusted_proxies"),
            ("trusted_proxies = [\"10.0.0.0/33\"]", "trusted_proxies"),
            ("trusted_proxies = [\"::1/129\"]", "trusted_proxies"),
        ];
        for (toml, key) in cases {
            match load(toml) {
                Ok(settings) => panic!("{toml:?} was accepted: {settings:?}"),
                Err(e) => {
                    let message = format!("{e:#}");
                    assert!(
                        message.contains(key),
                        "{toml:?}: the error must name {key}: {message}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_example_config_loads() -> anyhow::Result<()> {
        load(include_str!("../../config.example.toml"))?;
        Ok(())
    }

    /// The example shows the default it documents (measured in
    /// docs/performance.md): changing one without the other is a mistake.
    #[test]
    fn the_example_config_states_the_default_writer_connections() -> anyhow::Result<()> {
        let example = load(include_str!("../../config.example.toml"))?;
        assert_eq!(example.writer_connections, Settings::default().writer_connections);
        assert_eq!(
            Settings::default().writer_connections,
            2,
            "see docs/performance.md"
        );
        Ok(())
    }

    #[test]
    fn values_at_the_bounds_are_accepted() -> anyhow::Result<()> {
        for toml in [
            "workers = 0",
            "workers = 512",
            "read_connections = 1",
            "read_connections = 256",
            "max_batch = 1",
            "writer_connections = 1",
            "writer_connections = 64",
            "max_body_bytes = 1024",
            "max_body_bytes = 67108864",
            "rate_limit_per_second = 0",
            "rate_limit_per_second = 1000000",
            "listen = \"0.0.0.0:80\"",
            "listen = \"[::1]:0\"",
            "listen = \"localhost:8080\"",
            "listen = \"wallet.internal:65535\"",
            "metrics_token = \"0123456789abcdef\"",
            "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\", \"fd00::/8\"]",
        ] {
            load(toml).map_err(|e| anyhow::anyhow!("{toml:?} was refused: {e:#}"))?;
        }
        Ok(())
    }
}
