//! Items: reading them, an owner's items, an item's history; and the write
//! primitives a transaction's item operations use.
//!
//! With several writers (other worker threads, other server processes):
//! - a job locks the items it names (`lock_items`, `FOR UPDATE`, in id
//!   order, after its holds), then the customers they move between
//!   (`lock_customers`, `FOR SHARE`, in id order), then its wallets. Two
//!   sales of one item run one after the other, and the later one reads
//!   the item as the earlier left it; a suspension or deletion, which takes
//!   the customer's row `FOR NO KEY UPDATE` (`catalog::lock_customer`),
//!   waits for a move to or from that customer, or the move waits for it
//!   and sees the new status. Moves between the same customers share the
//!   lock and do not wait for each other;
//! - a grant claims its id with an `INSERT ... ON CONFLICT DO NOTHING` on
//!   `items_public_id`, and an update changes only an Active item.
//!
//! A lock's owner is read by a second statement, not joined into the
//! locking one: under READ COMMITTED a row that another writer changed
//! while this one waited is re-read alone (EvalPlanQual), and the joined
//! customer would be the one the old row named, or not there at all for a
//! customer created since the statement began. The second statement starts
//! after the locks are held, so it sees the owners they protect.

use super::rows::{self, col, customer_columns, parsed};
use crate::conn::PgConn;
use crate::error::{corrupt, DbError, DbResult};
use postgres::Row;
use wallet_core::ids::{CustomerRowId, EntryId, TransactionId};
use wallet_core::model::{
    Customer, Item, ItemFilter, ItemOwner, ItemStatus, ItemStep, ItemStepKind, Page, PageRequest,
};
use wallet_core::port::{ItemUpdate, NewItem, NewItemStep};
use wallet_core::text::{CustomerId, ItemId, ItemName, ItemProperties, ItemType};
use wallet_core::StoreError;

/// Items with their owner: `SELECT item_columns!() FROM items_with_owners!()`.
macro_rules! item_columns {
    () => {
        "i.public_id, i.item_type, i.properties, i.customer_id, c.external_id, i.status,
         i.created_at, i.updated_at, i.v1_entry_id"
    };
}

macro_rules! items_with_owners {
    () => {
        "items i LEFT JOIN customers c ON c.id = i.customer_id"
    };
}

pub(crate) fn item(conn: &mut PgConn, project: &str, id: &ItemId) -> DbResult<Option<Item>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            item_columns!(),
            " FROM ",
            items_with_owners!(),
            " WHERE i.project_id = $1 AND i.public_id = $2"
        ),
        &[&project, &id.as_str()],
    )?
    .map(|r| read_item(&r))
    .transpose()
}

/// The item an API v1 entry of `project` granted: one probe of `items_v1_entry`.
pub(crate) fn item_of_v1_entry(conn: &mut PgConn, project: &str, entry: EntryId) -> DbResult<Option<Item>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            item_columns!(),
            " FROM ",
            items_with_owners!(),
            " WHERE i.v1_entry_id = $2 AND i.project_id = $1"
        ),
        &[&project, &entry.get()],
    )?
    .map(|r| read_item(&r))
    .transpose()
}

/// One owner's items (`None`: the project's stock), oldest first: a range
/// of `items_by_owner` or `items_stock`, the filters applied on the way
/// (they never choose the index, so `$n IS NULL OR ...` costs nothing
/// here). Two statements, one per kind of owner: `customer_id = $2`
/// cannot match the stock's NULL.
pub(crate) fn owner_items(
    conn: &mut PgConn,
    project: &str,
    owner: Option<CustomerRowId>,
    filter: &ItemFilter,
    page: PageRequest,
) -> DbResult<Page<Item>> {
    let (limit, offset) = rows::limits(page);
    let item_type = filter.item_type.as_ref().map(ItemType::as_str);
    let status = filter.status.map(ItemStatus::as_str);
    match owner {
        Some(owner) => rows::page(
            conn,
            concat!(
                "SELECT ",
                item_columns!(),
                " FROM ",
                items_with_owners!(),
                " WHERE i.project_id = $1 AND i.customer_id = $2
                   AND ($3::text IS NULL OR i.item_type = $3) AND ($4::text IS NULL OR i.status = $4)
                 ORDER BY i.id LIMIT $5 OFFSET $6"
            ),
            &[&project, &owner.get(), &item_type, &status, &limit, &offset],
            "SELECT count(*) FROM items i
             WHERE i.project_id = $1 AND i.customer_id = $2
               AND ($3::text IS NULL OR i.item_type = $3) AND ($4::text IS NULL OR i.status = $4)",
            &[&project, &owner.get(), &item_type, &status],
            read_item,
        ),
        None => rows::page(
            conn,
            concat!(
                "SELECT ",
                item_columns!(),
                " FROM ",
                items_with_owners!(),
                " WHERE i.project_id = $1 AND i.customer_id IS NULL
                   AND ($2::text IS NULL OR i.item_type = $2) AND ($3::text IS NULL OR i.status = $3)
                 ORDER BY i.id LIMIT $4 OFFSET $5"
            ),
            &[&project, &item_type, &status, &limit, &offset],
            "SELECT count(*) FROM items i
             WHERE i.project_id = $1 AND i.customer_id IS NULL
               AND ($2::text IS NULL OR i.item_type = $2) AND ($3::text IS NULL OR i.status = $3)",
            &[&project, &item_type, &status],
            read_item,
        ),
    }
}

