//! Server settings stored in the database (the admin password hash, the
//! maintenance switch), so they survive restarts and every process sees them.

use super::{ReadTx, StorageError, WriteTx};
use rusqlite::{params, OptionalExtension};

impl ReadTx<'_> {
    pub fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }
}

impl WriteTx<'_> {
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
        Ok(())
    }

    /// Sets a setting only if it has none yet. Returns whether it was set.
    pub fn set_setting_if_absent(&self, key: &str, value: &str) -> Result<bool, StorageError> {
        let inserted = self
            .conn
            .prepare_cached("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")?
            .execute(params![key, value])?;
        Ok(inserted > 0)
    }
}
