//! Rows into the core's nouns. Every stored status goes through [`parsed`],
//! so a value the schema should have refused reads as `Corrupt`, never as
//! a default.

use crate::error::{unknown_value, DbResult};
use rusqlite::{Connection, Params, Row};
use wallet_core::ids::{
    AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId, EntryId, LotId, TransactionId, WalletId,
};
use wallet_core::model::{
    Asset, Authority, AuthorityCredential, Customer, CustomerKey, CustomerStatus, Entry, EntryKind, Hold,
    HoldStatus, Lot, LotStatus, Owner, Page, Project, Transaction, TransactionStatus, Wallet, WalletStatus,
};
use wallet_core::text::HoldId;

/// A stored text column that must be one of a closed set of names.
pub(crate) fn parsed<T>(
    r: &Row<'_>,
    index: usize,
    column: &'static str,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(index)?;
    parse(&text).ok_or_else(|| unknown_value(index, column))
}

/// The rows of `sql` and the count of all rows of `count_sql`: one page.
pub(crate) fn page<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    count_sql: &str,
    count_params: impl Params,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> DbResult<Page<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let items = stmt.query_map(params, map)?.collect::<Result<_, _>>()?;
    let total = conn
        .prepare_cached(count_sql)?
        .query_row(count_params, |r| r.get(0))?;
    Ok(Page { items, total })
}

/// A list as one JSON-array parameter, so the SQL text is fixed (and its
/// statement cached) whatever the list's length.
pub(crate) fn json_list<T: serde::Serialize>(list: &[T]) -> String {
    // Serializing integers and strings into a string cannot fail.
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) const PROJECT_COLUMNS: &str = "id, name, default_asset, created_at";

pub(crate) fn project(r: &Row<'_>) -> rusqlite::Result<Project> {
    // NULL only between a project's insert and its default asset's, inside
    // `create_project`: read as corrupt anywhere else.
    let default_asset: Option<i64> = r.get(2)?;
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        default_asset: AssetId::new(default_asset.ok_or_else(|| unknown_value(2, "projects.default_asset"))?),
        created_at: r.get(3)?,
    })
}

pub(crate) const ASSET_COLUMNS: &str = "id, code, name, fractions, used, created_at";

pub(crate) fn asset(r: &Row<'_>) -> rusqlite::Result<Asset> {
    Ok(Asset {
        id: AssetId::new(r.get(0)?),
        code: r.get(1)?,
        name: r.get(2)?,
        fractions: r.get(3)?,
        used: r.get(4)?,
        created_at: r.get(5)?,
    })
}

pub(crate) const CUSTOMER_COLUMNS: &str = "id, external_id, name, description, status, created_at";

pub(crate) fn customer(r: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        rowid: CustomerRowId::new(r.get(0)?),
        id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        status: parsed(r, 4, "customers.status", CustomerStatus::parse)?,
        created_at: r.get(5)?,
    })
}

/// Wallets with their owner (`LEFT JOIN customers c`).
pub(crate) const WALLET_COLUMNS: &str =
    "w.id, w.project_id, w.asset_id, w.customer_id, c.external_id, c.status,
     w.name, w.description, w.status, w.balance, w.created_at, w.held, w.credit_limit";

/// How many columns [`WALLET_COLUMNS`] names: the index of the first one a
/// query adds after them.
pub(crate) const WALLET_COLUMN_COUNT: usize = 13;

/// `FROM` for [`WALLET_COLUMNS`].
pub(crate) const WALLETS_WITH_OWNERS: &str = "wallets w LEFT JOIN customers c ON c.id = w.customer_id";

pub(crate) fn wallet(r: &Row<'_>) -> rusqlite::Result<Wallet> {
    let owner = match r.get::<_, Option<i64>>(3)? {
        None => None,
        Some(rowid) => Some(Owner {
            rowid: CustomerRowId::new(rowid),
            id: r.get(4)?,
            status: parsed(r, 5, "customers.status", CustomerStatus::parse)?,
        }),
    };
    Ok(Wallet {
        id: WalletId::new(r.get(0)?),
        project_id: r.get(1)?,
        asset_id: AssetId::new(r.get(2)?),
        owner,
        name: r.get(6)?,
        description: r.get(7)?,
        status: parsed(r, 8, "wallets.status", WalletStatus::parse)?,
        balance: r.get(9)?,
        held: r.get(11)?,
        credit_limit: r.get(12)?,
        created_at: r.get(10)?,
        // The ledger fills it where it answers clients (`ReadTx::expiring`).
        expiring: Vec::new(),
    })
}

