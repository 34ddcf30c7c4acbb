//! Items: reading them and their history, granting (claiming an id),
//! changing an Active item, and appending its steps.
//!
//! As for transactions and holds (commit cdd86ea), nothing here says
//! `RETURNING` or `ON CONFLICT`, and no write is an `INSERT ... SELECT`:
//! each of them makes SQLite open a statement journal per statement, which
//! inside a long group transaction made batches quadratic. A taken id is
//! found by a lookup first, and an item's rowid by a seek before its step is
//! inserted. With one writer, what a lookup saw stays so until the write.

use super::rows::{self, parsed, CUSTOMER_COLUMNS};
use crate::error::{unknown_value, DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension, Row};
use wallet_core::ids::{CustomerRowId, EntryId, TransactionId};
use wallet_core::model::{
    Customer, Item, ItemFilter, ItemOwner, ItemStatus, ItemStep, ItemStepKind, Page, PageRequest,
};
use wallet_core::port::{ItemUpdate, NewItem, NewItemStep};
use wallet_core::text::{CustomerId, ItemId, ItemName, ItemProperties, ItemType};
use wallet_core::StoreError;

/// Items with their owner (`FROM` [`ITEMS_WITH_OWNERS`]).
const ITEM_COLUMNS: &str = "i.public_id, i.item_type, i.properties, i.customer_id, c.external_id, i.status,
     i.created_at, i.updated_at, i.v1_entry_id";

const ITEMS_WITH_OWNERS: &str = "items i LEFT JOIN customers c ON c.id = i.customer_id";

pub(crate) fn item(conn: &Connection, project: &str, id: &ItemId) -> DbResult<Option<Item>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM {ITEMS_WITH_OWNERS} WHERE i.project_id = ?1 AND i.public_id = ?2"
        ))?
        .query_row(params![project, id.as_str()], read_item)
        .optional()?)
}

/// The item an API v1 entry of `project` granted: one seek of
/// `items_v1_entry`.
pub(crate) fn item_of_v1_entry(conn: &Connection, project: &str, entry: EntryId) -> DbResult<Option<Item>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM {ITEMS_WITH_OWNERS} WHERE i.v1_entry_id = ?1 AND i.project_id = ?2"
        ))?
        .query_row(params![entry.get(), project], read_item)
        .optional()?)
}

/// One owner's items (`None`: the project's stock), oldest first: a range of
/// `items_by_owner`, the filters checked on the way. Two statements, one per
/// kind of owner, so each is planned for its own `=` or `IS NULL`.
pub(crate) fn owner_items(
    conn: &Connection,
    project: &str,
    owner: Option<CustomerRowId>,
    filter: &ItemFilter,
    page: PageRequest,
) -> DbResult<Page<Item>> {
    const FILTERS: &str = "(?3 IS NULL OR i.item_type = ?3) AND (?4 IS NULL OR i.status = ?4)";
    let item_type = filter.item_type.as_ref().map(ItemType::as_str);
    let status = filter.status.map(ItemStatus::as_str);
    let owner_is = match owner {
        Some(_) => "i.customer_id = ?2",
        None => "i.customer_id IS NULL AND ?2 IS NULL",
    };
    rows::page(
        conn,
        &format!(
            "SELECT {ITEM_COLUMNS} FROM {ITEMS_WITH_OWNERS}
             WHERE i.project_id = ?1 AND {owner_is} AND {FILTERS}
             ORDER BY i.id LIMIT ?5 OFFSET ?6"
        ),
        params![
            project,
            owner.map(CustomerRowId::get),
            item_type,
            status,
            page.size,
            page.offset()
        ],
        &format!("SELECT count(*) FROM items i WHERE i.project_id = ?1 AND {owner_is} AND {FILTERS}"),
        params![project, owner.map(CustomerRowId::get), item_type, status],
        read_item,
    )
}

/// An item's history, oldest step first.
pub(crate) fn item_history(
    conn: &Connection,
    project: &str,
    id: &ItemId,
    page: PageRequest,
) -> DbResult<Page<ItemStep>> {
    rows::page(
        conn,
        "SELECT s.transaction_id, s.kind, f.external_id, t.external_id, s.properties, s.created_at
         FROM items i
         JOIN item_steps s ON s.item_id = i.id
         LEFT JOIN customers f ON f.id = s.from_customer_id
         LEFT JOIN customers t ON t.id = s.to_customer_id
         WHERE i.project_id = ?1 AND i.public_id = ?2
         ORDER BY s.id LIMIT ?3 OFFSET ?4",
        params![project, id.as_str(), page.size, page.offset()],
        "SELECT count(*) FROM items i JOIN item_steps s ON s.item_id = i.id
         WHERE i.project_id = ?1 AND i.public_id = ?2",
        params![project, id.as_str()],
        read_step,
    )
}

