//! The invariants of `docs/model.md` (and of holds, `spec/holds.md`,
//! items, `spec/items.md`: see `items`, and lots, `spec/lots.md`: see
//! `lots`, and events, `spec/events.md`: see `events`), checked on a whole file: plain SQL,
//! run in one transaction so they see one snapshot. Behind
//! `ReadTx::check`, [`crate::verify`], restores and imports.

use crate::error::DbResult;
use crate::statements::rows;
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use wallet_core::check::{CheckReport, Checkpoint, Phases};

mod checkpoint;
mod entries;
mod events;
mod items;
mod lots;

pub(crate) use checkpoint::{load as load_checkpoint, record as record_checkpoint};

/// Per transaction, its transfers' entries and its captures' entries each
/// cancel out within one asset and project.
const TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': ' || lower(e.kind)
           || 's mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.kind IN ('Transfer', 'Capture')
    GROUP BY e.transaction_id, e.kind
    HAVING sum(e.amount) != 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1";

/// Per wallet with a held value or Open holds: `held` next to the exact sum
/// of its Open holds' `remaining`, in two parts (amount = hi * 2^32 + lo with
/// lo in [0, 2^32), exact in Rust where SQLite's `sum()` would fail past i64).
const HELD_SUMS: &str = "
    SELECT w.id, w.held, coalesce(s.hi, 0), coalesce(s.lo, 0)
    FROM wallets w
    LEFT JOIN (SELECT source_id, sum(remaining >> 32) AS hi, sum(remaining & 4294967295) AS lo
               FROM holds WHERE status = 'Open' GROUP BY source_id) s
           ON s.source_id = w.id
    WHERE w.held != 0 OR s.source_id IS NOT NULL";

/// Holds whose numbers do not add up, or that leave their project or asset.
const HOLD_MISMATCHES: &str = "
    SELECT 'hold ' || h.id || ' (' || h.public_id || ', ' || h.status || '): amount ' || h.amount
           || ', captured ' || h.captured || ', remaining ' || h.remaining
    FROM holds h
    WHERE h.amount <= 0 OR h.captured < 0 OR h.remaining < 0 OR h.captured > h.amount - h.remaining
       OR (h.status = 'Open' AND (h.remaining = 0 OR h.captured != h.amount - h.remaining))
       OR (h.status = 'Captured' AND (h.remaining != 0 OR h.captured != h.amount))
       OR (h.status IN ('Voided', 'Expired') AND h.remaining != 0)
    UNION ALL
    SELECT 'hold ' || h.id || ' (' || h.public_id || '): its wallets or transaction are of another '
           || 'project or asset'
    FROM holds h
    JOIN wallets s ON s.id = h.source_id
    JOIN transactions t ON t.id = h.transaction_id
    LEFT JOIN wallets d ON d.id = h.destination_id
    WHERE s.project_id != h.project_id OR s.asset_id != h.asset_id OR t.project_id != h.project_id
       OR d.project_id != h.project_id OR d.asset_id != h.asset_id";

const FAILED_WITH_ENTRIES: &str = "
    SELECT 'transaction ' || t.id || ' failed but has entries'
    FROM transactions t WHERE t.status = 'Failed' AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)";

/// Incremental: per wallet with entries after the checkpoint (`?1`: `fresh`,
/// materialized so it is a range of the primary key, not a scan of an
/// index in wallet order), each
/// new entry's `balance_after` is the one before it (the wallet's last entry
/// at or before the checkpoint for the first) plus its `amount`, and the
/// last is the wallet's balance. The entry before is found in
/// `entries_by_wallet_time`, which holds the row id (a covering scan of
/// that wallet's index range, no table lookups).
const NEW_BALANCE_MISMATCHES: &str = "
    WITH fresh AS MATERIALIZED (SELECT id, wallet_id, amount, balance_after FROM entries WHERE id > ?1),
    touched AS (SELECT wallet_id, max(id) AS last FROM fresh GROUP BY wallet_id),
    before AS (SELECT t.wallet_id,
                      (SELECT p.balance_after FROM entries p
                       WHERE p.id = (SELECT max(q.id) FROM entries q
                                     WHERE q.wallet_id = t.wallet_id AND q.id <= ?1)) AS balance
               FROM touched t),
    new AS (SELECT id, wallet_id, amount, balance_after,
                   lag(balance_after) OVER (PARTITION BY wallet_id ORDER BY id) AS previous
            FROM fresh)
    SELECT 'entry ' || n.id || ' of wallet ' || n.wallet_id || ': balance_after ' || n.balance_after
           || ' but the entry before left ' || coalesce(n.previous, b.balance, 0) || ' and it moves ' || n.amount
    FROM new n JOIN before b ON b.wallet_id = n.wallet_id
    WHERE n.balance_after - n.amount != coalesce(n.previous, b.balance, 0)
    UNION ALL
    SELECT 'wallet ' || w.id || ': balance ' || w.balance || ' but its last entry''s balance_after is '
           || l.balance_after
    FROM touched t JOIN wallets w ON w.id = t.wallet_id JOIN entries l ON l.id = t.last
    WHERE w.balance != l.balance_after";

