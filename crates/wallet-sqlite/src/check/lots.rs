//! The lot invariants (`spec/lots.md`, `CheckReport::lot_mismatches`):
//!
//! - per wallet, its Open lots hold at most `max(balance, 0)`, and its
//!   Expire entries are what its lots' Expire steps took;
//! - per lot, its numbers (`0 <= earmarked <= remaining <= amount`, Open iff
//!   something remains, a known status; Spent never with an Expire step),
//!   its history (`amount` and every step's effect replay to `remaining` and
//!   `earmarked`), and `earmarked` = what Open holds earmark of it;
//! - per earmark, an Open hold, a lot of the hold's source wallet, and per
//!   hold no more than it has `remaining`;
//! - a lot, and each step, in its wallet's project and not of a Failed
//!   transaction.
//!
//! Sums are exact (i128, in Rust): a lot earmarked and released again and
//! again has Earmark steps summing past i64 on a legal ledger, where
//! SQLite's `sum()` would fail.

use super::MAX_LISTED;
use crate::error::DbResult;
use crate::statements::rows::exact_sum;
use rusqlite::Connection;
use std::collections::BTreeMap;
use wallet_core::check::Checkpoint;
use wallet_core::model::{LotStatus, LotStepKind};

/// Lots and steps that leave their wallet's project, or belong to a Failed
/// transaction.
const MISPLACED: &str = "
    SELECT 'lot ' || l.id || ': its transaction ' || l.transaction_id || ' is of another project or Failed'
    FROM lots l JOIN wallets w ON w.id = l.wallet_id JOIN transactions t ON t.id = l.transaction_id
    WHERE t.project_id != w.project_id OR t.status != 'Completed'
    UNION ALL
    SELECT 'lot ' || l.id || ': step ' || s.id || ' is of transaction ' || s.transaction_id
           || ', of another project or Failed'
    FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
    JOIN transactions t ON t.id = s.transaction_id
    WHERE t.project_id != w.project_id OR t.status != 'Completed'";

/// Every lot with its steps in order (a lot without steps: one row of NULL
/// step columns). `lot_steps_by_lot` gives each lot's steps in order.
const HISTORIES: &str = "
    SELECT l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.status, s.kind, s.amount
    FROM lots l LEFT JOIN lot_steps s ON s.lot_id = l.id
    ORDER BY l.id, s.id";

/// Every earmark with its hold and lot.
const EARMARKS: &str = "
    SELECT e.hold_id, e.lot_id, e.amount, h.public_id, h.status, h.source_id, h.remaining, l.wallet_id
    FROM hold_lots e JOIN holds h ON h.id = e.hold_id LEFT JOIN lots l ON l.id = e.lot_id
    ORDER BY e.hold_id, e.lot_id";

/// Per wallet with Open lots: its balance, and its Open lots' `remaining`
/// as an exact sum in two parts (as `check::HELD_SUMS`).
const OPEN_LOTS: &str = "
    SELECT w.id, w.balance, s.hi, s.lo
    FROM (SELECT wallet_id, sum(remaining >> 32) AS hi, sum(remaining & 4294967295) AS lo
          FROM lots WHERE status = 'Open' GROUP BY wallet_id) s
    JOIN wallets w ON w.id = s.wallet_id";

/// Per wallet with Expire entries or Expire steps: both exact sums, in two
/// parts each.
const EXPIRED: &str = "
    SELECT wallet_id, sum(eh), sum(el), sum(sh), sum(sl) FROM (
        SELECT wallet_id, amount >> 32 AS eh, amount & 4294967295 AS el, 0 AS sh, 0 AS sl
        FROM entries WHERE kind = 'Expire'
        UNION ALL
        SELECT l.wallet_id, 0, 0, s.amount >> 32, s.amount & 4294967295
        FROM lot_steps s JOIN lots l ON l.id = s.lot_id WHERE s.kind = 'Expire')
    GROUP BY wallet_id";

