//! Rows into the core's nouns. Every stored status goes through [`parsed`],
//! and every column through [`col`], so a value the schema should have
//! refused reads as `Corrupt`, never as a default.
//!
//! Column lists are macros, not consts, so statements can be built with
//! `concat!` into `&'static str` (the statement cache keys on them).

use crate::conn::{Params, PgConn};
use crate::error::{corrupt, DbError, DbResult};
use postgres::types::FromSql;
use postgres::Row;
use wallet_core::ids::{
    AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId, EntryId, TransactionId, WalletId,
};
use wallet_core::model::{
    Asset, Authority, AuthorityCredential, Customer, CustomerKey, CustomerStatus, Entry, EntryKind, Hold,
    HoldStatus, Owner, Page, PageRequest, Project, Transaction, TransactionStatus, Wallet, WalletStatus,
};
use wallet_core::text::HoldId;
use wallet_core::StoreError;

/// Column `index` of `r`, or `Corrupt` if it does not hold a `T`.
pub(crate) fn col<'a, T: FromSql<'a>>(r: &'a Row, index: usize) -> DbResult<T> {
    r.try_get(index)
        .map_err(|e| DbError(StoreError::Corrupt(e.to_string())))
}

/// A stored text column that must be one of a closed set of names.
pub(crate) fn parsed<T>(
    r: &Row,
    index: usize,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> DbResult<T> {
    let text: &str = col(r, index)?;
    parse(text).ok_or_else(|| corrupt(column))
}

/// An exact running total, stored as `NUMERIC(39, 0)` and read as text.
pub(crate) fn total(r: &Row, index: usize) -> DbResult<i128> {
    let text: &str = col(r, index)?;
    text.parse().map_err(|_| corrupt("authority_totals.total"))
}

/// The rows of `sql` and the count of all rows of `count_sql`: one page.
pub(crate) fn page<T>(
    conn: &mut PgConn,
    sql: &'static str,
    params: Params<'_>,
    count_sql: &'static str,
    count_params: Params<'_>,
    map: fn(&Row) -> DbResult<T>,
) -> DbResult<Page<T>> {
    let items = conn
        .query(sql, params)?
        .iter()
        .map(map)
        .collect::<DbResult<_>>()?;
    let total = col(&conn.query_one(count_sql, count_params)?, 0)?;
    Ok(Page { items, total })
}

/// `LIMIT` and `OFFSET` of a page, as the `BIGINT`s the statements bind.
pub(crate) fn limits(page: PageRequest) -> (i64, i64) {
    (i64::from(page.size), page.offset())
}

pub(crate) fn all<T>(rows: &[Row], map: fn(&Row) -> DbResult<T>) -> DbResult<Vec<T>> {
    rows.iter().map(map).collect()
}

macro_rules! project_columns {
    () => {
        "id, name, default_asset, created_at"
    };
}
pub(crate) use project_columns;

pub(crate) fn project(r: &Row) -> DbResult<Project> {
    // NULL only inside the transaction that creates the project.
    let default_asset: Option<i64> = col(r, 2)?;
    Ok(Project {
        id: col(r, 0)?,
        name: col(r, 1)?,
        default_asset: AssetId::new(default_asset.ok_or_else(|| corrupt("projects.default_asset"))?),
        created_at: col(r, 3)?,
    })
}

macro_rules! asset_columns {
    () => {
        "id, code, name, fractions, used, created_at"
    };
}
pub(crate) use asset_columns;

pub(crate) fn asset(r: &Row) -> DbResult<Asset> {
    Ok(Asset {
        id: AssetId::new(col(r, 0)?),
        code: col(r, 1)?,
        name: col(r, 2)?,
        fractions: col(r, 3)?,
        used: col(r, 4)?,
        created_at: col(r, 5)?,
    })
}

macro_rules! customer_columns {
    () => {
        "id, external_id, name, description, status, created_at"
    };
}
pub(crate) use customer_columns;

pub(crate) fn customer(r: &Row) -> DbResult<Customer> {
    Ok(Customer {
        rowid: CustomerRowId::new(col(r, 0)?),
        id: col(r, 1)?,
        name: col(r, 2)?,
        description: col(r, 3)?,
        status: parsed(r, 4, "customers.status", CustomerStatus::parse)?,
        created_at: col(r, 5)?,
    })
}

/// Wallets with their owner: `SELECT wallet_columns!() FROM wallets_with_owners!()`.
macro_rules! wallet_columns {
    () => {
        "w.id, w.project_id, w.asset_id, w.customer_id, c.external_id, c.status,
         w.name, w.description, w.status, w.balance, w.created_at, w.held, w.credit_limit"
    };
}
pub(crate) use wallet_columns;

macro_rules! wallets_with_owners {
    () => {
        "wallets w LEFT JOIN customers c ON c.id = w.customer_id"
    };
}
pub(crate) use wallets_with_owners;

/// How many columns `wallet_columns!` names: the index of the first one a
/// query adds after them.
pub(crate) const WALLET_COLUMN_COUNT: usize = 13;

pub(crate) fn wallet(r: &Row) -> DbResult<Wallet> {
    let owner = match col::<Option<i64>>(r, 3)? {
        None => None,
        Some(rowid) => Some(Owner {
            rowid: CustomerRowId::new(rowid),
            id: col(r, 4)?,
            status: parsed(r, 5, "customers.status", CustomerStatus::parse)?,
        }),
    };
    Ok(Wallet {
        id: WalletId::new(col(r, 0)?),
        project_id: col(r, 1)?,
        asset_id: AssetId::new(col(r, 2)?),
        owner,
        name: col(r, 6)?,
        description: col(r, 7)?,
        status: parsed(r, 8, "wallets.status", WalletStatus::parse)?,
        balance: col(r, 9)?,
        held: col(r, 11)?,
        credit_limit: col(r, 12)?,
        created_at: col(r, 10)?,
        // The ledger fills it for the reads it answers clients with.
        expiring: Vec::new(),
    })
}

/// Holds: `SELECT hold_columns!() FROM holds h`.
macro_rules! hold_columns {
    () => {
        "h.public_id, h.source_id, h.destination_id, h.asset_id, h.amount,
         h.captured, h.remaining, h.status, h.expires_at, h.created_at, h.transaction_id, h.updated_at"
    };
}
pub(crate) use hold_columns;

/// A stored hold id; one the rules would refuse reads as corrupt.
pub(crate) fn hold_id(r: &Row, index: usize) -> DbResult<HoldId> {
    let text: &str = col(r, index)?;
    HoldId::parse(text).map_err(|_| corrupt("holds.public_id"))
}

pub(crate) fn hold(r: &Row) -> DbResult<Hold> {
    Ok(Hold {
        id: hold_id(r, 0)?,
        source: WalletId::new(col(r, 1)?),
        destination: col::<Option<i64>>(r, 2)?.map(WalletId::new),
        asset: AssetId::new(col(r, 3)?),
        amount: col(r, 4)?,
        captured: col(r, 5)?,
        remaining: col(r, 6)?,
        status: parsed(r, 7, "holds.status", HoldStatus::parse)?,
        expires_at: col(r, 8)?,
        created_at: col(r, 9)?,
        transaction: TransactionId::new(col(r, 10)?),
        updated_at: col(r, 11)?,
    })
}

macro_rules! entry_columns {
    () => {
        "id, wallet_id, transaction_id, kind, amount, balance_after, reason, created_at"
    };
}
pub(crate) use entry_columns;

pub(crate) fn entry(r: &Row) -> DbResult<Entry> {
    Ok(Entry {
        id: EntryId::new(col(r, 0)?),
        wallet_id: WalletId::new(col(r, 1)?),
        transaction_id: TransactionId::new(col(r, 2)?),
        kind: parsed(r, 3, "entries.kind", EntryKind::parse)?,
        amount: col(r, 4)?,
        balance_after: col(r, 5)?,
        reason: col(r, 6)?,
        created_at: col(r, 7)?,
    })
}

macro_rules! transaction_columns {
    () => {
        "id, reference_id, status, error, description, operations, created_at"
    };
}
pub(crate) use transaction_columns;

pub(crate) fn transaction(r: &Row) -> DbResult<Transaction> {
    Ok(Transaction {
        id: TransactionId::new(col(r, 0)?),
        reference_id: col(r, 1)?,
        status: parsed(r, 2, "transactions.status", TransactionStatus::parse)?,
        error: col(r, 3)?,
        description: col(r, 4)?,
        operations: col(r, 5)?,
        created_at: col(r, 6)?,
    })
}

/// Authorities with their project's default asset.
macro_rules! authority_columns {
    () => {
        "a.id, a.public_id, a.project_id, a.name, a.public_key_pem,
         a.token_digest, a.created_at, a.revoked_at, p.default_asset"
    };
}
pub(crate) use authority_columns;

macro_rules! authorities_with_projects {
    () => {
        "authorities a JOIN projects p ON p.id = a.project_id"
    };
}
pub(crate) use authorities_with_projects;

pub(crate) fn authority(r: &Row) -> DbResult<Authority> {
    let credential = match (col::<Option<String>>(r, 4)?, col::<Option<Vec<u8>>>(r, 5)?) {
        (Some(pem), None) => AuthorityCredential::PublicKey(pem),
        (None, Some(digest)) => AuthorityCredential::TokenDigest(digest),
        // The schema's CHECK holds exactly one of the two.
        _ => return Err(corrupt("authorities.public_key_pem/token_digest")),
    };
    let default_asset: Option<i64> = col(r, 8)?;
    Ok(Authority {
        rowid: AuthorityRowId::new(col(r, 0)?),
        public_id: col(r, 1)?,
        project_id: col(r, 2)?,
        name: col(r, 3)?,
        credential,
        created_at: col(r, 6)?,
        revoked_at: col(r, 7)?,
        default_asset: AssetId::new(default_asset.ok_or_else(|| corrupt("projects.default_asset"))?),
    })
}

/// Customer keys with their customer.
macro_rules! customer_key_columns {
    () => {
        "k.id, k.public_id, c.project_id, k.customer_id, c.external_id,
         k.token_digest, k.created_at, k.expires_at, k.revoked_at, c.status"
    };
}
pub(crate) use customer_key_columns;

macro_rules! keys_with_customers {
    () => {
        "customer_keys k JOIN customers c ON c.id = k.customer_id"
    };
}
pub(crate) use keys_with_customers;

pub(crate) fn customer_key(r: &Row) -> DbResult<CustomerKey> {
    let status = parsed(r, 9, "customers.status", CustomerStatus::parse)?;
    Ok(CustomerKey {
        rowid: CustomerKeyRowId::new(col(r, 0)?),
        public_id: col(r, 1)?,
        project_id: col(r, 2)?,
        customer: CustomerRowId::new(col(r, 3)?),
        customer_id: col(r, 4)?,
        token_digest: col(r, 5)?,
        created_at: col(r, 6)?,
        expires_at: col(r, 7)?,
        revoked_at: col(r, 8)?,
        customer_deleted: status == CustomerStatus::Deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wallet_column_count_counts_the_wallet_columns() {
        assert_eq!(wallet_columns!().split(',').count(), WALLET_COLUMN_COUNT);
    }

    #[test]
    fn the_hold_columns_are_the_twelve_the_mapper_reads() {
        assert_eq!(hold_columns!().split(',').count(), 12);
    }
}
