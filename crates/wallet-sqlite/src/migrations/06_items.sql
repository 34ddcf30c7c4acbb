-- Step 6: items (spec/items.md), unique things a customer or the project's
-- stock owns, moved in the same transactions as value, with their history.
--
-- API v1's items (one per entry: name, data, used) become items of the new
-- table, and the old table goes:
--   public_id   'v1_' || entry id (the id an old export's item gets too);
--   item_type   the name; properties the data, as it was;
--   owner       the entry's wallet's customer (the user it was given to);
--   status      Consumed if it was used, else Active;
--   v1_entry_id the entry; created_at = updated_at = the entry's time;
-- and their history: a GrantItem in the entry's transaction (from nothing
-- to the owner), and for a used one a ConsumeItem with no transaction (API
-- v1 kept no record of the use; from = to = the owner).
--
-- The hot path's statements stay free of statement journals (see
-- `statements::items`): no UPDATE trigger on `items`, and its owner column
-- carries no foreign key, since an UPDATE that changes a foreign key column
-- opens one. `check` verifies that every owner is a customer of the item's
-- project instead.

-- The old table's name is the new one's: move it aside first (its index
-- goes with it, and with it when it is dropped).
ALTER TABLE items RENAME TO v1_items;

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id),
    -- The caller's itemId, or the server's `it_...`: unique in the project.
    public_id   TEXT NOT NULL CHECK (length(public_id) BETWEEN 1 AND 64),
    item_type   TEXT NOT NULL,
    -- JSON text exactly as the client sent it; NULL when none was given.
    -- json_valid accepts everything the core's parser does (a test holds
    -- that), so it never refuses what the API accepted.
    properties  TEXT CHECK (properties IS NULL OR json_valid(properties)),
    -- The owner; NULL = the project's stock. No REFERENCES: see above.
    customer_id INTEGER,
    -- Only an Active item changes (`update_item` says `WHERE status =
    -- 'Active'`): Consumed is final.
    status      TEXT NOT NULL CHECK (status IN ('Active', 'Consumed')),
    -- The API v1 entry that granted it (one item per entry at most:
    -- `items_v1_entry`).
    v1_entry_id INTEGER REFERENCES entries(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, public_id),
    -- 1-64 characters through API v2; an API v1 item keeps its name (up to 200).
    CHECK (length(item_type) BETWEEN 1 AND CASE WHEN v1_entry_id IS NULL THEN 64 ELSE 200 END)
);
-- An owner's items (a customer's, or the stock's: customer_id NULL), oldest
-- first, filtered by type or status on the way: a range of this index.
CREATE INDEX items_by_owner ON items (project_id, customer_id, id);
-- The item of an API v1 entry (use_item, an entry with its item), and API
-- v1's inventory in entry order; v2's items are not in it.
CREATE UNIQUE INDEX items_v1_entry ON items (v1_entry_id) WHERE v1_entry_id IS NOT NULL;
CREATE TRIGGER items_no_delete BEFORE DELETE ON items
BEGIN SELECT RAISE(ABORT, 'items are never deleted'); END;

-- One step of an item's history per operation that touched it.
-- Append-only, like entries: the triggers below refuse any UPDATE or DELETE.
CREATE TABLE item_steps (
    id               INTEGER PRIMARY KEY,
    item_id          INTEGER NOT NULL REFERENCES items(id),
    -- NULL only for the use of an API v1 item before history was kept.
    transaction_id   INTEGER REFERENCES transactions(id),
    kind             TEXT NOT NULL
                     CHECK (kind IN ('GrantItem', 'TransferItem', 'ConsumeItem', 'SetItemProperties')),
    -- The owners before and after (NULL: stock, or nothing before a grant).
    from_customer_id INTEGER REFERENCES customers(id),
    to_customer_id   INTEGER REFERENCES customers(id),
    -- The item's properties after the step.
    properties       TEXT CHECK (properties IS NULL OR json_valid(properties)),
    created_at       INTEGER NOT NULL,
    CHECK (transaction_id IS NOT NULL OR kind = 'ConsumeItem')
);
-- An item's history, oldest first (keys end with the rowid): `item_history`
-- and `check`'s replay.
CREATE INDEX item_steps_by_item ON item_steps (item_id);
-- The items a transaction touched (a duplicate referenceId answers them).
CREATE INDEX item_steps_by_transaction ON item_steps (transaction_id);
CREATE TRIGGER item_steps_no_update BEFORE UPDATE ON item_steps
BEGIN SELECT RAISE(ABORT, 'item history is append-only'); END;
CREATE TRIGGER item_steps_no_delete BEFORE DELETE ON item_steps
BEGIN SELECT RAISE(ABORT, 'item history is append-only'); END;

-- Data an old server stored that is not JSON (it never wrote any: it
-- stored the request's JSON value) is kept as a JSON string of that text
-- rather than refusing the whole upgrade.
INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                   created_at, updated_at)
SELECT w.project_id, 'v1_' || o.entry_id, o.name,
       CASE WHEN o.data IS NULL OR json_valid(o.data) THEN o.data ELSE json_quote(o.data) END,
       w.customer_id, CASE WHEN o.used THEN 'Consumed' ELSE 'Active' END, o.entry_id,
       e.created_at, e.created_at
FROM v1_items o
-- LEFT: an item whose entry or wallet is missing fails the NOT NULLs and
-- with them the upgrade (which changes nothing), rather than being lost.
LEFT JOIN entries e ON e.id = o.entry_id
LEFT JOIN wallets w ON w.id = e.wallet_id
ORDER BY o.entry_id;

-- Every grant before every use: each item's history in step order.
INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id, properties,
                        created_at)
SELECT i.id, e.transaction_id, 'GrantItem', NULL, i.customer_id, i.properties, i.created_at
FROM items i JOIN entries e ON e.id = i.v1_entry_id
ORDER BY i.id;
INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id, properties,
                        created_at)
SELECT id, NULL, 'ConsumeItem', customer_id, customer_id, properties, created_at
FROM items
WHERE status = 'Consumed'
ORDER BY id;

DROP TABLE v1_items;
