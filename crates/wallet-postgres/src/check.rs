//! The invariants of `docs/model.md` (and of holds, `spec/holds.md`,
//! items, `spec/items.md`, lots, `spec/lots.md`: `lots`, and events,
//! `spec/events.md`: `events`),
//! checked on the whole database: the same checks as wallet-sqlite's
//! `check`, in plain SQL, on the caller's snapshot (a read job is one
//! `REPEATABLE READ` transaction). Sums are `NUMERIC` (PostgreSQL's `sum`
//! of `BIGINT`s), so none can overflow, and they are compared exactly in
//! SQL.

use crate::conn::PgConn;
use crate::error::DbResult;
use crate::statements::rows::col;
use wallet_core::check::{CheckReport, Checkpoint, Phases};

mod checkpoint;
mod events;
mod lots;

pub(crate) use checkpoint::{load as load_checkpoint, record as record_checkpoint};

/// Violations listed per check are capped so a broken database still
/// reports fast (the statements say `LIMIT 100`).
const MAX_LISTED: usize = 100;

/// Each query returns one text column describing a violation, or no rows.
const BALANCE_MISMATCHES: &str = "
    SELECT 'wallet ' || w.id || ': balance ' || w.balance || ' but entries sum to '
           || coalesce(s.total, 0) || ' and the last balance_after is ' || coalesce(l.balance_after, 0)
    FROM wallets w
    LEFT JOIN (SELECT wallet_id, sum(amount) AS total, max(id) AS last FROM entries GROUP BY wallet_id) s
           ON s.wallet_id = w.id
    LEFT JOIN entries l ON l.id = s.last
    WHERE w.balance <> coalesce(s.total, 0) OR w.balance <> coalesce(l.balance_after, 0)
    ORDER BY w.id LIMIT 100";

/// The credit-limit invariant: `balance >= -credit_limit` and `balance -
/// held >= -credit_limit`, `held >= 0`, and `balance + credit_limit` within
/// i64 (so `available` is). Computed in NUMERIC, so a broken row cannot
/// make the check itself overflow. A past `balance_after` may be below
/// today's limit (limits change), never below the largest one.
const NEGATIVE_BALANCES: &str = "
    (SELECT 'wallet ' || id || ': balance ' || balance || ', held ' || held
            || ', credit limit ' || credit_limit
     FROM wallets
     WHERE held < 0 OR credit_limit < 0 OR credit_limit > 4611686018427387904
        OR balance::numeric < -credit_limit::numeric
        OR balance::numeric - held < -credit_limit::numeric
        OR balance::numeric + credit_limit > 9223372036854775807
     ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'entry ' || id || ': balance_after ' || balance_after FROM entries
     WHERE balance_after < -4611686018427387904
     ORDER BY id LIMIT 100)";

/// Per wallet with a held value or Open holds: `held` next to the exact sum
/// (NUMERIC) of its Open holds' `remaining`.
const HELD_MISMATCHES: &str = "
    SELECT 'wallet ' || w.id || ': held ' || w.held || ' but its Open holds reserve ' || coalesce(s.open, 0)
    FROM wallets w
    LEFT JOIN (SELECT source_id, sum(remaining) AS open FROM holds WHERE status = 'Open' GROUP BY source_id) s
           ON s.source_id = w.id
    WHERE w.held <> coalesce(s.open, 0)
    ORDER BY w.id LIMIT 100";

/// Holds whose numbers do not add up, or that leave their project or asset.
const HOLD_MISMATCHES: &str = "
    (SELECT 'hold ' || h.id || ' (' || h.public_id || ', ' || h.status || '): amount ' || h.amount
            || ', captured ' || h.captured || ', remaining ' || h.remaining
     FROM holds h
     WHERE h.amount <= 0 OR h.captured < 0 OR h.remaining < 0
        OR h.captured::numeric + h.remaining > h.amount
        OR (h.status = 'Open' AND (h.remaining = 0 OR h.captured::numeric + h.remaining <> h.amount))
        OR (h.status = 'Captured' AND (h.remaining <> 0 OR h.captured <> h.amount))
        OR (h.status IN ('Voided', 'Expired') AND h.remaining <> 0)
     ORDER BY h.id LIMIT 100)
    UNION ALL
    (SELECT 'hold ' || h.id || ' (' || h.public_id || '): its wallets or transaction are of another '
            || 'project or asset'
     FROM holds h
     JOIN wallets s ON s.id = h.source_id
     JOIN transactions t ON t.id = h.transaction_id
     LEFT JOIN wallets d ON d.id = h.destination_id
     WHERE s.project_id <> h.project_id OR s.asset_id <> h.asset_id OR t.project_id <> h.project_id
        OR d.project_id <> h.project_id OR d.asset_id <> h.asset_id
     ORDER BY h.id LIMIT 100)";

