//! API v1's statements: wallet totals, the inventory, entries with items
//! (the items of the `items` table that an API v1 entry granted).
//!
//! Text is ordered `COLLATE "C"` (bytewise), as SQLite orders it, so both
//! backends answer lists in the same order whatever the database's locale.

use super::rows::{self, col};
use crate::conn::PgConn;
use crate::error::{corrupt, DbResult};
use postgres::Row;
use wallet_core::ids::{AssetId, EntryId};
use wallet_core::v1::{InventoryFilter, InventoryLine, Item, V1Entry, WalletTotal, WalletTotalsFilter};

/// Per user of the project, the sum of the (filtered) authorities' running
/// totals in the user's default wallet of `asset`; users with no matching
/// entries are left out. Summed in `NUMERIC`: exact, whatever the totals.
pub(crate) fn wallet_totals(
    conn: &mut PgConn,
    project: &str,
    asset: AssetId,
    filter: &WalletTotalsFilter,
) -> DbResult<Vec<WalletTotal>> {
    // With users named, the query starts from their ids and walks the
    // indexes; without, it is a scan of the project by nature. One text for
    // both would make a generic plan scan in both cases.
    let sql = if filter.user_ids.is_some() {
        "SELECT c.external_id, sum(t.total)::text
         FROM customers c
         JOIN wallets w ON w.customer_id = c.id AND w.asset_id = $2 AND w.is_default
         JOIN authority_totals t ON t.wallet_id = w.id
         JOIN authorities a ON a.id = t.authority_id
         WHERE c.project_id = $1 AND c.external_id = ANY($3)
           AND ($4::text[] IS NULL OR a.public_id = ANY($4))
         GROUP BY c.external_id
         ORDER BY c.external_id COLLATE \"C\""
    } else {
        "SELECT c.external_id, sum(t.total)::text
         FROM wallets w
         JOIN customers c ON c.id = w.customer_id
         JOIN authority_totals t ON t.wallet_id = w.id
         JOIN authorities a ON a.id = t.authority_id
         WHERE w.project_id = $1 AND w.asset_id = $2 AND w.is_default
           AND $3::text[] IS NULL
           AND ($4::text[] IS NULL OR a.public_id = ANY($4))
         GROUP BY c.external_id
         ORDER BY c.external_id COLLATE \"C\""
    };
    let found = conn.query(
        sql,
        &[&project, &asset.get(), &filter.user_ids, &filter.authority_ids],
    )?;
    found
        .iter()
        .map(|r| {
            Ok(WalletTotal {
                user_id: col(r, 0)?,
                total: rows::total(r, 1).map_err(|_| corrupt("authority_totals.total (sum)"))?,
            })
        })
        .collect()
}

macro_rules! inventory {
    ($from:literal, $where:literal) => {
        concat!(
            "SELECT i.v1_entry_id, a.public_id, c.external_id, i.item_type, i.properties,
                    i.status = 'Consumed' ",
            $from,
            " JOIN entries e ON e.id = i.v1_entry_id
             JOIN authorities a ON a.id = e.authority_id
             WHERE ",
            $where,
            " AND i.v1_entry_id IS NOT NULL
               AND ($2::bigint[] IS NULL OR i.v1_entry_id = ANY($2))
               AND ($3::text[] IS NULL OR c.external_id = ANY($3))
               AND ($4::text[] IS NULL OR a.public_id = ANY($4))
               AND ($5::boolean IS NULL OR (i.status = 'Consumed') = $5)
             ORDER BY i.v1_entry_id"
        )
    };
}

/// The project's API v1 inventory, oldest entry first: the items an API v1
/// entry granted that a customer owns now (v1 knows only users: one in the
/// stock is not listed), each with its current owner as `user_id` and the
/// entry's authority.
pub(crate) fn inventory(
    conn: &mut PgConn,
    project: &str,
    filter: &InventoryFilter,
) -> DbResult<Vec<InventoryLine>> {
    // As for wallet totals: start from the named users (their items by
    // `items_by_owner`) or entries (`items_v1_entry`) so the indexes are
    // used; only an unfiltered inventory reads all of the project's API v1
    // items (`items_v1_entry`, in order).
    let sql = if filter.user_ids.is_some() {
        inventory!(
            "FROM customers c
             JOIN items i ON i.customer_id = c.id AND i.project_id = c.project_id",
            "c.project_id = $1 AND c.external_id = ANY($3)"
        )
    } else if filter.entry_ids.is_some() {
        inventory!(
            "FROM items i JOIN customers c ON c.id = i.customer_id",
            "i.v1_entry_id = ANY($2) AND i.project_id = $1"
        )
    } else {
        inventory!(
            "FROM items i JOIN customers c ON c.id = i.customer_id",
            "i.project_id = $1"
        )
    };
    let entries: Option<Vec<i64>> = filter
        .entry_ids
        .as_deref()
        .map(|ids| ids.iter().map(|id| id.get()).collect());
    let found = conn.query(
        sql,
        &[
            &project,
            &entries,
            &filter.user_ids,
            &filter.authority_ids,
            &filter.used,
        ],
    )?;
    found
        .iter()
        .map(|r| {
            Ok(InventoryLine {
                entry_id: EntryId::new(col(r, 0)?),
                authority_id: col(r, 1)?,
                user_id: col(r, 2)?,
                item: Item {
                    name: col(r, 3)?,
                    data: col(r, 4)?,
                    used: col(r, 5)?,
                },
            })
        })
        .collect()
}

/// An entry as API v1 shows it, with the item it granted if it granted
/// one (wherever that item is now: `user_id` stays the entry's user).
pub(crate) fn entry(conn: &mut PgConn, entry: EntryId) -> DbResult<Option<V1Entry>> {
    conn.query_opt(
        "SELECT e.id, a.public_id, c.external_id, e.created_at, e.amount, coalesce(e.reason, ''),
                i.item_type, i.properties, i.status = 'Consumed'
         FROM entries e
         JOIN authorities a ON a.id = e.authority_id
         JOIN wallets w ON w.id = e.wallet_id
         JOIN customers c ON c.id = w.customer_id
         LEFT JOIN items i ON i.v1_entry_id = e.id
         WHERE e.id = $1",
        &[&entry.get()],
    )?
    .map(|r| v1_entry(&r))
    .transpose()
}

fn v1_entry(r: &Row) -> DbResult<V1Entry> {
    let item = match col::<Option<String>>(r, 6)? {
        None => None,
        Some(name) => Some(Item {
            name,
            data: col(r, 7)?,
            used: col(r, 8)?,
        }),
    };
    Ok(V1Entry {
        entry_id: EntryId::new(col(r, 0)?),
        authority_id: col(r, 1)?,
        user_id: col(r, 2)?,
        created_at: col(r, 3)?,
        amount: col(r, 4)?,
        reason: col(r, 5)?,
        item,
    })
}
