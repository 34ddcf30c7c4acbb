//! Authorities and customer keys. Only public keys and digests are stored:
//! the server never holds a private key or a plain token.
//!
//! Each project may also have one *system* authority (`system = 1`), which
//! posts what the server does by itself. It has no credential, so no read
//! here returns it: it cannot be found by id, listed, authenticated as or
//! revoked. Only `system_authority` reaches it.

use super::rows::{
    self, AUTHORITIES_WITH_PROJECTS, AUTHORITY_COLUMNS, CUSTOMER_KEY_COLUMNS, KEYS_WITH_CUSTOMERS,
};
use crate::error::DbResult;
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::LazyLock;
use wallet_core::ids::{AuthorityRowId, CustomerKeyRowId, CustomerRowId};
use wallet_core::model::{Authority, AuthorityCredential, CustomerKey, Millis, Page, PageRequest};
use wallet_core::port::NewCustomerKey;
use wallet_core::text::PublicId;

/// The statements authentication runs on every request, made once.
static AUTHORITY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {AUTHORITY_COLUMNS} FROM {AUTHORITIES_WITH_PROJECTS}
         WHERE a.public_id = ?1 AND a.system = 0"
    )
});
static CUSTOMER_KEY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CUSTOMER_KEY_COLUMNS} FROM {KEYS_WITH_CUSTOMERS} WHERE k.public_id = ?1")
});

pub(crate) fn authority(conn: &Connection, public_id: &str) -> DbResult<Option<Authority>> {
    Ok(conn
        .prepare_cached(&AUTHORITY_SQL)?
        .query_row([public_id], rows::authority)
        .optional()?)
}

pub(crate) fn authority_by_rowid(conn: &Connection, rowid: AuthorityRowId) -> DbResult<Option<Authority>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {AUTHORITY_COLUMNS} FROM {AUTHORITIES_WITH_PROJECTS} WHERE a.id = ?1 AND a.system = 0"
        ))?
        .query_row([rowid.get()], rows::authority)
        .optional()?)
}

/// Every authority, or those of one project, oldest first.
pub(crate) fn authorities(conn: &Connection, project: Option<&str>) -> DbResult<Vec<Authority>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {AUTHORITY_COLUMNS} FROM {AUTHORITIES_WITH_PROJECTS}
         WHERE a.system = 0 AND (?1 IS NULL OR a.project_id = ?1) ORDER BY a.id"
    ))?;
    let rows = stmt.query_map([project], rows::authority)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores an authority with exactly one credential: an ES256 public key or
/// the digest of an access key.
pub(crate) fn insert_authority(
    conn: &Connection,
    public_id: &str,
    project: &str,
    name: &str,
    credential: &AuthorityCredential,
    now: Millis,
) -> DbResult<AuthorityRowId> {
    let (pem, digest) = match credential {
        AuthorityCredential::PublicKey(pem) => (Some(pem.as_str()), None),
        AuthorityCredential::TokenDigest(digest) => (None, Some(digest.as_slice())),
    };
    conn.prepare_cached(
        "INSERT INTO authorities (public_id, project_id, name, public_key_pem, token_digest, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![public_id, project, name, pem, digest, now])?;
    Ok(AuthorityRowId::new(conn.last_insert_rowid()))
}

/// The project's system authority, created on first use (one writer: the
/// lookup and the insert cannot race; the unique index `authorities_system`
/// would refuse a second all the same). Its public id is random, like any
/// other, and never answers a lookup.
pub(crate) fn system_authority(conn: &Connection, project: &str, now: Millis) -> DbResult<AuthorityRowId> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM authorities WHERE project_id = ?1 AND system = 1")?
        .query_row([project], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(AuthorityRowId::new(id));
    }
    let public_id = PublicId::random("sys_");
    conn.prepare_cached(
        "INSERT INTO authorities (public_id, project_id, name, system, created_at)
         VALUES (?1, ?2, 'system', 1, ?3)",
    )?
    .execute(params![public_id.as_str(), project, now])?;
    Ok(AuthorityRowId::new(conn.last_insert_rowid()))
}

/// Marks an authority revoked; revoking twice keeps the first time.
pub(crate) fn revoke_authority(conn: &Connection, public_id: &str, now: Millis) -> DbResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE authorities SET revoked_at = coalesce(revoked_at, ?2) WHERE public_id = ?1 AND system = 0")?
        .execute(params![public_id, now])?;
    Ok(changed > 0)
}

pub(crate) fn customer_key(conn: &Connection, public_id: &str) -> DbResult<Option<CustomerKey>> {
    Ok(conn
        .prepare_cached(&CUSTOMER_KEY_SQL)?
        .query_row([public_id], rows::customer_key)
        .optional()?)
}

pub(crate) fn customer_key_by_rowid(
    conn: &Connection,
    rowid: CustomerKeyRowId,
) -> DbResult<Option<CustomerKey>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CUSTOMER_KEY_COLUMNS} FROM {KEYS_WITH_CUSTOMERS} WHERE k.id = ?1"
        ))?
        .query_row([rowid.get()], rows::customer_key)
        .optional()?)
}

/// A customer's keys, oldest first.
pub(crate) fn customer_keys(
    conn: &Connection,
    customer: CustomerRowId,
    page: PageRequest,
) -> DbResult<Page<CustomerKey>> {
    rows::page(
        conn,
        &format!(
            "SELECT {CUSTOMER_KEY_COLUMNS} FROM {KEYS_WITH_CUSTOMERS}
             WHERE k.customer_id = ?1 ORDER BY k.id LIMIT ?2 OFFSET ?3"
        ),
        params![customer.get(), page.size, page.offset()],
        "SELECT count(*) FROM customer_keys WHERE customer_id = ?1",
        [customer.get()],
        rows::customer_key,
    )
}

pub(crate) fn insert_customer_key(conn: &Connection, key: &NewCustomerKey<'_>) -> DbResult<CustomerKeyRowId> {
    conn.prepare_cached(
        "INSERT INTO customer_keys (public_id, customer_id, token_digest, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        key.public_id,
        key.customer.get(),
        key.token_digest,
        key.created_at,
        key.expires_at
    ])?;
    Ok(CustomerKeyRowId::new(conn.last_insert_rowid()))
}

/// Revokes a key of `customer`; false if the customer has no such key.
pub(crate) fn revoke_customer_key(
    conn: &Connection,
    customer: CustomerRowId,
    public_id: &str,
    now: Millis,
) -> DbResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE customer_keys SET revoked_at = coalesce(revoked_at, ?3)
             WHERE customer_id = ?1 AND public_id = ?2",
        )?
        .execute(params![customer.get(), public_id, now])?;
    Ok(changed > 0)
}
