//! The event invariants (`spec/events.md`, `CheckReport::event_mismatches`)
//! in SQL: each project's head against its events and anchor, its events
//! one per `seq` from the anchor on, and webhooks' queues and attempts
//! against the heads. Each list is capped like the others (`LIMIT 100`).
//! The hashes and the events' agreement with the ledger are `verify`'s.

/// Heads that are not the last event (or, with every event pruned, the
/// anchor); events of a project without a head; a first event that does
/// not follow the anchor; a gap (naming the first missing `seq`).
pub(super) const CHAINS: &str = "
    (SELECT 'project ' || h.project_id || ': its event head is at ' || h.seq || ' but its last event is '
            || coalesce(m.last, h.anchor_seq, 0)
     FROM event_heads h
     LEFT JOIN (SELECT project_id, max(seq) AS last FROM events GROUP BY project_id) m
            ON m.project_id = h.project_id
     WHERE h.seq <> coalesce(m.last, h.anchor_seq, 0)
     ORDER BY h.project_id LIMIT 100)
    UNION ALL
    (SELECT 'project ' || m.project_id || ': events up to ' || m.last || ' but no event head'
     FROM (SELECT project_id, max(seq) AS last FROM events GROUP BY project_id) m
     WHERE NOT EXISTS (SELECT 1 FROM event_heads h WHERE h.project_id = m.project_id)
     ORDER BY m.project_id LIMIT 100)
    UNION ALL
    (SELECT 'project ' || m.project_id || ': its first event is ' || m.first || ', not '
            || (coalesce(h.anchor_seq, 0) + 1)
     FROM (SELECT project_id, min(seq) AS first FROM events GROUP BY project_id) m
     JOIN event_heads h ON h.project_id = m.project_id
     WHERE m.first <> coalesce(h.anchor_seq, 0) + 1
     ORDER BY m.project_id LIMIT 100)
    UNION ALL
    (SELECT 'project ' || e.project_id || ': no event ' || (e.seq + 1) || ' between ' || e.seq || ' and '
            || e.next
     FROM (SELECT project_id, seq, lead(seq) OVER (PARTITION BY project_id ORDER BY seq) AS next
           FROM events) e
     WHERE e.next <> e.seq + 1
     ORDER BY e.project_id, e.seq LIMIT 100)";

/// Attempts of no webhook, or of an event past their project's head;
/// webhooks whose cursor is past it.
pub(super) const WEBHOOKS: &str = "
    (SELECT 'delivery ' || d.id || ': of webhook ' || d.webhook_id || ', which does not exist'
     FROM webhook_deliveries d
     WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)
     ORDER BY d.id LIMIT 100)
    UNION ALL
    (SELECT 'delivery ' || d.id || ' of webhook ' || w.public_id || ': event ' || d.event_seq
            || ' is not one of its project''s (head ' || coalesce(h.seq, 0) || ')'
     FROM webhook_deliveries d
     JOIN webhooks w ON w.id = d.webhook_id
     LEFT JOIN event_heads h ON h.project_id = w.project_id
     WHERE d.event_seq < 1 OR d.event_seq > coalesce(h.seq, 0)
     ORDER BY d.id LIMIT 100)
    UNION ALL
    (SELECT 'webhook ' || w.public_id || ': its cursor ' || w.cursor || ' is past its project''s head '
            || coalesce(h.seq, 0)
     FROM webhooks w LEFT JOIN event_heads h ON h.project_id = w.project_id
     WHERE w.cursor > coalesce(h.seq, 0)
     ORDER BY w.id LIMIT 100)";

/// Incremental `CHAINS`: per project, its events after its checkpoint seq
/// (`$1`/`$2`: parallel arrays of projects and seqs; or after its anchor,
/// if pruned past it) are numbered on to its head with no gap, through the
/// primary key; and no project has events but no head.
const NEW_CHAINS: &str = "
    (SELECT 'project ' || p.id || ': events but no event head'
     FROM projects p
     WHERE NOT EXISTS (SELECT 1 FROM event_heads h WHERE h.project_id = p.id)
       AND EXISTS (SELECT 1 FROM events e WHERE e.project_id = p.id)
     ORDER BY p.id LIMIT 100)
    UNION ALL
    (SELECT 'project ' || x.project_id || ': its event head is at ' || x.seq || ', checked up to '
            || x.low || ', but ' || x.n || ' events after it, up to ' || coalesce(x.hi, x.low)
     FROM (SELECT h.project_id, h.seq, b.low,
                  (SELECT count(*) FROM events e WHERE e.project_id = h.project_id AND e.seq > b.low) AS n,
                  (SELECT max(e.seq) FROM events e WHERE e.project_id = h.project_id AND e.seq > b.low) AS hi
           FROM event_heads h
           CROSS JOIN LATERAL (
               SELECT greatest(coalesce((SELECT c.seq FROM unnest($1::text[], $2::bigint[]) AS c(project_id, seq)
                                         WHERE c.project_id = h.project_id), 0),
                               coalesce(h.anchor_seq, 0)) AS low) b) x
     WHERE x.seq <> coalesce(x.hi, x.low) OR x.n <> x.seq - x.low
     ORDER BY x.project_id LIMIT 100)";

pub(super) fn new_chains(
    conn: &mut crate::conn::PgConn,
    from: &wallet_core::check::Checkpoint,
) -> crate::error::DbResult<Vec<String>> {
    let (projects, seqs): (Vec<String>, Vec<i64>) = from.heads.iter().cloned().unzip();
    conn.query(NEW_CHAINS, &[&projects, &seqs])?
        .iter()
        .map(|r| crate::statements::rows::col::<String>(r, 0))
        .collect()
}