/// Per transaction, its transfers' entries and its captures' entries each
/// cancel out within one asset and project.
const TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': ' || lower(e.kind)
           || 's mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.kind IN ('Transfer', 'Capture')
    GROUP BY e.transaction_id, e.kind
    HAVING sum(e.amount) <> 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1
    ORDER BY e.transaction_id, e.kind LIMIT 100";

const FAILED_WITH_ENTRIES: &str = "
    SELECT 'transaction ' || t.id || ' failed but has entries'
    FROM transactions t
    WHERE t.status = 'Failed' AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)
    ORDER BY t.id LIMIT 100";

/// Every wallet and authority whose running total is not the sum of its
/// entries, then every running total without entries.
const AUTHORITY_TOTAL_MISMATCHES: &str = "
    (SELECT 'wallet ' || s.wallet_id || ', authority ' || s.authority_id || ': entries sum to ' || s.total
            || ' but the running total is ' || coalesce(t.total::text, 'missing')
     FROM (SELECT wallet_id, authority_id, sum(amount) AS total FROM entries GROUP BY wallet_id, authority_id) s
     LEFT JOIN authority_totals t ON t.wallet_id = s.wallet_id AND t.authority_id = s.authority_id
     WHERE t.total IS DISTINCT FROM s.total
     ORDER BY s.wallet_id, s.authority_id LIMIT 100)
    UNION ALL
    (SELECT 'wallet ' || t.wallet_id || ', authority ' || t.authority_id || ': running total without entries'
     FROM authority_totals t
     WHERE NOT EXISTS (SELECT 1 FROM entries e
                       WHERE e.wallet_id = t.wallet_id AND e.authority_id = t.authority_id)
     ORDER BY t.wallet_id, t.authority_id LIMIT 100)";

/// Items that leave their project: an owner that is a customer of another
/// project, an API v1 entry of another project, a step naming a
/// transaction or a customer of another project.
const ITEM_OWNERS: &str = "
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): its owner, customer ' || i.customer_id
            || ', is of another project'
     FROM items i JOIN customers c ON c.id = i.customer_id
     WHERE c.project_id <> i.project_id
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): its API v1 entry ' || i.v1_entry_id
            || ' is of another project'
     FROM items i JOIN entries e ON e.id = i.v1_entry_id JOIN wallets w ON w.id = e.wallet_id
     WHERE w.project_id <> i.project_id
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): step ' || s.id
            || ' names a transaction or a customer of another project'
     FROM item_steps s
     JOIN items i ON i.id = s.item_id
     LEFT JOIN transactions t ON t.id = s.transaction_id
     LEFT JOIN customers f ON f.id = s.from_customer
     LEFT JOIN customers o ON o.id = s.to_customer
     WHERE t.project_id <> i.project_id OR f.project_id <> i.project_id OR o.project_id <> i.project_id
     ORDER BY s.id LIMIT 100)";