/// Incremental: the lots with a step after the checkpoint (`?1`, through
/// the primary key of `lot_steps`) or of a transaction after it (`?2`, one
/// scan of `lots`), and the wallets of those lots or with an entry after it
/// (`?3`, through the primary key of `entries`).
const TOUCHED: &str = "
    touched AS MATERIALIZED (SELECT lot_id FROM lot_steps WHERE id > ?1
                             UNION SELECT id FROM lots WHERE transaction_id > ?2),
    touched_wallets AS MATERIALIZED (SELECT wallet_id FROM entries WHERE id > ?3
                                     UNION SELECT l.wallet_id FROM touched x JOIN lots l ON l.id = x.lot_id)";

/// Incremental `MISPLACED`: the touched lots, the steps after the
/// checkpoint.
const NEW_MISPLACED: &str = "
    SELECT 'lot ' || l.id || ': its transaction ' || l.transaction_id || ' is of another project or Failed'
    FROM touched x JOIN lots l ON l.id = x.lot_id JOIN wallets w ON w.id = l.wallet_id
    JOIN transactions t ON t.id = l.transaction_id
    WHERE t.project_id != w.project_id OR t.status != 'Completed'
    UNION ALL
    SELECT 'lot ' || l.id || ': step ' || s.id || ' is of transaction ' || s.transaction_id
           || ', of another project or Failed'
    FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
    JOIN transactions t ON t.id = s.transaction_id
    WHERE s.id > ?1 AND (t.project_id != w.project_id OR t.status != 'Completed')";

/// Incremental `HISTORIES`: the touched lots, each replayed whole.
const NEW_HISTORIES: &str = "
    SELECT l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.status, s.kind, s.amount
    FROM touched x JOIN lots l ON l.id = x.lot_id LEFT JOIN lot_steps s ON s.lot_id = l.id
    ORDER BY l.id, s.id";

/// Incremental `OPEN_LOTS`: the touched wallets, through `lots_by_wallet`.
const NEW_OPEN_LOTS: &str = "
    SELECT w.id, w.balance, s.hi, s.lo
    FROM touched_wallets x JOIN wallets w ON w.id = x.wallet_id
    JOIN (SELECT wallet_id, sum(remaining >> 32) AS hi, sum(remaining & 4294967295) AS lo
          FROM lots WHERE status = 'Open' AND wallet_id IN (SELECT wallet_id FROM touched_wallets)
          GROUP BY wallet_id) s ON s.wallet_id = w.id";

/// Incremental `EXPIRED`: per wallet, the Expire entries after the
/// checkpoint (`?3`) and the Expire steps after it (`?1`), both through a
/// primary key range. Each wallet's sums matched at the checkpoint, so they
/// match now if what came after matches; reading each touched wallet's
/// whole history instead cost a table lookup per entry (seconds at 10M
/// entries).
const NEW_EXPIRED: &str = "
    SELECT wallet_id, sum(eh), sum(el), sum(sh), sum(sl) FROM (
        SELECT e.wallet_id, e.amount >> 32 AS eh, e.amount & 4294967295 AS el, 0 AS sh, 0 AS sl
        FROM entries e WHERE e.id > ?3 AND e.kind = 'Expire'
        UNION ALL
        SELECT l.wallet_id, 0, 0, s.amount >> 32, s.amount & 4294967295
        FROM lot_steps s JOIN lots l ON l.id = s.lot_id WHERE s.id > ?1 AND s.kind = 'Expire')
    GROUP BY wallet_id";
/// `sql` for this check: as it is (full), or after the `TOUCHED` tables
/// with the checkpoint's ids bound.
fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    scoped: &str,
    from: Option<&Checkpoint>,
) -> DbResult<rusqlite::Statement<'c>> {
    let Some(from) = from else {
        return Ok(conn.prepare(sql)?);
    };
    let mut stmt = conn.prepare(&format!("WITH {TOUCHED} {scoped}"))?;
    let ids = [from.lot_step_id, from.transaction_id, from.entry_id];
    for (index, value) in ids.into_iter().enumerate().take(stmt.parameter_count()) {
        stmt.raw_bind_parameter(index + 1, value)?;
    }
    Ok(stmt)
}

