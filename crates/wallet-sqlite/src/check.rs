//! The invariants of `docs/model.md`, checked on a whole file: plain SQL,
//! run in one transaction so they see one snapshot. Behind
//! `ReadTx::check`, [`crate::verify`], restores and imports.

use crate::error::DbResult;
use rusqlite::Connection;
use wallet_core::check::CheckReport;

/// Each query returns one text column describing a violation, or no rows.
const BALANCE_MISMATCHES: &str = "
    SELECT 'wallet ' || w.id || ': balance ' || w.balance || ' but entries sum to '
           || coalesce(s.total, 0) || ' and the last balance_after is ' || coalesce(l.balance_after, 0)
    FROM wallets w
    LEFT JOIN (SELECT wallet_id, sum(amount) AS total, max(id) AS last FROM entries GROUP BY wallet_id) s
           ON s.wallet_id = w.id
    LEFT JOIN entries l ON l.id = s.last
    WHERE w.balance != coalesce(s.total, 0) OR w.balance != coalesce(l.balance_after, 0)";

const NEGATIVE_BALANCES: &str = "
    SELECT 'wallet ' || id || ': balance ' || balance FROM wallets WHERE balance < 0
    UNION ALL
    SELECT 'entry ' || id || ': balance_after ' || balance_after FROM entries WHERE balance_after < 0";

const TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': transfers mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.kind = 'Transfer'
    GROUP BY e.transaction_id
    HAVING sum(e.amount) != 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1";

const FAILED_WITH_ENTRIES: &str = "
    SELECT 'transaction ' || t.id || ' failed but has entries'
    FROM transactions t WHERE t.status = 'Failed' AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)";

const AUTHORITY_TOTAL_MISMATCHES: &str = "
    SELECT 'wallet ' || s.wallet_id || ', authority ' || s.authority_id || ': entries sum to ' || s.total
           || ' but the running total is ' || coalesce(t.total, 'missing')
    FROM (SELECT wallet_id, authority_id, sum(amount) AS total FROM entries GROUP BY wallet_id, authority_id) s
    LEFT JOIN authority_totals t ON t.wallet_id = s.wallet_id AND t.authority_id = s.authority_id
    WHERE t.total IS NULL OR t.total != s.total
    UNION ALL
    SELECT 'wallet ' || t.wallet_id || ', authority ' || t.authority_id || ': running total without entries'
    FROM authority_totals t
    WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.wallet_id = t.wallet_id AND e.authority_id = t.authority_id)";

/// Violations listed per check are capped so a broken file still reports fast.
const MAX_LISTED: usize = 100;

/// Runs every check on `conn`, which the caller has put in one transaction.
pub(crate) fn run(conn: &Connection) -> DbResult<CheckReport> {
    let count = |sql: &str| -> DbResult<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let list = |sql: &str| -> DbResult<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.take(MAX_LISTED).collect::<Result<_, _>>()?)
    };
    let mut integrity = list("PRAGMA integrity_check")?;
    integrity.retain(|line| line != "ok");
    integrity.extend(list("PRAGMA foreign_key_check")?);
    Ok(CheckReport {
        wallets: count("SELECT count(*) FROM wallets")?,
        entries: count("SELECT count(*) FROM entries")?,
        transactions: count("SELECT count(*) FROM transactions")?,
        balance_mismatches: list(BALANCE_MISMATCHES)?,
        negative_balances: list(NEGATIVE_BALANCES)?,
        asset_mismatches: asset_mismatches(conn)?,
        transfer_mismatches: list(TRANSFER_MISMATCHES)?,
        failed_with_entries: list(FAILED_WITH_ENTRIES)?,
        authority_total_mismatches: list(AUTHORITY_TOTAL_MISMATCHES)?,
        integrity,
    })
}

/// Per asset: sum of balances = issued - redeemed. Summed in i128 in Rust,
/// not in SQL: an asset's total may pass i64 (each wallet is bounded, their
/// sum is not), and SQLite's sum() would fail on that with an error.
fn asset_mismatches(conn: &Connection) -> DbResult<Vec<String>> {
    use std::collections::BTreeMap;
    let mut balances: BTreeMap<i64, i128> = BTreeMap::new();
    let mut net: BTreeMap<i64, i128> = BTreeMap::new();
    let mut assets = conn.prepare("SELECT id FROM assets")?;
    for id in assets.query_map([], |r| r.get::<_, i64>(0))? {
        let id = id?;
        balances.insert(id, 0);
        net.insert(id, 0);
    }
    let mut wallets = conn.prepare("SELECT asset_id, balance FROM wallets")?;
    for row in wallets.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (asset, balance) = row?;
        *balances.entry(asset).or_default() += i128::from(balance);
    }
    let mut entries = conn.prepare(
        "SELECT w.asset_id, e.amount FROM entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE e.kind IN ('Issue', 'Redeem')",
    )?;
    for row in entries.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (asset, amount) = row?;
        *net.entry(asset).or_default() += i128::from(amount);
    }
    Ok(balances
        .iter()
        .filter(|(asset, total)| net.get(asset).copied().unwrap_or(0) != **total)
        .take(MAX_LISTED)
        .map(|(asset, total)| {
            let issued = net.get(asset).copied().unwrap_or(0);
            format!("asset {asset}: balances sum to {total} but issued - redeemed = {issued}")
        })
        .collect())
}
