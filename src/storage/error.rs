use thiserror::Error;

/// What can go wrong below the ledger: never a client's fault.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no read connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database file: {0}")]
    Io(#[from] std::io::Error),
    /// The group this job was in could not be committed: nothing of it applied.
    #[error("the write could not be committed, nothing was applied: {0}")]
    CommitFailed(String),
    #[error("the writer thread has stopped")]
    WriterStopped,
    #[error("a storage worker panicked")]
    WorkerPanicked,
    /// No database where one must already exist (the message says where).
    #[error("{0}")]
    Missing(String),
    #[error("database schema: {0}")]
    Schema(String),
    /// A stored value that the schema should have made impossible.
    #[error("corrupt value in column {0}")]
    Corrupt(&'static str),
}

impl StorageError {
    /// True when the database is there but cannot take writes right now (disk
    /// full, read-only file, locked by another process): a 503, not a 500.
    pub fn is_unavailable(&self) -> bool {
        use rusqlite::ffi::ErrorCode;
        match self {
            StorageError::CommitFailed(_) | StorageError::WriterStopped | StorageError::Pool(_) => true,
            StorageError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                ErrorCode::DiskFull
                    | ErrorCode::ReadOnly
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
            ),
            _ => false,
        }
    }
}
