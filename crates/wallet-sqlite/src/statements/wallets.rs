//! Wallets: opening them, their statuses, and the guarded primitives that
//! move balances, held values and credit limits.
//!
//! No statement here writes a balance or a held value it read: `debit`,
//! `credit` and `adjust_held` move them by a delta, guarded in their
//! `WHERE` (as is `set_credit_limit`), so even a second writer could not
//! make them lose an update or overdraw.

use super::rows::{self, WALLETS_WITH_OWNERS, WALLET_COLUMNS, WALLET_COLUMN_COUNT};
use crate::error::{DbError, DbResult};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::LazyLock;
use wallet_core::ids::{AssetId, CustomerRowId, WalletId};
use wallet_core::model::{Expiring, Millis, Page, PageRequest, Wallet, WalletStatus};
use wallet_core::port::NewWallet;
use wallet_core::StoreError;

/// A wallet by id within its project. `+w.project_id`: the project is
/// checked on the row found by id, not looked up in an index; spelled
/// `w.project_id = ?2`, SQLite compared the bound project with the partial
/// index `wallets_system` and prepared the statement again on every run
/// with another value (parsed and planned per read).
static WALLET_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {WALLET_COLUMNS} FROM {WALLETS_WITH_OWNERS} WHERE w.id = ?1 AND +w.project_id = ?2")
});

/// The statement of [`wallet`], for the plan tests.
#[cfg(test)]
pub(crate) fn wallet_sql() -> String {
    WALLET_SQL.clone()
}

pub(crate) fn wallet(conn: &Connection, project: &str, id: WalletId) -> DbResult<Option<Wallet>> {
    Ok(conn
        .prepare_cached(&WALLET_SQL)?
        .query_row(params![id.get(), project], rows::wallet)
        .optional()?)
}

/// The statement of [`wallet_with_expiring`], for the query-plan tests
/// (`+w.project_id` as in [`wallet`]; the `LIMIT` is in the text: bound,
/// the planner read it and SQLite prepared the join again per run).
pub(crate) static WALLET_WITH_EXPIRING_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {WALLET_COLUMNS}, l.expires_at, sum(l.remaining) FROM {WALLETS_WITH_OWNERS}
         LEFT JOIN lots l ON l.wallet_id = w.id AND l.status = 'Open'
         WHERE w.id = ?1 AND +w.project_id = ?2
         GROUP BY l.expires_at ORDER BY l.expires_at LIMIT {}",
        Expiring::MAX_ROWS
    )
});

/// [`wallet`] and its `expiring` (as `lots::expiring` answers it) in one
/// statement: the wallet's row joined to its Open lots, one row per
/// `expires_at` (the wallet's columns the same on each), soonest first, at
/// most [`Expiring::MAX_ROWS`]. A wallet without Open lots is one row with
/// no expiry: the lots range of `lots_by_wallet` it probes is empty, and no
/// second statement runs for it.
pub(crate) fn wallet_with_expiring(
    conn: &Connection,
    project: &str,
    id: WalletId,
) -> DbResult<Option<Wallet>> {
    let mut stmt = conn.prepare_cached(&WALLET_WITH_EXPIRING_SQL)?;
    let mut rows = stmt.query(params![id.get(), project])?;
    let mut found: Option<Wallet> = None;
    while let Some(row) = rows.next()? {
        let wallet = match &mut found {
            Some(wallet) => wallet,
            None => found.insert(rows::wallet(row)?),
        };
        if let Some(expires_at) = row.get::<_, Option<Millis>>(WALLET_COLUMN_COUNT)? {
            wallet.expiring.push(Expiring {
                expires_at,
                amount: row.get(WALLET_COLUMN_COUNT + 1)?,
            });
        }
    }
    Ok(found)
}

