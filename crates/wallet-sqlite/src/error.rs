//! The one place where SQLite's errors become the core's [`StoreError`].
//!
//! The ledger decides on the kind (retry, 503, 409, 500), so the kind must be
//! right here and nowhere else: a full disk is `Unavailable`, never a 500 and
//! never "not found". Messages carry SQLite's own text (codes, table and
//! column names), never a bound value: no token digest, key or amount can
//! reach a log through them.

use rusqlite::ffi::{self, ErrorCode};
use wallet_core::StoreError;

/// An error inside this crate, already mapped onto the core's kinds. It
/// exists so `?` works on rusqlite, r2d2 and I/O results (the orphan rule
/// forbids `From<rusqlite::Error> for StoreError`).
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

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(map_sqlite(&e))
    }
}

impl From<r2d2::Error> for DbError {
    fn from(e: r2d2::Error) -> Self {
        // The pool's only failure is a timeout waiting for a connection (or
        // failing to open one): the file is there but cannot serve now.
        DbError(StoreError::Unavailable(format!(
            "no read connection available: {e}"
        )))
    }
}

impl From<std::io::Error> for DbError {
    fn from(e: std::io::Error) -> Self {
        DbError(StoreError::Unavailable(format!("database file: {e}")))
    }
}

/// The kind of a rusqlite error.
///
/// - The disk, the file or memory refusing (`FULL`, `IOERR`, `READONLY`,
///   `CANTOPEN`, `NOMEM`), and `BUSY`/`LOCKED` (SQLite returns them only
///   after the busy timeout gave up): `Unavailable`, clients may retry later.
/// - A UNIQUE or PRIMARY KEY constraint: `UniqueViolation`.
/// - A stored value of the wrong type or one that does not parse (an unknown
///   status, see [`unknown_value`]): `Corrupt`.
/// - Anything else (other constraints, SQL errors): `Internal`, a bug.
pub(crate) fn map_sqlite(e: &rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match e {
        E::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::OutOfMemory
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked => StoreError::Unavailable(e.to_string()),
            ErrorCode::ConstraintViolation
                if matches!(
                    failure.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                StoreError::UniqueViolation(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        },
        E::FromSqlConversionFailure(..) | E::InvalidColumnType(..) | E::IntegralValueOutOfRange(..) => {
            StoreError::Corrupt(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

/// A stored text this binary does not know (a status, a kind). The schema's
/// CHECKs should make it impossible; if it happens, the row is `Corrupt`.
#[derive(Debug, thiserror::Error)]
#[error("{0} holds a value this binary does not know")]
pub(crate) struct UnknownValue(pub(crate) &'static str);

/// The rusqlite error for a column holding an [`UnknownValue`], so that row
/// mappers can fail inside rusqlite's closures and still be `Corrupt`.
pub(crate) fn unknown_value(index: usize, column: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        Box::new(UnknownValue(column)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(extended_code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended_code), Some("message".to_owned()))
    }

    fn kind(e: &StoreError) -> &'static str {
        match e {
            StoreError::Retryable(_) => "Retryable",
            StoreError::UniqueViolation(_) => "UniqueViolation",
            StoreError::Unavailable(_) => "Unavailable",
            StoreError::Schema(_) => "Schema",
            StoreError::Corrupt(_) => "Corrupt",
            StoreError::Internal(_) => "Internal",
        }
    }

    #[test]
    fn sqlite_errors_map_onto_the_cores_kinds() {
        let cases = [
            (failure(ffi::SQLITE_FULL), "Unavailable"),
            (failure(ffi::SQLITE_IOERR_WRITE), "Unavailable"),
            (failure(ffi::SQLITE_IOERR_FSYNC), "Unavailable"),
            (failure(ffi::SQLITE_READONLY), "Unavailable"),
            (failure(ffi::SQLITE_CANTOPEN), "Unavailable"),
            (failure(ffi::SQLITE_NOMEM), "Unavailable"),
            (failure(ffi::SQLITE_BUSY), "Unavailable"),
            (failure(ffi::SQLITE_LOCKED), "Unavailable"),
            (failure(ffi::SQLITE_CONSTRAINT_UNIQUE), "UniqueViolation"),
            (failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY), "UniqueViolation"),
            (failure(ffi::SQLITE_CONSTRAINT_CHECK), "Internal"),
            (failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY), "Internal"),
            (failure(ffi::SQLITE_ERROR), "Internal"),
            (unknown_value(2, "wallets.status"), "Corrupt"),
            (
                rusqlite::Error::InvalidColumnType(0, "balance".into(), rusqlite::types::Type::Real),
                "Corrupt",
            ),
            (rusqlite::Error::QueryReturnedNoRows, "Internal"),
        ];
        for (error, expected) in cases {
            assert_eq!(kind(&map_sqlite(&error)), expected, "{error:?}");
        }
    }

    #[test]
    fn an_unknown_value_names_its_column() {
        let mapped = map_sqlite(&unknown_value(2, "wallets.status"));
        assert!(mapped.to_string().contains("wallets.status"), "{mapped}");
    }
}
