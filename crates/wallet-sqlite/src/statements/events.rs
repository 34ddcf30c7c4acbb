//! Events: the outbox's rows (`events`), each project's head and the anchor
//! of its pruned events (`event_heads`).
//!
//! One writer: reading the head inside the write job is locking it (no
//! other write runs until the job's transaction ends). A project's head row
//! is written by its first write with events. `append_events` is one cached
//! INSERT per event and one compare-and-set UPDATE of the head, neither with
//! RETURNING or ON CONFLICT (see `ledger::insert_transaction`).

use super::rows::{self, parsed};
use crate::error::{unknown_value, DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::value::RawValue;
use wallet_core::events::{chain, Anchor, Draft, Event, EventHead, EventQuery, EventType};
use wallet_core::ids::{CustomerRowId, LotId, TransactionId};
use wallet_core::model::{Entry, Lot, Millis};
use wallet_core::StoreError;

/// The statement of [`events`] without a types filter, for the query-plan
/// tests: a range of the primary key.
pub(crate) const EVENTS_SQL: &str = "
    SELECT seq, project_id, type, created_at, data, hash, customers FROM events
    WHERE project_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";

/// The statement of [`events`] with a types filter (one JSON-array
/// parameter): the same range, filtered.
pub(crate) const TYPED_EVENTS_SQL: &str = "
    SELECT seq, project_id, type, created_at, data, hash, customers FROM events
    WHERE project_id = ?1 AND seq > ?2 AND type IN (SELECT value FROM json_each(?4))
    ORDER BY seq LIMIT ?3";

fn event(r: &Row<'_>) -> rusqlite::Result<Event> {
    let data: String = r.get(4)?;
    let data = RawValue::from_string(data).map_err(|_| unknown_value(4, "events.data"))?;
    let customers: String = r.get(6)?;
    let customers: Vec<i64> =
        serde_json::from_str(&customers).map_err(|_| unknown_value(6, "events.customers"))?;
    Ok(Event {
        seq: r.get(0)?,
        project_id: r.get(1)?,
        kind: parsed(r, 2, "events.type", |s| s.parse::<EventType>().ok())?,
        created_at: r.get(3)?,
        data,
        hash: r.get(5)?,
        customers: customers.into_iter().map(CustomerRowId::new).collect(),
    })
}

/// Events of `project` after `query.after`, of `query.types` (all when
/// empty), oldest first, at most `query.limit`.
pub(crate) fn events(conn: &Connection, project: &str, query: &EventQuery) -> DbResult<Vec<Event>> {
    let found = if query.types.is_empty() {
        conn.prepare_cached(EVENTS_SQL)?
            .query_map(params![project, query.after, query.limit], event)?
            .collect::<Result<_, _>>()?
    } else {
        let types: Vec<&str> = query.types.iter().map(|t| t.as_str()).collect();
        conn.prepare_cached(TYPED_EVENTS_SQL)?
            .query_map(
                params![project, query.after, query.limit, rows::json_list(&types)],
                event,
            )?
            .collect::<Result<_, _>>()?
    };
    Ok(found)
}

/// The project's head: its last event (or, once every event was pruned,
/// the anchor, which is where the head stayed); genesis before the first.
pub(crate) fn event_head(conn: &Connection, project: &str) -> DbResult<EventHead> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM event_heads WHERE project_id = ?1")?
        .query_row([project], |r| {
            Ok(EventHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?
        .unwrap_or_else(EventHead::genesis))
}

/// `WriteTx::stage_events` on the single writer: numbers and hashes the
/// drafts after the project's head and appends them now.
pub(crate) fn stage_events(
    conn: &Connection,
    project: &str,
    created_at: Millis,
    drafts: &[Draft],
) -> DbResult<()> {
    let head = lock_event_head(conn, project)?;
    let (events, _) = chain(&head, project, created_at, drafts.to_vec());
    append_events(conn, project, &events)
}

/// Reads the head and, with one writer, locks it: no other write runs
/// until this one ends. Writes the genesis row on the project's first use,
/// so `append_events` and `prune_events` always find a row.
fn lock_event_head(conn: &Connection, project: &str) -> DbResult<EventHead> {
    let head = conn
        .prepare_cached("SELECT seq, hash FROM event_heads WHERE project_id = ?1")?
        .query_row([project], |r| {
            Ok(EventHead {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        })
        .optional()?;
    if let Some(head) = head {
        return Ok(head);
    }
    let genesis = EventHead::genesis();
    conn.prepare_cached("INSERT INTO event_heads (project_id, seq, hash) VALUES (?1, ?2, ?3)")?
        .execute(params![project, genesis.seq, genesis.hash])?;
    Ok(genesis)
}

/// Appends `events` (numbered after the locked head) and moves the head to
/// the last one. The head moves only from the seq right before the first
/// event (compare-and-set), so events numbered after another head, or not
/// one after the other, are refused whole.
fn append_events(conn: &Connection, project: &str, events: &[Event]) -> DbResult<()> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    let contiguous = events.windows(2).all(|w| w[1].seq == w[0].seq + 1);
    if !contiguous || events.iter().any(|e| e.project_id != project) {
        return Err(internal(format!(
            "events of project {project} to append are not numbered one after the other"
        )));
    }
    let moved = conn
        .prepare_cached("UPDATE event_heads SET seq = ?2, hash = ?3 WHERE project_id = ?1 AND seq = ?4")?
        .execute(params![project, last.seq, last.hash, first.seq - 1])?;
    if moved != 1 {
        return Err(internal(format!(
            "events of project {project} from seq {} do not follow its head",
            first.seq
        )));
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO events (project_id, seq, type, created_at, data, hash, customers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in events {
        let customers: Vec<i64> = e.customers.iter().map(|c| c.get()).collect();
        insert.execute(params![
            project,
            e.seq,
            e.kind.as_str(),
            e.created_at,
            e.data.get(),
            e.hash,
            rows::json_list(&customers)
        ])?;
    }
    Ok(())
}

/// The anchor of the project's pruned events, if any were pruned.
pub(crate) fn event_anchor(conn: &Connection, project: &str) -> DbResult<Option<Anchor>> {
    Ok(conn
        .prepare_cached(
            "SELECT anchor_seq, anchor_hash, anchor_pruned_at, anchor_signature FROM event_heads
             WHERE project_id = ?1 AND anchor_seq IS NOT NULL",
        )?
        .query_row([project], |r| {
            Ok(Anchor {
                seq: r.get(0)?,
                hash: r.get(1)?,
                pruned_at: r.get(2)?,
                signature: r.get(3)?,
            })
        })
        .optional()?)
}

/// Keeps `anchor`, then drops the events at or below it (the trigger
/// `events_no_delete` lets through only those). Returns how many went.
pub(crate) fn prune_events(conn: &Connection, project: &str, anchor: &Anchor) -> DbResult<u64> {
    let kept = conn
        .prepare_cached(
            "UPDATE event_heads SET anchor_seq = ?2, anchor_hash = ?3, anchor_pruned_at = ?4,
                    anchor_signature = ?5
             WHERE project_id = ?1 AND seq >= ?2 AND coalesce(anchor_seq, 0) <= ?2",
        )?
        .execute(params![
            project,
            anchor.seq,
            anchor.hash,
            anchor.pruned_at,
            anchor.signature
        ])?;
    if kept != 1 {
        return Err(internal(format!(
            "project {project} has no events up to seq {} to prune, or pruned past it",
            anchor.seq
        )));
    }
    let dropped = conn
        .prepare_cached("DELETE FROM events WHERE project_id = ?1 AND seq <= ?2")?
        .execute(params![project, anchor.seq])?;
    Ok(u64::try_from(dropped).unwrap_or(u64::MAX))
}

/// A transaction's entries in the order they were written (rowid order on
/// `entries_by_transaction`).
pub(crate) fn transaction_entries(conn: &Connection, transaction: TransactionId) -> DbResult<Vec<Entry>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {} FROM entries WHERE transaction_id = ?1 ORDER BY id",
            rows::ENTRY_COLUMNS
        ))?
        .query_map([transaction.get()], rows::entry)?
        .collect::<Result<_, _>>()?)
}

/// One lot, by id.
pub(crate) fn lot(conn: &Connection, id: LotId) -> DbResult<Option<Lot>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {} FROM lots l WHERE l.id = ?1",
            rows::LOT_COLUMNS
        ))?
        .query_row([id.get()], rows::lot)
        .optional()?)
}

fn internal(message: String) -> DbError {
    DbError(StoreError::Internal(message))
}