/// The customer's default wallet of `asset` (API v1's wallet), if opened:
/// the one marked default or, for a customer whose wallets of the asset have
/// none marked, the oldest, which is what [`adopt_default_wallet`] marks.
/// Schema step 2 and import mark one for every customer; the fallback keeps
/// the answer right for a row written any other way.
pub(crate) fn default_wallet(
    conn: &Connection,
    customer: CustomerRowId,
    asset: AssetId,
) -> DbResult<Option<Wallet>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {WALLET_COLUMNS} FROM {WALLETS_WITH_OWNERS}
             WHERE w.customer_id = ?1 AND w.asset_id = ?2
             ORDER BY w.is_default DESC, w.id LIMIT 1"
        ))?
        .query_row(params![customer.get(), asset.get()], rows::wallet)
        .optional()?)
}

/// [`default_wallet`] inside a write: a customer with wallets of the asset
/// but none marked default gets the oldest one marked, so one default per
/// asset is a stored fact (API v1's totals read the mark) and never two.
/// As `ensure_default_wallet` on `main`.
pub(crate) fn adopt_default_wallet(
    conn: &Connection,
    customer: CustomerRowId,
    asset: AssetId,
) -> DbResult<Option<Wallet>> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {WALLET_COLUMNS}, w.is_default FROM {WALLETS_WITH_OWNERS}
             WHERE w.customer_id = ?1 AND w.asset_id = ?2
             ORDER BY w.is_default DESC, w.id LIMIT 1"
        ))?
        .query_row(params![customer.get(), asset.get()], |r| {
            Ok((rows::wallet(r)?, r.get::<_, bool>(WALLET_COLUMN_COUNT)?))
        })
        .optional()?;
    let Some((wallet, is_default)) = found else {
        return Ok(None);
    };
    if !is_default {
        conn.prepare_cached("UPDATE wallets SET is_default = 1 WHERE id = ?1")?
            .execute([wallet.id.get()])?;
    }
    Ok(Some(wallet))
}

/// A customer's wallets, oldest first.
pub(crate) fn customer_wallets(
    conn: &Connection,
    customer: CustomerRowId,
    page: PageRequest,
) -> DbResult<Page<Wallet>> {
    rows::page(
        conn,
        &format!(
            "SELECT {WALLET_COLUMNS} FROM {WALLETS_WITH_OWNERS}
             WHERE w.customer_id = ?1 ORDER BY w.id LIMIT ?2 OFFSET ?3"
        ),
        params![customer.get(), page.size, page.offset()],
        "SELECT count(*) FROM wallets WHERE customer_id = ?1",
        [customer.get()],
        rows::wallet,
    )
}

pub(crate) fn system_wallets(conn: &Connection, project: &str, page: PageRequest) -> DbResult<Page<Wallet>> {
    rows::page(
        conn,
        &format!(
            "SELECT {WALLET_COLUMNS} FROM {WALLETS_WITH_OWNERS}
             WHERE w.project_id = ?1 AND w.customer_id IS NULL ORDER BY w.id LIMIT ?2 OFFSET ?3"
        ),
        params![project, page.size, page.offset()],
        "SELECT count(*) FROM wallets WHERE project_id = ?1 AND customer_id IS NULL",
        [project],
        rows::wallet,
    )
}

/// The wallets of `project` with these ids, in id order. With one writer
/// there is nothing to lock against: reading them inside the write job is
/// enough, since no other write runs until the job ends.
pub(crate) fn lock_wallets(conn: &Connection, project: &str, ids: &[WalletId]) -> DbResult<Vec<Wallet>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The usual transaction names one to four wallets: a seek each is
    // cheaper than a JSON list through `json_each`.
    if ids.len() <= 8 {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(wallet) = self::wallet(conn, project, *id)? {
                found.push(wallet);
            }
        }
        found.sort_by_key(|w| w.id);
        return Ok(found);
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {WALLET_COLUMNS} FROM {WALLETS_WITH_OWNERS}
         WHERE w.id IN (SELECT value FROM json_each(?2)) AND w.project_id = ?1
         ORDER BY w.id"
    ))?;
    let rows = stmt.query_map(params![project, rows::json_list(&ids)], rows::wallet)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Opens a wallet and marks its asset used. A customer's first wallet of an
