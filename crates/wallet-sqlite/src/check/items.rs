//! The item invariants (`spec/items.md`): every item has one owner, a
//! customer of its project or the stock; its history starts with its grant,
//! ends at its consumption if it has one, moves it from where the step
//! before left it, and replays to its owner, status and properties; per
//! project and item type, Active items = granted - consumed.
//!
//! The history is replayed in Rust over one ordered scan of every item and
//! its steps (`item_steps_by_item` gives each item's steps in order).

use super::MAX_LISTED;
use crate::error::DbResult;
use rusqlite::Connection;
use std::collections::BTreeMap;
use wallet_core::check::Checkpoint;

/// Owners that are not customers of the item's project; steps, v1 entries
/// and transactions of another project; item steps of Failed transactions.
const MISPLACED: &str = "
    SELECT 'item ' || i.id || ' (' || i.public_id || '): its owner ' || i.customer_id
           || ' is not a customer of project ' || i.project_id
    FROM items i LEFT JOIN customers c ON c.id = i.customer_id
    WHERE i.customer_id IS NOT NULL AND (c.id IS NULL OR c.project_id != i.project_id)
    UNION ALL
    SELECT 'item ' || i.id || ' (' || i.public_id || '): step ' || s.id
           || ' names a transaction or customer of another project'
    FROM item_steps s JOIN items i ON i.id = s.item_id
    LEFT JOIN transactions t ON t.id = s.transaction_id
    LEFT JOIN customers f ON f.id = s.from_customer_id
    LEFT JOIN customers o ON o.id = s.to_customer_id
    WHERE t.project_id != i.project_id OR f.project_id != i.project_id OR o.project_id != i.project_id
    UNION ALL
    SELECT 'item ' || i.id || ' (' || i.public_id || '): its API v1 entry ' || i.v1_entry_id
           || ' is of another project'
    FROM items i JOIN entries e ON e.id = i.v1_entry_id JOIN wallets w ON w.id = e.wallet_id
    WHERE w.project_id != i.project_id
    UNION ALL
    SELECT 'transaction ' || t.id || ' failed but has item steps'
    FROM transactions t
    WHERE t.status = 'Failed' AND EXISTS (SELECT 1 FROM item_steps s WHERE s.transaction_id = t.id)";

/// Every item with its steps in order (an item without steps: one row of
/// NULL step columns).
const HISTORIES: &str = "
    SELECT i.id, i.public_id, i.project_id, i.item_type, i.customer_id, i.properties, i.status,
           s.id, s.kind, s.from_customer_id, s.to_customer_id, s.properties
    FROM items i LEFT JOIN item_steps s ON s.item_id = i.id
    ORDER BY i.id, s.id";

/// Incremental `MISPLACED`: items with a step after the checkpoint (`?1`,
/// through the primary key of `item_steps`), those steps, and
/// transactions after it (`?2`).
const NEW_MISPLACED: &str = "
    WITH touched AS MATERIALIZED (SELECT DISTINCT item_id FROM item_steps WHERE id > ?1)
    SELECT 'item ' || i.id || ' (' || i.public_id || '): its owner ' || i.customer_id
           || ' is not a customer of project ' || i.project_id
    FROM touched x JOIN items i ON i.id = x.item_id LEFT JOIN customers c ON c.id = i.customer_id
    WHERE i.customer_id IS NOT NULL AND (c.id IS NULL OR c.project_id != i.project_id)
    UNION ALL
    SELECT 'item ' || i.id || ' (' || i.public_id || '): step ' || s.id
           || ' names a transaction or customer of another project'
    FROM item_steps s JOIN items i ON i.id = s.item_id
    LEFT JOIN transactions t ON t.id = s.transaction_id
    LEFT JOIN customers f ON f.id = s.from_customer_id
    LEFT JOIN customers o ON o.id = s.to_customer_id
    WHERE s.id > ?1
      AND (t.project_id != i.project_id OR f.project_id != i.project_id OR o.project_id != i.project_id)
    UNION ALL
    SELECT 'item ' || i.id || ' (' || i.public_id || '): its API v1 entry ' || i.v1_entry_id
           || ' is of another project'
    FROM touched x JOIN items i ON i.id = x.item_id
    JOIN entries e ON e.id = i.v1_entry_id JOIN wallets w ON w.id = e.wallet_id
    WHERE w.project_id != i.project_id
    UNION ALL
    SELECT 'transaction ' || t.id || ' failed but has item steps'
    FROM transactions t
    WHERE t.id > ?2 AND t.status = 'Failed'
      AND EXISTS (SELECT 1 FROM item_steps s WHERE s.transaction_id = t.id)";

