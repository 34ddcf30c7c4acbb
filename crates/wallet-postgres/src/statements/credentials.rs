//! Authorities and customer keys. Only public keys and digests are stored:
//! the server never holds a private key or a plain token.
//!
//! Each project may also have one *system* authority (`system`), which
//! posts what the server does by itself. It has no credential, so no read
//! here returns it: it cannot be found by id, listed, authenticated as or
//! revoked. Only `system_authority` reaches it.

use super::rows::{
    self, authorities_with_projects, authority_columns, col, customer_key_columns, keys_with_customers,
};
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use wallet_core::ids::{AuthorityRowId, CustomerKeyRowId, CustomerRowId};
use wallet_core::model::{Authority, AuthorityCredential, CustomerKey, Millis, Page, PageRequest};
use wallet_core::port::{NewCustomerKey, Rechecked};
use wallet_core::text::PublicId;
use wallet_core::StoreError;

pub(crate) fn authority(conn: &mut PgConn, public_id: &str) -> DbResult<Option<Authority>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            authority_columns!(),
            " FROM ",
            authorities_with_projects!(),
            " WHERE a.public_id = $1 AND NOT a.system"
        ),
        &[&public_id],
    )?
    .map(|r| rows::authority(&r))
    .transpose()
}

pub(crate) fn authority_by_rowid(conn: &mut PgConn, rowid: AuthorityRowId) -> DbResult<Option<Authority>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            authority_columns!(),
            " FROM ",
            authorities_with_projects!(),
            " WHERE a.id = $1 AND NOT a.system"
        ),
        &[&rowid.get()],
    )?
    .map(|r| rows::authority(&r))
    .transpose()
}

/// [`authority_by_rowid`] inside a write (the core's re-check): the row
/// stays share-locked until the write commits, so a revocation (an UPDATE
/// of it) that starts while the write runs commits after it. No write by an
/// authority commits after the authority's revocation does.
pub(crate) fn authority_by_rowid_for_write(
    conn: &mut PgConn,
    rowid: AuthorityRowId,
) -> DbResult<Option<Authority>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            authority_columns!(),
            " FROM ",
            authorities_with_projects!(),
            " WHERE a.id = $1 AND NOT a.system FOR SHARE OF a"
        ),
        &[&rowid.get()],
    )?
    .map(|r| rows::authority(&r))
    .transpose()
}

/// [`WriteTx::hold_rechecks`]: an `EXCLUSIVE` lock on the table whose rows
/// the re-check of `what` share-locks (`*_for_write`). Row locks alone
/// would starve the change: a share lock is granted beside other share
/// locks even while an UPDATE waits for them to go, so under a steady load
/// of writes by one credential its revocation waited, and those writes
/// went on committing, for as long as the load lasted. A table lock is
/// queued: new writes wait behind it, the ones in flight finish (a later
/// job of another writer's group gives up after `LATER_JOB_LOCK_WAIT` and
/// leads its next group), and the change commits. Plain reads (`ACCESS
/// SHARE`) go on; writes that re-check something else are not held.
///
/// [`WriteTx::hold_rechecks`]: wallet_core::port::WriteTx::hold_rechecks
pub(crate) fn hold_rechecks(conn: &mut PgConn, what: Rechecked) -> DbResult<()> {
    let table = match what {
        Rechecked::Authorities => "LOCK TABLE authorities IN EXCLUSIVE MODE",
        Rechecked::CustomerKeys => "LOCK TABLE customer_keys IN EXCLUSIVE MODE",
        Rechecked::Customers => "LOCK TABLE customers IN EXCLUSIVE MODE",
        Rechecked::Maintenance => "LOCK TABLE settings IN EXCLUSIVE MODE",
    };
    Ok(conn.batch(table)?)
}

/// Every authority, or those of one project, oldest first.
pub(crate) fn authorities(conn: &mut PgConn, project: Option<&str>) -> DbResult<Vec<Authority>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            authority_columns!(),
            " FROM ",
            authorities_with_projects!(),
            " WHERE NOT a.system AND ($1::text IS NULL OR a.project_id = $1) ORDER BY a.id"
        ),
        &[&project],
    )?;
    rows::all(&found, rows::authority)
}

/// Stores an authority with exactly one credential.
pub(crate) fn insert_authority(
    conn: &mut PgConn,
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
    let row = conn.query_one(
        "INSERT INTO authorities (public_id, project_id, name, public_key_pem, token_digest, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[&public_id, &project, &name, &pem, &digest, &now],
    )?;
    Ok(AuthorityRowId::new(col(&row, 0)?))
}