/// Histories that are not one: no steps, a first step that is not the
/// grant (or a second grant), a step after the consumption, a step from
/// another owner than the previous step left it with, a consumption or a
/// change of properties that moves the item. `n` numbers each item's steps
/// and `consumed_before` counts the consumptions before each one.
const ITEM_HISTORIES: &str = "
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): no history'
     FROM items i WHERE NOT EXISTS (SELECT 1 FROM item_steps s WHERE s.item_id = i.id)
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || h.item_id || ', step ' || h.id || ' (' || h.kind || '): '
            || CASE WHEN h.n = 1 AND h.kind <> 'GrantItem' THEN 'the history does not start with the grant'
                    WHEN h.n > 1 AND h.kind = 'GrantItem' THEN 'a second grant'
                    WHEN h.consumed_before > 0 THEN 'a step after the item was consumed'
                    WHEN h.from_customer IS DISTINCT FROM h.previous_to
                        THEN 'from ' || coalesce(h.from_customer::text, 'stock')
                             || ' but the previous step left it with ' || coalesce(h.previous_to::text, 'stock')
                    ELSE 'a ' || h.kind || ' that moves the item' END
     FROM (SELECT s.id, s.item_id, s.kind, s.from_customer, s.to_customer,
                  row_number() OVER w AS n,
                  lag(s.to_customer) OVER w AS previous_to,
                  count(*) FILTER (WHERE s.kind = 'ConsumeItem')
                      OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS consumed_before
           FROM item_steps s
           WINDOW w AS (PARTITION BY s.item_id ORDER BY s.id)) h
     WHERE (h.n = 1) <> (h.kind = 'GrantItem')
        OR h.consumed_before > 0
        OR h.from_customer IS DISTINCT FROM h.previous_to
        OR (h.kind IN ('ConsumeItem', 'SetItemProperties') AND h.from_customer IS DISTINCT FROM h.to_customer)
     ORDER BY h.id LIMIT 100)";

/// Items that are not what their history replays to: the last step's
/// owner and properties, and Consumed exactly when a ConsumeItem is in it.
const ITEM_STATES: &str = "
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): '
            || CASE WHEN l.to_customer IS DISTINCT FROM i.customer_id
                    THEN 'its history leaves it with ' || coalesce(l.to_customer::text, 'stock')
                         || ' but it is with ' || coalesce(i.customer_id::text, 'stock')
                    ELSE 'its history leaves it other properties than it has' END
     FROM items i
     JOIN LATERAL (SELECT s.to_customer, s.properties FROM item_steps s
                   WHERE s.item_id = i.id ORDER BY s.id DESC LIMIT 1) l ON true
     WHERE l.to_customer IS DISTINCT FROM i.customer_id OR l.properties IS DISTINCT FROM i.properties
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): ' || i.status || ' but its history '
            || CASE WHEN i.status = 'Consumed' THEN 'has no' ELSE 'has a' END || ' ConsumeItem'
     FROM items i
     WHERE (i.status = 'Consumed')
           <> EXISTS (SELECT 1 FROM item_steps s WHERE s.item_id = i.id AND s.kind = 'ConsumeItem')
     ORDER BY i.id LIMIT 100)";

/// Per project and item type: Active items = granted - consumed.
const ITEM_COUNTS: &str = "
    SELECT 'project ' || x.project_id || ', item type ' || x.item_type || ': ' || x.active
           || ' Active items but ' || x.granted || ' granted and ' || x.consumed || ' consumed'
    FROM (SELECT i.project_id, i.item_type,
                 count(*) FILTER (WHERE i.status = 'Active') AS active,
                 coalesce(sum(s.granted), 0) AS granted,
                 coalesce(sum(s.consumed), 0) AS consumed
          FROM items i
          LEFT JOIN (SELECT item_id,
                            count(*) FILTER (WHERE kind = 'GrantItem') AS granted,
                            count(*) FILTER (WHERE kind = 'ConsumeItem') AS consumed
                     FROM item_steps GROUP BY item_id) s ON s.item_id = i.id
          GROUP BY i.project_id, i.item_type) x
    WHERE x.active <> x.granted - x.consumed
    ORDER BY x.project_id, x.item_type LIMIT 100";

