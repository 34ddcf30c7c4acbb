//! API v1's statements: wallet totals, the inventory, entries with the items
//! they granted (rows of `items` that name their entry).

use super::rows;
use crate::error::{DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension, Row};
use wallet_core::ids::{AssetId, EntryId};
use wallet_core::v1::{InventoryFilter, InventoryLine, Item, V1Entry, WalletTotal, WalletTotalsFilter};
use wallet_core::StoreError;

/// Per user of the project, the sum of the (filtered) authorities' running
/// totals in the user's default wallet of `asset`. Users with no matching
/// entries are left out. Each running total is read exactly from its two
/// columns and summed here in i128, not by SQL's `sum()`, which fails on an
/// integer overflow: one authority's total, or a sum over some of them, may
/// pass i64 on a legal ledger, and even a sum that ends within i64 may pass
/// it on the way.
pub(crate) fn wallet_totals(
    conn: &Connection,
    project: &str,
    asset: AssetId,
    filter: &WalletTotalsFilter,
) -> DbResult<Vec<WalletTotal>> {
    // With users named, the query starts from their ids and walks the
    // indexes; without, it is a scan of the project by nature. One SQL
    // with `?3 IS NULL OR ...` would scan in both cases.
    let sql = if filter.user_ids.is_some() {
        "SELECT c.external_id, t.total, t.total_high
         FROM (SELECT DISTINCT value FROM json_each(?3)) u
         CROSS JOIN customers c ON c.project_id = ?1 AND c.external_id = u.value
         JOIN wallets w ON w.customer_id = c.id AND w.asset_id = ?2 AND w.is_default = 1
         JOIN authority_totals t ON t.wallet_id = w.id
         JOIN authorities a ON a.id = t.authority_id
         WHERE (?4 IS NULL OR a.public_id IN (SELECT value FROM json_each(?4)))
         ORDER BY c.external_id"
    } else {
        "SELECT c.external_id, t.total, t.total_high
         FROM wallets w
         JOIN customers c ON c.id = w.customer_id
         JOIN authority_totals t ON t.wallet_id = w.id
         JOIN authorities a ON a.id = t.authority_id
         WHERE w.project_id = ?1 AND w.asset_id = ?2 AND w.is_default = 1
           AND ?3 IS NULL
           AND (?4 IS NULL OR a.public_id IN (SELECT value FROM json_each(?4)))
         ORDER BY c.external_id"
    };
    let users = filter.user_ids.as_deref().map(rows::json_list);
    let authorities = filter.authority_ids.as_deref().map(rows::json_list);
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![project, asset.get(), users, authorities])?;
    let mut totals: Vec<WalletTotal> = Vec::new();
    while let Some(row) = rows.next()? {
        let user: String = row.get(0)?;
        let total = rows::join_total(row.get(1)?, row.get(2)?);
        match totals.last_mut() {
            Some(last) if last.user_id == user => {
                // Out of i128 only with totals no ledger can reach.
                last.total = last
                    .total
                    .checked_add(total)
                    .ok_or_else(|| DbError(StoreError::Corrupt("authority_totals.total".to_owned())))?;
            }
            _ => totals.push(WalletTotal { user_id: user, total }),
        }
    }
    Ok(totals)
}