/// The project's system authority, created on first use, race-free with
/// several writers and processes: found, or inserted with `ON CONFLICT DO
/// NOTHING` on `authorities_system` (one per project), which waits for a
/// concurrent creator and then lets it win; the second lookup then sees its
/// row (READ COMMITTED: a new snapshot per statement). The lookup comes
/// first so the common case burns no identity value. Its public id is
/// random, like any other, and never answers a lookup.
pub(crate) fn system_authority(conn: &mut PgConn, project: &str, now: Millis) -> DbResult<AuthorityRowId> {
    const FIND: &str = "SELECT id FROM authorities WHERE project_id = $1 AND system";
    if let Some(row) = conn.query_opt(FIND, &[&project])? {
        return Ok(AuthorityRowId::new(col(&row, 0)?));
    }
    let public_id = PublicId::random("sys_");
    let inserted = conn.query_opt(
        "INSERT INTO authorities (public_id, project_id, name, system, created_at)
         VALUES ($1, $2, 'system', true, $3)
         ON CONFLICT (project_id) WHERE system DO NOTHING
         RETURNING id",
        &[&public_id.as_str(), &project, &now],
    )?;
    let row = match inserted {
        Some(row) => row,
        None => conn.query_opt(FIND, &[&project])?.ok_or_else(|| {
            DbError(StoreError::Retryable(format!(
                "the system authority of project {project} was being created by another writer"
            )))
        })?,
    };
    Ok(AuthorityRowId::new(col(&row, 0)?))
}

/// Marks an authority revoked; revoking twice keeps the first time.
pub(crate) fn revoke_authority(conn: &mut PgConn, public_id: &str, now: Millis) -> DbResult<bool> {
    let changed = conn.execute(
        "UPDATE authorities SET revoked_at = coalesce(revoked_at, $2) WHERE public_id = $1 AND NOT system",
        &[&public_id, &now],
    )?;
    Ok(changed > 0)
}

pub(crate) fn customer_key(conn: &mut PgConn, public_id: &str) -> DbResult<Option<CustomerKey>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_key_columns!(),
            " FROM ",
            keys_with_customers!(),
            " WHERE k.public_id = $1"
        ),
        &[&public_id],
    )?
    .map(|r| rows::customer_key(&r))
    .transpose()
}

pub(crate) fn customer_key_by_rowid(
    conn: &mut PgConn,
    rowid: CustomerKeyRowId,
) -> DbResult<Option<CustomerKey>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_key_columns!(),
            " FROM ",
            keys_with_customers!(),
            " WHERE k.id = $1"
        ),
        &[&rowid.get()],
    )?
    .map(|r| rows::customer_key(&r))
    .transpose()
}

/// [`customer_key_by_rowid`] inside a write: the key and its customer stay
/// share-locked, so revoking the key or deleting the customer waits for
/// the write.
pub(crate) fn customer_key_by_rowid_for_write(
    conn: &mut PgConn,
    rowid: CustomerKeyRowId,
) -> DbResult<Option<CustomerKey>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            customer_key_columns!(),
            " FROM ",
            keys_with_customers!(),
            " WHERE k.id = $1 FOR SHARE OF k, c"
        ),
        &[&rowid.get()],
    )?
    .map(|r| rows::customer_key(&r))
    .transpose()
}

/// A customer's keys, oldest first.
pub(crate) fn customer_keys(
    conn: &mut PgConn,
    customer: CustomerRowId,
    page: PageRequest,
) -> DbResult<Page<CustomerKey>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            customer_key_columns!(),
            " FROM ",
            keys_with_customers!(),
            " WHERE k.customer_id = $1 ORDER BY k.id LIMIT $2 OFFSET $3"
        ),
        &[&customer.get(), &limit, &offset],
        "SELECT count(*) FROM customer_keys WHERE customer_id = $1",
        &[&customer.get()],
        rows::customer_key,
    )
}

pub(crate) fn insert_customer_key(conn: &mut PgConn, key: &NewCustomerKey<'_>) -> DbResult<CustomerKeyRowId> {
    let row = conn.query_one(
        "INSERT INTO customer_keys (public_id, customer_id, token_digest, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[
            &key.public_id,
            &key.customer.get(),
            &key.token_digest,
            &key.created_at,
            &key.expires_at,
        ],
    )?;
    Ok(CustomerKeyRowId::new(col(&row, 0)?))
}

/// Revokes a key of `customer`; false if the customer has no such key.
pub(crate) fn revoke_customer_key(
    conn: &mut PgConn,
    customer: CustomerRowId,
    public_id: &str,
    now: Millis,
) -> DbResult<bool> {
    let changed = conn.execute(
        "UPDATE customer_keys SET revoked_at = coalesce(revoked_at, $3)
         WHERE customer_id = $1 AND public_id = $2",
        &[&customer.get(), &public_id, &now],
    )?;
    Ok(changed > 0)
}