/// A lot as stored, and what its history makes of it so far.
struct Replay {
    id: i64,
    wallet: i64,
    amount: i64,
    remaining: i64,
    earmarked: i64,
    status: String,
    replayed: (i128, i128),
    expired: i128,
    unknown_step: Option<String>,
}

impl Replay {
    /// What is wrong with it, once every step is in; `held` is what Open
    /// holds earmark of it.
    fn verdict(&self, held: i128) -> Option<String> {
        let status = LotStatus::parse(&self.status);
        let numbers_hold = self.amount > 0
            && 0 <= self.earmarked
            && self.earmarked <= self.remaining
            && self.remaining <= self.amount
            && status.is_some_and(|s| (s == LotStatus::Open) == (self.remaining > 0));
        let stored = (i128::from(self.remaining), i128::from(self.earmarked));
        let why = if let Some(kind) = &self.unknown_step {
            format!("a step of unknown kind {kind:?}")
        } else if !numbers_hold {
            format!(
                "{} with amount {}, remaining {}, earmarked {} cannot be",
                self.status, self.amount, self.remaining, self.earmarked
            )
        } else if status == Some(LotStatus::Spent) && self.expired > 0 {
            format!("Spent, but {} of it expired", self.expired)
        } else if self.replayed != stored {
            format!(
                "remaining {} and earmarked {}, but its history replays to {} and {}",
                self.remaining, self.earmarked, self.replayed.0, self.replayed.1
            )
        } else if held != stored.1 {
            format!(
                "earmarked {}, but Open holds earmark {held} of it",
                self.earmarked
            )
        } else {
            return None;
        };
        Some(format!("lot {} (wallet {}): {why}", self.id, self.wallet))
    }
}

/// Every lot invariant broken, up to [`MAX_LISTED`] per kind.
/// Incremental (`from`): the lots and wallets touched after the
/// checkpoint; earmarks whole.
pub(super) fn mismatches(conn: &Connection, from: Option<&Checkpoint>) -> DbResult<Vec<String>> {
    let mut found = Vec::new();
    {
        let mut stmt = prepare(conn, MISPLACED, NEW_MISPLACED, from)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            found.push(row.get::<_, String>(0)?);
            if found.len() >= MAX_LISTED {
                break;
            }
        }
    }
    let (mut broken, held) = earmarks(conn)?;
    broken.truncate(MAX_LISTED);
    found.extend(broken);
    found.extend(histories(conn, &held, from)?);
    found.extend(wallets(conn, from)?);
    Ok(found)
}

/// Every lot's history replayed, over one ordered scan (only the lot at
/// hand is kept).
fn histories(
    conn: &Connection,
    held: &BTreeMap<i64, i128>,
    from: Option<&Checkpoint>,
) -> DbResult<Vec<String>> {
    let mut found = Vec::new();
    let mut verdict = |lot: &Replay| {
        if found.len() < MAX_LISTED {
            found.extend(lot.verdict(held.get(&lot.id).copied().unwrap_or(0)));
        }
    };
    let mut stmt = prepare(conn, HISTORIES, NEW_HISTORIES, from)?;
    let mut rows = stmt.raw_query();
    let mut current: Option<Replay> = None;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        if current.as_ref().is_none_or(|lot| lot.id != id) {
            if let Some(done) = current.take() {
                verdict(&done);
            }
            let amount: i64 = row.get(2)?;
            current = Some(Replay {
                id,
                wallet: row.get(1)?,
                amount,
                remaining: row.get(3)?,
                earmarked: row.get(4)?,
                status: row.get(5)?,
                replayed: (i128::from(amount), 0),
                expired: 0,
                unknown_step: None,
            });
        }
        let (Some(lot), Some(kind)) = (current.as_mut(), row.get::<_, Option<String>>(6)?) else {
            continue;
        };
        let step: i64 = row.get(7)?;
        match LotStepKind::parse(&kind) {
            Some(kind) => {
                let (remaining, earmarked) = kind.effect(step);
                lot.replayed.0 += i128::from(remaining);
                lot.replayed.1 += i128::from(earmarked);
                if kind == LotStepKind::Expire {
                    lot.expired += i128::from(step);
                }
            }
            None => lot.unknown_step = Some(kind),
        }
    }
    if let Some(done) = current.take() {
        verdict(&done);
    }
    Ok(found)
}

