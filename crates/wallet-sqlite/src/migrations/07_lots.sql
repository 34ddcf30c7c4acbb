-- Step 7: lots (spec/lots.md), value of a wallet that expires at a time,
-- with their history and what Open holds reserve of them; and the Expire
-- entry (negative: a lot's value that ran out).
--
-- The hot path's statements stay free of statement journals (see
-- `statements::lots`): `update_lot` changes no foreign key column and no
-- trigger fires on an UPDATE or INSERT of these tables.

-- A lot. `remaining` is part of its wallet's balance; `earmarked` the part
-- of it Open holds reserve (it does not expire while they are Open). Only
-- an Open lot changes (`update_lot` says `WHERE status = 'Open'`).
CREATE TABLE lots (
    id             INTEGER PRIMARY KEY,
    wallet_id      INTEGER NOT NULL REFERENCES wallets(id),
    -- What formed it (an Issue with expiresAt, or what a Transfer or
    -- Capture brought from another lot, keeping its expiry).
    amount         INTEGER NOT NULL CHECK (amount > 0),
    remaining      INTEGER NOT NULL,
    earmarked      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    -- Spent: all of it left before its time; Expired: it ran out at or after it.
    status         TEXT NOT NULL CHECK (status IN ('Open', 'Spent', 'Expired')),
    -- The transaction that formed it.
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (0 <= earmarked AND earmarked <= remaining AND remaining <= amount),
    CHECK ((status = 'Open') = (remaining > 0))
);
-- A wallet's lots of one status in spending order: `lots_of` (every
-- transfer's source, usually an empty range), `wallet_lots`, `expiring`.
CREATE INDEX lots_by_wallet ON lots (wallet_id, status, expires_at, id);
-- The expiry worker's queue: Open lots by expiry. Not a partial index
-- (`WHERE status = 'Open' AND …`): SQLite compares a statement's bound
-- parameters with a partial index's condition when it plans, and then
-- re-prepares the statement whenever a binding changes — every lot read
-- by wallet id (`lots_of`, `expiring`) would be parsed again each time.
CREATE INDEX lots_due ON lots (status, expires_at);
CREATE TRIGGER lots_no_delete BEFORE DELETE ON lots
BEGIN SELECT RAISE(ABORT, 'lots are never deleted'); END;

-- One step of a lot's history after it formed (`LotStepKind::effect`):
-- `amount` plus every step's effect is its (remaining, earmarked).
-- Append-only: the triggers refuse any UPDATE or DELETE.
CREATE TABLE lot_steps (
    id             INTEGER PRIMARY KEY,
    lot_id         INTEGER NOT NULL REFERENCES lots(id),
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    kind           TEXT NOT NULL CHECK (kind IN ('Spend', 'Earmark', 'Release', 'Capture', 'Expire')),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    created_at     INTEGER NOT NULL
);
-- A lot's history, oldest first (keys end with the rowid): `check`'s replay.
CREATE INDEX lot_steps_by_lot ON lot_steps (lot_id);
CREATE TRIGGER lot_steps_no_update BEFORE UPDATE ON lot_steps
BEGIN SELECT RAISE(ABORT, 'lot history is append-only'); END;
CREATE TRIGGER lot_steps_no_delete BEFORE DELETE ON lot_steps
BEGIN SELECT RAISE(ABORT, 'lot history is append-only'); END;

-- The part of a lot an Open hold reserves (its earmarks). A hold that is no
-- longer Open has none: the transaction that ends it deletes them.
CREATE TABLE hold_lots (
    hold_id INTEGER NOT NULL REFERENCES holds(id),
    lot_id  INTEGER NOT NULL REFERENCES lots(id),
    amount  INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (hold_id, lot_id)
) WITHOUT ROWID;

-- entries.kind gains 'Expire'. Widening a CHECK changes no stored row, so
-- instead of rebuilding `entries` (every row of the ledger copied, the file
-- twice its size meanwhile) this uses SQLite's documented procedure for
-- schema changes that do not touch the file format ("Making Other Kinds Of
-- Table Schema Changes", https://sqlite.org/lang_altertable.html): the
-- table's text in sqlite_schema is edited in place. The caller checks that
-- the edit took (`migrations::check_entry_kinds`) before it commits; the
-- tables created above change the schema cookie in the same transaction,
-- so every other connection rereads the schema, and the caller has this one
-- reread it after the commit (`PRAGMA writable_schema = RESET`: inside the
-- transaction, a rollback would leave the connection the rolled-back
-- schema).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (kind IN (''Issue'', ''Redeem'', ''Transfer'', ''Capture''))',
                       'CHECK (kind IN (''Issue'', ''Redeem'', ''Transfer'', ''Capture'', ''Expire''))')
WHERE type = 'table' AND name = 'entries';
PRAGMA writable_schema = OFF;
