//! Events: each project's chain (`events`), its head and the anchor of its
//! pruned events (`event_heads`).
//!
//! With several writers (worker threads, server processes) at READ
//! COMMITTED, the head's row lock orders a project's writes with events.
//! A job only stages its events (`GroupCache::stage`); once the group's
//! last job has run, [`append_staged`] locks each head `FOR UPDATE` — the
//! group's last locks, held only to its commit, so no group waits for a
//! head while holding a wallet the head's holder needs — and numbers the
//! staged events after it: a concurrent writer of the same project waits
//! there and numbers its events after this one's, so `seq` follows commit
//! order with no gaps. [`append`] writes the events in one
//! statement with the head's move (guarded by the `seq` it was locked at)
//! and a `pg_notify` on `wallet_events` (payload: the project), which PostgreSQL delivers to the
//! listeners at commit (and drops with a rolled-back savepoint); the
//! notifications of one transaction for one project are folded into one.

use super::rows::col;
use crate::cache::Staged;
use crate::conn::PgConn;
use crate::error::{corrupt, DbError, DbResult};
use postgres::Row;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use wallet_core::events::{chain, Anchor, Event, EventHead, EventQuery, EventType};
use wallet_core::ids::CustomerRowId;
use wallet_core::StoreError;

/// Events: `SELECT event_columns!() FROM events`.
macro_rules! event_columns {
    () => {
        "project_id, seq, type, created_at, data, hash, customers"
    };
}

fn event(r: &Row) -> DbResult<Event> {
    let kind: &str = col(r, 2)?;
    let data: String = col(r, 4)?;
    let customers: Vec<i64> = col(r, 6)?;
    Ok(Event {
        project_id: col(r, 0)?,
        seq: col(r, 1)?,
        kind: kind.parse().map_err(|_| corrupt("events.type"))?,
        created_at: col(r, 3)?,
        data: RawValue::from_string(data).map_err(|_| corrupt("events.data"))?,
        hash: col(r, 5)?,
        customers: customers.into_iter().map(CustomerRowId::new).collect(),
    })
}

fn head(r: &Row) -> DbResult<EventHead> {
    Ok(EventHead {
        seq: col(r, 0)?,
        hash: col(r, 1)?,
    })
}

/// The project's head (genesis for a project without a row: none has
/// written an event yet).
pub(crate) fn event_head(conn: &mut PgConn, project: &str) -> DbResult<EventHead> {
    conn.query_opt(
        "SELECT seq, hash FROM event_heads WHERE project_id = $1",
        &[&project],
    )?
    .map_or_else(|| Ok(EventHead::genesis()), |r| head(&r))
}

/// Appends what a group's jobs staged, after its last job and just before
/// its COMMIT: for each project (in project id order, so two groups never
/// wait for each other's heads in a circle), locks its head, numbers and
/// hashes the project's staged events after it in job order, and appends
/// them with one statement (which also notifies the other processes).
pub(crate) fn append_staged(conn: &mut PgConn, staged: Vec<Staged>) -> DbResult<()> {
    let mut by_project: BTreeMap<String, Vec<Staged>> = BTreeMap::new();
    for s in staged {
        by_project.entry(s.project.clone()).or_default().push(s);
    }
    for (project, batches) in by_project {
        let mut head = lock_head(conn, &project)?;
        let mut events = Vec::new();
        for batch in batches {
            let (mut numbered, next) = chain(&head, &project, batch.created_at, batch.drafts);
            events.append(&mut numbered);
            head = next;
        }
        append(conn, &project, &events)?;
    }
    Ok(())
}

/// Reads the head `FOR UPDATE` (held to the commit). A project without a
/// row (one that came in through an import) gets it first: `ON CONFLICT DO
/// NOTHING` waits for a concurrent writer's uncommitted insert, so both
/// then lock the one row.
fn lock_head(conn: &mut PgConn, project: &str) -> DbResult<EventHead> {
    const LOCK: &str = "SELECT seq, hash FROM event_heads WHERE project_id = $1 FOR UPDATE";
    if let Some(r) = conn.query_opt(LOCK, &[&project])? {
        return head(&r);
    }
    conn.execute(
        "INSERT INTO event_heads (project_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&project],
    )?;
    let r = conn.query_one(LOCK, &[&project])?;
    head(&r)
}

/// A `bigint[]` literal (`{1,2}`): per-event arrays of customers travel as
/// one `text[]` parameter and are cast back in SQL (arrays of arrays must
/// be rectangular).
fn customers_literal(customers: &[CustomerRowId]) -> String {
    let ids: Vec<String> = customers.iter().map(|c| c.get().to_string()).collect();
    format!("{{{}}}", ids.join(","))
}