/// Incremental `HISTORIES`: only the items with a step after the
/// checkpoint (`?1`), each replayed whole.
const NEW_HISTORIES: &str = "
    WITH touched AS MATERIALIZED (SELECT DISTINCT item_id FROM item_steps WHERE id > ?1)
    SELECT i.id, i.public_id, i.project_id, i.item_type, i.customer_id, i.properties, i.status,
           s.id, s.kind, s.from_customer_id, s.to_customer_id, s.properties
    FROM touched x JOIN items i ON i.id = x.item_id LEFT JOIN item_steps s ON s.item_id = i.id
    ORDER BY i.id, s.id";

/// An item as stored, and what its history made of it so far.
struct Replay {
    label: String,
    owner: Option<i64>,
    properties: Option<String>,
    consumed: bool,
    steps: u64,
    /// Where the last step left it: its owner and properties.
    left: Option<(Option<i64>, Option<String>)>,
    ended: bool,
    broken: Option<String>,
}

impl Replay {
    fn step(
        &mut self,
        step: i64,
        kind: &str,
        from: Option<i64>,
        to: Option<i64>,
        properties: Option<String>,
    ) {
        if self.broken.is_some() {
            return;
        }
        let why = if self.ended {
            Some(format!("step {step} ({kind}) comes after its ConsumeItem"))
        } else if (self.steps == 0) != (kind == "GrantItem") {
            Some(if self.steps == 0 {
                format!("its history starts with step {step} ({kind}), not a GrantItem")
            } else {
                format!("step {step} grants it a second time")
            })
        } else if let Some((owner, _)) = self.left.as_ref().filter(|(owner, _)| *owner != from) {
            Some(format!(
                "step {step} ({kind}) moves it from {} but the step before left it with {}",
                name(from),
                name(*owner)
            ))
        } else if self.steps == 0 && from.is_some() {
            Some(format!("its grant (step {step}) moves it from {}", name(from)))
        } else if matches!(kind, "ConsumeItem" | "SetItemProperties") && from != to {
            Some(format!("step {step} ({kind}) changes its owner"))
        } else {
            None
        };
        self.broken = why;
        self.steps += 1;
        self.ended = kind == "ConsumeItem";
        self.left = Some((to, properties));
    }

    /// What is wrong with it, once every step is in.
    fn verdict(self) -> Option<String> {
        let why = if let Some(why) = self.broken {
            why
        } else if let Some((owner, properties)) = &self.left {
            if *owner != self.owner || *properties != self.properties {
                format!(
                    "its history leaves it with {} and properties {}, but it has {} and {}",
                    name(*owner),
                    properties.as_deref().unwrap_or("null"),
                    name(self.owner),
                    self.properties.as_deref().unwrap_or("null")
                )
            } else if self.ended != self.consumed {
                if self.consumed {
                    "it is Consumed but has no ConsumeItem step".to_owned()
                } else {
                    "it has a ConsumeItem step but is Active".to_owned()
                }
            } else {
                return None;
            }
        } else {
            "it has no history".to_owned()
        };
        Some(format!("{}: {why}", self.label))
    }
}