/// An item's history, oldest step first: the item's row id first (one
/// probe of `items_public_id`), then a range of `item_steps_by_item` in
/// its order, so no page sorts the item's whole history; the owners' ids
/// are looked up for the page's steps only. An unknown item has none.
pub(crate) fn item_history(
    conn: &mut PgConn,
    project: &str,
    id: &ItemId,
    page: PageRequest,
) -> DbResult<Page<ItemStep>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        "SELECT s.transaction_id, s.kind,
                (SELECT f.external_id FROM customers f WHERE f.id = s.from_customer),
                (SELECT t.external_id FROM customers t WHERE t.id = s.to_customer),
                s.properties, s.created_at
         FROM item_steps s
         WHERE s.item_id = (SELECT i.id FROM items i WHERE i.project_id = $1 AND i.public_id = $2)
         ORDER BY s.id LIMIT $3 OFFSET $4",
        &[&project, &id.as_str(), &limit, &offset],
        "SELECT count(*) FROM item_steps s
         WHERE s.item_id = (SELECT i.id FROM items i WHERE i.project_id = $1 AND i.public_id = $2)",
        &[&project, &id.as_str()],
        read_step,
    )
}

/// The items a transaction granted or changed, as they are now, in the
/// order it first touched them (the order the planner wrote their steps in).
pub(crate) fn transaction_items(
    conn: &mut PgConn,
    project: &str,
    transaction: TransactionId,
) -> DbResult<Vec<Item>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            item_columns!(),
            " FROM ",
            items_with_owners!(),
            " JOIN (SELECT s.item_id, min(s.id) AS first FROM item_steps s
                    WHERE s.transaction_id = $2 GROUP BY s.item_id) t ON t.item_id = i.id
             WHERE i.project_id = $1
             ORDER BY t.first"
        ),
        &[&project, &transaction.get()],
    )?;
    rows::all(&found, read_item)
}

/// The items of `project` with these ids, locked until the write ends, in
/// id order (the sort runs below the row locks, so two jobs lock their
/// common items in the same order; every job locks items after its holds
/// and before its customers and wallets). Then read with their owners, by
/// a statement of its own (see the module's notes). Missing ids (an item
/// the job is about to grant) are left out; granting it then races on the
/// unique constraint, see [`insert_item`].
pub(crate) fn lock_items(conn: &mut PgConn, project: &str, ids: &[ItemId]) -> DbResult<Vec<Item>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = ids.iter().map(ItemId::as_str).collect();
    let locked = conn.query(
        "SELECT i.id FROM items i WHERE i.project_id = $1 AND i.public_id = ANY($2)
         ORDER BY i.public_id COLLATE \"C\" FOR UPDATE",
        &[&project, &ids],
    )?;
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    let rowids = rows::all(&locked, |r| col::<i64>(r, 0))?;
    let found = conn.query(
        concat!(
            "SELECT ",
            item_columns!(),
            " FROM ",
            items_with_owners!(),
            " WHERE i.id = ANY($1)"
        ),
        &[&rowids],
    )?;
    let mut items = rows::all(&found, read_item)?;
    items.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(items)
}

/// The customers of `project` with these ids, share-locked until the write
/// ends, in id order: a status change (which locks the row `FOR NO KEY
/// UPDATE`) waits for the write, while other moves between the same
/// customers, and wallets opened for them, do not.
pub(crate) fn lock_customers(
    conn: &mut PgConn,
    project: &str,
    ids: &[CustomerId],
) -> DbResult<Vec<Customer>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = ids.iter().map(CustomerId::as_str).collect();
    let found = conn.query(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE project_id = $1 AND external_id = ANY($2)
             ORDER BY external_id COLLATE \"C\" FOR SHARE"
        ),
        &[&project, &ids],
    )?;
    let mut customers = rows::all(&found, rows::customer)?;
    customers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(customers)
}

/// Writes a new item, claiming its id: `DO NOTHING` on exactly the
/// `items_public_id` constraint. If another writer granted an item with
/// this id, uncommitted, PostgreSQL waits for it to end; committed, no row
/// comes back and the claim is `Retryable` (the planner saw the id free),
/// without a failed statement, so the job's savepoint is rolled back
/// cleanly. The rerun, in a later transaction, locks that item and fails
/// `CONFLICT`. Any other unique violation here (an entry's second item)
/// is a race of the same kind: `Retryable` too.
pub(crate) fn insert_item(conn: &mut PgConn, project: &str, item: &NewItem<'_>) -> DbResult<()> {
    let row = conn
        .query_opt(
            "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status,
                                v1_entry_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT ON CONSTRAINT items_public_id DO NOTHING
             RETURNING id",
            &[
                &project,
                &item.id.as_str(),
                &item.item_type.as_str(),
                &item.properties.map(ItemProperties::as_str),
                &item.owner.map(CustomerRowId::get),
                &item.status.as_str(),
                &item.v1_entry.map(EntryId::get),
                &item.created_at,
            ],
        )
        .map_err(|e| match e.0 {
            StoreError::UniqueViolation(why) => DbError(StoreError::Retryable(why)),
            other => DbError(other),
        })?;
    match row {
        Some(_) => Ok(()),
        None => Err(DbError(StoreError::Retryable(format!(
            "item id {} was taken since it was planned",
            item.id
        )))),
    }
}