/// Incremental items: those with a step after the checkpoint (`$1`,
/// through the primary key of `item_steps`), checked as `ITEM_OWNERS`,
/// `ITEM_HISTORIES` and `ITEM_STATES` do, each history whole; steps after
/// the checkpoint that leave the project. The counts per project and item
/// type are the full check's: with every item's history replaying to its
/// status (checked for these, trusted for the others), they follow.
const NEW_ITEMS: &str = "
    WITH touched AS MATERIALIZED (SELECT DISTINCT item_id FROM item_steps WHERE id > $1)
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): its owner, customer ' || i.customer_id
            || ', is of another project'
     FROM touched x JOIN items i ON i.id = x.item_id JOIN customers c ON c.id = i.customer_id
     WHERE c.project_id <> i.project_id
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): its API v1 entry ' || i.v1_entry_id
            || ' is of another project'
     FROM touched x JOIN items i ON i.id = x.item_id
     JOIN entries e ON e.id = i.v1_entry_id JOIN wallets w ON w.id = e.wallet_id
     WHERE w.project_id <> i.project_id
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): step ' || s.id
            || ' names a transaction or a customer of another project'
     FROM item_steps s
     JOIN items i ON i.id = s.item_id
     LEFT JOIN transactions t ON t.id = s.transaction_id
     LEFT JOIN customers f ON f.id = s.from_customer
     LEFT JOIN customers o ON o.id = s.to_customer
     WHERE s.id > $1
       AND (t.project_id <> i.project_id OR f.project_id <> i.project_id OR o.project_id <> i.project_id)
     ORDER BY s.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || h.item_id || ', step ' || h.id || ' (' || h.kind || '): '
            || CASE WHEN h.n = 1 AND h.kind <> 'GrantItem' THEN 'the history does not start with the grant'
                    WHEN h.n > 1 AND h.kind = 'GrantItem' THEN 'a second grant'
                    WHEN h.consumed_before > 0 THEN 'a step after the item was consumed'
                    WHEN h.from_customer IS DISTINCT FROM h.previous_to
                        THEN 'from ' || coalesce(h.from_customer::text, 'stock')
                             || ' but the previous step left it with ' || coalesce(h.previous_to::text, 'stock')
                    ELSE 'a ' || h.kind || ' that moves the item' END
     FROM (SELECT s.id, s.item_id, s.kind, s.from_customer, s.to_customer,
                  row_number() OVER w AS n,
                  lag(s.to_customer) OVER w AS previous_to,
                  count(*) FILTER (WHERE s.kind = 'ConsumeItem')
                      OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS consumed_before
           FROM touched x JOIN item_steps s ON s.item_id = x.item_id
           WINDOW w AS (PARTITION BY s.item_id ORDER BY s.id)) h
     WHERE (h.n = 1) <> (h.kind = 'GrantItem')
        OR h.consumed_before > 0
        OR h.from_customer IS DISTINCT FROM h.previous_to
        OR (h.kind IN ('ConsumeItem', 'SetItemProperties') AND h.from_customer IS DISTINCT FROM h.to_customer)
     ORDER BY h.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): '
            || CASE WHEN l.to_customer IS DISTINCT FROM i.customer_id
                    THEN 'its history leaves it with ' || coalesce(l.to_customer::text, 'stock')
                         || ' but it is with ' || coalesce(i.customer_id::text, 'stock')
                    ELSE 'its history leaves it other properties than it has' END
     FROM touched x JOIN items i ON i.id = x.item_id
     JOIN LATERAL (SELECT s.to_customer, s.properties FROM item_steps s
                   WHERE s.item_id = i.id ORDER BY s.id DESC LIMIT 1) l ON true
     WHERE l.to_customer IS DISTINCT FROM i.customer_id OR l.properties IS DISTINCT FROM i.properties
     ORDER BY i.id LIMIT 100)
    UNION ALL
    (SELECT 'item ' || i.id || ' (' || i.public_id || '): ' || i.status || ' but its history '
            || CASE WHEN i.status = 'Consumed' THEN 'has no' ELSE 'has a' END || ' ConsumeItem'
     FROM touched x JOIN items i ON i.id = x.item_id
     WHERE (i.status = 'Consumed')
           <> EXISTS (SELECT 1 FROM item_steps s WHERE s.item_id = i.id AND s.kind = 'ConsumeItem')
     ORDER BY i.id LIMIT 100)";

/// What SQLite's `integrity_check` and `foreign_key_check` find there.
/// PostgreSQL enforces every foreign key itself; what is left is the one
/// reference a key cannot hold: a project's default asset must be its own.
const INTEGRITY: &str = "
    SELECT 'project ' || p.id || ': its default asset is missing or belongs to another project'
    FROM projects p LEFT JOIN assets a ON a.id = p.default_asset
    WHERE a.id IS NULL OR a.project_id <> p.id
    ORDER BY p.id LIMIT 100";