fn name(owner: Option<i64>) -> String {
    owner.map_or_else(|| "the stock".to_owned(), |c| format!("customer {c}"))
}

/// Per project and item type: Active items, GrantItem steps, ConsumeItem steps.
type Counts = BTreeMap<(String, String), (i64, i64, i64)>;

/// Every item invariant broken, up to [`MAX_LISTED`] per kind.
/// All of them (`from` None), or, incremental, the items with a step after
/// the checkpoint. The counts per project and item type are the full
/// check's: with every item's history replaying to its status (checked for
/// these, trusted for the others), Active = granted - consumed follows.
pub(super) fn mismatches(conn: &Connection, from: Option<&Checkpoint>) -> DbResult<Vec<String>> {
    let mut found = Vec::new();
    let (step, transaction) = from.map_or((0, 0), |c| (c.item_step_id, c.transaction_id));
    let (misplaced, histories_sql) = match from {
        None => (MISPLACED, HISTORIES),
        Some(_) => (NEW_MISPLACED, NEW_HISTORIES),
    };
    let bind = |stmt: &mut rusqlite::Statement<'_>| -> DbResult<()> {
        for (index, value) in [step, transaction]
            .into_iter()
            .enumerate()
            .take(stmt.parameter_count())
        {
            stmt.raw_bind_parameter(index + 1, value)?;
        }
        Ok(())
    };
    {
        let mut stmt = conn.prepare(misplaced)?;
        bind(&mut stmt)?;
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            found.push(row.get::<_, String>(0)?);
            if found.len() >= MAX_LISTED {
                break;
            }
        }
    }
    let mut counts = Counts::new();
    let mut histories = Vec::new();
    let mut stmt = conn.prepare(histories_sql)?;
    bind(&mut stmt)?;
    let mut rows = stmt.raw_query();
    let mut current: Option<(i64, Replay)> = None;
    while let Some(row) = rows.next()? {
        let item: i64 = row.get(0)?;
        if current.as_ref().is_none_or(|(id, _)| *id != item) {
            if let Some((_, done)) = current.take() {
                histories.extend(done.verdict());
            }
            let (project, item_type, status): (String, String, String) =
                (row.get(2)?, row.get(3)?, row.get(6)?);
            let count = counts.entry((project, item_type)).or_default();
            count.0 += i64::from(status == "Active");
            current = Some((
                item,
                Replay {
                    label: format!("item {item} ({})", row.get::<_, String>(1)?),
                    owner: row.get(4)?,
                    properties: row.get(5)?,
                    consumed: status == "Consumed",
                    steps: 0,
                    left: None,
                    ended: false,
                    broken: None,
                },
            ));
        }
        let Some(step) = row.get::<_, Option<i64>>(7)? else {
            continue;
        };
        let kind: String = row.get(8)?;
        let Some((_, replay)) = current.as_mut() else {
            continue;
        };
        replay.step(step, &kind, row.get(9)?, row.get(10)?, row.get(11)?);
        let key = (row.get::<_, String>(2)?, row.get::<_, String>(3)?);
        let count = counts.entry(key).or_default();
        match kind.as_str() {
            "GrantItem" => count.1 += 1,
            "ConsumeItem" => count.2 += 1,
            _ => {}
        }
    }
    if let Some((_, done)) = current.take() {
        histories.extend(done.verdict());
    }
    histories.truncate(MAX_LISTED);
    found.extend(histories);
    if from.is_some() {
        return Ok(found);
    }
    found.extend(
        counts
            .into_iter()
            .filter(|(_, (active, granted, consumed))| *active != granted - consumed)
            .take(MAX_LISTED)
            .map(|((project, item_type), (active, granted, consumed))| {
                format!(
                    "project {project}, item type {item_type:?}: {active} Active items, but {granted} granted \
                     and {consumed} consumed"
                )
            }),
    );
    Ok(found)
}