/// Writes an item's state after a transaction. Only an Active item changes
/// (Consumed is final): one that is not, or is gone, is `Retryable`, since
/// the job planned on an Active one.
pub(crate) fn update_item(conn: &mut PgConn, project: &str, change: &ItemUpdate<'_>) -> DbResult<()> {
    let changed = conn.execute(
        "UPDATE items SET customer_id = $3, status = $4, properties = $5, updated_at = $6
         WHERE project_id = $1 AND public_id = $2 AND status = 'Active'",
        &[
            &project,
            &change.id.as_str(),
            &change.owner.map(CustomerRowId::get),
            &change.status.as_str(),
            &change.properties.map(ItemProperties::as_str),
            &change.updated_at,
        ],
    )?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "item {} is gone or no longer Active",
            change.id
        ))));
    }
    Ok(())
}

/// Appends a step to the history of an item of `project` (written in this
/// transaction, or locked by it).
pub(crate) fn append_item_step(conn: &mut PgConn, project: &str, step: &NewItemStep<'_>) -> DbResult<()> {
    let appended = conn.execute(
        "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, properties,
                                 created_at)
         SELECT i.id, $3, $4, $5, $6, $7, $8 FROM items i WHERE i.project_id = $1 AND i.public_id = $2",
        &[
            &project,
            &step.item.as_str(),
            &step.transaction.get(),
            &step.kind.as_str(),
            &step.from.map(CustomerRowId::get),
            &step.to.map(CustomerRowId::get),
            &step.properties.map(ItemProperties::as_str),
            &step.created_at,
        ],
    )?;
    if appended != 1 {
        return Err(DbError(StoreError::Internal(format!(
            "a step of item {}, which is not in project {project}",
            step.item
        ))));
    }
    Ok(())
}

/// A stored item type: through API v2 at most 64 characters, an API v1
/// item's name up to 200; anything the rules refuse reads as corrupt.
fn item_type(text: &str) -> DbResult<ItemType> {
    ItemType::parse(text)
        .or_else(|_| ItemName::parse(text).map(|name| ItemType::of_v1_item(&name)))
        .map_err(|_| corrupt("items.item_type"))
}

/// Stored properties: JSON text, kept as written.
fn properties(r: &Row, index: usize, column: &'static str) -> DbResult<Option<ItemProperties>> {
    col::<Option<&str>>(r, index)?
        .map(|text| ItemProperties::parse_unbounded(text).map_err(|_| corrupt(column)))
        .transpose()
}

/// A stored customer id, when the row has one.
fn customer_id(r: &Row, index: usize, column: &'static str) -> DbResult<Option<CustomerId>> {
    col::<Option<&str>>(r, index)?
        .map(|text| CustomerId::parse(text).map_err(|_| corrupt(column)))
        .transpose()
}

fn read_item(r: &Row) -> DbResult<Item> {
    let id: &str = col(r, 0)?;
    let owner = match col::<Option<i64>>(r, 3)? {
        None => None,
        Some(rowid) => Some(ItemOwner {
            rowid: CustomerRowId::new(rowid),
            id: customer_id(r, 4, "customers.external_id")?.ok_or_else(|| corrupt("items.customer_id"))?,
        }),
    };
    Ok(Item {
        id: ItemId::parse(id).map_err(|_| corrupt("items.public_id"))?,
        item_type: item_type(col(r, 1)?)?,
        properties: properties(r, 2, "items.properties")?,
        owner,
        status: parsed(r, 5, "items.status", ItemStatus::parse)?,
        created_at: col(r, 6)?,
        updated_at: col(r, 7)?,
        v1_entry: col::<Option<i64>>(r, 8)?.map(EntryId::new),
    })
}

fn read_step(r: &Row) -> DbResult<ItemStep> {
    Ok(ItemStep {
        transaction: col::<Option<i64>>(r, 0)?.map(TransactionId::new),
        kind: parsed(r, 1, "item_steps.kind", ItemStepKind::parse)?,
        from: customer_id(r, 2, "customers.external_id")?,
        to: customer_id(r, 3, "customers.external_id")?,
        properties: properties(r, 4, "item_steps.properties")?,
        created_at: col(r, 5)?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_item_columns_are_the_nine_the_mapper_reads() {
        assert_eq!(item_columns!().split(',').count(), 9);
    }
}
