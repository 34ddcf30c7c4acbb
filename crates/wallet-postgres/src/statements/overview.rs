//! The admin dashboard's numbers (`ReadTx::ledger_stats`).
//!
//! Sums of `BIGINT` are `NUMERIC` here, read as text into i128: a supply or
//! a day's issues may pass i64. Cost: the supply reads the project's
//! wallets, the holds count the project's holds, and the series read only
//! the window's transactions (`transactions_by_time`, a range) and their
//! entries (by transaction): what the last 30 days wrote, not what the
//! ledger holds.

use super::rows::col;
use crate::conn::PgConn;
use crate::error::{corrupt, DbResult};
use postgres::Row;
use std::collections::BTreeMap;
use wallet_core::ids::AssetId;
use wallet_core::overview::{AssetStats, DayStats, LedgerStats, OverviewWindow, DAY, MINUTE};

fn count(r: &Row, index: usize) -> DbResult<u64> {
    Ok(u64::try_from(col::<i64>(r, index)?).unwrap_or(0))
}

fn sum(r: &Row, index: usize) -> DbResult<i128> {
    let text: &str = col(r, index)?;
    text.parse().map_err(|_| corrupt("a sum of the overview"))
}

pub(crate) fn ledger_stats(
    conn: &mut PgConn,
    project: &str,
    window: &OverviewWindow,
) -> DbResult<LedgerStats> {
    let mut assets: BTreeMap<i64, AssetStats> = BTreeMap::new();
    for r in conn.query(
        "SELECT asset_id, count(*), sum(balance)::text, sum(held)::text
         FROM wallets WHERE project_id = $1 GROUP BY asset_id",
        &[&project],
    )? {
        let asset: i64 = col(&r, 0)?;
        assets.insert(
            asset,
            AssetStats {
                asset: AssetId::new(asset),
                wallets: count(&r, 1)?,
                supply: sum(&r, 2)?,
                held: sum(&r, 3)?,
                open_holds: 0,
            },
        );
    }
    for r in conn.query(
        "SELECT asset_id, count(*) FROM holds WHERE project_id = $1 AND status = 'Open' GROUP BY asset_id",
        &[&project],
    )? {
        let asset: i64 = col(&r, 0)?;
        let stats = assets
            .entry(asset)
            .or_insert_with(|| AssetStats::none(AssetId::new(asset)));
        stats.open_holds = count(&r, 1)?;
    }

    let mut days: BTreeMap<(i64, i64), DayStats> = BTreeMap::new();
    for r in conn.query(
        "SELECT w.asset_id, t.created_at / $4, e.kind, sum(e.amount)::text
         FROM transactions t
         JOIN entries e ON e.transaction_id = t.id
         JOIN wallets w ON w.id = e.wallet_id
         WHERE t.project_id = $1 AND t.created_at >= $2 AND t.created_at < $3
           AND e.kind IN ('Issue', 'Redeem', 'Expire')
         GROUP BY 1, 2, 3",
        &[&project, &window.days_from, &window.to, &DAY],
    )? {
        let (asset, day): (i64, i64) = (col(&r, 0)?, col(&r, 1)?);
        let kind: &str = col(&r, 2)?;
        let total = sum(&r, 3)?;
        let stats = days
            .entry((asset, day))
            .or_insert_with(|| DayStats::none(AssetId::new(asset), day * DAY));
        match kind {
            "Issue" => stats.issued += total,
            "Redeem" => stats.redeemed -= total,
            _ => stats.expired -= total,
        }
    }

    let mut minutes = Vec::new();
    for r in conn.query(
        "SELECT created_at / $4, count(*) FROM transactions
         WHERE project_id = $1 AND created_at >= $2 AND created_at < $3 AND status = 'Completed'
         GROUP BY 1",
        &[&project, &window.minutes_from, &window.to, &MINUTE],
    )? {
        minutes.push((col::<i64>(&r, 0)? * MINUTE, count(&r, 1)?));
    }

    Ok(LedgerStats {
        assets: assets.into_values().collect(),
        days: days.into_values().collect(),
        minutes,
    })
}
