-- wallet-service schema, step 1.
--
-- This file is the truth for a fresh database. It is embedded in the binary
-- and applied in one transaction when PRAGMA user_version = 0. Later changes
-- are numbered steps in src/storage/migrate.rs; a shipped step is never edited.
--
-- Internal keys are INTEGER rowids (compact and fast); the APIs expose them as
-- decimal strings. Every row that belongs to a tenant carries project_id so a
-- query can always be scoped to one project, and a later PostgreSQL backend
-- can shard by it.

CREATE TABLE projects (
    id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 30),
    name          TEXT NOT NULL CHECK (length(name) <= 200),
    default_asset INTEGER REFERENCES assets(id) DEFERRABLE INITIALLY DEFERRED,
    created_at    INTEGER NOT NULL -- Unix epoch milliseconds, like every *_at
);

CREATE TABLE assets (
    id         INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    code       TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 16),
    name       TEXT NOT NULL CHECK (length(name) <= 200),
    fractions  INTEGER NOT NULL CHECK (fractions >= 1),
    -- Set when the first wallet of this asset is opened; used assets stay.
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, code)
);

-- Trusted applications of one project: the SDK's "authority", the Cloud
-- Wallet "access key". An authority proves itself either with an ES256 key
-- pair (the server keeps only the public key; the private key exists only in
-- the client config file) or with an opaque access key (the server keeps only
-- its SHA-256 digest).
CREATE TABLE authorities (
    id             INTEGER PRIMARY KEY,
    public_id      TEXT NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 1 AND 30),
    project_id     TEXT NOT NULL REFERENCES projects(id),
    name           TEXT NOT NULL CHECK (length(name) <= 200),
    public_key_pem TEXT,
    token_digest   BLOB,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    CHECK ((public_key_pem IS NULL) != (token_digest IS NULL))
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id),
    external_id TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 64),
    name        TEXT,
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'Active'
                CHECK (status IN ('Active', 'Suspended', 'Deleted')),
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, external_id)
);

-- Read-only keys of one customer, for end users' devices. Only the SHA-256
-- digest of the secret is kept.
CREATE TABLE customer_keys (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT NOT NULL UNIQUE CHECK (length(public_id) BETWEEN 1 AND 30),
    customer_id  INTEGER NOT NULL REFERENCES customers(id),
    token_digest BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX customer_keys_by_customer ON customer_keys (customer_id);

CREATE TABLE wallets (
    id          INTEGER PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id),
    asset_id    INTEGER NOT NULL REFERENCES assets(id),
    -- NULL owner = a system wallet (fees, issuance pools, escrow).
    customer_id INTEGER REFERENCES customers(id),
    -- 1 for the customer's default wallet of an asset (API v1's wallet).
    is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    name        TEXT,
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'Open'
                CHECK (status IN ('Open', 'Suspended', 'Closed')),
    -- Smallest parts of the asset. The core checks this before it writes;
    -- the CHECK is the last line of defence.
    balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at  INTEGER NOT NULL
);
CREATE INDEX wallets_by_customer ON wallets (customer_id);
CREATE UNIQUE INDEX wallets_default_per_asset
    ON wallets (customer_id, asset_id) WHERE is_default = 1;
CREATE INDEX wallets_system ON wallets (project_id) WHERE customer_id IS NULL;

CREATE TABLE transactions (
    id           INTEGER PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id),
    -- Unique per project; NULL for API v1 entries (the SDK sends none).
    reference_id TEXT CHECK (length(reference_id) BETWEEN 1 AND 30),
    authority_id INTEGER NOT NULL REFERENCES authorities(id),
    status       TEXT NOT NULL CHECK (status IN ('Completed', 'Failed')),
    error        TEXT,
    description  TEXT,
    -- The operations as requested (JSON), so a retry can be compared and a
    -- failed transaction can be shown. NULL for API v1 entries.
    operations   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX transactions_reference
    ON transactions (project_id, reference_id) WHERE reference_id IS NOT NULL;
CREATE INDEX transactions_by_time ON transactions (project_id, created_at);

-- One line in one wallet's ledger per operation that touched it.
-- Append-only: the triggers below refuse any UPDATE or DELETE.
CREATE TABLE entries (
    id             INTEGER PRIMARY KEY,
    wallet_id      INTEGER NOT NULL REFERENCES wallets(id),
    transaction_id INTEGER NOT NULL REFERENCES transactions(id),
    authority_id   INTEGER NOT NULL REFERENCES authorities(id),
    kind           TEXT NOT NULL CHECK (kind IN ('Issue', 'Redeem', 'Transfer')),
    amount         INTEGER NOT NULL, -- signed: + into the wallet, - out of it
    balance_after  INTEGER NOT NULL CHECK (balance_after >= 0),
    reason         TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX entries_by_wallet_time ON entries (wallet_id, created_at);
CREATE INDEX entries_by_transaction ON entries (transaction_id);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;

-- Running total per wallet and authority, maintained with every entry, so the
-- v1 wallet query filtered by authority never sums entries.
CREATE TABLE authority_totals (
    wallet_id    INTEGER NOT NULL REFERENCES wallets(id),
    authority_id INTEGER NOT NULL REFERENCES authorities(id),
    total        INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, authority_id)
) WITHOUT ROWID;

-- An inventory item given with an entry (API v1). Kept apart from entries so
-- marking it used never touches the immutable entry.
CREATE TABLE items (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id),
    name     TEXT NOT NULL CHECK (length(name) <= 200),
    data     TEXT, -- JSON text; NULL when the authority gave none
    used     INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
CREATE INDEX items_unused ON items (used, entry_id);

-- Server settings: the admin password's argon2id hash, the maintenance switch.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