/// The credit-limit invariant: `balance >= -credit_limit` and `balance -
/// held >= -credit_limit`, `held >= 0`, and `balance + credit_limit` within
/// i64 (so `available` is). A past `balance_after` may be below today's
/// limit (limits change), never below the largest one: the full check finds
/// those in its pass over entries (`entries::pass`).
const WALLET_LIMITS: &str = "
    SELECT 'wallet ' || id || ': balance ' || balance || ', held ' || held
           || ', credit limit ' || credit_limit
    FROM wallets
    WHERE held < 0 OR credit_limit < 0 OR credit_limit > 4611686018427387904
       OR balance < -credit_limit OR balance - held < -credit_limit
       OR balance > 9223372036854775807 - credit_limit";

/// Incremental credit limits: every wallet (one scan of `wallets`), the
/// entries after the checkpoint.
const NEW_NEGATIVE_BALANCES: &str = "
    SELECT 'wallet ' || id || ': balance ' || balance || ', held ' || held
           || ', credit limit ' || credit_limit
    FROM wallets
    WHERE held < 0 OR credit_limit < 0 OR credit_limit > 4611686018427387904
       OR balance < -credit_limit OR balance - held < -credit_limit
       OR balance > 9223372036854775807 - credit_limit
    UNION ALL
    SELECT 'entry ' || id || ': balance_after ' || balance_after FROM entries
    WHERE id > ?1 AND balance_after < -4611686018427387904";

/// Incremental `TRANSFER_MISMATCHES`: transactions after the checkpoint
/// (`?2`), through `entries_by_transaction`.
const NEW_TRANSFER_MISMATCHES: &str = "
    SELECT 'transaction ' || e.transaction_id || ': ' || lower(e.kind)
           || 's mix assets or projects, or do not cancel out'
    FROM entries e JOIN wallets w ON w.id = e.wallet_id
    WHERE e.transaction_id > ?2 AND e.kind IN ('Transfer', 'Capture')
    GROUP BY e.transaction_id, e.kind
    HAVING sum(e.amount) != 0 OR count(DISTINCT w.asset_id) > 1 OR count(DISTINCT w.project_id) > 1";

const NEW_FAILED_WITH_ENTRIES: &str = "
    SELECT 'transaction ' || t.id || ' failed but has entries'
    FROM transactions t
    WHERE t.id > ?2 AND t.status = 'Failed'
      AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)";

/// Incremental authority totals: the (wallet, authority) pairs with
/// entries after the checkpoint, summed over their whole history through
/// `entries_by_wallet_time`, in two exact parts (as `HELD_SUMS`), next to
/// the stored running total.
const NEW_AUTHORITY_TOTALS: &str = "
    WITH fresh AS MATERIALIZED (SELECT wallet_id, authority_id FROM entries WHERE id > ?1),
    pairs AS MATERIALIZED (SELECT DISTINCT wallet_id, authority_id FROM fresh)
    SELECT s.wallet_id, s.authority_id, s.hi, s.lo, t.total, t.total_high
    FROM (SELECT e.wallet_id, e.authority_id, sum(e.amount >> 32) AS hi, sum(e.amount & 4294967295) AS lo
          FROM pairs p CROSS JOIN entries e ON e.wallet_id = p.wallet_id AND e.authority_id = p.authority_id
          GROUP BY e.wallet_id, e.authority_id) s
    LEFT JOIN authority_totals t ON t.wallet_id = s.wallet_id AND t.authority_id = s.authority_id";

