//! Wallets: opening them, their statuses, and the guarded primitives that
//! move balances, held values and credit limits.
//!
//! No statement here writes a balance or a held value it read: `debit`,
//! `credit` and `adjust_held` move them by a delta, guarded in their
//! `WHERE` (as is `set_credit_limit`), so a second writer (another worker,
//! another server process) can neither lose an update nor overdraw. Inside
//! a write group, `cache` applies the same guards to the wallets it holds.

use super::rows::{self, col, wallet_columns, wallets_with_owners, WALLET_COLUMN_COUNT};
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use postgres::types::ToSql;
use wallet_core::ids::{AssetId, CustomerRowId, WalletId};
use wallet_core::model::{Expiring, Page, PageRequest, Wallet, WalletStatus};
use wallet_core::port::NewWallet;
use wallet_core::StoreError;

pub(crate) fn wallet(conn: &mut PgConn, project: &str, id: WalletId) -> DbResult<Option<Wallet>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.id = $1 AND w.project_id = $2"
        ),
        &[&id.get(), &project],
    )?
    .map(|r| rows::wallet(&r))
    .transpose()
}

/// [`wallet`] and its `expiring` (as `lots::expiring` answers it) in one
/// statement, so one round trip: the wallet's row and, laterally, its Open
/// lots summed per `expires_at` along `lots_by_wallet`, soonest first, at
/// most [`Expiring::MAX_ROWS`] (one row with no expiry for a wallet
/// without Open lots). A sum past i64 fails the cast, as in `expiring`.
pub(crate) fn wallet_with_expiring(
    conn: &mut PgConn,
    project: &str,
    id: WalletId,
) -> DbResult<Option<Wallet>> {
    let max_rows = i64::try_from(Expiring::MAX_ROWS).unwrap_or(i64::MAX);
    let found = conn.query(
        concat!(
            "SELECT ",
            wallet_columns!(),
            ", x.expires_at, x.amount FROM ",
            wallets_with_owners!(),
            " LEFT JOIN LATERAL (
                 SELECT l.expires_at, sum(l.remaining)::bigint AS amount FROM lots l
                 WHERE l.wallet_id = w.id AND l.status = 'Open'
                 GROUP BY l.expires_at ORDER BY l.expires_at LIMIT $3) x ON true
             WHERE w.id = $1 AND w.project_id = $2
             ORDER BY x.expires_at"
        ),
        &[&id.get(), &project, &max_rows],
    )?;
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let mut wallet = rows::wallet(first)?;
    for r in &found {
        if let Some(expires_at) = col::<Option<i64>>(r, WALLET_COLUMN_COUNT)? {
            wallet.expiring.push(Expiring {
                expires_at,
                amount: col(r, WALLET_COLUMN_COUNT + 1)?,
            });
        }
    }
    Ok(Some(wallet))
}

/// The customer's default wallet of `asset`: the one marked default or,
/// for a customer whose wallets of the asset have none marked, the oldest
/// (what [`adopt_default_wallet`] marks).
pub(crate) fn default_wallet(
    conn: &mut PgConn,
    customer: CustomerRowId,
    asset: AssetId,
) -> DbResult<Option<Wallet>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.customer_id = $1 AND w.asset_id = $2
             ORDER BY w.is_default DESC, w.id LIMIT 1"
        ),
        &[&customer.get(), &asset.get()],
    )?
    .map(|r| rows::wallet(&r))
    .transpose()
}

