//! The admin dashboard's numbers (`ReadTx::ledger_stats`).
//!
//! Sums are taken as a high and a low half (`x >> 32`, `x & 0xFFFFFFFF`)
//! and joined in i128 ([`rows::exact_sum`]): SQLite's `sum()` fails past
//! i64, which a supply or a day's issues may pass.
//!
//! Cost: the supply reads every wallet row (no index leads with the
//! project; a wallet is one short row), the holds count reads the
//! project's holds, and the series read only the window's transactions
//! (`transactions_by_time`, a range) and their entries
//! (`entries_by_transaction`): what the last 30 days wrote, not what the
//! ledger holds.

use super::rows;
use crate::error::DbResult;
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use wallet_core::ids::AssetId;
use wallet_core::overview::{AssetStats, DayStats, LedgerStats, OverviewWindow, DAY, MINUTE};

/// Per asset, UTC day and kind, the entries of the window's transactions:
/// a range of `transactions_by_time`, then each one's entries by
/// `entries_by_transaction` (`plans` holds it to that).
pub(crate) const DAYS_SQL: &str =
    "SELECT w.asset_id, t.created_at / ?4, e.kind, sum(e.amount >> 32), sum(e.amount & 4294967295)
     FROM transactions t
     JOIN entries e ON e.transaction_id = t.id
     JOIN wallets w ON w.id = e.wallet_id
     WHERE t.project_id = ?1 AND t.created_at >= ?2 AND t.created_at < ?3
       AND e.kind IN ('Issue', 'Redeem', 'Expire')
     GROUP BY 1, 2, 3";

/// Per minute, the Completed transactions of the window: a range of
/// `transactions_by_time`.
pub(crate) const MINUTES_SQL: &str = "SELECT created_at / ?4, count(*) FROM transactions
     WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3 AND status = 'Completed'
     GROUP BY 1";

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn ledger_stats(
    conn: &Connection,
    project: &str,
    window: &OverviewWindow,
) -> DbResult<LedgerStats> {
    let mut assets: BTreeMap<i64, AssetStats> = BTreeMap::new();
    let mut wallets = conn.prepare_cached(
        "SELECT asset_id, count(*), sum(balance >> 32), sum(balance & 4294967295),
                sum(held >> 32), sum(held & 4294967295)
         FROM wallets WHERE project_id = ?1 GROUP BY asset_id",
    )?;
    let mut rows_ = wallets.query(params![project])?;
    while let Some(r) = rows_.next()? {
        let asset: i64 = r.get(0)?;
        assets.insert(
            asset,
            AssetStats {
                asset: AssetId::new(asset),
                wallets: count(r.get(1)?),
                supply: rows::exact_sum(r.get(2)?, r.get(3)?),
                held: rows::exact_sum(r.get(4)?, r.get(5)?),
                open_holds: 0,
            },
        );
    }
    let mut holds = conn.prepare_cached(
        "SELECT asset_id, count(*) FROM holds WHERE project_id = ?1 AND status = 'Open' GROUP BY asset_id",
    )?;
    let mut rows_ = holds.query(params![project])?;
    while let Some(r) = rows_.next()? {
        let asset: i64 = r.get(0)?;
        let stats = assets
            .entry(asset)
            .or_insert_with(|| AssetStats::none(AssetId::new(asset)));
        stats.open_holds = count(r.get(1)?);
    }

    let mut days: BTreeMap<(i64, i64), DayStats> = BTreeMap::new();
    let mut entries = conn.prepare_cached(DAYS_SQL)?;
    let mut rows_ = entries.query(params![project, window.days_from, window.to, DAY])?;
    while let Some(r) = rows_.next()? {
        let (asset, day): (i64, i64) = (r.get(0)?, r.get(1)?);
        let kind: String = r.get(2)?;
        let sum = rows::exact_sum(r.get(3)?, r.get(4)?);
        let stats = days
            .entry((asset, day))
            .or_insert_with(|| DayStats::none(AssetId::new(asset), day * DAY));
        match kind.as_str() {
            "Issue" => stats.issued += sum,
            "Redeem" => stats.redeemed -= sum,
            _ => stats.expired -= sum,
        }
    }

    let mut per_minute = conn.prepare_cached(MINUTES_SQL)?;
    let minutes = per_minute
        .query_map(params![project, window.minutes_from, window.to, MINUTE], |r| {
            Ok((r.get::<_, i64>(0)? * MINUTE, count(r.get(1)?)))
        })?
        .collect::<Result<Vec<_>, _>>()?;

    Ok(LedgerStats {
        assets: assets.into_values().collect(),
        days: days.into_values().collect(),
        minutes,
    })
}