/// Earmarks of holds that are not Open, of another wallet's lots, or past
/// what their hold has remaining; and per lot what Open holds earmark of it.
fn earmarks(conn: &Connection) -> DbResult<(Vec<String>, BTreeMap<i64, i128>)> {
    let mut found = Vec::new();
    let mut per_lot: BTreeMap<i64, i128> = BTreeMap::new();
    let mut per_hold: BTreeMap<i64, (String, i64, i128)> = BTreeMap::new();
    let mut stmt = conn.prepare(EARMARKS)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (hold, lot, amount): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let (public_id, status): (String, String) = (row.get(3)?, row.get(4)?);
        let (source, remaining, wallet): (i64, i64, Option<i64>) = (row.get(5)?, row.get(6)?, row.get(7)?);
        let label = format!("hold {hold} ({public_id}, {status}) earmarks {amount} of lot {lot}");
        if status != "Open" {
            found.push(format!("{label}: only an Open hold earmarks"));
            continue;
        }
        if wallet != Some(source) {
            found.push(format!(
                "{label}: the lot is not of the hold's source wallet {source}"
            ));
        }
        *per_lot.entry(lot).or_default() += i128::from(amount);
        per_hold.entry(hold).or_insert((public_id, remaining, 0)).2 += i128::from(amount);
    }
    for (hold, (public_id, remaining, taken)) in per_hold {
        if taken > i128::from(remaining) {
            found.push(format!(
                "hold {hold} ({public_id}): its earmarks take {taken}, more than its remaining {remaining}"
            ));
        }
    }
    Ok((found, per_lot))
}

/// Wallets whose Open lots hold more than `max(balance, 0)`, or whose
/// Expire entries are not what their lots' Expire steps took.
fn wallets(conn: &Connection, from: Option<&Checkpoint>) -> DbResult<Vec<String>> {
    let mut found = Vec::new();
    {
        let mut stmt = prepare(conn, OPEN_LOTS, NEW_OPEN_LOTS, from)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let (wallet, balance): (i64, i64) = (row.get(0)?, row.get(1)?);
            let open = exact_sum(row.get(2)?, row.get(3)?);
            if open > i128::from(balance.max(0)) && found.len() < MAX_LISTED {
                found.push(format!(
                    "wallet {wallet}: its Open lots hold {open} of a balance of {balance}"
                ));
            }
        }
    }
    let mut stmt = prepare(conn, EXPIRED, NEW_EXPIRED, from)?;
    let mut rows = stmt.raw_query();
    let mut listed = 0;
    while let Some(row) = rows.next()? {
        let wallet: i64 = row.get(0)?;
        let entries = exact_sum(row.get(1)?, row.get(2)?);
        let steps = exact_sum(row.get(3)?, row.get(4)?);
        if entries != -steps && listed < MAX_LISTED {
            listed += 1;
            let since = if from.is_some() {
                " since the checkpoint"
            } else {
                ""
            };
            found.push(format!(
                "wallet {wallet}: its Expire entries{since} sum to {entries}, but its lots' Expire steps{since} took {steps}"
            ));
        }
    }
    Ok(found)
}