/// The project's inventory, oldest entry first: the items API v1 entries
/// granted that a customer owns now (one moved to the stock through API v2
/// has no user to be listed under), each under its current owner, with the
/// authority of the entry that granted it.
pub(crate) fn inventory(
    conn: &Connection,
    project: &str,
    filter: &InventoryFilter,
) -> DbResult<Vec<InventoryLine>> {
    let sql = inventory_sql(filter);
    // Entry ids as JSON numbers: `EntryId` serializes as a string for clients.
    let entries = filter
        .entry_ids
        .as_deref()
        .map(|ids| rows::json_list(&ids.iter().map(|id| id.get()).collect::<Vec<_>>()));
    let users = filter.user_ids.as_deref().map(rows::json_list);
    let authorities = filter.authority_ids.as_deref().map(rows::json_list);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![project, entries, users, authorities, filter.used], |r| {
        Ok(InventoryLine {
            entry_id: EntryId::new(r.get(0)?),
            authority_id: r.get(1)?,
            user_id: r.get(2)?,
            item: Item {
                name: r.get(3)?,
                data: r.get(4)?,
                used: r.get(5)?,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The inventory's statement for what `filter` names: one of three fixed
/// texts, so the cache holds each once.
pub(crate) fn inventory_sql(filter: &InventoryFilter) -> String {
    // As for wallet totals: start from the named users (`items_by_owner`)
    // or entries (`items_v1_entry`) so the indexes are used; only an
    // unfiltered inventory scans, and then only the items of entries, in
    // entry order (`items_v1_entry` again: the `+` keeps the planner from
    // scanning all of the project's items instead, API v2's too).
    const FILTERS: &str = "(?2 IS NULL OR i.v1_entry_id IN (SELECT value FROM json_each(?2)))
           AND (?3 IS NULL OR c.external_id IN (SELECT value FROM json_each(?3)))
           AND (?4 IS NULL OR a.public_id IN (SELECT value FROM json_each(?4)))
           AND (?5 IS NULL OR (i.status = 'Consumed') = ?5)";
    let from = if filter.user_ids.is_some() {
        "FROM (SELECT DISTINCT value FROM json_each(?3)) u
         CROSS JOIN customers c ON c.project_id = ?1 AND c.external_id = u.value
         CROSS JOIN items i ON i.project_id = ?1 AND i.customer_id = c.id"
    } else if filter.entry_ids.is_some() {
        "FROM (SELECT DISTINCT value FROM json_each(?2)) x
         CROSS JOIN items i ON i.v1_entry_id = x.value
         JOIN customers c ON c.id = i.customer_id"
    } else {
        "FROM items i
         JOIN customers c ON c.id = i.customer_id"
    };
    format!(
        "SELECT i.v1_entry_id, a.public_id, c.external_id, i.item_type, i.properties, i.status = 'Consumed'
         {from}
         JOIN entries e ON e.id = i.v1_entry_id
         JOIN authorities a ON a.id = e.authority_id
         WHERE i.v1_entry_id IS NOT NULL AND +i.project_id = ?1 AND {FILTERS}
         ORDER BY i.v1_entry_id"
    )
}

/// An entry as API v1 shows it, with the item it granted if it did (as the
/// item is now: name = type, data = properties, used = Consumed). Its
/// `user_id` stays the entry's user, wherever the item went since.
pub(crate) fn entry(conn: &Connection, entry: EntryId) -> DbResult<Option<V1Entry>> {
    Ok(conn
        .prepare_cached(
            "SELECT e.id, a.public_id, c.external_id, e.created_at, e.amount, coalesce(e.reason, ''),
                    i.item_type, i.properties, i.status = 'Consumed'
             FROM entries e
             JOIN authorities a ON a.id = e.authority_id
             JOIN wallets w ON w.id = e.wallet_id
             JOIN customers c ON c.id = w.customer_id
             LEFT JOIN items i ON i.v1_entry_id = e.id
             WHERE e.id = ?1",
        )?
        .query_row([entry.get()], v1_entry)
        .optional()?)
}

fn v1_entry(r: &Row<'_>) -> rusqlite::Result<V1Entry> {
    let item = match r.get::<_, Option<String>>(6)? {
        None => None,
        Some(name) => Some(Item {
            name,
            data: r.get(7)?,
            used: r.get(8)?,
        }),
    };
    Ok(V1Entry {
        entry_id: EntryId::new(r.get(0)?),
        authority_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: r.get(3)?,
        amount: r.get(4)?,
        reason: r.get(5)?,
        item,
    })
}