/// [`default_wallet`] inside a write: a customer with wallets of the asset
/// but none marked default gets the oldest one marked. If another writer
/// marked one meanwhile, the unique index refuses this mark: `Retryable`,
/// and the rerun finds theirs.
pub(crate) fn adopt_default_wallet(
    conn: &mut PgConn,
    customer: CustomerRowId,
    asset: AssetId,
) -> DbResult<Option<Wallet>> {
    let found = conn.query_opt(
        concat!(
            "SELECT ",
            wallet_columns!(),
            ", w.is_default FROM ",
            wallets_with_owners!(),
            " WHERE w.customer_id = $1 AND w.asset_id = $2
             ORDER BY w.is_default DESC, w.id LIMIT 1"
        ),
        &[&customer.get(), &asset.get()],
    )?;
    let Some(row) = found else {
        return Ok(None);
    };
    let wallet = rows::wallet(&row)?;
    if !col::<bool>(&row, WALLET_COLUMN_COUNT)? {
        conn.execute(
            "UPDATE wallets SET is_default = true WHERE id = $1",
            &[&wallet.id.get()],
        )
        .map_err(|e| match e.0 {
            StoreError::UniqueViolation(why) => DbError(StoreError::Retryable(why)),
            other => DbError(other),
        })?;
    }
    Ok(Some(wallet))
}

/// A customer's wallets, oldest first.
pub(crate) fn customer_wallets(
    conn: &mut PgConn,
    customer: CustomerRowId,
    page: PageRequest,
) -> DbResult<Page<Wallet>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.customer_id = $1 ORDER BY w.id LIMIT $2 OFFSET $3"
        ),
        &[&customer.get(), &limit, &offset],
        "SELECT count(*) FROM wallets WHERE customer_id = $1",
        &[&customer.get()],
        rows::wallet,
    )
}

pub(crate) fn system_wallets(conn: &mut PgConn, project: &str, page: PageRequest) -> DbResult<Page<Wallet>> {
    let (limit, offset) = rows::limits(page);
    rows::page(
        conn,
        concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.project_id = $1 AND w.customer_id IS NULL ORDER BY w.id LIMIT $2 OFFSET $3"
        ),
        &[&project, &limit, &offset],
        "SELECT count(*) FROM wallets WHERE project_id = $1 AND customer_id IS NULL",
        &[&project],
        rows::wallet,
    )
}

/// The lock of [`lock_wallets`] over `$ids`, up to four ids as one
/// parameter each (more go as an array, `= ANY($2)`). PostgreSQL plans a prepared statement
/// once and reuses the plan only if the generic plan costs no more than a
/// custom one; `w.id = ANY($2)` looks ten elements long to the generic
/// plan (five times a transfer's two), so it was planned on every call:
/// pg_stat_statements on a transfer run showed as much time planning the
/// lock as running it. `IN ($2, $3)` costs the same either way and is
/// planned once per connection.
macro_rules! lock_wallets_sql {
    ($ids:literal) => {
        concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.id IN (",
            $ids,
            ") AND w.project_id = $1
             ORDER BY w.id FOR NO KEY UPDATE OF w"
        )
    };
}

/// The wallets of `project` with these ids, locked until the write ends,
/// in id order (the sort runs below the row locks, so two jobs lock their
/// common wallets in the same order and cannot deadlock on them). `NO KEY
/// UPDATE`: entries appended elsewhere to other wallets never wait on the
/// foreign keys' share locks. A wallet a concurrent write changed while
/// this waited is read as that write left it.
pub(crate) fn lock_wallets(conn: &mut PgConn, project: &str, ids: &[WalletId]) -> DbResult<Vec<Wallet>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&project];
    let sql = match ids.len() {
        1 => lock_wallets_sql!("$2"),
        2 => lock_wallets_sql!("$2, $3"),
        3 => lock_wallets_sql!("$2, $3, $4"),
        4 => lock_wallets_sql!("$2, $3, $4, $5"),
        _ => concat!(
            "SELECT ",
            wallet_columns!(),
            " FROM ",
            wallets_with_owners!(),
            " WHERE w.id = ANY($2) AND w.project_id = $1
             ORDER BY w.id FOR NO KEY UPDATE OF w"
        ),
    };
    if ids.len() <= 4 {
        params.extend(ids.iter().map(|id| id as &(dyn ToSql + Sync)));
    } else {
        params.push(&ids);
    }
    let found = conn.query(sql, &params)?;
    rows::all(&found, rows::wallet)
}