/// Incremental: per wallet with entries after the checkpoint (`$1`), each
/// new entry's `balance_after` is the one before it (the wallet's last entry
/// at or before the checkpoint for the first, found through
/// `entries_by_wallet_time`) plus its `amount`, and the last is the
/// wallet's balance. In NUMERIC, so a broken row cannot overflow it.
const NEW_BALANCE_MISMATCHES: &str = "
    WITH touched AS (SELECT wallet_id, max(id) AS last FROM entries WHERE id > $1 GROUP BY wallet_id),
    before AS (SELECT t.wallet_id,
                      (SELECT p.balance_after FROM entries p
                       WHERE p.id = (SELECT max(q.id) FROM entries q
                                     WHERE q.wallet_id = t.wallet_id AND q.id <= $1)) AS balance
               FROM touched t),
    new AS (SELECT id, wallet_id, amount, balance_after,
                   lag(balance_after) OVER (PARTITION BY wallet_id ORDER BY id) AS previous
            FROM entries WHERE id > $1)
    (SELECT 'entry ' || n.id || ' of wallet ' || n.wallet_id || ': balance_after ' || n.balance_after
            || ' but the entry before left ' || coalesce(n.previous, b.balance, 0) || ' and it moves ' || n.amount
     FROM new n JOIN before b ON b.wallet_id = n.wallet_id
     WHERE n.balance_after::numeric - n.amount <> coalesce(n.previous, b.balance, 0)
     ORDER BY n.id LIMIT 100)
    UNION ALL
    (SELECT 'wallet ' || w.id || ': balance ' || w.balance || ' but its last entry''s balance_after is '
            || l.balance_after
     FROM touched t JOIN wallets w ON w.id = t.wallet_id JOIN entries l ON l.id = t.last
     WHERE w.balance <> l.balance_after
     ORDER BY w.id LIMIT 100)";

/// Incremental `NEGATIVE_BALANCES`: every wallet (one scan of `wallets`),
/// entries after the checkpoint.
const NEW_NEGATIVE_BALANCES: &str = "
    (SELECT 'wallet ' || id || ': balance ' || balance || ', held ' || held
            || ', credit limit ' || credit_limit
     FROM wallets
     WHERE held < 0 OR credit_limit < 0 OR credit_limit > 4611686018427387904
        OR balance::numeric < -credit_limit::numeric
        OR balance::numeric - held < -credit_limit::numeric
        OR balance::numeric + credit_limit > 9223372036854775807
     ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'entry ' || id || ': balance_after ' || balance_after FROM entries
     WHERE id > $1 AND balance_after < -4611686018427387904
     ORDER BY id LIMIT 100)";

/// Incremental `TRANSFER_MISMATCHES` and `FAILED_WITH_ENTRIES`:
/// transactions after the checkpoint (`$1`), through
/// `entries_by_transaction`.
const NEW_TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': ' || lower(e.kind)
           || 's mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.transaction_id > $1 AND e.kind IN ('Transfer', 'Capture')
    GROUP BY e.transaction_id, e.kind
    HAVING sum(e.amount) <> 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1
    ORDER BY e.transaction_id, e.kind LIMIT 100";

const NEW_FAILED_WITH_ENTRIES: &str = "
    SELECT 'transaction ' || t.id || ' failed but has entries'
    FROM transactions t
    WHERE t.id > $1 AND t.status = 'Failed' AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)
    ORDER BY t.id LIMIT 100";

/// Incremental `AUTHORITY_TOTAL_MISMATCHES`: the (wallet, authority) pairs
/// with entries after the checkpoint (`$1`), summed over their whole
/// history through `entries_by_wallet_time`.
const NEW_AUTHORITY_TOTAL_MISMATCHES: &str = "
    SELECT 'wallet ' || s.wallet_id || ', authority ' || s.authority_id || ': entries sum to ' || s.total
           || ' but the running total is ' || coalesce(t.total::text, 'missing')
    FROM (SELECT e.wallet_id, e.authority_id, sum(e.amount) AS total
          FROM (SELECT DISTINCT wallet_id, authority_id FROM entries WHERE id > $1) p
          JOIN entries e ON e.wallet_id = p.wallet_id AND e.authority_id = p.authority_id
          GROUP BY e.wallet_id, e.authority_id) s
    LEFT JOIN authority_totals t ON t.wallet_id = s.wallet_id AND t.authority_id = s.authority_id
    WHERE t.total IS DISTINCT FROM s.total
    ORDER BY s.wallet_id, s.authority_id LIMIT 100";