/// asset is its default for that asset, whichever API opened it: the mark is
/// set inside the insert, and the unique partial index
/// `wallets_default_per_asset` forbids a second.
pub(crate) fn insert_wallet(conn: &Connection, wallet: &NewWallet<'_>) -> DbResult<WalletId> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO wallets (project_id, asset_id, customer_id, is_default, name, description, status,
                                  balance, created_at)
             VALUES (?1, ?2, ?3,
                     ?3 IS NOT NULL AND NOT EXISTS (
                         SELECT 1 FROM wallets WHERE customer_id = ?3 AND asset_id = ?2 AND is_default = 1),
                     ?4, ?5, 'Open', 0, ?6)
             RETURNING id",
        )?
        .query_row(
            params![
                wallet.project_id,
                wallet.asset.get(),
                wallet.owner.map(CustomerRowId::get),
                wallet.name,
                wallet.description,
                wallet.created_at
            ],
            |r| r.get(0),
        )?;
    conn.prepare_cached("UPDATE assets SET used = 1 WHERE id = ?1 AND used = 0")?
        .execute([wallet.asset.get()])?;
    Ok(WalletId::new(id))
}

pub(crate) fn set_wallet_status(conn: &Connection, id: WalletId, status: WalletStatus) -> DbResult<()> {
    conn.prepare_cached("UPDATE wallets SET status = ?2 WHERE id = ?1")?
        .execute(params![id.get(), status.as_str()])?;
    Ok(())
}

pub(crate) fn set_wallet_name(conn: &Connection, id: WalletId, name: &str) -> DbResult<()> {
    conn.prepare_cached("UPDATE wallets SET name = ?2 WHERE id = ?1")?
        .execute(params![id.get(), name])?;
    Ok(())
}

pub(crate) fn set_wallet_description(conn: &Connection, id: WalletId, description: &str) -> DbResult<()> {
    conn.prepare_cached("UPDATE wallets SET description = ?2 WHERE id = ?1")?
        .execute(params![id.get(), description])?;
    Ok(())
}

/// Suspends every Open wallet of a customer; returns the ones it suspended.
pub(crate) fn suspend_open_wallets(conn: &Connection, customer: CustomerRowId) -> DbResult<Vec<WalletId>> {
    let mut statement = conn.prepare_cached(
        "UPDATE wallets SET status = 'Suspended' WHERE customer_id = ?1 AND status = 'Open' RETURNING id",
    )?;
    let ids = statement
        .query_map([customer.get()], |r| r.get::<_, i64>(0))?
        .map(|id| id.map(WalletId::new))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// Takes `amount` from an Open wallet unless it has less available
/// (`balance - held + credit_limit`). The guard cannot overflow on a row the
/// schema allows: `balance - held >= -credit_limit` and `available <=
/// i64::MAX` (the planner's rule, `credit`'s guard), and the new balance is
/// written only when it is at least `held - credit_limit >= -2^62`.
pub(crate) fn debit(conn: &Connection, wallet: WalletId, amount: i64) -> DbResult<i64> {
    if amount < 0 {
        return Err(negative("debit", amount));
    }
    // No RETURNING: it makes SQLite open a statement journal per statement
    // (see `ledger::insert_transaction`); the balance is read back instead,
    // from the page the update just touched.
    let changed = conn
        .prepare_cached(
            "UPDATE wallets SET balance = balance - ?2
             WHERE id = ?1 AND status = 'Open' AND balance - held + credit_limit >= ?2",
        )?
        .execute(params![wallet.get(), amount])?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} is not Open or has less available than planned"
        ))));
    }
    column(conn, wallet, "SELECT balance FROM wallets WHERE id = ?1")
}

