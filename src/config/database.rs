//! Which database the server runs on: `--db` / `WALLET_DB` / `db` is a
//! SQLite file path or a PostgreSQL URL.
//!
//! A value that starts with `scheme://` is a URL, never a file name: only
//! `postgres://` and `postgresql://` are accepted, any other scheme
//! (`mysql://`, `sqlite://`, `file://`, `http://` …) is refused with the
//! forms that are, so a typo or a URL meant for another program never
//! quietly becomes a new, empty SQLite file named after it. A libpq
//! keyword string (`host=… dbname=…`) is refused the same way. Everything
//! else is a path, as it always was.
//!
//! A URL may carry a password; [`PgUrl`] never shows it (`Display` and
//! `Debug` print `***` in its place), so it can be logged and put in errors.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// The database of a server or a command.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file (WAL mode); missing folders are created.
    Sqlite(PathBuf),
    /// A PostgreSQL database, which several server processes may share.
    Postgres(PgUrl),
}

/// Why a `db` value was refused. The message never holds a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDatabase(String);

/// The forms `db` takes, for error messages.
const ACCEPTED: &str = "give a SQLite file path (e.g. ./data/wallet.db) or a PostgreSQL URL \
     postgres://user:password@host:5432/database (also postgresql://; libpq parameters such as \
     ?sslmode=require may follow)";

/// libpq's connection keywords: a value that starts with one of them and
/// `=` is a keyword/value connection string, not a file name.
const LIBPQ_KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "service",
    "options",
    "application_name",
    "connect_timeout",
    "target_session_attrs",
];

impl Database {
    /// Reads a `db` value: a PostgreSQL URL, or else a SQLite path.
    pub fn parse(value: &OsStr) -> Result<Self, InvalidDatabase> {
        // A path that is not UTF-8 cannot be a URL.
        let Some(text) = value.to_str() else {
            return Ok(Database::Sqlite(PathBuf::from(value)));
        };
        if let Some(scheme) = url_scheme(text) {
            if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") {
                return PgUrl::parse(text).map(Database::Postgres);
            }
            return Err(InvalidDatabase(format!(
                "`db`: a {scheme}:// URL is not a database this server runs on; {ACCEPTED}"
            )));
        }
        if let Some(keyword) = libpq_keyword(text) {
            return Err(InvalidDatabase(format!(
                "`db`: `{keyword}=…` looks like a libpq connection string, which is not accepted \
                 (it would be taken for a file name); {ACCEPTED}"
            )));
        }
        if text.trim().is_empty() {
            return Err(InvalidDatabase(format!("`db` is empty; {ACCEPTED}")));
        }
        Ok(Database::Sqlite(PathBuf::from(value)))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// `sqlite` or `postgres`, as `Backend::kind` says it.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

impl From<PathBuf> for Database {
    /// A SQLite file, without parsing: for code (tests, the bench) that
    /// names a file it made.
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

/// The scheme of `text` if it starts like a URL (`scheme://`), per RFC
/// 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(scheme)
}

fn libpq_keyword(text: &str) -> Option<&'static str> {
    let (word, _) = text.trim_start().split_once('=')?;
    let word = word.trim_end();
    LIBPQ_KEYWORDS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(word))
}

/// A PostgreSQL connection URL, as libpq takes it:
/// `postgres[ql]://[user[:password]@][host][:port][,host[:port]…][/database][?param=value&…]`.
///
/// Checked only as far as the server must be sure it is one (the scheme,
/// no spaces or control characters, `key=value` parameters); the
/// connection itself reports what the server cannot reach.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl(String);

impl PgUrl {
    pub fn parse(text: &str) -> Result<Self, InvalidDatabase> {
        let refuse = |why: &str| InvalidDatabase(format!("`db`: not a PostgreSQL URL: {why}; {ACCEPTED}"));
        let scheme = url_scheme(text).ok_or_else(|| refuse("no postgres:// scheme"))?;
        if !(scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql")) {
            return Err(refuse("the scheme must be postgres:// or postgresql://"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse(
                "it holds a space or a control character (percent-encode them)",
            ));
        }
        // Where the user part ends decides what is redacted: a `/`, `?` or
        // `@` of the password must be percent-encoded (RFC 3986; libpq
        // would misread it too), or part of it could show.
        let rest = text.split_once("://").map_or("", |(_, rest)| rest);
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        let path = after.split_once('?').map_or(after, |(path, _)| path);
        if (!authority.contains('@') && rest.contains('@')) || path.contains('@') {
            return Err(refuse(
                "an @ outside the user part: percent-encode /, ? and @ in the user name and password",
            ));
        }
        if let Some((_, query)) = text.split_once('?') {
            for pair in query.split('&') {
                let (key, _) = pair
                    .split_once('=')
                    .ok_or_else(|| refuse("each parameter after ? must be key=value"))?;
                if key.is_empty() {
                    return Err(refuse("a parameter after ? has no name"));
                }
            }
        }
        Ok(PgUrl(text.to_owned()))
    }

    /// The whole URL, password included: for the connection only, never
    /// for a log or a message (use `Display`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password (in the user part, or a `password`
    /// parameter) replaced by `***`.
    pub fn redacted(&self) -> String {
        let url = self.0.as_str();
        let Some((scheme, rest)) = url.split_once("://") else {
            return "***".to_owned();
        };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let authority = match authority.rsplit_once('@') {
            Some((user_info, hosts)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{hosts}"),
                None => authority.to_owned(),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgUrl").field(&self.redacted()).finish()
    }
}

#[cfg(test)]
mod tests;
