//! The checkpoint of `check` (`check_checkpoint`, step 6): what the next
//! one is, and loading and recording it.
//!
//! Several writers (and processes) take ids from a sequence and may commit
//! out of id order: a row with an id at or below the largest one a check's
//! snapshot saw may commit after it, unchecked. So the check counts the
//! rows it saw between the checkpoint it started from and the largest ids,
//! and `record` — once every write in flight on those tables has committed
//! (`LOCK ... IN SHARE MODE` waits for them) — counts them again: if any
//! more are there now, it records nothing, and the next check starts from
//! the old checkpoint.

use crate::conn::PgConn;
use crate::error::DbResult;
use crate::statements::rows::col;
use wallet_core::check::{Checkpoint, CheckpointSeen};
use wallet_core::StoreError;

/// Per table: the largest id (`$1` if none is above it), and how many rows
/// are above `$1` — a range of the primary key, not a scan of the table.
const SEEN: [&str; 4] = [
    "SELECT coalesce(max(id), $1), count(*) FROM entries WHERE id > $1",
    "SELECT coalesce(max(id), $1), count(*) FROM transactions WHERE id > $1",
    "SELECT coalesce(max(id), $1), count(*) FROM item_steps WHERE id > $1",
    "SELECT coalesce(max(id), $1), count(*) FROM lot_steps WHERE id > $1",
];

/// How many rows are above `$1` and at or below `$2`, per table.
const RECOUNT: [&str; 4] = [
    "SELECT count(*) FROM entries WHERE id > $1 AND id <= $2",
    "SELECT count(*) FROM transactions WHERE id > $1 AND id <= $2",
    "SELECT count(*) FROM item_steps WHERE id > $1 AND id <= $2",
    "SELECT count(*) FROM lot_steps WHERE id > $1 AND id <= $2",
];

/// What a check on this snapshot covered, from `from` on, with `assets`
/// the net per asset it computed.
pub(super) fn next(
    conn: &mut PgConn,
    from: Option<&Checkpoint>,
    assets: Vec<(i64, i128)>,
) -> DbResult<Checkpoint> {
    let base = from.map_or([0; 4], |c| {
        [c.entry_id, c.transaction_id, c.item_step_id, c.lot_step_id]
    });
    let mut ids = [0; 4];
    let mut counts = [0; 4];
    for (index, sql) in SEEN.into_iter().enumerate() {
        let row = conn.query_one(sql, &[&base[index]])?;
        ids[index] = col(&row, 0)?;
        counts[index] = col(&row, 1)?;
    }
    let mut heads = Vec::new();
    for row in conn.query("SELECT project_id, seq FROM event_heads ORDER BY project_id", &[])? {
        heads.push((col(&row, 0)?, col(&row, 1)?));
    }
    Ok(Checkpoint {
        entry_id: ids[0],
        transaction_id: ids[1],
        item_step_id: ids[2],
        lot_step_id: ids[3],
        created_at: 0,
        assets,
        heads,
        seen: CheckpointSeen { base, counts },
    })
}

/// The last recorded checkpoint, if any.
pub(crate) fn load(conn: &mut PgConn) -> DbResult<Option<Checkpoint>> {
    let Some(row) = conn.query_opt(
        "SELECT entry_id, transaction_id, item_step_id, lot_step_id, created_at
         FROM check_checkpoint WHERE id = 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    let mut checkpoint = Checkpoint {
        entry_id: col(&row, 0)?,
        transaction_id: col(&row, 1)?,
        item_step_id: col(&row, 2)?,
        lot_step_id: col(&row, 3)?,
        created_at: col(&row, 4)?,
        ..Checkpoint::default()
    };
    for row in conn.query(
        "SELECT asset_id, net::text FROM check_checkpoint_assets ORDER BY asset_id",
        &[],
    )? {
        let asset: i64 = col(&row, 0)?;
        let net: String = col(&row, 1)?;
        let net = net.parse::<i128>().map_err(|_| {
            StoreError::Internal(format!("check_checkpoint_assets: asset {asset}: net {net:?}"))
        })?;
        checkpoint.assets.push((asset, net));
    }
    for row in conn.query(
        "SELECT project_id, seq FROM check_checkpoint_heads ORDER BY project_id",
        &[],
    )? {
        checkpoint.heads.push((col(&row, 0)?, col(&row, 1)?));
    }
    Ok(Some(checkpoint))
}

/// Replaces the checkpoint with `checkpoint`, if every row at or below its
/// ids is one the check saw; returns whether it did.
pub(crate) fn record(conn: &mut PgConn, checkpoint: &Checkpoint) -> DbResult<bool> {
    conn.execute(
        "LOCK TABLE entries, transactions, item_steps, lot_steps IN SHARE MODE",
        &[],
    )?;
    let top = [
        checkpoint.entry_id,
        checkpoint.transaction_id,
        checkpoint.item_step_id,
        checkpoint.lot_step_id,
    ];
    for (index, sql) in RECOUNT.into_iter().enumerate() {
        let now: i64 = col(
            &conn.query_one(sql, &[&checkpoint.seen.base[index], &top[index]])?,
            0,
        )?;
        if now != checkpoint.seen.counts[index] {
            return Ok(false);
        }
    }
    conn.execute(
        "INSERT INTO check_checkpoint (id, entry_id, transaction_id, item_step_id, lot_step_id, created_at)
         VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET entry_id = excluded.entry_id,
             transaction_id = excluded.transaction_id, item_step_id = excluded.item_step_id,
             lot_step_id = excluded.lot_step_id, created_at = excluded.created_at",
        &[&top[0], &top[1], &top[2], &top[3], &checkpoint.created_at],
    )?;
    conn.execute("DELETE FROM check_checkpoint_assets", &[])?;
    for (asset, net) in &checkpoint.assets {
        conn.execute(
            "INSERT INTO check_checkpoint_assets (asset_id, net) VALUES ($1, $2::text::numeric)",
            &[asset, &net.to_string()],
        )?;
    }
    conn.execute("DELETE FROM check_checkpoint_heads", &[])?;
    for (project, seq) in &checkpoint.heads {
        conn.execute(
            "INSERT INTO check_checkpoint_heads (project_id, seq) VALUES ($1, $2)",
            &[project, seq],
        )?;
    }
    Ok(true)
}
