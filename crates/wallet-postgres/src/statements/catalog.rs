//! Projects, assets and customers.

use super::rows::{self, asset_columns, col, customer_columns, project_columns};
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use wallet_core::ids::{AssetId, CustomerRowId};
use wallet_core::model::{Asset, Customer, CustomerStatus, Millis, NewAsset, Page, PageRequest, Project};
use wallet_core::StoreError;

pub(crate) fn project(conn: &mut PgConn, id: &str) -> DbResult<Option<Project>> {
    conn.query_opt(
        concat!("SELECT ", project_columns!(), " FROM projects WHERE id = $1"),
        &[&id],
    )?
    .map(|r| rows::project(&r))
    .transpose()
}

pub(crate) fn projects(conn: &mut PgConn) -> DbResult<Vec<Project>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects ORDER BY id COLLATE \"C\""
        ),
        &[],
    )?;
    rows::all(&found, rows::project)
}

/// Creates a project and its default asset; false if the id is taken (the
/// existing project is left as it is). The project row goes in first with
/// no default asset (the asset refers to it), then gets it: no deferred
/// constraint, so nothing of a job can fail at its group's COMMIT.
pub(crate) fn create_project(
    conn: &mut PgConn,
    id: &str,
    name: &str,
    default_asset: &NewAsset,
    now: Millis,
) -> DbResult<bool> {
    let inserted = conn.execute(
        "INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        &[&id, &name, &now],
    )?;
    if inserted == 0 {
        return Ok(false);
    }
    let asset = insert_asset(conn, id, default_asset, now)?;
    conn.execute(
        "UPDATE projects SET default_asset = $2 WHERE id = $1",
        &[&id, &asset.get()],
    )?;
    // Its chain's head, at genesis (see `events::lock_head`).
    conn.execute(
        "INSERT INTO event_heads (project_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&id],
    )?;
    Ok(true)
}

pub(crate) fn asset(conn: &mut PgConn, project: &str, id: AssetId) -> DbResult<Option<Asset>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            asset_columns!(),
            " FROM assets WHERE id = $1 AND project_id = $2"
        ),
        &[&id.get(), &project],
    )?
    .map(|r| rows::asset(&r))
    .transpose()
}

pub(crate) fn asset_code_taken(conn: &mut PgConn, project: &str, code: &str) -> DbResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM assets WHERE project_id = $1 AND code = $2",
            &[&project, &code],
        )?
        .is_some())
}

/// A project's assets, oldest first.
pub(crate) fn assets(conn: &mut PgConn, project: &str, page: PageRequest) -> DbResult<Page<Asset>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            asset_columns!(),
            " FROM assets WHERE project_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        ),
        &[&project, &limit, &offset],
        "SELECT count(*) FROM assets WHERE project_id = $1",
        &[&project],
        rows::asset,
    )
}

/// Inserts an asset. A code another writer took since the job checked it
/// (`asset_code_taken`) is `Retryable`: the rerun sees it taken and says so.
pub(crate) fn insert_asset(
    conn: &mut PgConn,
    project: &str,
    asset: &NewAsset,
    now: Millis,
) -> DbResult<AssetId> {
    let row = conn.query_opt(
        "INSERT INTO assets (project_id, code, name, fractions, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project_id, code) DO NOTHING RETURNING id",
        &[&project, &asset.code, &asset.name, &asset.fractions, &now],
    )?;
    match row {
        Some(row) => Ok(AssetId::new(col(&row, 0)?)),
        None => Err(DbError(StoreError::Retryable(format!(
            "asset code {} was just taken",
            asset.code
        )))),
    }
}

pub(crate) fn rename_asset(conn: &mut PgConn, id: AssetId, name: &str) -> DbResult<()> {
    conn.execute("UPDATE assets SET name = $2 WHERE id = $1", &[&id.get(), &name])?;
    Ok(())
}

/// Deletes an asset no wallet ever used; false if it is used. A wallet
/// being opened in it holds its row (the FK check, the `used` mark): the
/// delete waits, then sees it used.
pub(crate) fn delete_unused_asset(conn: &mut PgConn, id: AssetId) -> DbResult<bool> {
    let deleted = conn.execute("DELETE FROM assets WHERE id = $1 AND NOT used", &[&id.get()])?;
    Ok(deleted > 0)
}

pub(crate) fn customer(conn: &mut PgConn, project: &str, id: &str) -> DbResult<Option<Customer>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE project_id = $1 AND external_id = $2"
        ),
        &[&project, &id],
    )?
    .map(|r| rows::customer(&r))
    .transpose()
}

/// [`customer`] inside a write: share-locked until the write commits, so a
/// status change (deleting the customer a token is for) waits for it.
pub(crate) fn customer_for_write(conn: &mut PgConn, project: &str, id: &str) -> DbResult<Option<Customer>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE project_id = $1 AND external_id = $2 FOR SHARE"
        ),
        &[&project, &id],
    )?
    .map(|r| rows::customer(&r))
    .transpose()
}

/// Reads a customer and locks it against concurrent status changes until
/// the write ends. `NO KEY UPDATE`: opening a wallet for it elsewhere (a
/// foreign key's share lock) does not wait, a status change does.
pub(crate) fn lock_customer(conn: &mut PgConn, project: &str, id: &str) -> DbResult<Option<Customer>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE project_id = $1 AND external_id = $2 FOR NO KEY UPDATE"
        ),
        &[&project, &id],
    )?
    .map(|r| rows::customer(&r))
    .transpose()
}

pub(crate) fn customers(conn: &mut PgConn, project: &str, page: PageRequest) -> DbResult<Page<Customer>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE project_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        ),
        &[&project, &limit, &offset],
        "SELECT count(*) FROM customers WHERE project_id = $1",
        &[&project],
        rows::customer,
    )
}

/// Creates an Active customer; `None` if the project has that id already
/// (a concurrent writer's insert waits here until it commits or aborts).
pub(crate) fn insert_customer(
    conn: &mut PgConn,
    project: &str,
    id: &str,
    name: Option<&str>,
    description: Option<&str>,
    now: Millis,
) -> DbResult<Option<CustomerRowId>> {
    conn.query_opt(
        "INSERT INTO customers (project_id, external_id, name, description, status, created_at)
         VALUES ($1, $2, $3, $4, 'Active', $5)
         ON CONFLICT (project_id, external_id) DO NOTHING
         RETURNING id",
        &[&project, &id, &name, &description, &now],
    )?
    .map(|r| col(&r, 0).map(CustomerRowId::new))
    .transpose()
}

/// Sets the given fields; `None` leaves a field as it is.
pub(crate) fn update_customer(
    conn: &mut PgConn,
    rowid: CustomerRowId,
    name: Option<&str>,
    description: Option<&str>,
) -> DbResult<()> {
    conn.execute(
        "UPDATE customers SET name = coalesce($2, name), description = coalesce($3, description)
         WHERE id = $1",
        &[&rowid.get(), &name, &description],
    )?;
    Ok(())
}

pub(crate) fn set_customer_status(
    conn: &mut PgConn,
    rowid: CustomerRowId,
    status: CustomerStatus,
) -> DbResult<()> {
    conn.execute(
        "UPDATE customers SET status = $2 WHERE id = $1",
        &[&rowid.get(), &status.as_str()],
    )?;
    Ok(())
}
