//! Every read-only statement. Runs on pooled read-only connections.

use super::rows::*;
use super::StorageError;
use rusqlite::{params, Connection, OptionalExtension};

/// The statement set available to a read.
pub struct ReadTx<'c> {
    pub(super) conn: &'c Connection,
}

/// Filters of the v1 wallet query. `None` = no filter; `Some(empty)` matches nothing.
#[derive(Debug, Clone, Default)]
pub struct WalletTotalsFilter {
    pub user_ids: Option<Vec<String>>,
    pub authority_ids: Option<Vec<String>>,
}

/// Filters of the v1 inventory query. `None` = no filter.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    pub entry_ids: Option<Vec<i64>>,
    pub user_ids: Option<Vec<String>>,
    pub authority_ids: Option<Vec<String>>,
    pub used: Option<bool>,
}

/// A list filter as one JSON-array parameter, so the SQL text is fixed (and
/// its statement cached) whatever the list's length.
pub(super) fn json_list<T: serde::Serialize>(list: &Option<Vec<T>>) -> Result<Option<String>, StorageError> {
    list.as_ref()
        .map(|l| serde_json::to_string(l).map_err(|_| StorageError::Corrupt("filter list")))
        .transpose()
}

impl<'c> ReadTx<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    pub fn authority(&self, public_id: &str) -> Result<Option<AuthorityRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT a.id, a.public_id, a.project_id, a.name, a.public_key_pem, a.created_at,
                        a.revoked_at, p.default_asset
                 FROM authorities a JOIN projects p ON p.id = a.project_id
                 WHERE a.public_id = ?1",
            )?
            .query_row([public_id], authority_from_row)
            .optional()?)
    }

    /// Whether the authority with this rowid exists and is not revoked.
    pub fn authority_is_live(&self, rowid: i64) -> Result<bool, StorageError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM authorities WHERE id = ?1 AND revoked_at IS NULL")?
            .exists([rowid])?)
    }

    /// Authorities, oldest first; of one project or of all.
    pub fn authorities(&self, project: Option<&str>) -> Result<Vec<AuthorityRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.public_id, a.project_id, a.name, a.public_key_pem, a.created_at,
                    a.revoked_at, p.default_asset
             FROM authorities a JOIN projects p ON p.id = a.project_id
             WHERE ?1 IS NULL OR a.project_id = ?1
             ORDER BY a.id",
        )?;
        let rows = stmt.query_map([project], authority_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// API v1 wallet totals: per user of the project, the sum of the running
    /// totals of the (filtered) authorities in the user's default wallet of
    /// `asset`. Users with no matching entries are left out. Summed here in
    /// i128, not by SQLite's `sum()`, which fails on an integer overflow:
    /// a sum over some authorities may pass i64 on a legal ledger, and even
    /// one that ends within i64 may pass it on the way.
    pub fn v1_wallet_totals(
        &self,
        project: &str,
        asset: i64,
        filter: &WalletTotalsFilter,
    ) -> Result<Vec<WalletTotalRow>, StorageError> {
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
        let mut stmt = self.conn.prepare_cached(sql)?;
        let users = json_list(&filter.user_ids)?;
        let authorities = json_list(&filter.authority_ids)?;
        let mut rows = stmt.query(params![project, asset, users, authorities])?;
        let mut totals: Vec<WalletTotalRow> = Vec::new();
        while let Some(row) = rows.next()? {
            let user: String = row.get(0)?;
            let total = join_total(row.get(1)?, row.get(2)?);
            match totals.last_mut() {
                Some(last) if last.user_id == user => {
                    last.total = last
                        .total
                        .checked_add(total)
                        .ok_or(StorageError::Corrupt("authority_totals.total"))?;
                }
                _ => totals.push(WalletTotalRow { user_id: user, total }),
            }
        }
        Ok(totals)
    }

    /// API v1 inventory of the project, oldest entry first.
    pub fn v1_inventory(
        &self,
        project: &str,
        filter: &InventoryFilter,
    ) -> Result<Vec<InventoryRow>, StorageError> {
        // As for wallet totals: start from the named users or entries so the
        // indexes are used; only an unfiltered inventory scans the project.
        const FILTERS: &str = "(?2 IS NULL OR i.entry_id IN (SELECT value FROM json_each(?2)))
               AND (?3 IS NULL OR c.external_id IN (SELECT value FROM json_each(?3)))
               AND (?4 IS NULL OR a.public_id IN (SELECT value FROM json_each(?4)))
               AND (?5 IS NULL OR i.used = ?5)";
        let from = if filter.user_ids.is_some() {
            "FROM (SELECT DISTINCT value FROM json_each(?3)) u
             CROSS JOIN customers c ON c.project_id = ?1 AND c.external_id = u.value
             CROSS JOIN wallets w ON w.customer_id = c.id
             CROSS JOIN entries e ON e.wallet_id = w.id
             JOIN items i ON i.entry_id = e.id"
        } else if filter.entry_ids.is_some() {
            "FROM (SELECT DISTINCT value FROM json_each(?2)) x
             CROSS JOIN items i ON i.entry_id = x.value
             JOIN entries e ON e.id = i.entry_id
             JOIN wallets w ON w.id = e.wallet_id AND w.project_id = ?1
             JOIN customers c ON c.id = w.customer_id"
        } else {
            "FROM items i
             JOIN entries e ON e.id = i.entry_id
             JOIN wallets w ON w.id = e.wallet_id AND w.project_id = ?1
             JOIN customers c ON c.id = w.customer_id"
        };
        let sql = format!(
            "SELECT i.entry_id, a.public_id, c.external_id, i.name, i.data, i.used {from}
             JOIN authorities a ON a.id = e.authority_id
             WHERE {FILTERS}
             ORDER BY i.entry_id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let entries = json_list(&filter.entry_ids)?;
        let users = json_list(&filter.user_ids)?;
        let authorities = json_list(&filter.authority_ids)?;
        let rows = stmt.query_map(params![project, entries, users, authorities, filter.used], |r| {
            Ok(InventoryRow {
                entry_id: r.get(0)?,
                authority_id: r.get(1)?,
                user_id: r.get(2)?,
                item: ItemRow {
                    name: r.get(3)?,
                    data: r.get(4)?,
                    used: r.get(5)?,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Verifies the invariants of the ledger (see `docs/architecture.md`).
    pub fn check(&self) -> Result<CheckReport, StorageError> {
        super::check::run(self.conn)
    }
}

pub(super) fn v1_entry(conn: &Connection, entry: i64) -> Result<Option<V1EntryRow>, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT e.id, a.public_id, c.external_id, e.created_at, e.amount, coalesce(e.reason, ''),
                    i.name, i.data, i.used
             FROM entries e
             JOIN authorities a ON a.id = e.authority_id
             JOIN wallets w ON w.id = e.wallet_id
             JOIN customers c ON c.id = w.customer_id
             LEFT JOIN items i ON i.entry_id = e.id
             WHERE e.id = ?1",
        )?
        .query_row([entry], |r| {
            let item_name: Option<String> = r.get(6)?;
            Ok(V1EntryRow {
                entry_id: r.get(0)?,
                authority_id: r.get(1)?,
                user_id: r.get(2)?,
                created_at: r.get(3)?,
                amount: r.get(4)?,
                reason: r.get(5)?,
                item: match item_name {
                    Some(name) => Some(ItemRow {
                        name,
                        data: r.get(7)?,
                        used: r.get(8)?,
                    }),
                    None => None,
                },
            })
        })
        .optional()?)
}

pub(super) fn authority_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuthorityRow> {
    Ok(AuthorityRow {
        rowid: r.get(0)?,
        public_id: r.get(1)?,
        project_id: r.get(2)?,
        name: r.get(3)?,
        public_key_pem: r.get(4)?,
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
        default_asset: r.get(7)?,
    })
}
