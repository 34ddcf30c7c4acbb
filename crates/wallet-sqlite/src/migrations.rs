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

/// Step 2: a customer's first wallet of an asset is its default for that
/// asset, whichever API opened it (before, only API v1 marked one, so a
/// wallet opened through API v2 was invisible to v1, which opened a second).
/// A customer whose wallets of an asset have no default gets its oldest one
/// marked, as the rule would have done. Where API v1 already opened a
/// default beside an older v2 wallet, the v1 one stays the default: its
/// balance is what SDK users have been shown. No money moves.
const DEFAULT_WALLETS: &str = "
    UPDATE wallets SET is_default = 1
    WHERE customer_id IS NOT NULL
      AND id = (SELECT min(o.id) FROM wallets o
                WHERE o.customer_id = wallets.customer_id AND o.asset_id = wallets.asset_id)
      AND NOT EXISTS (SELECT 1 FROM wallets d
                      WHERE d.customer_id = wallets.customer_id AND d.asset_id = wallets.asset_id
                        AND d.is_default = 1);";

/// Step 3: an authority's running total in a wallet may pass i64 on a legal
/// ledger (it issues near MAX again and again while another authority
/// redeems), so it is kept as an i128 in two columns: the exact total is
/// `total_high * 2^64 + total` (see `statements::rows::split_total`). Existing totals all
/// fit i64 and read the same with `total_high = 0`.
const WIDE_AUTHORITY_TOTALS: &str =
    "ALTER TABLE authority_totals ADD COLUMN total_high INTEGER NOT NULL DEFAULT 0;";

/// Step 4: admin sessions live in the database, so every server process on
/// one database (PostgreSQL) knows them and a restart keeps them. Only
/// digests: of the cookie's value, and of the password hash the session was
/// opened under.
const ADMIN_SESSIONS: &str = "
    CREATE TABLE admin_sessions (
        token_digest   BLOB PRIMARY KEY,
        password_stamp BLOB NOT NULL,
        created_at     INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);";

/// Step 5: holds (`holds`, `wallets.held`), credit limits
/// (`wallets.credit_limit`, balances below zero down to it), `Capture`
/// entries, and the project's own authority (`authorities.system`, no
/// credential). Rebuilds `authorities`, `wallets` and `entries` to change
/// their CHECKs, keeping every row, id, index and trigger: see the file.
const HOLDS: &str = include_str!("migrations/05_holds.sql");

/// Step 6: items (`items`, `item_steps`): API v1's items of entries become
/// items with a history, and the old table goes. See the file.
const ITEMS: &str = include_str!("migrations/06_items.sql");

/// Step 7: lots (`lots`, `lot_steps`, `hold_lots`), and `Expire` entries
/// (the CHECK on `entries.kind` widened in place: see the file, and
/// [`check_entry_kinds`]).
const LOTS: &str = include_str!("migrations/07_lots.sql");

/// Step 8: events (`events`, `event_heads`), webhooks (`webhooks`,
/// `webhook_deliveries`). New tables only; a project's head row is written
/// by its first write with events (`statements::events::lock_event_head`).
const EVENTS: &str = include_str!("migrations/08_events.sql");

/// Step 9: the checkpoint of `check` (`check_checkpoint` and its per-asset
/// and per-project rows), from which an incremental check starts.
const CHECK_CHECKPOINT: &str = include_str!("migrations/09_check_checkpoint.sql");

/// The step that widens `entries.kind` (1-based, as `user_version`).
const LOTS_STEP: usize = 7;

/// Numbered schema steps, keyed by `PRAGMA user_version`. Append only: a step
/// that has shipped is never edited.
const STEPS: &[&str] = &[
    SCHEMA,
    DEFAULT_WALLETS,
    WIDE_AUTHORITY_TOTALS,
    ADMIN_SESSIONS,
    HOLDS,
    ITEMS,
    LOTS,
    EVENTS,
    CHECK_CHECKPOINT,
];

/// How many schema steps this binary knows (a database beyond is refused).
pub(crate) fn schema_steps() -> i64 {
    // A handful of steps: always within i64.
    i64::try_from(STEPS.len()).unwrap_or(i64::MAX)
}

/// Brings the schema up to date, each missing step in the same transaction,
/// then makes sure the `default` project exists (API v1 authorities are
/// created in it unless told otherwise).
///
/// Foreign keys are off while the steps run and checked as a whole before
/// the commit: a step that rebuilds a table (step 5) drops it while other
/// tables still refer to its rows, which SQLite's documented procedure for
/// changing a table allows only that way (the pragma cannot change inside a
/// transaction, so it is set around it, and set back whatever happens).
pub(crate) fn migrate(conn: &mut Connection) -> DbResult<()> {
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let migrated = apply_steps(conn);
    if foreign_keys {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    if migrated? {
        // Step 7 edited `entries` in sqlite_schema, which this connection
        // parsed before: it rereads the schema (the others see the new
        // schema cookie). After the commit, never inside the transaction.
        conn.execute_batch("PRAGMA writable_schema = RESET")?;
    }
    Ok(())
}

/// Returns whether step 7 ran.
fn apply_steps(conn: &mut Connection) -> DbResult<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = schema_steps();
    if version > known {
        return Err(DbError(StoreError::Schema(format!(
            "the database is at schema step {version}, newer than this binary knows ({known}); \
             upgrade wallet-service"
        ))));
    }
    let done = usize::try_from(version).unwrap_or(0);
    for (number, step) in (1i64..).zip(STEPS).skip(done) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", number)?;
    }
    if done < LOTS_STEP {
        check_entry_kinds(&tx)?;
    }
    if done < STEPS.len() {
        // Only after a step ran: on a large file this reads every table.
        let mut check = tx.prepare("PRAGMA foreign_key_check")?;
        let broken: Vec<String> = check
            .query_map([], |r| {
                Ok(format!(
                    "{} row {:?}",
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?
                ))
            })?
            .take(10)
            .collect::<Result<_, _>>()?;
        drop(check);
        if !broken.is_empty() {
            return Err(DbError(StoreError::Schema(format!(
                "the schema steps left rows that refer to nothing: {}; nothing was changed",
                broken.join(", ")
            ))));
        }
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
    Ok(done < LOTS_STEP)
}

/// Step 7 edits the text of `entries` in `sqlite_schema`: an edit that did
/// not match (a table written some other way) would leave the old CHECK,
/// and every lot's expiry would then fail. Refused here instead, before the
/// commit, so the file stays at step 6.
fn check_entry_kinds(conn: &Connection) -> DbResult<()> {
    let sql: String = conn.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'entries'",
        [],
        |r| r.get(0),
    )?;
    if sql.contains("'Capture', 'Expire'))") {
        return Ok(());
    }
    Err(DbError(StoreError::Schema(
        "schema step 7 could not widen the CHECK of entries.kind (the table is not as steps 1 to 6 \
         wrote it); nothing was changed"
            .to_owned(),
    )))
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

#[cfg(test)]
mod tests;
