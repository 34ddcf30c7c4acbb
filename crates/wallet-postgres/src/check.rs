//! The invariants of `docs/model.md`, checked on the whole database: the
//! same checks as wallet-sqlite's `check`, in plain SQL, on the caller's
//! snapshot (a read job is one `REPEATABLE READ` transaction). Sums are
//! `NUMERIC` (PostgreSQL's `sum` of `BIGINT`s), so none can overflow, and
//! they are compared exactly in SQL.

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

const NEGATIVE_BALANCES: &str = "
    (SELECT 'wallet ' || id || ': balance ' || balance FROM wallets WHERE balance < 0 ORDER BY id LIMIT 100)
    UNION ALL
    (SELECT 'entry ' || id || ': balance_after ' || balance_after FROM entries WHERE balance_after < 0
     ORDER BY id LIMIT 100)";

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

const TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': transfers mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.kind = 'Transfer'
    GROUP BY e.transaction_id
    HAVING sum(e.amount) <> 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1
    ORDER BY e.transaction_id LIMIT 100";

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
        balance_mismatches: list(BALANCE_MISMATCHES)?,
        negative_balances: list(NEGATIVE_BALANCES)?,
        asset_mismatches: list(ASSET_MISMATCHES)?,
        transfer_mismatches: list(TRANSFER_MISMATCHES)?,
        failed_with_entries: list(FAILED_WITH_ENTRIES)?,
        authority_total_mismatches: list(AUTHORITY_TOTAL_MISMATCHES)?,
        integrity: list(INTEGRITY)?,
    })
}