/// Opens a wallet and marks its asset used. A customer's first wallet of an
/// asset is its default for that asset: the mark is computed inside the
/// insert, and the unique partial index `wallets_default_per_asset` decides
/// a race with another writer opening one at the same time. The loser is
/// `Retryable`: its rerun sees the winner's wallet (API v1 then posts to it
/// and opens none; API v2 opens a second, not default).
pub(crate) fn insert_wallet(conn: &mut PgConn, wallet: &NewWallet<'_>) -> DbResult<WalletId> {
    let owner = wallet.owner.map(CustomerRowId::get);
    let row = conn.query_opt(
        "INSERT INTO wallets (project_id, asset_id, customer_id, is_default, name, description, status,
                              balance, created_at)
         VALUES ($1, $2, $3,
                 $3::bigint IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM wallets WHERE customer_id = $3 AND asset_id = $2 AND is_default),
                 $4, $5, 'Open', 0, $6)
         ON CONFLICT (customer_id, asset_id) WHERE is_default DO NOTHING
         RETURNING id",
        &[
            &wallet.project_id,
            &wallet.asset.get(),
            &owner,
            &wallet.name,
            &wallet.description,
            &wallet.created_at,
        ],
    )?;
    let Some(row) = row else {
        return Err(DbError(StoreError::Retryable(
            "another default wallet of the asset was just opened for the customer".to_owned(),
        )));
    };
    let id: i64 = col(&row, 0)?;
    conn.execute(
        "UPDATE assets SET used = true WHERE id = $1 AND NOT used",
        &[&wallet.asset.get()],
    )?;
    Ok(WalletId::new(id))
}

pub(crate) fn set_wallet_status(conn: &mut PgConn, id: WalletId, status: WalletStatus) -> DbResult<()> {
    conn.execute(
        "UPDATE wallets SET status = $2 WHERE id = $1",
        &[&id.get(), &status.as_str()],
    )?;
    Ok(())
}

pub(crate) fn set_wallet_name(conn: &mut PgConn, id: WalletId, name: &str) -> DbResult<()> {
    conn.execute("UPDATE wallets SET name = $2 WHERE id = $1", &[&id.get(), &name])?;
    Ok(())
}

pub(crate) fn set_wallet_description(conn: &mut PgConn, id: WalletId, description: &str) -> DbResult<()> {
    conn.execute(
        "UPDATE wallets SET description = $2 WHERE id = $1",
        &[&id.get(), &description],
    )?;
    Ok(())
}

/// Suspends every Open wallet of a customer; returns the ones it suspended.
pub(crate) fn suspend_open_wallets(conn: &mut PgConn, customer: CustomerRowId) -> DbResult<Vec<WalletId>> {
    let rows = conn.query(
        "UPDATE wallets SET status = 'Suspended' WHERE customer_id = $1 AND status = 'Open' RETURNING id",
        &[&customer.get()],
    )?;
    rows.iter().map(|r| col::<i64>(r, 0).map(WalletId::new)).collect()
}

/// Takes `amount` from an Open wallet unless it has less available
/// (`balance - held + credit_limit`). The guard cannot overflow on a row the
/// schema allows: `balance - held >= -credit_limit` and `balance +
/// credit_limit <= i64::MAX`, and the new balance is written only when it is
/// at least `held - credit_limit >= -2^62`.
pub(crate) fn debit(conn: &mut PgConn, wallet: WalletId, amount: i64) -> DbResult<i64> {
    if amount < 0 {
        return Err(negative("debit", amount));
    }
    let row = conn.query_opt(
        "UPDATE wallets SET balance = balance - $2
         WHERE id = $1 AND status = 'Open' AND balance - held + credit_limit >= $2
         RETURNING balance",
        &[&wallet.get(), &amount],
    )?;
    match row {
        Some(row) => col(&row, 0),
        None => Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} is not Open or has less available than planned"
        )))),
    }
}

