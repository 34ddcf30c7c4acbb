//! The schema: numbered steps (`migrations/0001_schema.sql`,
//! `0002_holds.sql`, `0003_items.sql`, `0004_lots.sql`, `0005_events.sql`,
//! `0006_check_checkpoint.sql`,
//! ...), each applied
//! in one transaction and recorded in `schema_migrations`. A database at a
//! step newer than this binary knows is refused, as on SQLite.
//!
//! Several server processes may start at once on one database: each step
//! runs under a transaction-scoped advisory lock and re-reads the version
//! under it, so a step is applied once.

use crate::backend::OpenError;
use crate::conn::{PgConn, Target};
use crate::error::{DbError, DbResult};
use crate::statements::{catalog, rows::col};
use wallet_core::model::NewAsset;
use wallet_core::text::ProjectId;
use wallet_core::StoreError;

/// Numbered schema steps: step `n` is `STEPS[n - 1]`. Append only: a step
/// that has shipped is never edited.
const STEPS: &[&str] = &[
    include_str!("../migrations/0001_schema.sql"),
    include_str!("../migrations/0002_holds.sql"),
    include_str!("../migrations/0003_items.sql"),
    include_str!("../migrations/0004_lots.sql"),
    include_str!("../migrations/0005_events.sql"),
    include_str!("../migrations/0006_check_checkpoint.sql"),
];

/// The advisory lock key every migration takes ("wallet" in ASCII).
const MIGRATION_LOCK: i64 = 0x7761_6c6c_6574;

/// How many schema steps this binary knows.
pub(crate) fn schema_steps() -> i64 {
    i64::try_from(STEPS.len()).unwrap_or(i64::MAX)
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL
)";

/// The step the database is at: `None` without a `schema_migrations`
/// table (not a wallet-service database, or an empty one).
fn current_step(conn: &mut PgConn) -> DbResult<Option<i64>> {
    let row = conn.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?;
    if !col::<bool>(&row, 0)? {
        return Ok(None);
    }
    let row = conn.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?;
    Ok(Some(col(&row, 0)?))
}

fn newer(step: i64) -> DbError {
    DbError(StoreError::Schema(format!(
        "the database is at schema step {step}, newer than this binary knows ({}); upgrade wallet-service",
        schema_steps()
    )))
}

/// Brings the schema up to date, then makes sure the `default` project
/// exists (API v1 authorities are created in it unless told otherwise).
/// Without `create`, a database with no wallet-service schema is refused
/// and left untouched ([`OpenError::Missing`]); one that has it is brought
/// up to date as with `create`, as on SQLite.
pub(crate) fn migrate(conn: &mut PgConn, create: bool, target: &Target) -> Result<(), OpenError> {
    let step = current_step(conn)?;
    if !create && step.unwrap_or(0) < 1 {
        return Err(OpenError::Missing(format!(
            "no wallet-service database at {}; `wallet-service serve` creates its schema on its first \
             start (check --db, WALLET_DB or `db` in the config file)",
            target.describe()
        )));
    }
    if let Some(step) = step.filter(|s| *s > schema_steps()) {
        return Err(newer(step).into());
    }
    for (number, sql) in (1i64..).zip(STEPS) {
        in_transaction(conn, |conn| apply(conn, number, sql))?;
    }
    in_transaction(conn, default_project)?;
    Ok(())
}

/// Whether the database has the wallet-service schema (any step of it).
pub(crate) fn has_schema(conn: &mut PgConn) -> DbResult<bool> {
    Ok(current_step(conn)?.is_some_and(|step| step >= 1))
}

/// [`migrate`] with `create`, inside the caller's open transaction: every
/// step and the `default` project stay only if that transaction commits.
/// An import into an empty database creates the schema this way, so a
/// refused import leaves the database as empty as it found it (as on
/// SQLite, where it leaves no file). A server starting meanwhile waits on
/// the migration lock, which the transaction holds to its end.
pub(crate) fn create_in_transaction(conn: &mut PgConn) -> DbResult<()> {
    for (number, sql) in (1i64..).zip(STEPS) {
        apply(conn, number, sql)?;
    }
    default_project(conn)
}

fn default_project(conn: &mut PgConn) -> DbResult<()> {
    let default = ProjectId::default_project();
    catalog::create_project(
        conn,
        default.as_str(),
        "Default project",
        &NewAsset::default_points(),
        wallet_core::clock::system_now(),
    )?;
    Ok(())
}

/// Applies step `number` unless it is applied; inside a transaction.
fn apply(conn: &mut PgConn, number: i64, sql: &str) -> DbResult<()> {
    conn.query_one("SELECT 1 FROM pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    // `IF NOT EXISTS` on an existing table raises a NOTICE, which the driver
    // logs at info on every start: not news.
    conn.batch("SET LOCAL client_min_messages = warning")?;
    conn.batch(CREATE_TABLE)?;
    let row = conn.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?;
    let done: i64 = col(&row, 0)?;
    if done > schema_steps() {
        return Err(newer(done));
    }
    if done >= number {
        return Ok(());
    }
    conn.batch(sql)?;
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
        &[&number, &wallet_core::clock::system_now()],
    )?;
    log::info!("applied PostgreSQL schema step {number}");
    Ok(())
}

/// Runs `work` in one transaction: committed if it succeeds, rolled back
/// if it fails.
pub(crate) fn in_transaction<T>(
    conn: &mut PgConn,
    work: impl FnOnce(&mut PgConn) -> DbResult<T>,
) -> DbResult<T> {
    conn.batch("BEGIN")?;
    match work(conn) {
        Ok(out) => {
            conn.batch("COMMIT")?;
            Ok(out)
        }
        Err(e) => {
            if !conn.is_closed() {
                if let Err(rollback) = conn.batch("ROLLBACK") {
                    log::error!("rollback failed: {rollback}");
                }
            }
            Err(e)
        }
    }
}
