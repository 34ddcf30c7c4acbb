-- Step 8: events (spec/events.md): the outbox every committed change writes
-- in its own transaction, numbered per project 1, 2, 3, … with no gaps and
-- hash-chained; each project's head (and the anchor of pruned events); and
-- webhooks with their queues and delivery attempts.
--
-- As on the rest of the hot path, no trigger fires on an INSERT of these
-- tables, so `append_events` opens no statement journal.

-- One event. `data` is canonical JSON (what the hash covers); `customers`
-- the customers it reaches (a JSON array of customer row ids, `[]` for
-- none): whose customer keys may stream it. Append-only: an UPDATE is
-- refused, and a DELETE only of events at or below the project's anchor,
-- which `prune_events` moves first.
CREATE TABLE events (
    project_id TEXT NOT NULL REFERENCES projects(id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    customers  TEXT NOT NULL,
    PRIMARY KEY (project_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN OLD.seq > coalesce((SELECT anchor_seq FROM event_heads WHERE project_id = OLD.project_id), 0)
BEGIN SELECT RAISE(ABORT, 'events are dropped only below a pruning anchor'); END;

-- Where each project's chain stands: its last event (`seq` 0 and the
-- genesis hash before the first; written by the first write with events),
-- and the anchor of its pruned events (all NULL until a prune).
CREATE TABLE event_heads (
    project_id       TEXT PRIMARY KEY REFERENCES projects(id),
    seq              INTEGER NOT NULL CHECK (seq >= 0),
    hash             TEXT NOT NULL,
    anchor_seq       INTEGER,
    anchor_hash      TEXT,
    anchor_pruned_at INTEGER,
    anchor_signature TEXT,
    CHECK ((anchor_seq IS NULL) = (anchor_hash IS NULL)
           AND (anchor_seq IS NULL) = (anchor_pruned_at IS NULL)
           AND (anchor_seq IS NULL) = (anchor_signature IS NULL)),
    CHECK (anchor_seq IS NULL OR (anchor_seq > 0 AND anchor_seq <= seq))
) WITHOUT ROWID;

-- An endpoint and its queue: every matching event with `seq <= cursor` is
-- settled for it; `failures` attempts were made at the next one since
-- `first_failure_at`, and the next is not made before `next_attempt_at`.
-- `lease_owner` delivers its events until `lease_until` (one process at a
-- time). `types`: a JSON array of type names, NULL for every type.
CREATE TABLE webhooks (
    id               INTEGER PRIMARY KEY,
    public_id        TEXT NOT NULL UNIQUE,
    project_id       TEXT NOT NULL REFERENCES projects(id),
    url              TEXT NOT NULL,
    types            TEXT,
    description      TEXT,
    salt             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    cursor           INTEGER NOT NULL CHECK (cursor >= 0),
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    first_failure_at INTEGER,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER
);
-- A project's endpoints, oldest first.
CREATE INDEX webhooks_by_project ON webhooks (project_id, id);
-- The delivery worker's queue, soonest first.
CREATE INDEX webhooks_due ON webhooks (next_attempt_at);

-- One row per attempt (`Pending` is never stored: it is the queue's state).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id),
    event_seq       INTEGER NOT NULL,
    attempt         INTEGER NOT NULL CHECK (attempt > 0),
    status          TEXT NOT NULL CHECK (status IN ('Delivered', 'Failed', 'Dead')),
    http_status     INTEGER,
    error           TEXT,
    at              INTEGER NOT NULL,
    next_attempt_at INTEGER
);
-- An endpoint's attempts newest first, all of them or of one status (plain
-- indexes, not partial ones: see `lots_due` in step 7).
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (webhook_id, status, id);