/// Per asset: the sum of balances (one scan of `wallets`) and the net, in
/// text: at the checkpoint (`$2`/`$3`, parallel arrays of asset ids and
/// nets; empty for a full check) plus every entry after `$1` (0 for a full
/// check).
const ASSET_NETS: &str = "
    SELECT a.id, coalesce(b.total, 0)::text, (coalesce(c.net, 0) + coalesce(n.total, 0))::text
    FROM assets a
    LEFT JOIN (SELECT asset_id, sum(balance) AS total FROM wallets GROUP BY asset_id) b ON b.asset_id = a.id
    LEFT JOIN (SELECT unnest($2::bigint[]) AS asset_id, unnest($3::text[])::numeric AS net) c
           ON c.asset_id = a.id
    LEFT JOIN (SELECT w.asset_id, sum(e.amount) AS total
               FROM entries e JOIN wallets w ON w.id = e.wallet_id
               WHERE e.id > $1 AND e.kind IN ('Issue', 'Redeem', 'Expire') GROUP BY w.asset_id) n
           ON n.asset_id = a.id
    ORDER BY a.id";

/// Runs every check on `conn`, which the caller has put in one transaction.
pub(crate) fn run(conn: &mut PgConn) -> DbResult<CheckReport> {
    run_since(conn, None, &wallet_core::progress::Quiet)
}

/// Runs the checks on `conn`, which the caller has put in one transaction:
/// all of them (`from` None), or what came after the checkpoint `from`.
/// Reports each phase's start to `progress`.
pub(crate) fn run_since(
    conn: &mut PgConn,
    from: Option<&Checkpoint>,
    progress: &dyn wallet_core::progress::Progress,
) -> DbResult<CheckReport> {
    let (entry, transaction) = from.map_or((0, 0), |c| (c.entry_id, c.transaction_id));
    let mut phases = Phases::new(11, progress);
    let mut step = |name: &str| phases.start(name);
    let mut report = CheckReport::starting(from);
    step("counts");
    let mut count = |sql: &'static str| -> DbResult<i64> { col(&conn.query_one(sql, &[])?, 0) };
    report.wallets = count("SELECT count(*) FROM wallets")?;
    report.entries = count("SELECT count(*) FROM entries")?;
    report.transactions = count("SELECT count(*) FROM transactions")?;
    report.items = count("SELECT count(*) FROM items")?;
    report.lots = count("SELECT count(*) FROM lots")?;
    let incremental = from.is_some();
    step("integrity");
    report.integrity = list(conn, INTEGRITY, None)?;
    step("balances");
    report.balance_mismatches = if incremental {
        list(conn, NEW_BALANCE_MISMATCHES, Some(entry))?
    } else {
        list(conn, BALANCE_MISMATCHES, None)?
    };
    step("credit limits");
    report.negative_balances = if incremental {
        list(conn, NEW_NEGATIVE_BALANCES, Some(entry))?
    } else {
        list(conn, NEGATIVE_BALANCES, None)?
    };
    step("holds");
    report.held_mismatches = list(conn, HELD_MISMATCHES, None)?;
    report.hold_mismatches = list(conn, HOLD_MISMATCHES, None)?;
    step("transfers");
    if incremental {
        report.transfer_mismatches = list(conn, NEW_TRANSFER_MISMATCHES, Some(transaction))?;
        report.failed_with_entries = list(conn, NEW_FAILED_WITH_ENTRIES, Some(transaction))?;
    } else {
        report.transfer_mismatches = list(conn, TRANSFER_MISMATCHES, None)?;
        report.failed_with_entries = list(conn, FAILED_WITH_ENTRIES, None)?;
    }
    step("authority totals");
    report.authority_total_mismatches = if incremental {
        list(conn, NEW_AUTHORITY_TOTAL_MISMATCHES, Some(entry))?
    } else {
        list(conn, AUTHORITY_TOTAL_MISMATCHES, None)?
    };
    step("items");
    let mut item_mismatches = Vec::new();
    if let Some(from) = from {
        item_mismatches.extend(list(conn, NEW_ITEMS, Some(from.item_step_id))?);
    } else {
        for sql in [ITEM_OWNERS, ITEM_HISTORIES, ITEM_STATES, ITEM_COUNTS] {
            item_mismatches.extend(list(conn, sql, None)?);
        }
    }
    item_mismatches.truncate(MAX_LISTED);
    report.item_mismatches = item_mismatches;
    step("lots");
    let mut lot_mismatches = match from {
        None => list(conn, lots::WALLETS, None)?,
        Some(from) => {
            let rows = conn.query(
                lots::NEW_WALLETS,
                &[&from.entry_id, &from.lot_step_id, &from.transaction_id],
            )?;
            rows.iter()
                .map(|r| col::<String>(r, 0))
                .collect::<DbResult<Vec<_>>>()?
        }
    };
    match from {
        None => lot_mismatches.extend(list(conn, lots::LOTS, None)?),
        Some(from) => {
            let rows = conn.query(lots::NEW_LOTS, &[&from.lot_step_id, &from.transaction_id])?;
            for row in &rows {
                lot_mismatches.push(col::<String>(row, 0)?);
            }
        }
    }
    lot_mismatches.extend(list(conn, lots::EARMARKS, None)?);
    lot_mismatches.truncate(MAX_LISTED);
    report.lot_mismatches = lot_mismatches;
    step("events");
    let mut event_mismatches = match from {
        None => list(conn, events::CHAINS, None)?,
        Some(from) => events::new_chains(conn, from)?,
    };
    event_mismatches.extend(list(conn, events::WEBHOOKS, None)?);
    event_mismatches.truncate(MAX_LISTED);
    report.event_mismatches = event_mismatches;
    step("asset supply");
    let (asset_mismatches, assets) = asset_mismatches(conn, from)?;
    report.asset_mismatches = asset_mismatches;
    report.next = Some(checkpoint::next(conn, from, assets)?);
    Ok(report)
}