/// Violations listed per check are capped so a broken file still reports fast.
const MAX_LISTED: usize = 100;

/// Runs every check on `conn`, which the caller has put in one transaction.
pub(crate) fn run(conn: &Connection) -> DbResult<CheckReport> {
    run_since(conn, None, &wallet_core::progress::Quiet)
}

/// Runs the checks on `conn`, which the caller has put in one transaction:
/// all of them (`from` None), or what came after the checkpoint `from`.
/// Reports each phase's start to `progress`.
pub(crate) fn run_since(
    conn: &Connection,
    from: Option<&Checkpoint>,
    progress: &dyn wallet_core::progress::Progress,
) -> DbResult<CheckReport> {
    let (entry, transaction) = from.map_or((0, 0), |c| (c.entry_id, c.transaction_id));
    let count = |sql: &str| -> DbResult<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let list = |sql: &str| -> DbResult<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.take(MAX_LISTED).collect::<Result<_, _>>()?)
    };
    let since = |sql: &str| -> DbResult<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        // ?1 is the checkpoint's entry, ?2 its transaction.
        for (index, value) in [entry, transaction]
            .into_iter()
            .enumerate()
            .take(stmt.parameter_count())
        {
            stmt.raw_bind_parameter(index + 1, value)?;
        }
        let mut rows = stmt.raw_query();
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            found.push(row.get::<_, String>(0)?);
            if found.len() >= MAX_LISTED {
                break;
            }
        }
        Ok(found)
    };
    let mut phases = Phases::new(if from.is_some() { 10 } else { 12 }, progress);
    let mut step = |name: &str| phases.start(name);
    let mut report = CheckReport::starting(from);
    if from.is_none() {
        step("integrity");
        let mut integrity = list("PRAGMA integrity_check")?;
        integrity.retain(|line| line != "ok");
        report.integrity = integrity;
    }
    if from.is_none() {
        // The writer keeps foreign keys on; this finds edits behind it, as
        // integrity_check does: both are the full check's.
        step("foreign keys");
        report.integrity.extend(list("PRAGMA foreign_key_check")?);
        report.integrity.truncate(MAX_LISTED);
    }
    step("counts");
    report.wallets = count("SELECT count(*) FROM wallets")?;
    report.entries = count("SELECT count(*) FROM entries")?;
    report.transactions = count("SELECT count(*) FROM transactions")?;
    report.items = count("SELECT count(*) FROM items")?;
    report.lots = count("SELECT count(*) FROM lots")?;
    step("balances");
    // The full check: one sequential pass over entries for balances, the
    // entries' credit limits, authority totals and asset supply.
    let pass = match from {
        None => Some(entries::pass(conn)?),
        Some(_) => None,
    };
    report.balance_mismatches = match &pass {
        Some(pass) => pass.balance_mismatches.clone(),
        None => since(NEW_BALANCE_MISMATCHES)?,
    };
    step("credit limits");
    report.negative_balances = match &pass {
        Some(pass) => {
            let mut found = list(WALLET_LIMITS)?;
            found.extend(pass.low_entries.iter().cloned());
            found.truncate(MAX_LISTED);
            found
        }
        None => since(NEW_NEGATIVE_BALANCES)?,
    };
    step("holds");
    report.held_mismatches = held_mismatches(conn)?;
    report.hold_mismatches = list(HOLD_MISMATCHES)?;
    step("asset supply");
    let (asset_mismatches, assets) = asset_mismatches(conn, from, pass.as_ref().map(|p| &p.nets))?;
    report.asset_mismatches = asset_mismatches;
    step("transfers");
    match from {
        None => {
            report.transfer_mismatches = list(TRANSFER_MISMATCHES)?;
            report.failed_with_entries = list(FAILED_WITH_ENTRIES)?;
        }
        Some(_) => {
            report.transfer_mismatches = since(NEW_TRANSFER_MISMATCHES)?;
            report.failed_with_entries = since(NEW_FAILED_WITH_ENTRIES)?;
        }
    }
    step("authority totals");
    report.authority_total_mismatches = match pass {
        Some(pass) => pass.authority_total_mismatches,
        None => authority_total_mismatches(conn, NEW_AUTHORITY_TOTALS, entry)?,
    };
    step("items");
    report.item_mismatches = items::mismatches(conn, from)?;
    step("lots");
    report.lot_mismatches = lots::mismatches(conn, from)?;
    step("events");
    report.event_mismatches = events::mismatches(conn, from)?;
    report.next = Some(checkpoint::next(conn, assets)?);
    Ok(report)
}