/// Adds `amount` to an Open wallet unless `balance + credit_limit` would
/// pass `i64::MAX` (so `available` always fits). The guard compares with
/// `i64::MAX - amount` (computed here, exact) minus a limit of at most
/// 2^62, so nothing it computes overflows.
pub(crate) fn credit(conn: &mut PgConn, wallet: WalletId, amount: i64) -> DbResult<i64> {
    if amount < 0 {
        return Err(negative("credit", amount));
    }
    let room = i64::MAX - amount;
    let row = conn.query_opt(
        "UPDATE wallets SET balance = balance + $2
         WHERE id = $1 AND status = 'Open' AND balance <= $3 - credit_limit
         RETURNING balance",
        &[&wallet.get(), &amount, &room],
    )?;
    match row {
        Some(row) => col(&row, 0),
        None => Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} is not Open or its balance would pass the largest amount"
        )))),
    }
}

/// Moves `amount` into (positive) or out of (negative) a wallet's held
/// value, keeping `0 <= held <= balance + credit_limit`; returns the held
/// value after. Any wallet status: an expiry releases a Suspended wallet's
/// hold too (the planner decides who may). One statement per sign, each
/// written so that it cannot overflow (PostgreSQL would fail the statement,
/// not wrap): reserving compares `held` with `balance + credit_limit -
/// amount` (both terms within range, see `credit`), releasing compares it
/// with `-amount`.
pub(crate) fn adjust_held(conn: &mut PgConn, wallet: WalletId, amount: i64) -> DbResult<i64> {
    let row = if amount >= 0 {
        conn.query_opt(
            "UPDATE wallets SET held = held + $2
             WHERE id = $1 AND held <= balance + credit_limit - $2
             RETURNING held",
            &[&wallet.get(), &amount],
        )?
    } else {
        let release = release_of(amount)?;
        conn.query_opt(
            "UPDATE wallets SET held = held - $2
             WHERE id = $1 AND held >= $2 AND held - $2 <= balance + credit_limit
             RETURNING held",
            &[&wallet.get(), &release],
        )?
    };
    match row {
        Some(row) => col(&row, 0),
        None => Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} holds other reservations or funds than planned"
        )))),
    }
}

/// What a negative `adjust_held` releases; `i64::MIN` is no hold's amount.
pub(crate) fn release_of(amount: i64) -> DbResult<i64> {
    amount
        .checked_neg()
        .ok_or_else(|| DbError(StoreError::Internal(format!("a release of {amount}"))))
}

/// Sets a wallet's credit limit unless the wallet already uses more
/// (`balance - held < -limit`) or `balance + limit` would pass `i64::MAX`.
/// `limit` is at most [`wallet_core::MAX_CREDIT_LIMIT`] (the ledger refuses
/// more; the schema's CHECK too), so `-limit` and `i64::MAX - limit` are
/// exact here.
pub(crate) fn set_credit_limit(conn: &mut PgConn, wallet: WalletId, limit: i64) -> DbResult<bool> {
    if !(0..=wallet_core::MAX_CREDIT_LIMIT).contains(&limit) {
        return Err(DbError(StoreError::Internal(format!(
            "a credit limit of {limit} is out of range"
        ))));
    }
    let changed = conn.execute(
        "UPDATE wallets SET credit_limit = $2
         WHERE id = $1 AND balance - held >= $3 AND balance <= $4",
        &[&wallet.get(), &limit, &-limit, &(i64::MAX - limit)],
    )?;
    Ok(changed == 1)
}

/// A negative amount is the caller's bug: the planner never makes one.
fn negative(what: &str, amount: i64) -> DbError {
    DbError(StoreError::Internal(format!(
        "a {what} of a negative amount ({amount})"
    )))
}

#[cfg(test)]
mod tests;
