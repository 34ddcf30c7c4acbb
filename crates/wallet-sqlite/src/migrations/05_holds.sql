-- Step 5: holds, credit limits, and the project's own (system) authority.
--
-- SQLite cannot ALTER a CHECK, and three tables have CHECKs that forbid
-- states that are now valid:
--   wallets.balance >= 0        -> a balance may go down to -credit_limit;
--   entries.kind                -> gains 'Capture';
--   entries.balance_after >= 0  -> may be negative (a wallet on credit);
--   authorities' credential     -> the system authority has none.
-- Each is rebuilt with SQLite's documented procedure (create the new table,
-- copy every row with its id, drop the old one, rename, recreate indexes and
-- triggers). The caller runs this with foreign keys off, inside the
-- migration's one transaction, and runs `PRAGMA foreign_key_check` before
-- it commits (steps 1 and 10 of the procedure).

CREATE TABLE authorities_new (
    id             INTEGER PRIMARY KEY,
    public_id      TEXT NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 1 AND 30),
    project_id     TEXT NOT NULL REFERENCES projects(id),
    name           TEXT NOT NULL CHECK (length(name) <= 200),
    public_key_pem TEXT,
    token_digest   BLOB,
    -- 1 for the project's own authority, which posts what the server does by
    -- itself (expiries) and what the operator does: it has no credential, so
    -- it can never authenticate.
    system         INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    CHECK (CASE WHEN system = 1 THEN public_key_pem IS NULL AND token_digest IS NULL
                ELSE (public_key_pem IS NULL) != (token_digest IS NULL) END)
);
INSERT INTO authorities_new (id, public_id, project_id, name, public_key_pem, token_digest, system,
                             created_at, revoked_at)
    SELECT id, public_id, project_id, name, public_key_pem, token_digest, 0, created_at, revoked_at
    FROM authorities ORDER BY id;
DROP TABLE authorities;
ALTER TABLE authorities_new RENAME TO authorities;
CREATE UNIQUE INDEX authorities_system ON authorities (project_id) WHERE system = 1;

CREATE TABLE wallets_new (
    id           INTEGER PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id),
    asset_id     INTEGER NOT NULL REFERENCES assets(id),
    -- NULL owner = a system wallet (fees, issuance pools, escrow).
    customer_id  INTEGER REFERENCES customers(id),
    -- 1 for the customer's default wallet of an asset (API v1's wallet).
    is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    name         TEXT,
    description  TEXT,
    status       TEXT NOT NULL DEFAULT 'Open'
                 CHECK (status IN ('Open', 'Suspended', 'Closed')),
    -- Posted value in smallest parts; below zero only down to -credit_limit.
    balance      INTEGER NOT NULL DEFAULT 0,
    -- What the wallet's Open holds still reserve.
    held         INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
    -- How far below zero the balance may go; at most 2^62 (MAX_CREDIT_LIMIT).
    credit_limit INTEGER NOT NULL DEFAULT 0
                 CHECK (credit_limit BETWEEN 0 AND 4611686018427387904),
    created_at   INTEGER NOT NULL,
    -- The core checks these before it writes; the CHECKs are the last line
    -- of defence. Written so that no valid row overflows: balance >=
    -- -credit_limit >= -2^62 and held <= balance + credit_limit <= i64::MAX.
    CHECK (balance >= -credit_limit),
    CHECK (balance - held >= -credit_limit),
    CHECK (balance <= 9223372036854775807 - credit_limit)
);
INSERT INTO wallets_new (id, project_id, asset_id, customer_id, is_default, name, description, status,
                         balance, held, credit_limit, created_at)
    SELECT id, project_id, asset_id, customer_id, is_default, name, description, status,
           balance, 0, 0, created_at
    FROM wallets ORDER BY id;
DROP TABLE wallets;
ALTER TABLE wallets_new RENAME TO wallets;
CREATE INDEX wallets_by_customer ON wallets (customer_id);
CREATE UNIQUE INDEX wallets_default_per_asset
    ON wallets (customer_id, asset_id) WHERE is_default = 1;
CREATE INDEX wallets_system ON wallets (project_id) WHERE customer_id IS NULL;

CREATE TABLE entries_new (
    id             INTEGER PRIMARY KEY,
    wallet_id      INTEGER NOT NULL REFERENCES wallets(id),
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    authority_id   INTEGER NOT NULL REFERENCES authorities(id),
    kind           TEXT NOT NULL CHECK (kind IN ('Issue', 'Redeem', 'Transfer', 'Capture')),
    amount         INTEGER NOT NULL, -- signed: + into the wallet, - out of it
    -- The posted balance after this entry: below zero on credit, never below
    -- the largest credit limit.
    balance_after  INTEGER NOT NULL CHECK (balance_after >= -4611686018427387904),
    reason         TEXT,
    created_at     INTEGER NOT NULL
);
INSERT INTO entries_new (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason,
                         created_at)
    SELECT id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at
    FROM entries ORDER BY id;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
-- (wallet_id, created_at) and, implicitly, the rowid `id`: a balance at a
-- time is one seek to the last entry at or before it.
CREATE INDEX entries_by_wallet_time ON entries (wallet_id, created_at);
CREATE INDEX entries_by_transaction ON entries (transaction_id);
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;

-- Value reserved in a source wallet, to be captured (moved to a destination)
-- or released (voided, or expired at expires_at). `wallets.held` is the sum
-- of `remaining` of the wallet's Open holds (`check` verifies it).
CREATE TABLE holds (
    id             INTEGER PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id),
    -- The caller's holdId, or the server's `hd_...`: unique in the project.
    public_id      TEXT NOT NULL CHECK (length(public_id) BETWEEN 1 AND 30),
    source_id      INTEGER NOT NULL REFERENCES wallets(id),
    destination_id INTEGER REFERENCES wallets(id),
    asset_id       INTEGER NOT NULL REFERENCES assets(id),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    captured       INTEGER NOT NULL CHECK (captured >= 0),
    remaining      INTEGER NOT NULL CHECK (remaining >= 0),
    status         TEXT NOT NULL CHECK (status IN ('Open', 'Captured', 'Voided', 'Expired')),
    expires_at     INTEGER,
    -- The transaction that placed it.
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (project_id, public_id),
    CHECK (destination_id IS NULL OR destination_id != source_id),
    -- captured + remaining <= amount, written so it cannot overflow.
    CHECK (captured <= amount - remaining),
    -- Open: something remains, and what is not captured remains. Captured:
    -- all of it. Voided and Expired: nothing remains.
    CHECK (status != 'Open' OR (remaining > 0 AND captured = amount - remaining)),
    CHECK (status != 'Captured' OR (remaining = 0 AND captured = amount)),
    CHECK (status NOT IN ('Voided', 'Expired') OR remaining = 0)
);
CREATE INDEX holds_by_source ON holds (source_id, created_at);
CREATE INDEX holds_by_transaction ON holds (transaction_id);
-- The expiry worker's queue: only Open holds with a time.
CREATE INDEX holds_due ON holds (expires_at) WHERE status = 'Open' AND expires_at IS NOT NULL;