/// One column of a wallet just written (the statement names it).
fn column(conn: &Connection, wallet: WalletId, sql: &str) -> DbResult<i64> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row([wallet.get()], |r| r.get(0))?)
}

/// Adds `amount` to an Open wallet unless `balance + credit_limit` would
/// pass `i64::MAX` (so `available` always fits). SQLite turns an integer
/// overflow into a REAL, which would then be stored: the guard compares with
/// `i64::MAX - amount` (computed here, exact) minus a limit of at most 2^62,
/// so nothing it computes overflows.
pub(crate) fn credit(conn: &Connection, wallet: WalletId, amount: i64) -> DbResult<i64> {
    if amount < 0 {
        return Err(negative("credit", amount));
    }
    let changed = conn
        .prepare_cached(
            "UPDATE wallets SET balance = balance + ?2
             WHERE id = ?1 AND status = 'Open' AND balance <= ?3 - credit_limit",
        )?
        .execute(params![wallet.get(), amount, i64::MAX - amount])?;
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} is not Open or its balance would pass the largest amount"
        ))));
    }
    column(conn, wallet, "SELECT balance FROM wallets WHERE id = ?1")
}

/// Moves `amount` into (positive) or out of (negative) a wallet's held
/// value, keeping `0 <= held <= balance + credit_limit`; returns the held
/// value after. Any wallet status: an expiry releases a Suspended wallet's
/// hold too (the planner decides who may). One statement per sign, each
/// written so that it cannot overflow: reserving compares `held` with
/// `balance + credit_limit - amount` (both terms within range, see
/// `credit`), releasing compares it with `-amount`.
pub(crate) fn adjust_held(conn: &Connection, wallet: WalletId, amount: i64) -> DbResult<i64> {
    let changed = if amount >= 0 {
        conn.prepare_cached(
            "UPDATE wallets SET held = held + ?2
             WHERE id = ?1 AND held <= balance + credit_limit - ?2",
        )?
        .execute(params![wallet.get(), amount])?
    } else {
        let release = amount
            .checked_neg()
            .ok_or_else(|| DbError(StoreError::Internal(format!("a release of {amount}"))))?;
        conn.prepare_cached(
            "UPDATE wallets SET held = held - ?2
             WHERE id = ?1 AND held >= ?2 AND held - ?2 <= balance + credit_limit",
        )?
        .execute(params![wallet.get(), release])?
    };
    if changed != 1 {
        return Err(DbError(StoreError::Retryable(format!(
            "wallet {wallet} holds other reservations or funds than planned"
        ))));
    }
    column(conn, wallet, "SELECT held FROM wallets WHERE id = ?1")
}

/// Sets a wallet's credit limit unless the wallet already uses more
/// (`balance - held < -limit`) or `balance + limit` would pass `i64::MAX`.
/// `limit` is at most [`wallet_core::MAX_CREDIT_LIMIT`] (the ledger refuses
/// more; the schema's CHECK too), so `-limit` and `i64::MAX - limit` are
/// exact here.
pub(crate) fn set_credit_limit(conn: &Connection, wallet: WalletId, limit: i64) -> DbResult<bool> {
    if !(0..=wallet_core::MAX_CREDIT_LIMIT).contains(&limit) {
        return Err(DbError(StoreError::Internal(format!(
            "a credit limit of {limit} is out of range"
        ))));
    }
    let changed = conn
        .prepare_cached(
            "UPDATE wallets SET credit_limit = ?2
             WHERE id = ?1 AND balance - held >= ?3 AND balance <= ?4",
        )?
        .execute(params![wallet.get(), limit, -limit, i64::MAX - limit])?;
    Ok(changed == 1)
}

/// A negative amount is the caller's bug: the planner never makes one.
fn negative(what: &str, amount: i64) -> DbError {
    DbError(StoreError::Internal(format!(
        "a {what} of a negative amount ({amount})"
    )))
}