/// Holds (`FROM holds h`).
pub(crate) const HOLD_COLUMNS: &str = "h.public_id, h.source_id, h.destination_id, h.asset_id, h.amount,
     h.captured, h.remaining, h.status, h.expires_at, h.created_at, h.transaction_id, h.updated_at";

/// A stored hold id; one the rules would refuse reads as corrupt.
pub(crate) fn hold_id(r: &Row<'_>, index: usize) -> rusqlite::Result<HoldId> {
    let text: String = r.get(index)?;
    HoldId::parse(&text).map_err(|_| unknown_value(index, "holds.public_id"))
}

pub(crate) fn hold(r: &Row<'_>) -> rusqlite::Result<Hold> {
    Ok(Hold {
        id: hold_id(r, 0)?,
        source: WalletId::new(r.get(1)?),
        destination: r.get::<_, Option<i64>>(2)?.map(WalletId::new),
        asset: AssetId::new(r.get(3)?),
        amount: r.get(4)?,
        captured: r.get(5)?,
        remaining: r.get(6)?,
        status: parsed(r, 7, "holds.status", HoldStatus::parse)?,
        expires_at: r.get(8)?,
        created_at: r.get(9)?,
        transaction: TransactionId::new(r.get(10)?),
        updated_at: r.get(11)?,
    })
}

/// Lots (`FROM lots l`).
pub(crate) const LOT_COLUMNS: &str = "l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.expires_at,
     l.status, l.created_at, l.transaction_id, l.updated_at";

pub(crate) fn lot(r: &Row<'_>) -> rusqlite::Result<Lot> {
    Ok(Lot {
        id: LotId::new(r.get(0)?),
        wallet: WalletId::new(r.get(1)?),
        amount: r.get(2)?,
        remaining: r.get(3)?,
        earmarked: r.get(4)?,
        expires_at: r.get(5)?,
        status: parsed(r, 6, "lots.status", LotStatus::parse)?,
        created_at: r.get(7)?,
        transaction: TransactionId::new(r.get(8)?),
        updated_at: r.get(9)?,
    })
}

pub(crate) const ENTRY_COLUMNS: &str =
    "id, wallet_id, transaction_id, kind, amount, balance_after, reason, created_at";

pub(crate) fn entry(r: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: EntryId::new(r.get(0)?),
        wallet_id: WalletId::new(r.get(1)?),
        transaction_id: TransactionId::new(r.get(2)?),
        kind: parsed(r, 3, "entries.kind", EntryKind::parse)?,
        amount: r.get(4)?,
        balance_after: r.get(5)?,
        reason: r.get(6)?,
        created_at: r.get(7)?,
    })
}

pub(crate) const TRANSACTION_COLUMNS: &str =
    "id, reference_id, status, error, description, operations, created_at";

pub(crate) fn transaction(r: &Row<'_>) -> rusqlite::Result<Transaction> {
    Ok(Transaction {
        id: TransactionId::new(r.get(0)?),
        reference_id: r.get(1)?,
        status: parsed(r, 2, "transactions.status", TransactionStatus::parse)?,
        error: r.get(3)?,
        description: r.get(4)?,
        operations: r.get(5)?,
        created_at: r.get(6)?,
    })
}

/// Authorities with their project's default asset (`JOIN projects p`).
pub(crate) const AUTHORITY_COLUMNS: &str = "a.id, a.public_id, a.project_id, a.name, a.public_key_pem,
     a.token_digest, a.created_at, a.revoked_at, p.default_asset";

/// `FROM` for [`AUTHORITY_COLUMNS`].
pub(crate) const AUTHORITIES_WITH_PROJECTS: &str = "authorities a JOIN projects p ON p.id = a.project_id";

pub(crate) fn authority(r: &Row<'_>) -> rusqlite::Result<Authority> {
    let credential = match (r.get::<_, Option<String>>(4)?, r.get::<_, Option<Vec<u8>>>(5)?) {
        (Some(pem), None) => AuthorityCredential::PublicKey(pem),
        (None, Some(digest)) => AuthorityCredential::TokenDigest(digest),
        // The schema's CHECK holds exactly one of the two.
        _ => return Err(unknown_value(4, "authorities.public_key_pem/token_digest")),
    };
    let default_asset: Option<i64> = r.get(8)?;
    Ok(Authority {
        rowid: AuthorityRowId::new(r.get(0)?),
        public_id: r.get(1)?,
        project_id: r.get(2)?,
        name: r.get(3)?,
        credential,
        created_at: r.get(6)?,
        revoked_at: r.get(7)?,
        default_asset: AssetId::new(default_asset.ok_or_else(|| unknown_value(8, "projects.default_asset"))?),
    })
}

