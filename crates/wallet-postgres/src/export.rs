//! Export: every row of one project, each after the rows it refers to, as
//! the core's [`DumpRecord`]s: the same records in the same order as
//! wallet-sqlite's export, so a project moves between the backends. Runs
//! on the caller's snapshot (a read job), so it is consistent while the
//! server runs.

use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use crate::statements::rows::col;
use postgres::Row;
use wallet_core::dump::{
    hex, AssetDump, AuthorityDump, CustomerDump, CustomerKeyDump, DumpCounts, DumpRecord, EarmarkDump,
    EntryDump, HoldDump, ItemDump, ItemRecord, ItemStepDump, LotDump, LotStepDump, ProjectDump,
    TransactionDump, WalletDump,
};
use wallet_core::StoreError;

/// Reads one exported row.
type RowReader = fn(&Row) -> DbResult<DumpRecord>;

/// Per table of the project, in dependency order: the query and its reader.
const EXPORTS: &[(&str, RowReader)] = &[
    (
        "SELECT id, code, name, fractions, used, created_at FROM assets WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Asset(AssetDump {
                id: col(r, 0)?,
                code: col(r, 1)?,
                name: col(r, 2)?,
                fractions: col(r, 3)?,
                used: col(r, 4)?,
                created_at: col(r, 5)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, name, public_key_pem, token_digest, created_at, revoked_at, system
         FROM authorities WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Authority(AuthorityDump {
                rowid: col(r, 0)?,
                id: col(r, 1)?,
                name: col(r, 2)?,
                public_key_pem: col(r, 3)?,
                token_digest: col::<Option<&[u8]>>(r, 4)?.map(hex),
                system: col(r, 7)?,
                created_at: col(r, 5)?,
                revoked_at: col(r, 6)?,
            }))
        },
    ),
    (
        "SELECT id, external_id, name, description, status, created_at
         FROM customers WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Customer(CustomerDump {
                rowid: col(r, 0)?,
                id: col(r, 1)?,
                name: col(r, 2)?,
                description: col(r, 3)?,
                status: col(r, 4)?,
                created_at: col(r, 5)?,
            }))
        },
    ),
    (
        "SELECT k.id, k.public_id, k.customer_id, k.token_digest, k.created_at, k.expires_at, k.revoked_at
         FROM customer_keys k JOIN customers c ON c.id = k.customer_id
         WHERE c.project_id = $1 ORDER BY k.id",
        |r| {
            Ok(DumpRecord::CustomerKey(CustomerKeyDump {
                rowid: col(r, 0)?,
                id: col(r, 1)?,
                customer: col(r, 2)?,
                token_digest: hex(col::<&[u8]>(r, 3)?),
                created_at: col(r, 4)?,
                expires_at: col(r, 5)?,
                revoked_at: col(r, 6)?,
            }))
        },
    ),
    (
        "SELECT id, asset_id, customer_id, is_default, name, description, status, balance, created_at,
                held, credit_limit
         FROM wallets WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Wallet(WalletDump {
                id: col(r, 0)?,
                asset: col(r, 1)?,
                customer: col(r, 2)?,
                is_default: col(r, 3)?,
                name: col(r, 4)?,
                description: col(r, 5)?,
                status: col(r, 6)?,
                balance: col(r, 7)?,
                held: col(r, 9)?,
                credit_limit: col(r, 10)?,
                created_at: col(r, 8)?,
            }))
        },
    ),
    (
        "SELECT id, reference_id, authority_id, status, error, description, operations, created_at
         FROM transactions WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Transaction(TransactionDump {
                id: col(r, 0)?,
                reference_id: col(r, 1)?,
                authority: col(r, 2)?,
                status: col(r, 3)?,
                error: col(r, 4)?,
                description: col(r, 5)?,
                operations: col(r, 6)?,
                created_at: col(r, 7)?,
            }))
        },
    ),
    (
        "SELECT e.id, e.wallet_id, e.transaction_id, e.authority_id, e.kind, e.amount, e.balance_after,
                e.reason, e.created_at
         FROM entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE w.project_id = $1 ORDER BY e.id",
        |r| {
            Ok(DumpRecord::Entry(EntryDump {
                id: col(r, 0)?,
                wallet: col(r, 1)?,
                transaction: col(r, 2)?,
                authority: col(r, 3)?,
                kind: col(r, 4)?,
                amount: col(r, 5)?,
                balance_after: col(r, 6)?,
                reason: col(r, 7)?,
                created_at: col(r, 8)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, item_type, properties, customer_id, status, v1_entry_id, created_at, updated_at
         FROM items WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Item(ItemRecord::Item(ItemDump {
                rowid: col(r, 0)?,
                id: col(r, 1)?,
                item_type: col(r, 2)?,
                properties: col(r, 3)?,
                customer: col(r, 4)?,
                status: col(r, 5)?,
                v1_entry: col(r, 6)?,
                created_at: col(r, 7)?,
                updated_at: col(r, 8)?,
            })))
        },
    ),
    (
        "SELECT s.id, s.item_id, s.transaction_id, s.kind, s.from_customer, s.to_customer, s.properties,
                s.created_at
         FROM item_steps s JOIN items i ON i.id = s.item_id
         WHERE i.project_id = $1 ORDER BY s.id",
        |r| {
            Ok(DumpRecord::ItemStep(ItemStepDump {
                rowid: col(r, 0)?,
                item: col(r, 1)?,
                transaction: col(r, 2)?,
                kind: col(r, 3)?,
                from: col(r, 4)?,
                to: col(r, 5)?,
                properties: col(r, 6)?,
                created_at: col(r, 7)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, source_id, destination_id, asset_id, amount, captured, remaining, status,
                expires_at, transaction_id, created_at, updated_at
         FROM holds WHERE project_id = $1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Hold(HoldDump {
                rowid: col(r, 0)?,
                id: col(r, 1)?,
                source: col(r, 2)?,
                destination: col(r, 3)?,
                asset: col(r, 4)?,
                amount: col(r, 5)?,
                captured: col(r, 6)?,
                remaining: col(r, 7)?,
                status: col(r, 8)?,
                expires_at: col(r, 9)?,
                transaction: col(r, 10)?,
                created_at: col(r, 11)?,
                updated_at: col(r, 12)?,
            }))
        },
    ),
    // Lots, their steps, then earmarks: after the holds, which earmarks name.
    (
        "SELECT l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.expires_at, l.status,
                l.transaction_id, l.created_at, l.updated_at
         FROM lots l JOIN wallets w ON w.id = l.wallet_id
         WHERE w.project_id = $1 ORDER BY l.id",
        |r| {
            Ok(DumpRecord::Lot(LotDump {
                id: col(r, 0)?,
                wallet: col(r, 1)?,
                amount: col(r, 2)?,
                remaining: col(r, 3)?,
                earmarked: col(r, 4)?,
                expires_at: col(r, 5)?,
                status: col(r, 6)?,
                transaction: col(r, 7)?,
                created_at: col(r, 8)?,
                updated_at: col(r, 9)?,
            }))
        },
    ),
    (
        "SELECT s.id, s.lot_id, s.transaction_id, s.kind, s.amount, s.created_at
         FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
         WHERE w.project_id = $1 ORDER BY s.id",
        |r| {
            Ok(DumpRecord::LotStep(LotStepDump {
                rowid: col(r, 0)?,
                lot: col(r, 1)?,
                transaction: col(r, 2)?,
                kind: col(r, 3)?,
                amount: col(r, 4)?,
                created_at: col(r, 5)?,
            }))
        },
    ),
    (
        "SELECT m.hold_id, m.lot_id, m.amount
         FROM hold_lots m JOIN holds h ON h.id = m.hold_id
         WHERE h.project_id = $1 ORDER BY m.hold_id, m.lot_id",
        |r| {
            Ok(DumpRecord::Earmark(EarmarkDump {
                hold: col(r, 0)?,
                lot: col(r, 1)?,
                amount: col(r, 2)?,
            }))
        },
    ),
];

/// Hands every row of `project` to `sink`, the project's own row first.
/// A project that does not exist exports nothing (no record, zero counts).
pub(crate) fn project(
    conn: &mut PgConn,
    project: &str,
    sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>,
) -> DbResult<DumpCounts> {
    let mut counts = DumpCounts::default();
    let head = conn.query_opt(
        "SELECT id, name, default_asset, created_at FROM projects WHERE id = $1",
        &[&project],
    )?;
    let Some(head) = head else {
        return Ok(counts);
    };
    let default_asset: Option<i64> = col(&head, 2)?;
    sink(DumpRecord::Project(ProjectDump {
        id: col(&head, 0)?,
        name: col(&head, 1)?,
        default_asset: default_asset.ok_or_else(|| crate::error::corrupt("projects.default_asset"))?,
        created_at: col(&head, 3)?,
    }))?;
    for (sql, read) in EXPORTS {
        conn.for_each(sql, &[&project], |row| {
            let record = read(row)?;
            counts.add(&record);
            sink(record).map_err(DbError)
        })?;
    }
    Ok(counts)
}
