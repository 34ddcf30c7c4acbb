//! The event invariants (`spec/events.md`, `CheckReport::event_mismatches`)
//! that are cheap and certain; the hash chain and the ledger's agreement
//! with it are `Ledger::verify`'s.
//!
//! - per project with events or a head: a head row, at the last event's
//!   `seq` (or, every event pruned, at the anchor or 0), and its events
//!   numbered anchor + 1 to head with no gap (count = head − anchor, none at
//!   or below the anchor);
//! - per delivery: an existing webhook, and an event at or before its
//!   project's head.

use super::MAX_LISTED;
use crate::error::DbResult;
use rusqlite::Connection;
use wallet_core::check::Checkpoint;

/// Each query returns one text column describing a violation.
const HEADS: &str = "
    SELECT 'project ' || p.project_id || ': events but no head'
    FROM (SELECT DISTINCT project_id FROM events) p
    WHERE NOT EXISTS (SELECT 1 FROM event_heads h WHERE h.project_id = p.project_id)
    UNION ALL
    SELECT 'project ' || h.project_id || ': head at seq ' || h.seq || ', anchor at '
           || coalesce(h.anchor_seq, 0) || ', but ' || coalesce(e.n, 0) || ' events from seq '
           || coalesce(e.lo, 0) || ' to ' || coalesce(e.hi, 0)
    FROM event_heads h
    LEFT JOIN (SELECT project_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi
               FROM events GROUP BY project_id) e ON e.project_id = h.project_id
    WHERE h.seq != coalesce(e.hi, h.anchor_seq, 0)
       OR coalesce(e.n, 0) != h.seq - coalesce(h.anchor_seq, 0)
       OR coalesce(e.lo, h.seq + 1) <= coalesce(h.anchor_seq, 0)";

const DELIVERIES: &str = "
    SELECT 'delivery ' || d.id || ': of webhook ' || d.webhook_id || ', which is not there'
    FROM webhook_deliveries d LEFT JOIN webhooks w ON w.id = d.webhook_id
    WHERE w.id IS NULL
    UNION ALL
    SELECT 'delivery ' || d.id || ' (webhook ' || w.public_id || '): of event ' || d.event_seq
           || ', past its project''s head ' || coalesce(h.seq, 0)
    FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    LEFT JOIN event_heads h ON h.project_id = w.project_id
    WHERE d.event_seq > coalesce(h.seq, 0)";

/// Incremental `HEADS`: per project, its events after its checkpoint seq
/// (or its anchor, if pruned past it) are numbered on to its head with no
/// gap, through the primary key; and no project has events but no head.
const NEW_HEADS: &str = "
    SELECT 'project ' || p.id || ': events but no head'
    FROM projects p
    WHERE NOT EXISTS (SELECT 1 FROM event_heads h WHERE h.project_id = p.id)
      AND EXISTS (SELECT 1 FROM events e WHERE e.project_id = p.id)
    UNION ALL
    SELECT 'project ' || x.project_id || ': head at seq ' || x.seq || ', checked up to seq ' || x.low
           || ', but ' || x.n || ' events after it, up to ' || coalesce(x.hi, x.low)
    FROM (SELECT h.project_id, h.seq, b.low,
                 (SELECT count(*) FROM events e WHERE e.project_id = h.project_id AND e.seq > b.low) AS n,
                 (SELECT max(e.seq) FROM events e WHERE e.project_id = h.project_id AND e.seq > b.low) AS hi
          FROM event_heads h
          JOIN (SELECT h.project_id,
                       max(coalesce(c.seq, 0), coalesce(h.anchor_seq, 0)) AS low
                FROM event_heads h LEFT JOIN check_checkpoint_heads c ON c.project_id = h.project_id) b
            ON b.project_id = h.project_id) x
    WHERE x.seq != coalesce(x.hi, x.low) OR x.n != x.seq - x.low";

/// All of them (`from` None), or, incremental, the numbering after each
/// project's checkpoint seq (deliveries are checked whole either way).
pub(crate) fn mismatches(conn: &Connection, from: Option<&Checkpoint>) -> DbResult<Vec<String>> {
    let mut found = Vec::new();
    let heads = if from.is_some() { NEW_HEADS } else { HEADS };
    for sql in [heads, DELIVERIES] {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows.take(MAX_LISTED) {
            found.push(row?);
        }
    }
    found.truncate(MAX_LISTED);
    Ok(found)
}
