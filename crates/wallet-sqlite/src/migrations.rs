//! The schema: `schema.sql` is step 1, later changes are numbered steps
//! keyed by `PRAGMA user_version`.

use crate::error::{DbError, DbResult};
use crate::statements::catalog;
use rusqlite::{Connection, TransactionBehavior};
use wallet_core::model::NewAsset;
use wallet_core::text::ProjectId;
use wallet_core::StoreError;

/// The schema of a fresh database (step 1). It stays at the top of the
/// repository: it is the truth for every backend to follow.
const SCHEMA: &str = include_str!("../../../schema.sql");

/// Numbered schema steps, keyed by `PRAGMA user_version`. Append only: a step
/// that has shipped is never edited.
const STEPS: &[&str] = &[SCHEMA];

/// How many schema steps this binary knows (a database beyond is refused).
pub(crate) fn schema_steps() -> i64 {
    STEPS.len() as i64
}

/// Brings the schema up to date, each missing step in the same transaction,
/// then makes sure the `default` project exists (API v1 authorities are
/// created in it unless told otherwise).
pub(crate) fn migrate(conn: &mut Connection) -> DbResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = schema_steps();
    if version > known {
        return Err(DbError(StoreError::Schema(format!(
            "the database is at schema step {version}, newer than this binary knows ({known}); \
             upgrade wallet-service"
        ))));
    }
    for (index, step) in STEPS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    let default = ProjectId::default_project();
    catalog::create_project(
        &tx,
        default.as_str(),
        "Default project",
        &NewAsset::default_points(),
        wallet_core::clock::system_now(),
    )?;
    tx.commit()?;
    Ok(())
}

/// The step a file is at, for `verify`: refuses files this binary cannot
/// read (no schema, or a newer one).
pub(crate) fn known_version(conn: &Connection) -> Result<i64, String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("not a database: {e}"))?;
    let known = schema_steps();
    if version < 1 || version > known {
        return Err(format!(
            "at schema step {version}; this binary knows steps 1 to {known}"
        ));
    }
    Ok(version)
}
