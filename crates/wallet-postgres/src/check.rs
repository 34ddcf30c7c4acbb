//! The invariants of `docs/model.md` (and of holds, `spec/holds.md`),
//! checked on the whole database: the same checks as wallet-sqlite's
//! `check`, in plain SQL, on the caller's snapshot (a read job is one
//! `REPEATABLE READ` transaction). Sums are `NUMERIC` (PostgreSQL's `sum`
//! of `BIGINT`s), so none can overflow, and they are compared exactly in
//! SQL.

use crate::conn::PgConn;
use crate::error::DbResult;
use crate::statements::rows::col;
use wallet_core::check::CheckReport;

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

/// Per asset: the sum of balances = issued - redeemed.
const ASSET_MISMATCHES: &str = "
    SELECT 'asset ' || a.id || ': balances sum to ' || coalesce(b.total, 0)
           || ' but issued - redeemed = ' || coalesce(n.total, 0)
    FROM assets a
    LEFT JOIN (SELECT asset_id, sum(balance) AS total FROM wallets GROUP BY asset_id) b ON b.asset_id = a.id
    LEFT JOIN (SELECT w.asset_id, sum(e.amount) AS total
               FROM entries e JOIN wallets w ON w.id = e.wallet_id
               WHERE e.kind IN ('Issue', 'Redeem') GROUP BY w.asset_id) n ON n.asset_id = a.id
    WHERE coalesce(b.total, 0) <> coalesce(n.total, 0)
    ORDER BY a.id LIMIT 100";

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

/// What SQLite's `integrity_check` and `foreign_key_check` find there.
/// PostgreSQL enforces every foreign key itself; what is left is the one
/// reference a key cannot hold: a project's default asset must be its own.
const INTEGRITY: &str = "
    SELECT 'project ' || p.id || ': its default asset is missing or belongs to another project'
    FROM projects p LEFT JOIN assets a ON a.id = p.default_asset
    WHERE a.id IS NULL OR a.project_id <> p.id
    ORDER BY p.id LIMIT 100";

/// Runs every check on `conn`, which the caller has put in one transaction.
pub(crate) fn run(conn: &mut PgConn) -> DbResult<CheckReport> {
    let mut count = |sql: &'static str| -> DbResult<i64> { col(&conn.query_one(sql, &[])?, 0) };
    let wallets = count("SELECT count(*) FROM wallets")?;
    let entries = count("SELECT count(*) FROM entries")?;
    let transactions = count("SELECT count(*) FROM transactions")?;
    let mut list = |sql: &'static str| -> DbResult<Vec<String>> {
        let mut found = conn
            .query(sql, &[])?
            .iter()
            .map(|r| col::<String>(r, 0))
            .collect::<DbResult<Vec<_>>>()?;
        found.truncate(MAX_LISTED);
        Ok(found)
    };
    Ok(CheckReport {
        wallets,
        entries,
        transactions,
        // Until the PostgreSQL side of items (branch `items-pg`).
        items: 0,
        item_mismatches: Vec::new(),
        balance_mismatches: list(BALANCE_MISMATCHES)?,
        negative_balances: list(NEGATIVE_BALANCES)?,
        held_mismatches: list(HELD_MISMATCHES)?,
        hold_mismatches: list(HOLD_MISMATCHES)?,
        asset_mismatches: list(ASSET_MISMATCHES)?,
        transfer_mismatches: list(TRANSFER_MISMATCHES)?,
        failed_with_entries: list(FAILED_WITH_ENTRIES)?,
        authority_total_mismatches: list(AUTHORITY_TOTAL_MISMATCHES)?,
        integrity: list(INTEGRITY)?,
    })
}
