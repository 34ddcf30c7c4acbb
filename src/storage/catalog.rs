//! Projects, assets, customers and wallets: statements of API v2's catalog.

use super::rows::*;
use super::{ReadTx, StorageError, WriteTx};
use rusqlite::{params, OptionalExtension, Row};

const WALLET_COLUMNS: &str = "w.id, w.project_id, w.asset_id, w.customer_id, c.external_id, c.status, w.name,
     w.description, w.status, w.balance, w.created_at";

fn wallet_from_row(r: &Row<'_>) -> rusqlite::Result<Result<WalletRow, StorageError>> {
    let customer_rowid: Option<i64> = r.get(3)?;
    let customer_id: Option<String> = r.get(4)?;
    let customer_status: Option<String> = r.get(5)?;
    let status: String = r.get(8)?;
    let Some(status) = WalletStatus::from_db(&status) else {
        return Ok(Err(StorageError::Corrupt("wallets.status")));
    };
    let customer_status = match customer_status.as_deref().map(CustomerStatus::from_db) {
        Some(None) => return Ok(Err(StorageError::Corrupt("customers.status"))),
        Some(Some(s)) => Some(s),
        None => None,
    };
    Ok(Ok(WalletRow {
        id: r.get(0)?,
        project_id: r.get(1)?,
        asset_id: r.get(2)?,
        customer: customer_rowid.zip(customer_id),
        customer_status,
        name: r.get(6)?,
        description: r.get(7)?,
        status,
        balance: r.get(9)?,
        created_at: r.get(10)?,
    }))
}

fn customer_from_row(r: &Row<'_>) -> rusqlite::Result<Result<CustomerRow, StorageError>> {
    let status: String = r.get(4)?;
    let Some(status) = CustomerStatus::from_db(&status) else {
        return Ok(Err(StorageError::Corrupt("customers.status")));
    };
    Ok(Ok(CustomerRow {
        rowid: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        status,
        created_at: r.get(5)?,
    }))
}

fn asset_from_row(r: &Row<'_>) -> rusqlite::Result<AssetRow> {
    Ok(AssetRow {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        fractions: r.get(3)?,
        used: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn project_from_row(r: &Row<'_>) -> rusqlite::Result<ProjectRow> {
    Ok(ProjectRow {
        id: r.get(0)?,
        name: r.get(1)?,
        default_asset: r.get(2)?,
        created_at: r.get(3)?,
    })
}

/// Collects rows whose mapping can itself fail with a storage error.
fn collect<T>(
    rows: impl Iterator<Item = rusqlite::Result<Result<T, StorageError>>>,
) -> Result<Vec<T>, StorageError> {
    rows.map(|r| r?).collect()
}

impl ReadTx<'_> {
    pub fn project(&self, id: &str) -> Result<Option<ProjectRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, name, default_asset, created_at FROM projects WHERE id = ?1")?
            .query_row([id], project_from_row)
            .optional()?)
    }

    pub fn projects(&self) -> Result<Vec<ProjectRow>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, default_asset, created_at FROM projects ORDER BY id")?;
        let rows = stmt.query_map([], project_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn asset(&self, project: &str, id: i64) -> Result<Option<AssetRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, code, name, fractions, used, created_at FROM assets WHERE id = ?1 AND project_id = ?2",
            )?
            .query_row(params![id, project], asset_from_row)
            .optional()?)
    }

    pub fn asset_code_taken(&self, project: &str, code: &str) -> Result<bool, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM assets WHERE project_id = ?1 AND code = ?2")?
            .exists(params![project, code])?)
    }

    /// All assets of a project, oldest first.
    pub fn assets(&self, project: &str) -> Result<Vec<AssetRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, code, name, fractions, used, created_at FROM assets WHERE project_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([project], asset_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn assets_page(&self, project: &str, page: PageRequest) -> Result<Paged<AssetRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, code, name, fractions, used, created_at FROM assets WHERE project_id = ?1
             ORDER BY id LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![project, page.size, page.offset()], asset_from_row)?;
        let items = rows.collect::<Result<_, _>>()?;
        let total = self
            .conn
            .prepare_cached("SELECT count(*) FROM assets WHERE project_id = ?1")?
            .query_row([project], |r| r.get(0))?;
        Ok(Paged { items, total })
    }

    pub fn customer_row(&self, project: &str, id: &str) -> Result<Option<CustomerRow>, StorageError> {
        self.conn
            .prepare_cached(
                "SELECT id, external_id, name, description, status, created_at FROM customers
                 WHERE project_id = ?1 AND external_id = ?2",
            )?
            .query_row(params![project, id], customer_from_row)
            .optional()?
            .transpose()
    }

    pub fn customers_page(
        &self,
        project: &str,
        page: PageRequest,
    ) -> Result<Paged<CustomerRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, external_id, name, description, status, created_at FROM customers
             WHERE project_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
        )?;
        let items = collect(stmt.query_map(params![project, page.size, page.offset()], customer_from_row)?)?;
        let total = self
            .conn
            .prepare_cached("SELECT count(*) FROM customers WHERE project_id = ?1")?
            .query_row([project], |r| r.get(0))?;
        Ok(Paged { items, total })
    }

    pub fn wallet(&self, project: &str, id: i64) -> Result<Option<WalletRow>, StorageError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN customers c ON c.id = w.customer_id
                 WHERE w.id = ?1 AND w.project_id = ?2"
            ))?
            .query_row(params![id, project], wallet_from_row)
            .optional()?
            .transpose()
    }

    /// A customer's wallets (all of them, or one page), oldest first.
    pub fn customer_wallets(
        &self,
        customer: i64,
        page: PageRequest,
    ) -> Result<Paged<WalletRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN customers c ON c.id = w.customer_id
             WHERE w.customer_id = ?1 ORDER BY w.id LIMIT ?2 OFFSET ?3"
        ))?;
        let items = collect(stmt.query_map(params![customer, page.size, page.offset()], wallet_from_row)?)?;
        let total = self
            .conn
            .prepare_cached("SELECT count(*) FROM wallets WHERE customer_id = ?1")?
            .query_row([customer], |r| r.get(0))?;
        Ok(Paged { items, total })
    }

    pub fn system_wallets(&self, project: &str, page: PageRequest) -> Result<Paged<WalletRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallets w LEFT JOIN customers c ON c.id = w.customer_id
             WHERE w.project_id = ?1 AND w.customer_id IS NULL ORDER BY w.id LIMIT ?2 OFFSET ?3"
        ))?;
        let items = collect(stmt.query_map(params![project, page.size, page.offset()], wallet_from_row)?)?;
        let total = self
            .conn
            .prepare_cached("SELECT count(*) FROM wallets WHERE project_id = ?1 AND customer_id IS NULL")?
            .query_row([project], |r| r.get(0))?;
        Ok(Paged { items, total })
    }
}

