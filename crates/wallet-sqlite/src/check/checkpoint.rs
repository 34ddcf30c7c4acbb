//! The checkpoint of `check` (`check_checkpoint`, step 9): what the next
//! one is, and loading and recording it. One writer commits in id order,
//! so every row at or below the largest ids a snapshot sees is in that
//! snapshot: the checkpoint needs no further proof here.

use crate::error::DbResult;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use wallet_core::check::Checkpoint;

/// What a check on this snapshot covered, with `assets` the net per asset
/// it computed.
pub(super) fn next(conn: &Connection, assets: BTreeMap<i64, i128>) -> DbResult<Checkpoint> {
    let max = |sql: &str| -> DbResult<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let mut heads = Vec::new();
    let mut stmt = conn.prepare("SELECT project_id, seq FROM event_heads ORDER BY project_id")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        heads.push(row?);
    }
    Ok(Checkpoint {
        entry_id: max("SELECT coalesce(max(id), 0) FROM entries")?,
        transaction_id: max("SELECT coalesce(max(id), 0) FROM transactions")?,
        item_step_id: max("SELECT coalesce(max(id), 0) FROM item_steps")?,
        lot_step_id: max("SELECT coalesce(max(id), 0) FROM lot_steps")?,
        created_at: 0,
        assets: assets.into_iter().collect(),
        heads,
        seen: Default::default(),
    })
}

/// The last recorded checkpoint, if any.
pub(crate) fn load(conn: &Connection) -> DbResult<Option<Checkpoint>> {
    let found = conn
        .query_row(
            "SELECT entry_id, transaction_id, item_step_id, lot_step_id, created_at
             FROM check_checkpoint WHERE id = 1",
            [],
            |r| {
                Ok(Checkpoint {
                    entry_id: r.get(0)?,
                    transaction_id: r.get(1)?,
                    item_step_id: r.get(2)?,
                    lot_step_id: r.get(3)?,
                    created_at: r.get(4)?,
                    ..Checkpoint::default()
                })
            },
        )
        .optional()?;
    let Some(mut checkpoint) = found else {
        return Ok(None);
    };
    let mut stmt = conn.prepare("SELECT asset_id, net FROM check_checkpoint_assets ORDER BY asset_id")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (asset, net) = row?;
        let net = net.parse::<i128>().map_err(|_| {
            wallet_core::StoreError::Internal(format!("check_checkpoint_assets: asset {asset}: net {net:?}"))
        })?;
        checkpoint.assets.push((asset, net));
    }
    let mut stmt = conn.prepare("SELECT project_id, seq FROM check_checkpoint_heads ORDER BY project_id")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        checkpoint.heads.push(row?);
    }
    Ok(Some(checkpoint))
}

/// Replaces the checkpoint with `checkpoint`.
pub(crate) fn record(conn: &Connection, checkpoint: &Checkpoint) -> DbResult<bool> {
    conn.execute(
        "INSERT INTO check_checkpoint (id, entry_id, transaction_id, item_step_id, lot_step_id, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET entry_id = excluded.entry_id,
             transaction_id = excluded.transaction_id, item_step_id = excluded.item_step_id,
             lot_step_id = excluded.lot_step_id, created_at = excluded.created_at",
        params![
            checkpoint.entry_id,
            checkpoint.transaction_id,
            checkpoint.item_step_id,
            checkpoint.lot_step_id,
            checkpoint.created_at
        ],
    )?;
    conn.execute("DELETE FROM check_checkpoint_assets", [])?;
    let mut insert = conn.prepare("INSERT INTO check_checkpoint_assets (asset_id, net) VALUES (?1, ?2)")?;
    for (asset, net) in &checkpoint.assets {
        insert.execute(params![asset, net.to_string()])?;
    }
    conn.execute("DELETE FROM check_checkpoint_heads", [])?;
    let mut insert = conn.prepare("INSERT INTO check_checkpoint_heads (project_id, seq) VALUES (?1, ?2)")?;
    for (project, seq) in &checkpoint.heads {
        insert.execute(params![project, seq])?;
    }
    Ok(true)
}
