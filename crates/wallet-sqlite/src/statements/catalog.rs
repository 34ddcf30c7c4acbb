//! Projects, assets and customers.

use super::rows::{self, ASSET_COLUMNS, CUSTOMER_COLUMNS, PROJECT_COLUMNS};
use crate::error::DbResult;
use rusqlite::{params, Connection, OptionalExtension};
use wallet_core::ids::{AssetId, CustomerRowId};
use wallet_core::model::{Asset, Customer, CustomerStatus, Millis, NewAsset, Page, PageRequest, Project};

pub(crate) fn project(conn: &Connection, id: &str) -> DbResult<Option<Project>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"))?
        .query_row([id], rows::project)
        .optional()?)
}

pub(crate) fn projects(conn: &Connection) -> DbResult<Vec<Project>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id"))?;
    let rows = stmt.query_map([], rows::project)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates a project and its default asset; false if the id is taken (the
/// existing project is left as it is).
pub(crate) fn create_project(
    conn: &Connection,
    id: &str,
    name: &str,
    default_asset: &NewAsset,
    now: Millis,
) -> DbResult<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![id, name, now])?;
    if inserted == 0 {
        return Ok(false);
    }
    let asset = insert_asset(conn, id, default_asset, now)?;
    conn.prepare_cached("UPDATE projects SET default_asset = ?2 WHERE id = ?1")?
        .execute(params![id, asset.get()])?;
    Ok(true)
}

pub(crate) fn asset(conn: &Connection, project: &str, id: AssetId) -> DbResult<Option<Asset>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE id = ?1 AND project_id = ?2"
        ))?
        .query_row(params![id.get(), project], rows::asset)
        .optional()?)
}

pub(crate) fn asset_code_taken(conn: &Connection, project: &str, code: &str) -> DbResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM assets WHERE project_id = ?1 AND code = ?2")?
        .exists(params![project, code])?)
}

/// A project's assets, oldest first.
pub(crate) fn assets(conn: &Connection, project: &str, page: PageRequest) -> DbResult<Page<Asset>> {
    rows::page(
        conn,
        &format!("SELECT {ASSET_COLUMNS} FROM assets WHERE project_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"),
        params![project, page.size, page.offset()],
        "SELECT count(*) FROM assets WHERE project_id = ?1",
        [project],
        rows::asset,
    )
}

pub(crate) fn insert_asset(
    conn: &Connection,
    project: &str,
    asset: &NewAsset,
    now: Millis,
) -> DbResult<AssetId> {
    conn.prepare_cached(
        "INSERT INTO assets (project_id, code, name, fractions, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![project, asset.code, asset.name, asset.fractions, now])?;
    Ok(AssetId::new(conn.last_insert_rowid()))
}

pub(crate) fn rename_asset(conn: &Connection, id: AssetId, name: &str) -> DbResult<()> {
    conn.prepare_cached("UPDATE assets SET name = ?2 WHERE id = ?1")?
        .execute(params![id.get(), name])?;
    Ok(())
}

/// Deletes an asset no wallet ever used; false if it is used.
pub(crate) fn delete_unused_asset(conn: &Connection, id: AssetId) -> DbResult<bool> {
    let deleted = conn
        .prepare_cached("DELETE FROM assets WHERE id = ?1 AND used = 0")?
        .execute([id.get()])?;
    Ok(deleted > 0)
}

/// A customer by its caller-chosen id. With one writer, reading inside the
/// write is locking it: nothing else writes until the job ends.
pub(crate) fn customer(conn: &Connection, project: &str, id: &str) -> DbResult<Option<Customer>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 AND external_id = ?2"
        ))?
        .query_row(params![project, id], rows::customer)
        .optional()?)
}

pub(crate) fn customers(conn: &Connection, project: &str, page: PageRequest) -> DbResult<Page<Customer>> {
    rows::page(
        conn,
        &format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE project_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"
        ),
        params![project, page.size, page.offset()],
        "SELECT count(*) FROM customers WHERE project_id = ?1",
        [project],
        rows::customer,
    )
}

/// Creates an Active customer; `None` if the project has that id already
/// (a race the caller settles by running again).
pub(crate) fn insert_customer(
    conn: &Connection,
    project: &str,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
    now: Millis,
) -> DbResult<Option<CustomerRowId>> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO customers (project_id, external_id, name, description, status, created_at)
             VALUES (?1, ?2, ?3, ?4, 'Active', ?5)
             ON CONFLICT (project_id, external_id) DO NOTHING
             RETURNING id",
        )?
        .query_row(params![project, id, name, description, now], |r| r.get(0))
        .optional()?
        .map(CustomerRowId::new))
}

/// Sets the given fields; `None` leaves a field as it is.
pub(crate) fn update_customer(
    conn: &Connection,
    rowid: CustomerRowId,
    name: Option<&str>,
    description: Option<&str>,
) -> DbResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET name = coalesce(?2, name), description = coalesce(?3, description)
         WHERE id = ?1",
    )?
    .execute(params![rowid.get(), name, description])?;
    Ok(())
}

pub(crate) fn set_customer_status(
    conn: &Connection,
    rowid: CustomerRowId,
    status: CustomerStatus,
) -> DbResult<()> {
    conn.prepare_cached("UPDATE customers SET status = ?2 WHERE id = ?1")?
        .execute(params![rowid.get(), status.as_str()])?;
    Ok(())
}