impl WriteTx<'_> {
    pub fn rename_asset(&self, id: i64, name: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE assets SET name = ?2 WHERE id = ?1")?
            .execute(params![id, name])?;
        Ok(())
    }

    /// Deletes an asset no wallet ever used. Returns false if it is used.
    pub fn delete_unused_asset(&self, id: i64) -> Result<bool, StorageError> {
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM assets WHERE id = ?1 AND used = 0")?
            .execute([id])?;
        Ok(deleted > 0)
    }

    pub fn insert_customer(
        &self,
        project: &str,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        now: i64,
    ) -> Result<i64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO customers (project_id, external_id, name, description, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'Active', ?5)",
            )?
            .execute(params![project, id, name, description, now])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Sets the given fields; `None` leaves a field as it is.
    pub fn update_customer(
        &self,
        rowid: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "UPDATE customers SET name = coalesce(?2, name), description = coalesce(?3, description)
                 WHERE id = ?1",
            )?
            .execute(params![rowid, name, description])?;
        Ok(())
    }

    pub fn set_customer_status(&self, rowid: i64, status: CustomerStatus) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE customers SET status = ?2 WHERE id = ?1")?
            .execute(params![rowid, status.as_str()])?;
        Ok(())
    }

    /// Suspends every Open wallet of a customer.
    pub fn suspend_open_wallets(&self, customer: i64) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "UPDATE wallets SET status = 'Suspended' WHERE customer_id = ?1 AND status = 'Open'",
            )?
            .execute([customer])?;
        Ok(())
    }

    /// Opens a wallet (and marks its asset used). `customer` is `None` for a
    /// system wallet. A customer's first wallet of an asset is its default
    /// for that asset: the one API v1 uses, whichever API opened it.
    pub fn create_wallet(
        &self,
        project: &str,
        asset: i64,
        customer: Option<i64>,
        name: Option<&str>,
        description: Option<&str>,
        now: i64,
    ) -> Result<i64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO wallets (project_id, asset_id, customer_id, is_default, name, description, status,
                                      balance, created_at)
                 VALUES (?1, ?2, ?3,
                         ?3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM wallets
                                                        WHERE customer_id = ?3 AND asset_id = ?2 AND is_default = 1),
                         ?4, ?5, 'Open', 0, ?6)",
            )?
            .execute(params![project, asset, customer, name, description, now])?;
        let id = self.conn.last_insert_rowid();
        self.mark_asset_used(asset)?;
        Ok(id)
    }

    pub fn set_wallet_status(&self, id: i64, status: WalletStatus) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE wallets SET status = ?2 WHERE id = ?1")?
            .execute(params![id, status.as_str()])?;
        Ok(())
    }

    pub fn set_wallet_name(&self, id: i64, name: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE wallets SET name = ?2 WHERE id = ?1")?
            .execute(params![id, name])?;
        Ok(())
    }

    pub fn set_wallet_description(&self, id: i64, description: &str) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE wallets SET description = ?2 WHERE id = ?1")?
            .execute(params![id, description])?;
        Ok(())
    }
}
