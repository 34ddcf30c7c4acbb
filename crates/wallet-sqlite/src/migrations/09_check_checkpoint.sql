-- Step 9: the checkpoint of `check` (docs/operations.md): what the last
-- check that found no violation covered, so the next one checks only what
-- came after. One row at most; written through the writer
-- (`record_checkpoint`), never behind it. `entry_id`, `transaction_id`,
-- `item_step_id` and `lot_step_id` are the largest ids the check saw.
CREATE TABLE check_checkpoint (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    entry_id       INTEGER NOT NULL,
    transaction_id INTEGER NOT NULL,
    item_step_id   INTEGER NOT NULL,
    lot_step_id    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
-- Per asset, issued - redeemed - expired up to the checkpoint's entry, as
-- decimal text (it may pass i64).
CREATE TABLE check_checkpoint_assets (
    asset_id INTEGER PRIMARY KEY,
    net      TEXT NOT NULL
);
-- Per project, its event head's seq at the checkpoint.
CREATE TABLE check_checkpoint_heads (
    project_id TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL
) WITHOUT ROWID;
