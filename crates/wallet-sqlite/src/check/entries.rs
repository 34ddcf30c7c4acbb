//! The full check's one pass over `entries`: in rowid order (a sequential
//! scan of the table, where `GROUP BY wallet_id` read it through
//! `entries_by_wallet_time` with a table lookup per entry), summing per
//! wallet, per (wallet, authority) and per wallet's Issue/Redeem/Expire
//! entries, in i128 (exact past i64), keeping each wallet's last
//! `balance_after`. Then one scan of `wallets` and one of
//! `authority_totals` compare.

use super::MAX_LISTED;
use crate::error::DbResult;
use crate::statements::rows::join_total;
use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap};

/// What the pass found.
pub(super) struct Pass {
    pub balance_mismatches: Vec<String>,
    /// Entries below the largest credit limit.
    pub low_entries: Vec<String>,
    pub authority_total_mismatches: Vec<String>,
    /// Per asset row id: issued - redeemed - expired.
    pub nets: BTreeMap<i64, i128>,
}

#[derive(Default)]
struct Wallet {
    total: i128,
    last: i64,
    net: i128,
}

pub(super) fn pass(conn: &Connection) -> DbResult<Pass> {
    let mut wallets: HashMap<i64, Wallet> = HashMap::new();
    let mut pairs: HashMap<(i64, i64), i128> = HashMap::new();
    let mut low_entries = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT id, wallet_id, authority_id, amount, balance_after,
                    kind IN ('Issue', 'Redeem', 'Expire')
             FROM entries ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (id, wallet, authority): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let (amount, balance_after, supply): (i64, i64, bool) = (row.get(3)?, row.get(4)?, row.get(5)?);
            let w = wallets.entry(wallet).or_default();
            w.total += i128::from(amount);
            w.last = balance_after;
            if supply {
                w.net += i128::from(amount);
            }
            *pairs.entry((wallet, authority)).or_default() += i128::from(amount);
            if balance_after < -4_611_686_018_427_387_904 && low_entries.len() < MAX_LISTED {
                low_entries.push(format!("entry {id}: balance_after {balance_after}"));
            }
        }
    }
    let mut balance_mismatches = Vec::new();
    let mut nets: BTreeMap<i64, i128> = BTreeMap::new();
    let mut stmt = conn.prepare("SELECT id FROM assets")?;
    for id in stmt.query_map([], |r| r.get::<_, i64>(0))? {
        nets.insert(id?, 0);
    }
    let mut stmt = conn.prepare("SELECT id, asset_id, balance FROM wallets ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (id, asset, balance): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let (total, last, net) = wallets.get(&id).map_or((0, 0, 0), |w| (w.total, w.last, w.net));
        *nets.entry(asset).or_default() += net;
        if (i128::from(balance) != total || balance != last) && balance_mismatches.len() < MAX_LISTED {
            balance_mismatches.push(format!(
                "wallet {id}: balance {balance} but entries sum to {total} and the last balance_after is {last}"
            ));
        }
    }
    let mut authority_total_mismatches = Vec::new();
    let mut without = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT wallet_id, authority_id, total, total_high FROM authority_totals ORDER BY wallet_id, authority_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (wallet, authority): (i64, i64) = (row.get(0)?, row.get(1)?);
        let stored = match (row.get::<_, Option<i64>>(2)?, row.get::<_, Option<i64>>(3)?) {
            (Some(low), Some(high)) => Some(join_total(low, high)),
            _ => None,
        };
        match pairs.remove(&(wallet, authority)) {
            None => without.push(format!(
                "wallet {wallet}, authority {authority}: running total without entries"
            )),
            Some(sum) if Some(sum) != stored => authority_total_mismatches.push(format!(
                "wallet {wallet}, authority {authority}: entries sum to {sum} but the running total is {}",
                stored.map_or_else(|| "missing".to_owned(), |t| t.to_string())
            )),
            Some(_) => {}
        }
    }
    let mut missing: Vec<_> = pairs.into_iter().collect();
    missing.sort_unstable();
    authority_total_mismatches.extend(missing.into_iter().map(|((wallet, authority), sum)| {
        format!(
            "wallet {wallet}, authority {authority}: entries sum to {sum} but the running total is missing"
        )
    }));
    authority_total_mismatches.truncate(MAX_LISTED);
    authority_total_mismatches.extend(without);
    authority_total_mismatches.truncate(MAX_LISTED);
    Ok(Pass {
        balance_mismatches,
        low_entries,
        authority_total_mismatches,
        nets,
    })
}
