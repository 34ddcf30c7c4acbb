//! Access-key authorities and customer keys: only digests are stored.

use super::reads::authority_from_row;
use super::rows::*;
use super::{ReadTx, StorageError, WriteTx};
use rusqlite::{params, OptionalExtension, Row};

fn customer_key_from_row(r: &Row<'_>) -> rusqlite::Result<CustomerKeyRow> {
    Ok(CustomerKeyRow {
        id: r.get(0)?,
        project_id: r.get(1)?,
        customer: r.get(2)?,
        customer_id: r.get(3)?,
        token_digest: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
        customer_deleted: r.get::<_, String>(8)? == "Deleted",
    })
}

const CUSTOMER_KEY_COLUMNS: &str = "k.public_id, c.project_id, k.customer_id, c.external_id, k.token_digest,
     k.created_at, k.expires_at, k.revoked_at, c.status";

impl ReadTx<'_> {
    /// An authority with its access-key digest (`None` for key-pair authorities).
    pub fn key_authority(&self, public_id: &str) -> Result<Option<KeyAuthorityRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT a.id, a.public_id, a.project_id, a.name, a.public_key_pem, a.created_at,
                        a.revoked_at, p.default_asset, a.token_digest
                 FROM authorities a JOIN projects p ON p.id = a.project_id
                 WHERE a.public_id = ?1",
            )?
            .query_row([public_id], |r| {
                Ok(KeyAuthorityRow {
                    authority: authority_from_row(r)?,
                    token_digest: r.get(8)?,
                })
            })
            .optional()?)
    }

    pub fn customer_key(&self, public_id: &str) -> Result<Option<CustomerKeyRow>, StorageError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {CUSTOMER_KEY_COLUMNS} FROM customer_keys k JOIN customers c ON c.id = k.customer_id
                 WHERE k.public_id = ?1"
            ))?
            .query_row([public_id], customer_key_from_row)
            .optional()?)
    }

    pub fn customer_keys_page(
        &self,
        customer: i64,
        page: PageRequest,
    ) -> Result<Paged<CustomerKeyRow>, StorageError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CUSTOMER_KEY_COLUMNS} FROM customer_keys k JOIN customers c ON c.id = k.customer_id
             WHERE k.customer_id = ?1 ORDER BY k.id LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = stmt.query_map(params![customer, page.size, page.offset()], customer_key_from_row)?;
        let items = rows.collect::<Result<_, _>>()?;
        let total = self
            .conn
            .prepare_cached("SELECT count(*) FROM customer_keys WHERE customer_id = ?1")?
            .query_row([customer], |r| r.get(0))?;
        Ok(Paged { items, total })
    }
}

impl WriteTx<'_> {
    pub fn insert_customer_key(
        &self,
        public_id: &str,
        customer: i64,
        digest: &[u8],
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<(), StorageError> {
        self.conn
            .prepare_cached(
                "INSERT INTO customer_keys (public_id, customer_id, token_digest, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![public_id, customer, digest, now, expires_at])?;
        Ok(())
    }

    /// Revokes a key of `customer`. Returns false if the customer has no such key.
    pub fn revoke_customer_key(
        &self,
        customer: i64,
        public_id: &str,
        now: i64,
    ) -> Result<bool, StorageError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE customer_keys SET revoked_at = coalesce(revoked_at, ?3)
                 WHERE customer_id = ?1 AND public_id = ?2",
            )?
            .execute(params![customer, public_id, now])?;
        Ok(changed > 0)
    }
}
