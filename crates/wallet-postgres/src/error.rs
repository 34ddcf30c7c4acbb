//! The one place where PostgreSQL's errors become the core's [`StoreError`].
//!
//! The ledger decides on the kind (retry, 503, 409, 500), so the kind must be
//! right here and nowhere else. Mapped by SQLSTATE:
//!
//! - `40001` serialization failure, `40P01` deadlock, `55P03` lock not
//!   available (a `lock_timeout` ran out): `Retryable`. The writer runs
//!   such a job again in a later transaction (see `writer`).
//! - `23505` unique violation (one no `ON CONFLICT` settled): `UniqueViolation`.
//! - Connection loss (class `08`, or the socket closed), an administrator's
//!   or a crash shutdown (`57P01`–`57P03`), a cancelled statement
//!   (`57014`), idle timeouts, a read-only server (`25006`: a standby
//!   after a failover), insufficient resources (class `53`: disk full, out
//!   of memory, too many connections), system I/O errors (class `58`):
//!   `Unavailable`, clients may retry later.
//! - A stored value that does not fit the core's types: `Corrupt`
//!   ([`corrupt`], raised by the row readers).
//! - Anything else: `Internal`, a bug.
//!
//! Messages carry the server's text (which names constraints and columns),
//! never a bound value: no token digest, key or amount reaches a log.

use wallet_core::StoreError;

/// An error inside this crate, already mapped onto the core's kinds, so `?`
/// works on postgres, r2d2 and I/O results (the orphan rule forbids
/// `From<postgres::Error> for StoreError`).
#[derive(Debug)]
pub struct DbError(pub(crate) StoreError);

pub(crate) type DbResult<T> = Result<T, DbError>;

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        e.0
    }
}

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError(e)
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError(map_pg(&e))
    }
}

impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        // The pool's only failure: no connection within its timeout (the
        // server is down, or every connection is busy).
        DbError(StoreError::Unavailable(format!(
            "no read connection available: {e}"
        )))
    }
}

impl From<std::io::Error> for DbError {
    fn from(e: std::io::Error) -> Self {
        DbError(StoreError::Unavailable(format!("database: {e}")))
    }
}

/// The kind of a SQLSTATE (see the module's list).
pub(crate) fn kind_of(code: &str) -> Kind {
    match code {
        "40001" | "40P01" | "55P03" => Kind::Retryable,
        "23505" => Kind::UniqueViolation,
        "25006" | "25P03" | "57014" | "57P01" | "57P02" | "57P03" | "57P05" => Kind::Unavailable,
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("58") => Kind::Unavailable,
        _ => Kind::Internal,
    }
}

/// What [`kind_of`] makes of a SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Retryable,
    UniqueViolation,
    Unavailable,
    Internal,
}

/// The core's kind of a postgres error.
pub(crate) fn map_pg(e: &postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let text = format!("{} ({})", db.message(), db.code().code());
        return match kind_of(db.code().code()) {
            Kind::Retryable => StoreError::Retryable(text),
            Kind::UniqueViolation => StoreError::UniqueViolation(text),
            Kind::Unavailable => StoreError::Unavailable(text),
            Kind::Internal => StoreError::Internal(text),
        };
    }
    // No SQLSTATE: the connection itself failed (closed socket, I/O error,
    // connect timeout), or the client refused a value (a bug).
    let io = std::error::Error::source(e).is_some_and(<dyn std::error::Error>::is::<std::io::Error>);
    if e.is_closed() || io || e.to_string().contains("timeout") {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Internal(e.to_string())
    }
}

/// A stored value that does not fit: `Corrupt`, naming the column.
pub(crate) fn corrupt(column: &str) -> DbError {
    DbError(StoreError::Corrupt(format!(
        "{column} holds a value this binary does not read"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_onto_the_cores_kinds() {
        let cases = [
            ("40001", Kind::Retryable),
            ("40P01", Kind::Retryable),
            ("55P03", Kind::Retryable),
            ("23505", Kind::UniqueViolation),
            ("23503", Kind::Internal),
            ("23514", Kind::Internal),
            ("25006", Kind::Unavailable),
            ("57P01", Kind::Unavailable),
            ("57P02", Kind::Unavailable),
            ("57P03", Kind::Unavailable),
            ("57014", Kind::Unavailable),
            ("08006", Kind::Unavailable),
            ("08003", Kind::Unavailable),
            ("53100", Kind::Unavailable),
            ("53200", Kind::Unavailable),
            ("53300", Kind::Unavailable),
            ("58030", Kind::Unavailable),
            ("42P01", Kind::Internal),
            ("22003", Kind::Internal),
            ("P0001", Kind::Internal),
        ];
        for (code, kind) in cases {
            assert_eq!(kind_of(code), kind, "{code}");
        }
    }
}