/// The items a transaction granted or changed, as they are now, in id order
/// (the order a plan lists them in): from the transaction's steps
/// (`item_steps_by_transaction`) to their items, never a scan of the
/// project's items.
pub(crate) fn transaction_items(
    conn: &Connection,
    project: &str,
    transaction: TransactionId,
) -> DbResult<Vec<Item>> {
    let mut stmt = conn.prepare_cached(&transaction_items_sql())?;
    let rows = stmt.query_map(params![transaction.get(), project], read_item)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn transaction_items_sql() -> String {
    format!(
        "SELECT {ITEM_COLUMNS}
         FROM (SELECT item_id, min(id) AS first FROM item_steps WHERE transaction_id = ?1
               GROUP BY item_id) s
         CROSS JOIN items i ON i.id = s.item_id
         LEFT JOIN customers c ON c.id = i.customer_id
         WHERE i.project_id = ?2
         ORDER BY s.first"
    )
}

/// The items of `project` with these ids, in id order. One writer: reading
/// them inside the write job is locking them (see `wallets::lock_wallets`).
pub(crate) fn lock_items(conn: &Connection, project: &str, ids: &[ItemId]) -> DbResult<Vec<Item>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(item) = item(conn, project, id)? {
            found.push(item);
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// The customers of `project` with these ids, in id order. One writer: no
/// status can change under the job (a plain read, as `lock_customer`).
pub(crate) fn lock_customers(
    conn: &Connection,
    project: &str,
    ids: &[CustomerId],
) -> DbResult<Vec<Customer>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 AND external_id = ?2"
    ))?;
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(customer) = stmt
            .query_row(params![project, id.as_str()], rows::customer)
            .optional()?
        {
            found.push(customer);
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// Writes a new item. A taken id is `Retryable`, found by a lookup first
/// (see the module's comment).
pub(crate) fn insert_item(conn: &Connection, project: &str, item: &NewItem<'_>) -> DbResult<()> {
    if item_rowid(conn, project, item.id)?.is_some() {
        return Err(DbError(StoreError::Retryable(format!(
            "item id {} was taken since it was planned",
            item.id
        ))));
    }
    conn.prepare_cached(
        "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        project,
        item.id.as_str(),
        item.item_type.as_str(),
        item.properties.map(ItemProperties::as_str),
        item.owner.map(CustomerRowId::get),
        item.status.as_str(),
        item.v1_entry.map(EntryId::get),
        item.created_at
    ])?;
    Ok(())
}

/// Writes an item's state after a transaction. Only an Active item changes
/// (Consumed is final): one that is not is `Retryable`, since the job
/// planned on an Active one.
pub(crate) fn update_item(conn: &Connection, project: &str, change: &ItemUpdate<'_>) -> DbResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE items SET customer_id = ?3, status = ?4, properties = ?5, updated_at = ?6
             WHERE project_id = ?1 AND public_id = ?2 AND status = 'Active'",
        )?
        .execute(params![
            project,
            change.id.as_str(),
            change.owner.map(CustomerRowId::get),
            change.status.as_str(),
            change.properties.map(ItemProperties::as_str),
            change.updated_at
        ])?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "item {} is gone or no longer Active",
            change.id
        ))));
    }
    Ok(())
}

/// Appends a step to the history of an item of `project`.
pub(crate) fn append_item_step(conn: &Connection, project: &str, step: &NewItemStep<'_>) -> DbResult<()> {
    let item = item_rowid(conn, project, step.item)?.ok_or_else(|| {
        DbError(StoreError::Internal(format!(
            "a step of item {}, which is not written",
            step.item
        )))
    })?;
    conn.prepare_cached(
        "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id, properties,
                                 created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        item,
        step.transaction.get(),
        step.kind.as_str(),
        step.from.map(CustomerRowId::get),
        step.to.map(CustomerRowId::get),
        step.properties.map(ItemProperties::as_str),
        step.created_at
    ])?;
    Ok(())
}

fn item_rowid(conn: &Connection, project: &str, id: &ItemId) -> DbResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM items WHERE project_id = ?1 AND public_id = ?2")?
        .query_row(params![project, id.as_str()], |r| r.get(0))
        .optional()?)
}

/// A stored customer id (an owner); one the rules would refuse reads as
/// corrupt, as every stored value here.
fn customer_id(r: &Row<'_>, index: usize) -> rusqlite::Result<Option<CustomerId>> {
    r.get::<_, Option<String>>(index)?
        .map(|id| CustomerId::parse(&id).map_err(|_| unknown_value(index, "customers.external_id")))
        .transpose()
}

fn properties(r: &Row<'_>, index: usize, column: &'static str) -> rusqlite::Result<Option<ItemProperties>> {
    r.get::<_, Option<String>>(index)?
        .map(|json| ItemProperties::parse_unbounded(&json).map_err(|_| unknown_value(index, column)))
        .transpose()
}

/// A row of [`ITEM_COLUMNS`].
fn read_item(r: &Row<'_>) -> rusqlite::Result<Item> {
    let id: String = r.get(0)?;
    // A type through API v2 is also a valid API v1 name (1-200 characters
    // without control characters), which an item of an entry may keep.
    let item_type: String = r.get(1)?;
    let owner = match r.get::<_, Option<i64>>(3)? {
        None => None,
        Some(rowid) => Some(ItemOwner {
            rowid: CustomerRowId::new(rowid),
            // An owner that is not a customer reads as corrupt: `check`
            // names it.
            id: customer_id(r, 4)?.ok_or_else(|| unknown_value(3, "items.customer_id"))?,
        }),
    };
    Ok(Item {
        id: ItemId::parse(&id).map_err(|_| unknown_value(0, "items.public_id"))?,
        item_type: ItemName::parse(&item_type)
            .map(|name| ItemType::of_v1_item(&name))
            .map_err(|_| unknown_value(1, "items.item_type"))?,
        properties: properties(r, 2, "items.properties")?,
        owner,
        status: parsed(r, 5, "items.status", ItemStatus::parse)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        v1_entry: r.get::<_, Option<i64>>(8)?.map(EntryId::new),
    })
}

fn read_step(r: &Row<'_>) -> rusqlite::Result<ItemStep> {
    Ok(ItemStep {
        transaction: r.get::<_, Option<i64>>(0)?.map(TransactionId::new),
        kind: parsed(r, 1, "item_steps.kind", ItemStepKind::parse)?,
        from: customer_id(r, 2)?,
        to: customer_id(r, 3)?,
        properties: properties(r, 4, "item_steps.properties")?,
        created_at: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_item_columns_are_the_nine_the_mapper_reads() {
        assert_eq!(super::ITEM_COLUMNS.split(',').count(), 9);
    }
}