/// Per asset: sum of balances = issued - redeemed - expired. Summed in i128 in Rust,
/// not in SQL: an asset's total may pass i64 (each wallet is bounded, their
/// sum is not), and SQLite's sum() would fail on that with an error.
/// Incremental: the net at the checkpoint plus the entries after it; full:
/// what the pass over entries `counted`. Also returns the net per asset,
/// for the next checkpoint.
type AssetNets = BTreeMap<i64, i128>;

fn asset_mismatches(
    conn: &Connection,
    from: Option<&Checkpoint>,
    counted: Option<&AssetNets>,
) -> DbResult<(Vec<String>, AssetNets)> {
    let mut balances: BTreeMap<i64, i128> = BTreeMap::new();
    let mut net: BTreeMap<i64, i128> = BTreeMap::new();
    let mut assets = conn.prepare("SELECT id FROM assets")?;
    for id in assets.query_map([], |r| r.get::<_, i64>(0))? {
        let id = id?;
        balances.insert(id, 0);
        net.insert(id, 0);
    }
    for (asset, total) in from.map(|c| c.assets.as_slice()).unwrap_or_default() {
        *net.entry(*asset).or_default() += *total;
    }
    let mut wallets = conn.prepare("SELECT asset_id, balance FROM wallets")?;
    for row in wallets.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (asset, balance) = row?;
        *balances.entry(asset).or_default() += i128::from(balance);
    }
    if let Some(counted) = counted {
        for (asset, total) in counted {
            *net.entry(*asset).or_default() += *total;
        }
    } else {
        let mut entries = conn.prepare(
            "SELECT w.asset_id, e.amount FROM entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE e.id > ?1 AND e.kind IN ('Issue', 'Redeem', 'Expire')",
        )?;
        let after = from.map_or(0, |c| c.entry_id);
        for row in entries.query_map([after], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
            let (asset, amount) = row?;
            *net.entry(asset).or_default() += i128::from(amount);
        }
    }
    let found = balances
        .iter()
        .filter(|(asset, total)| net.get(asset).copied().unwrap_or(0) != **total)
        .take(MAX_LISTED)
        .map(|(asset, total)| {
            let issued = net.get(asset).copied().unwrap_or(0);
            format!("asset {asset}: balances sum to {total} but issued - redeemed - expired = {issued}")
        })
        .collect();
    Ok((found, net))
}

/// Every wallet whose `held` is not the sum of its Open holds' `remaining`.
fn held_mismatches(conn: &Connection) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare(HELD_SUMS)?;
    let mut rows = stmt.query([])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let (wallet, held): (i64, i64) = (row.get(0)?, row.get(1)?);
        let open = rows::exact_sum(row.get(2)?, row.get(3)?);
        if i128::from(held) != open {
            found.push(format!(
                "wallet {wallet}: held {held} but its Open holds reserve {open}"
            ));
            if found.len() >= MAX_LISTED {
                break;
            }
        }
    }
    Ok(found)
}

/// Every wallet and authority whose running total is not the sum of its entries.
fn authority_total_mismatches(conn: &Connection, sql: &str, after: i64) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params![after])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let (wallet, authority): (i64, i64) = (row.get(0)?, row.get(1)?);
        let sum = rows::exact_sum(row.get(2)?, row.get(3)?);
        let stored = match (row.get::<_, Option<i64>>(4)?, row.get::<_, Option<i64>>(5)?) {
            (Some(low), Some(high)) => Some(rows::join_total(low, high)),
            _ => None,
        };
        if stored != Some(sum) {
            let stored = stored.map_or_else(|| "missing".to_owned(), |t| t.to_string());
            found.push(format!(
                "wallet {wallet}, authority {authority}: entries sum to {sum} but the running total is {stored}"
            ));
            if found.len() >= MAX_LISTED {
                break;
            }
        }
    }
    Ok(found)
}
