-- Step 6: the checkpoint of `check` (docs/operations.md): what the last
-- check that found no violation covered, so the next one checks only what
-- came after. One row at most; written through a write transaction
-- (`record_checkpoint`). `entry_id`, `transaction_id`, `item_step_id` and
-- `lot_step_id` are the largest ids the check saw, each recorded only
-- once every row at or below it had committed before the check's snapshot.
CREATE TABLE check_checkpoint (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    entry_id       BIGINT NOT NULL,
    transaction_id BIGINT NOT NULL,
    item_step_id   BIGINT NOT NULL,
    lot_step_id    BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
-- Per asset, issued - redeemed - expired up to the checkpoint's entry.
CREATE TABLE check_checkpoint_assets (
    asset_id BIGINT PRIMARY KEY,
    net      NUMERIC NOT NULL
);
-- Per project, its event head's seq at the checkpoint.
CREATE TABLE check_checkpoint_heads (
    project_id TEXT PRIMARY KEY,
    seq        BIGINT NOT NULL
);
