//! Every statement the writer runs. The ledger core composes these inside one
//! job; it checks balances and statuses, this file only reads and writes rows.

use super::rows::*;
use super::StorageError;
use crate::domain::{CustomerId, ProjectId};
use rusqlite::{params, Connection, OptionalExtension};

/// The statement set available inside a write job.
pub struct WriteTx<'c> {
    pub(super) conn: &'c Connection,
}

/// How an authority proves itself.
#[derive(Debug, Clone, Copy)]
pub enum AuthorityCredential<'a> {
    PublicKey(&'a str),
    TokenDigest(&'a [u8]),
}

impl<'c> WriteTx<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        Self { conn }
    }

    pub fn project_exists(&self, project: &ProjectId) -> Result<bool, StorageError> {
        let mut stmt = self.conn.prepare_cached("SELECT 1 FROM projects WHERE id = ?1")?;
        Ok(stmt.exists([project.as_str()])?)
    }

    /// Creates a project and its default asset.
    pub fn create_project(
        &self,
        project: &ProjectId,
        name: &str,
        default_asset: &NewAsset,
        now: i64,
    ) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT INTO projects (id, name, created_at) VALUES (?1, ?2, ?3)")?
            .execute(params![project.as_str(), name, now])?;
        let asset = self.create_asset(project, default_asset, now)?;
        self.conn
            .prepare_cached("UPDATE projects SET default_asset = ?2 WHERE id = ?1")?
            .execute(params![project.as_str(), asset])?;
        Ok(())
    }

    pub fn create_asset(&self, project: &ProjectId, asset: &NewAsset, now: i64) -> Result<i64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO assets (project_id, code, name, fractions, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                project.as_str(),
                asset.code,
                asset.name,
                asset.fractions,
                now
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores an authority with exactly one credential: an ES256 public key
    /// or the digest of an access key.
    pub fn insert_authority(
        &self,
        public_id: &str,
        project: &ProjectId,
        name: &str,
        credential: AuthorityCredential<'_>,
        now: i64,
    ) -> Result<i64, StorageError> {
        let (pem, digest) = match credential {
            AuthorityCredential::PublicKey(pem) => (Some(pem), None),
            AuthorityCredential::TokenDigest(digest) => (None, Some(digest)),
        };
        self.conn
            .prepare_cached(
                "INSERT INTO authorities (public_id, project_id, name, public_key_pem, token_digest, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![public_id, project.as_str(), name, pem, digest, now])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Reads inside the write, on the same snapshot.
    pub fn read(&self) -> super::ReadTx<'_> {
        super::ReadTx::new(self.conn)
    }

    /// Marks an authority revoked. Returns false if there is no such
    /// authority; revoking twice keeps the first time.
    pub fn revoke_authority(&self, public_id: &str, now: i64) -> Result<bool, StorageError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE authorities SET revoked_at = coalesce(revoked_at, ?2) WHERE public_id = ?1",
            )?
            .execute(params![public_id, now])?;
        Ok(changed > 0)
    }

    /// The customer's row, created Active if the project has none yet
    /// (API v1 creates customers implicitly).
    pub fn ensure_customer(
        &self,
        project: &str,
        customer: &CustomerId,
        now: i64,
    ) -> Result<CustomerState, StorageError> {
        if let Some(found) = self.customer(project, customer)? {
            return Ok(found);
        }
        self.conn
            .prepare_cached(
                "INSERT INTO customers (project_id, external_id, status, created_at)
                 VALUES (?1, ?2, 'Active', ?3)",
            )?
            .execute(params![project, customer.as_str(), now])?;
        Ok(CustomerState {
            rowid: self.conn.last_insert_rowid(),
            status: CustomerStatus::Active,
        })
    }

    pub fn customer(
        &self,
        project: &str,
        customer: &CustomerId,
    ) -> Result<Option<CustomerState>, StorageError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, status FROM customers WHERE project_id = ?1 AND external_id = ?2")?
            .query_row(params![project, customer.as_str()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        row.map(|(rowid, status)| {
            Ok(CustomerState {
                rowid,
                status: CustomerStatus::from_db(&status).ok_or(StorageError::Corrupt("customers.status"))?,
            })
        })
        .transpose()
    }

    /// The customer's default wallet of `asset`, opened (and the asset marked
    /// used) if the customer has no wallet of it yet. A customer with wallets
    /// of the asset but no default (an import of an old export) gets its
    /// oldest one made the default: one default per asset, never two.
    pub fn ensure_default_wallet(
        &self,
        project: &str,
        customer_rowid: i64,
        asset: i64,
        now: i64,
    ) -> Result<WalletState, StorageError> {
        let found = self
            .conn
            .prepare_cached(
                "SELECT id, asset_id, status, balance, is_default FROM wallets
                 WHERE customer_id = ?1 AND asset_id = ?2
                 ORDER BY is_default DESC, id LIMIT 1",
            )?
            .query_row(params![customer_rowid, asset], |r| {
                Ok((wallet_state_from_row(r)?, r.get::<_, bool>(4)?))
            })
            .optional()?;
        if let Some((found, is_default)) = found {
            let found = found?;
            if !is_default {
                self.conn
                    .prepare_cached("UPDATE wallets SET is_default = 1 WHERE id = ?1")?
                    .execute([found.rowid])?;
            }
            return Ok(found);
        }
        self.conn
            .prepare_cached(
                "INSERT INTO wallets (project_id, asset_id, customer_id, is_default, status, balance, created_at)
                 VALUES (?1, ?2, ?3, 1, 'Open', 0, ?4)",
            )?
            .execute(params![project, asset, customer_rowid, now])?;
        let rowid = self.conn.last_insert_rowid();
        self.mark_asset_used(asset)?;
        Ok(WalletState {
            rowid,
            asset_id: asset,
            status: WalletStatus::Open,
            balance: 0,
        })
    }

    pub fn mark_asset_used(&self, asset: i64) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("UPDATE assets SET used = 1 WHERE id = ?1 AND used = 0")?
            .execute([asset])?;
        Ok(())
    }

    pub fn insert_transaction(&self, t: &NewTransaction<'_>) -> Result<i64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO transactions
                   (project_id, reference_id, authority_id, status, error, description, operations, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                t.project_id,
                t.reference_id,
                t.authority,
                if t.completed { "Completed" } else { "Failed" },
                t.error,
                t.description,
                t.operations,
                t.created_at
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Appends an entry and moves the wallet's balance and the authority's
    /// running total with it. The caller has checked `balance_after`.
    pub fn append_entry(&self, e: &NewEntry<'_>) -> Result<i64, StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO entries
                   (wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                e.wallet,
                e.transaction,
                e.authority,
                e.kind.as_str(),
                e.amount,
                e.balance_after,
                e.reason,
                e.created_at
            ])?;
        let entry = self.conn.last_insert_rowid();
        self.conn
            .prepare_cached("UPDATE wallets SET balance = ?2 WHERE id = ?1")?
            .execute(params![e.wallet, e.balance_after])?;
        Ok(entry)
    }

    /// The running total of `authority`'s entries in `wallet` (`None` if none).
    pub fn authority_total(&self, wallet: i64, authority: i64) -> Result<Option<i128>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT total, total_high FROM authority_totals WHERE wallet_id = ?1 AND authority_id = ?2",
            )?
            .query_row(params![wallet, authority], |r| {
                Ok(join_total(r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    pub fn set_authority_total(&self, wallet: i64, authority: i64, total: i128) -> Result<(), StorageError> {
        let (low, high) = split_total(total).ok_or(StorageError::Corrupt("authority_totals.total"))?;
        self.conn
            .prepare_cached(
                "INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (wallet_id, authority_id)
                 DO UPDATE SET total = excluded.total, total_high = excluded.total_high",
            )?
            .execute(params![wallet, authority, low, high])?;
        Ok(())
    }

    pub fn insert_item(&self, entry: i64, name: &str, data: Option<&str>) -> Result<(), StorageError> {
        self.conn
            .prepare_cached("INSERT INTO items (entry_id, name, data, used) VALUES (?1, ?2, ?3, 0)")?
            .execute(params![entry, name, data])?;
        Ok(())
    }

    /// Marks the item of `entry` used, if that entry is in `project` and has one.
    pub fn use_item(&self, project: &str, entry: i64) -> Result<ItemUse, StorageError> {
        let used: Option<bool> = self
            .conn
            .prepare_cached(
                "SELECT i.used FROM items i
                 JOIN entries e ON e.id = i.entry_id
                 JOIN wallets w ON w.id = e.wallet_id
                 WHERE i.entry_id = ?1 AND w.project_id = ?2",
            )?
            .query_row(params![entry, project], |r| r.get(0))
            .optional()?;
        match used {
            None => Ok(ItemUse::NoSuchItem),
            Some(true) => Ok(ItemUse::AlreadyUsed),
            Some(false) => {
                self.conn
                    .prepare_cached("UPDATE items SET used = 1 WHERE entry_id = ?1")?
                    .execute([entry])?;
                Ok(ItemUse::Marked)
            }
        }
    }

    /// An entry as API v1 shows it, read inside the write that made or changed it.
    pub fn v1_entry(&self, entry: i64) -> Result<Option<V1EntryRow>, StorageError> {
        super::reads::v1_entry(self.conn, entry)
    }
}

fn wallet_state_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<WalletState, StorageError>> {
    let status: String = r.get(2)?;
    Ok(match WalletStatus::from_db(&status) {
        Some(status) => Ok(WalletState {
            rowid: r.get(0)?,
            asset_id: r.get(1)?,
            status,
            balance: r.get(3)?,
        }),
        None => Err(StorageError::Corrupt("wallets.status")),
    })
}