/// Customer keys with their customer (`JOIN customers c`).
pub(crate) const CUSTOMER_KEY_COLUMNS: &str = "k.id, k.public_id, c.project_id, k.customer_id, c.external_id,
     k.token_digest, k.created_at, k.expires_at, k.revoked_at, c.status";

/// `FROM` for [`CUSTOMER_KEY_COLUMNS`].
pub(crate) const KEYS_WITH_CUSTOMERS: &str = "customer_keys k JOIN customers c ON c.id = k.customer_id";

pub(crate) fn customer_key(r: &Row<'_>) -> rusqlite::Result<CustomerKey> {
    let status = parsed(r, 9, "customers.status", CustomerStatus::parse)?;
    Ok(CustomerKey {
        rowid: CustomerKeyRowId::new(r.get(0)?),
        public_id: r.get(1)?,
        project_id: r.get(2)?,
        customer: CustomerRowId::new(r.get(3)?),
        customer_id: r.get(4)?,
        token_digest: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        revoked_at: r.get(8)?,
        customer_deleted: status == CustomerStatus::Deleted,
    })
}

/// A running total of `authority_totals` as its two columns: `total` holds
/// the low 64 bits (as a signed integer) and `total_high` the rest, so the
/// exact value is `total_high * 2^64 + total`. Every total within i64 has
/// `total_high = 0` and `total` equal to it, so rows written before schema
/// step 3 read the same. `None` past about ±2^127, which takes 2^63 entries.
pub(crate) fn split_total(total: i128) -> Option<(i64, i64)> {
    // Truncation to the low 64 bits is the point here.
    #[allow(clippy::cast_possible_truncation)]
    let low = total as i64;
    let high = total.checked_sub(i128::from(low))? >> 64;
    Some((low, i64::try_from(high).ok()?))
}

/// The exact running total from its two columns (see [`split_total`]).
pub(crate) fn join_total(low: i64, high: i64) -> i128 {
    (i128::from(high) << 64) + i128::from(low)
}

/// The exact sum of some entries' amounts from the two parts SQL sums them
/// in (`sum(amount >> 32)` and `sum(amount & 4294967295)`, so amount =
/// hi * 2^32 + lo with lo in [0, 2^32)): SQLite's `sum(amount)` fails once
/// the sum passes i64; each part fits i64 up to 2^31 entries.
pub(crate) fn exact_sum(hi: i64, lo: i64) -> i128 {
    (i128::from(hi) << 32) + i128::from(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_wallet_column_count_counts_the_wallet_columns() {
        assert_eq!(WALLET_COLUMNS.split(',').count(), WALLET_COLUMN_COUNT);
    }

    #[test]
    fn the_hold_columns_are_the_twelve_the_mapper_reads() {
        assert_eq!(HOLD_COLUMNS.split(',').count(), 12);
    }

    #[test]
    fn the_lot_columns_are_the_ten_the_mapper_reads() {
        assert_eq!(LOT_COLUMNS.split(',').count(), 10);
    }

    proptest! {
        #[test]
        fn running_totals_split_and_join_exactly(hi in any::<i64>(), lo in any::<u64>()) {
            // Every i128 up to about ±2^127: far past what 2^63 entries can reach.
            let total = (i128::from(hi) << 64) | i128::from(lo);
            if let Some((low, high)) = split_total(total) {
                prop_assert_eq!(join_total(low, high), total);
            } else {
                prop_assert!(total > i128::MAX - (1 << 63), "only the very top is refused: {}", total);
            }
        }

        #[test]
        fn a_total_within_i64_is_its_own_low_column(total in any::<i64>()) {
            prop_assert_eq!(split_total(i128::from(total)), Some((total, 0)));
        }

        #[test]
        fn amounts_summed_in_two_parts_add_up_exactly(amounts in proptest::collection::vec(any::<i64>(), 0..64)) {
            // What SQLite's `>>` (arithmetic) and `&` make of each amount.
            let (hi, lo) = amounts
                .iter()
                .fold((0i64, 0i64), |(hi, lo), a| (hi + (a >> 32), lo + (a & 0xFFFF_FFFF)));
            let exact: i128 = amounts.iter().copied().map(i128::from).sum();
            prop_assert_eq!(exact_sum(hi, lo), exact);
        }
    }
}