/// The rows of `sql`, a list of violations (after `$1` = `after`, if any).
fn list(conn: &mut PgConn, sql: &'static str, after: Option<i64>) -> DbResult<Vec<String>> {
    let rows = match after {
        None => conn.query(sql, &[])?,
        Some(after) => conn.query(sql, &[&after])?,
    };
    let mut found = rows
        .iter()
        .map(|r| col::<String>(r, 0))
        .collect::<DbResult<Vec<_>>>()?;
    found.truncate(MAX_LISTED);
    Ok(found)
}

/// Per asset row id: issued - redeemed - expired.
type AssetNets = Vec<(i64, i128)>;

/// Per asset: the sum of balances = issued - redeemed - expired (Expire
/// entries are negative, like Redeem's); incremental, the net at the
/// checkpoint plus the entries after it. Returns each asset's net too.
fn asset_mismatches(conn: &mut PgConn, from: Option<&Checkpoint>) -> DbResult<(Vec<String>, AssetNets)> {
    let after = from.map_or(0, |c| c.entry_id);
    let (ids, nets): (Vec<i64>, Vec<String>) = from
        .map(|c| c.assets.iter().map(|(a, n)| (*a, n.to_string())).unzip())
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut assets = Vec::new();
    for row in conn.query(ASSET_NETS, &[&after, &ids, &nets])? {
        let asset: i64 = col(&row, 0)?;
        let (balances, net): (String, String) = (col(&row, 1)?, col(&row, 2)?);
        if balances != net && found.len() < MAX_LISTED {
            found.push(format!(
                "asset {asset}: balances sum to {balances} but issued - redeemed - expired = {net}"
            ));
        }
        let net = net
            .parse::<i128>()
            .map_err(|_| wallet_core::StoreError::Internal(format!("asset {asset}: a net of {net}")))?;
        assets.push((asset, net));
    }
    Ok((found, assets))
}
