//! Export: every row of one project, each after the rows it refers to, as
//! the core's [`DumpRecord`]s. Runs on the caller's snapshot (a read job),
//! so it is consistent and safe while the server runs.

use crate::error::DbResult;
use rusqlite::{Connection, OptionalExtension, Row};
use wallet_core::dump::{
    hex, AssetDump, AuthorityDump, CustomerDump, CustomerKeyDump, DumpCounts, DumpRecord, EarmarkDump,
    EntryDump, HoldDump, ItemDump, ItemRecord, ItemStepDump, LotDump, LotStepDump, ProjectDump,
    TransactionDump, WalletDump,
};
use wallet_core::StoreError;

/// Reads one exported row.
type RowReader = fn(&Row<'_>) -> rusqlite::Result<DumpRecord>;

/// Per table of the project, in dependency order: the query and its reader.
const EXPORTS: &[(&str, RowReader)] = &[
    (
        "SELECT id, code, name, fractions, used, created_at FROM assets WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Asset(AssetDump {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                fractions: r.get(3)?,
                used: r.get(4)?,
                created_at: r.get(5)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, name, public_key_pem, token_digest, created_at, revoked_at, system
         FROM authorities WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Authority(AuthorityDump {
                rowid: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                public_key_pem: r.get(3)?,
                token_digest: r.get::<_, Option<Vec<u8>>>(4)?.map(|d| hex(&d)),
                system: r.get(7)?,
                created_at: r.get(5)?,
                revoked_at: r.get(6)?,
            }))
        },
    ),
    (
        "SELECT id, external_id, name, description, status, created_at
         FROM customers WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Customer(CustomerDump {
                rowid: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                description: r.get(3)?,
                status: r.get(4)?,
                created_at: r.get(5)?,
            }))
        },
    ),
    (
        "SELECT k.id, k.public_id, k.customer_id, k.token_digest, k.created_at, k.expires_at, k.revoked_at
         FROM customer_keys k JOIN customers c ON c.id = k.customer_id
         WHERE c.project_id = ?1 ORDER BY k.id",
        |r| {
            Ok(DumpRecord::CustomerKey(CustomerKeyDump {
                rowid: r.get(0)?,
                id: r.get(1)?,
                customer: r.get(2)?,
                token_digest: hex(&r.get::<_, Vec<u8>>(3)?),
                created_at: r.get(4)?,
                expires_at: r.get(5)?,
                revoked_at: r.get(6)?,
            }))
        },
    ),
    (
        "SELECT id, asset_id, customer_id, is_default, name, description, status, balance, created_at,
                held, credit_limit
         FROM wallets WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Wallet(WalletDump {
                id: r.get(0)?,
                asset: r.get(1)?,
                customer: r.get(2)?,
                is_default: r.get(3)?,
                name: r.get(4)?,
                description: r.get(5)?,
                status: r.get(6)?,
                balance: r.get(7)?,
                held: r.get(9)?,
                credit_limit: r.get(10)?,
                created_at: r.get(8)?,
            }))
        },
    ),
    (
        "SELECT id, reference_id, authority_id, status, error, description, operations, created_at
         FROM transactions WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Transaction(TransactionDump {
                id: r.get(0)?,
                reference_id: r.get(1)?,
                authority: r.get(2)?,
                status: r.get(3)?,
                error: r.get(4)?,
                description: r.get(5)?,
                operations: r.get(6)?,
                created_at: r.get(7)?,
            }))
        },
    ),
    (
        "SELECT e.id, e.wallet_id, e.transaction_id, e.authority_id, e.kind, e.amount, e.balance_after,
                e.reason, e.created_at
         FROM entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE w.project_id = ?1 ORDER BY e.id",
        |r| {
            Ok(DumpRecord::Entry(EntryDump {
                id: r.get(0)?,
                wallet: r.get(1)?,
                transaction: r.get(2)?,
                authority: r.get(3)?,
                kind: r.get(4)?,
                amount: r.get(5)?,
                balance_after: r.get(6)?,
                reason: r.get(7)?,
                created_at: r.get(8)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, item_type, properties, customer_id, status, v1_entry_id, created_at, updated_at
         FROM items WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Item(ItemRecord::Item(ItemDump {
                rowid: r.get(0)?,
                id: r.get(1)?,
                item_type: r.get(2)?,
                properties: r.get(3)?,
                customer: r.get(4)?,
                status: r.get(5)?,
                v1_entry: r.get(6)?,
                created_at: r.get(7)?,
                updated_at: r.get(8)?,
            })))
        },
    ),
    (
        "SELECT s.id, s.item_id, s.transaction_id, s.kind, s.from_customer_id, s.to_customer_id, s.properties,
                s.created_at
         FROM item_steps s JOIN items i ON i.id = s.item_id
         WHERE i.project_id = ?1 ORDER BY s.id",
        |r| {
            Ok(DumpRecord::ItemStep(ItemStepDump {
                rowid: r.get(0)?,
                item: r.get(1)?,
                transaction: r.get(2)?,
                kind: r.get(3)?,
                from: r.get(4)?,
                to: r.get(5)?,
                properties: r.get(6)?,
                created_at: r.get(7)?,
            }))
        },
    ),
    (
        "SELECT id, public_id, source_id, destination_id, asset_id, amount, captured, remaining, status,
                expires_at, transaction_id, created_at, updated_at
         FROM holds WHERE project_id = ?1 ORDER BY id",
        |r| {
            Ok(DumpRecord::Hold(HoldDump {
                rowid: r.get(0)?,
                id: r.get(1)?,
                source: r.get(2)?,
                destination: r.get(3)?,
                asset: r.get(4)?,
                amount: r.get(5)?,
                captured: r.get(6)?,
                remaining: r.get(7)?,
                status: r.get(8)?,
                expires_at: r.get(9)?,
                transaction: r.get(10)?,
                created_at: r.get(11)?,
                updated_at: r.get(12)?,
            }))
        },
    ),
    // Lots after the holds: earmarks name both.
    (
        "SELECT l.id, l.wallet_id, l.amount, l.remaining, l.earmarked, l.expires_at, l.status,
                l.transaction_id, l.created_at, l.updated_at
         FROM lots l JOIN wallets w ON w.id = l.wallet_id
         WHERE w.project_id = ?1 ORDER BY l.id",
        |r| {
            Ok(DumpRecord::Lot(LotDump {
                id: r.get(0)?,
                wallet: r.get(1)?,
                amount: r.get(2)?,
                remaining: r.get(3)?,
                earmarked: r.get(4)?,
                expires_at: r.get(5)?,
                status: r.get(6)?,
                transaction: r.get(7)?,
                created_at: r.get(8)?,
                updated_at: r.get(9)?,
            }))
        },
    ),
    (
        "SELECT s.id, s.lot_id, s.transaction_id, s.kind, s.amount, s.created_at
         FROM lot_steps s JOIN lots l ON l.id = s.lot_id JOIN wallets w ON w.id = l.wallet_id
         WHERE w.project_id = ?1 ORDER BY s.id",
        |r| {
            Ok(DumpRecord::LotStep(LotStepDump {
                rowid: r.get(0)?,
                lot: r.get(1)?,
                transaction: r.get(2)?,
                kind: r.get(3)?,
                amount: r.get(4)?,
                created_at: r.get(5)?,
            }))
        },
    ),
    (
        "SELECT e.hold_id, e.lot_id, e.amount
         FROM hold_lots e JOIN holds h ON h.id = e.hold_id
         WHERE h.project_id = ?1 ORDER BY e.hold_id, e.lot_id",
        |r| {
            Ok(DumpRecord::Earmark(EarmarkDump {
                hold: r.get(0)?,
                lot: r.get(1)?,
                amount: r.get(2)?,
            }))
        },
    ),
];

/// Hands every row of `project` to `sink`, the project's own row first.
/// A project that does not exist exports nothing (no record, zero counts):
/// callers that must tell the two apart read `project` on the same snapshot.
pub(crate) fn project(
    conn: &Connection,
    project: &str,
    sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>,
) -> DbResult<DumpCounts> {
    let mut counts = DumpCounts::default();
    let head = conn
        .prepare_cached("SELECT id, name, default_asset, created_at FROM projects WHERE id = ?1")?
        .query_row([project], |r| {
            Ok(ProjectDump {
                id: r.get(0)?,
                name: r.get(1)?,
                default_asset: r.get(2)?,
                created_at: r.get(3)?,
            })
        })
        .optional()?;
    let Some(head) = head else {
        return Ok(counts);
    };
    sink(DumpRecord::Project(head))?;
    for (sql, read) in EXPORTS {
        // Not cached: an export runs rarely and would take ten slots.
        let mut stmt = conn.prepare(sql)?;
        let mut rows = stmt.query([project])?;
        while let Some(row) = rows.next()? {
            let record = read(row)?;
            counts.add(&record);
            sink(record)?;
        }
    }
    Ok(counts)
}