/// Appends `events` (numbered from the locked head's `seq` + 1) and moves
/// the head to the last, in one statement, with the notification.
fn append(conn: &mut PgConn, project: &str, events: &[Event]) -> DbResult<()> {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(());
    };
    let mut seqs = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut created = Vec::with_capacity(events.len());
    let mut data = Vec::with_capacity(events.len());
    let mut hashes = Vec::with_capacity(events.len());
    let mut customers = Vec::with_capacity(events.len());
    for (e, expected) in events.iter().zip(first.seq..) {
        if e.seq != expected || e.project_id != project {
            return Err(DbError(StoreError::Internal(format!(
                "events of {project} to append are not numbered in a row from {}",
                first.seq
            ))));
        }
        seqs.push(e.seq);
        kinds.push(e.kind.as_str());
        created.push(e.created_at);
        data.push(e.data.get());
        hashes.push(e.hash.as_str());
        customers.push(customers_literal(&e.customers));
    }
    let previous = first.seq - 1;
    let row = conn.query_one(
        "WITH added AS (
             INSERT INTO events (project_id, seq, type, created_at, data, hash, customers)
             SELECT $1, e.seq, e.type, e.created_at, e.data, e.hash, e.customers::bigint[]
             FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])
                  AS e(seq, type, created_at, data, hash, customers)
             RETURNING 1),
         moved AS (
             UPDATE event_heads SET seq = $8, hash = $9
             WHERE project_id = $1 AND seq = $10
             RETURNING 1)
         SELECT (SELECT count(*) FROM added), (SELECT count(*) FROM moved),
                pg_notify('wallet_events', $1)::text",
        &[
            &project, &seqs, &kinds, &created, &data, &hashes, &customers, &last.seq, &last.hash, &previous,
        ],
    )?;
    let (added, moved): (i64, i64) = (col(&row, 0)?, col(&row, 1)?);
    if moved != 1 || usize::try_from(added).ok() != Some(events.len()) {
        // The head was not where the events were numbered from: no lock
        // was held (a bug), so nothing of it may commit.
        return Err(DbError(StoreError::Internal(format!(
            "the event head of {project} is not at {previous}: events not appended"
        ))));
    }
    Ok(())
}

/// Events after `query.after`, of `query.types` (all when empty), oldest
/// first: one range of the primary key.
pub(crate) fn events(conn: &mut PgConn, project: &str, query: &EventQuery) -> DbResult<Vec<Event>> {
    let limit = i64::from(query.limit);
    let found = if query.types.is_empty() {
        conn.query(
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE project_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ),
            &[&project, &query.after, &limit],
        )?
    } else {
        let types: Vec<&str> = query.types.iter().map(|t: &EventType| t.as_str()).collect();
        conn.query(
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM events WHERE project_id = $1 AND seq > $2 AND type = ANY($4)
                 ORDER BY seq LIMIT $3"
            ),
            &[&project, &query.after, &limit, &types],
        )?
    };
    found.iter().map(event).collect()
}

pub(crate) fn anchor(conn: &mut PgConn, project: &str) -> DbResult<Option<Anchor>> {
    let Some(r) = conn.query_opt(
        "SELECT anchor_seq, anchor_hash, anchor_pruned_at, anchor_signature FROM event_heads
         WHERE project_id = $1 AND anchor_seq IS NOT NULL",
        &[&project],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Anchor {
        seq: col(&r, 0)?,
        hash: col(&r, 1)?,
        pruned_at: col(&r, 2)?,
        signature: col(&r, 3)?,
    }))
}

/// Moves the anchor to `anchor` (never back), then drops what it covers
/// (the append-only trigger lets through only that).
pub(crate) fn prune(conn: &mut PgConn, project: &str, anchor: &Anchor) -> DbResult<u64> {
    let moved = conn.execute(
        "UPDATE event_heads
         SET anchor_seq = $2, anchor_hash = $3, anchor_pruned_at = $4, anchor_signature = $5
         WHERE project_id = $1 AND $2 <= seq AND coalesce(anchor_seq, 0) <= $2",
        &[
            &project,
            &anchor.seq,
            &anchor.hash,
            &anchor.pruned_at,
            &anchor.signature,
        ],
    )?;
    if moved != 1 {
        return Err(DbError(StoreError::Internal(format!(
            "the anchor of {project} cannot move to {}",
            anchor.seq
        ))));
    }
    conn.execute(
        "DELETE FROM events WHERE project_id = $1 AND seq <= $2",
        &[&project, &anchor.seq],
    )
}
