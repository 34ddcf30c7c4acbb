//! Bulk loading for benchmarks, the PostgreSQL counterpart of
//! `wallet_sqlite::BulkLoader`: millions of rows written with `COPY` into a
//! database no server is using yet, and the figures a benchmark reports.
//!
//! The normal path (a writer job per request, a savepoint each, a durable
//! commit per group) is what a benchmark measures, so it cannot also be how
//! it preloads ten million entries. This loader keeps each chunk's rows in
//! `COPY` text buffers, one per table, and sends them in one transaction
//! with `synchronous_commit = off`; it chooses the ids itself (a database
//! no server writes to has no one to race), as an import does, and moves
//! every identity sequence past them at the end. The result is the ledger
//! the writer would have left: balances equal to the sum of entries,
//! `balance_after` of every entry, per-authority totals, transactions, Open
//! lots formed by Issues with an expiry ([`BulkTx::lot`]). The
//! caller computes the balances (it generates the entries); this file only
//! writes rows. Never use it on a database a server has open.
//!
//! [`prepare_bench_database`] decides which databases a benchmark may take:
//! an empty one, or one an earlier benchmark left (marked in `settings`),
//! which it empties first. Anything else is refused, so a mistyped URL
//! never wipes a ledger.

use crate::backend::PostgresBackend;
use crate::conn::{off_async, PgConn, Role, Target};
use crate::error::{DbError, DbResult};
use crate::migrations;
use crate::statements::rows::{self, col};
use std::io::Write;
use wallet_core::ids::{AssetId, AuthorityRowId, EntryId, LotId, TransactionId, WalletId};
use wallet_core::model::{EntryKind, LotStatus, Millis};
use wallet_core::port::{NewEntry, NewTransaction};
use wallet_core::StoreError;

/// The `settings` key that marks a database as a benchmark's own.
const BENCH_MARK: &str = "wallet-bench";

/// What [`prepare_bench_database`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchDatabase {
    /// Nothing was in it.
    Empty,
    /// An earlier benchmark's ledger, now emptied.
    Reset,
}

/// Makes the database at `url` a benchmark's: refuses one that holds any
/// table unless an earlier benchmark marked it (then drops the schema the
/// ledger lives in and makes it anew), applies the migrations and marks it.
/// May be called from async code.
pub fn prepare_bench_database(url: &str) -> Result<BenchDatabase, StoreError> {
    let target = Target::parse(url)?;
    off_async(|| {
        let mut conn = target.connect(Role::Maintenance)?;
        let tables: i64 = col(
            &conn.query_one(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname !~ '^pg_(toast|temp)'",
                &[],
            )?,
            0,
        )?;
        let found = if tables == 0 {
            BenchDatabase::Empty
        } else if marked(&mut conn)? {
            // The captured name: after the DROP, current_schema() is NULL.
            conn.batch(
                "DO $$ DECLARE s text := current_schema(); BEGIN
                   EXECUTE format('DROP SCHEMA %I CASCADE', s);
                   EXECUTE format('CREATE SCHEMA %I', s);
                 END $$",
            )?;
            BenchDatabase::Reset
        } else {
            return Err(DbError(StoreError::Schema(format!(
                "{} is not empty and no earlier benchmark made it: `bench --db` takes an empty \
                 database (CREATE DATABASE …) or one it made before, and never touches another",
                target.describe()
            ))));
        };
        migrations::migrate(&mut conn, true, &target).map_err(|e| DbError(e.into()))?;
        conn.execute(
            "INSERT INTO settings (key, value) VALUES ($1, 'this database is a benchmark''s: \
             the next `wallet-service bench` on it empties it')
             ON CONFLICT (key) DO NOTHING",
            &[&BENCH_MARK],
        )?;
        Ok(found)
    })
    .map_err(StoreError::from)
}

/// Whether the database's ledger carries the benchmark's mark.
fn marked(conn: &mut PgConn) -> DbResult<bool> {
    if !col::<bool>(
        &conn.query_one("SELECT to_regclass('settings') IS NOT NULL", &[])?,
        0,
    )? {
        return Ok(false);
    }
    Ok(conn
        .query_opt("SELECT 1 FROM settings WHERE key = $1", &[&BENCH_MARK])?
        .is_some())
}

/// The next id of each table the loader fills.
#[derive(Debug, Clone, Copy, Default)]
struct NextIds {
    customer: i64,
    wallet: i64,
    transaction: i64,
    entry: i64,
    lot: i64,
}

/// A connection for bulk loading. Its session never blocks on an async
/// thread: open it, use it and drop it off the async runtime (the bench
/// runs its preload on a thread of its own).
pub struct BulkLoader {
    conn: PgConn,
    next: NextIds,
}

/// The rows of one chunk, as `COPY` text, and the updates that follow them.
#[derive(Default)]
pub struct BulkTx {
    next: NextIds,
    customers: Vec<u8>,
    wallets: Vec<u8>,
    transactions: Vec<u8>,
    entries: Vec<u8>,
    lots: Vec<u8>,
    items: Vec<u8>,
    balance_wallets: Vec<i64>,
    balances: Vec<i64>,
    total_authorities: Vec<i64>,
    used_assets: Vec<i64>,
}

impl BulkLoader {
    /// Opens a database that [`prepare_bench_database`] (or
    /// [`PostgresBackend::connect`]) has given the schema. Durability is
    /// off for this session: a crash mid-load leaves a database to reset.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let open = || -> DbResult<Self> {
            let target = Target::parse(url)?;
            let mut conn = target.connect(Role::Maintenance)?;
            conn.batch("SET synchronous_commit = off")?;
            // API v1 items arrive as (entry, name, data); each chunk's are
            // made items of the entries' users from here (see `write`).
            conn.batch(
                "CREATE TEMPORARY TABLE bulk_v1_items (entry_id BIGINT, name TEXT, data TEXT)
                 ON COMMIT DELETE ROWS",
            )?;
            let row = conn.query_one(
                "SELECT (SELECT coalesce(max(id), 0) FROM customers),
                        (SELECT coalesce(max(id), 0) FROM wallets),
                        (SELECT coalesce(max(id), 0) FROM transactions),
                        (SELECT coalesce(max(id), 0) FROM entries),
                        (SELECT coalesce(max(id), 0) FROM lots)",
                &[],
            )?;
            let next = NextIds {
                customer: col::<i64>(&row, 0)? + 1,
                wallet: col::<i64>(&row, 1)? + 1,
                transaction: col::<i64>(&row, 2)? + 1,
                entry: col::<i64>(&row, 3)? + 1,
                lot: col::<i64>(&row, 4)? + 1,
            };
            Ok(Self { conn, next })
        };
        Ok(open()?)
    }

    /// Runs `work` for one chunk of rows, then writes them in one
    /// transaction. If `work` or the write fails, nothing of the chunk is
    /// written.
    pub fn chunk<T>(
        &mut self,
        work: impl FnOnce(&mut BulkTx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = BulkTx {
            next: self.next,
            ..BulkTx::default()
        };
        let out = work(&mut tx)?;
        self.write(&tx)?;
        self.next = tx.next;
        Ok(out)
    }

    fn write(&mut self, tx: &BulkTx) -> DbResult<()> {
        migrations::in_transaction(&mut self.conn, |conn| {
            // In the order the foreign keys need.
            copy(
                conn,
                "COPY customers (id, project_id, external_id, status, created_at) FROM STDIN",
                &tx.customers,
            )?;
            copy(
                conn,
                "COPY wallets (id, project_id, asset_id, customer_id, is_default, status, balance, created_at)
                 FROM STDIN",
                &tx.wallets,
            )?;
            copy(
                conn,
                "COPY transactions (id, project_id, reference_id, authority_id, status, error, description,
                                    operations, created_at) FROM STDIN",
                &tx.transactions,
            )?;
            copy(
                conn,
                "COPY entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after,
                               reason, created_at) FROM STDIN",
                &tx.entries,
            )?;
            copy(
                conn,
                "COPY lots (id, wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                            created_at, updated_at) FROM STDIN",
                &tx.lots,
            )?;
            if !tx.items.is_empty() {
                copy(
                    conn,
                    "COPY bulk_v1_items (entry_id, name, data) FROM STDIN",
                    &tx.items,
                )?;
                v1_items(conn)?;
            }
            if !tx.balances.is_empty() {
                conn.execute(
                    "UPDATE wallets w SET balance = u.balance
                     FROM unnest($1::int8[], $2::int8[]) AS u(id, balance) WHERE w.id = u.id",
                    &[&tx.balance_wallets, &tx.balances],
                )?;
                conn.execute(
                    "INSERT INTO authority_totals (wallet_id, authority_id, total)
                     SELECT u.id, u.authority, u.balance
                     FROM unnest($1::int8[], $2::int8[], $3::int8[]) AS u(id, balance, authority)
                     ON CONFLICT (wallet_id, authority_id) DO UPDATE SET total = excluded.total",
                    &[&tx.balance_wallets, &tx.balances, &tx.total_authorities],
                )?;
            }
            if !tx.used_assets.is_empty() {
                conn.execute(
                    "UPDATE assets SET used = true WHERE id = ANY($1) AND NOT used",
                    &[&tx.used_assets],
                )?;
            }
            Ok(())
        })
    }

    /// Moves every identity sequence past the loaded ids, compacts the
    /// wallets (each row was written twice: opened, then its balance) and
    /// gathers the planner's statistics, so the measured run starts from
    /// the state a long-running server's database would be in.
    pub fn finish(mut self) -> Result<(), StoreError> {
        let mut finish = || -> DbResult<()> {
            for sql in crate::import::IDENTITIES {
                self.conn.query_one(sql, &[])?;
            }
            self.conn.batch("VACUUM FULL wallets")?;
            self.conn.batch("VACUUM ANALYZE")?;
            Ok(())
        };
        Ok(finish()?)
    }
}

/// Makes the chunk's staged API v1 items items, with their grants: the
/// owner is the entry's wallet's customer, the step in the entry's
/// transaction, both dated at the entry.
fn v1_items(conn: &mut PgConn) -> DbResult<()> {
    conn.execute(
        "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                            created_at, updated_at)
         SELECT w.project_id, 'v1_' || b.entry_id, b.name, b.data, w.customer_id, 'Active', b.entry_id,
                e.created_at, e.created_at
         FROM bulk_v1_items b JOIN entries e ON e.id = b.entry_id JOIN wallets w ON w.id = e.wallet_id
         ORDER BY b.entry_id",
        &[],
    )?;
    conn.execute(
        "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, properties,
                                 created_at)
         SELECT i.id, e.transaction_id, 'GrantItem', NULL, i.customer_id, i.properties, i.created_at
         FROM bulk_v1_items b JOIN items i ON i.v1_entry_id = b.entry_id JOIN entries e ON e.id = b.entry_id
         ORDER BY i.id",
        &[],
    )?;
    Ok(())
}

/// Sends one table's rows; nothing for an empty buffer.
fn copy(conn: &mut PgConn, sql: &str, rows: &[u8]) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut writer = conn.client.copy_in(sql)?;
    writer
        .write_all(rows)
        .map_err(|e| DbError(StoreError::Unavailable(format!("COPY: {e}"))))?;
    writer.finish()?;
    Ok(())
}

impl BulkTx {
    /// A customer with its default wallet of `asset` (balance 0 until
    /// [`BulkTx::set_balance`]). Returns the wallet id.
    pub fn customer_wallet(
        &mut self,
        project: &str,
        asset: AssetId,
        external_id: &str,
        now: Millis,
    ) -> Result<WalletId, StoreError> {
        let (customer, wallet) = (self.next.customer, self.next.wallet);
        self.next.customer += 1;
        self.next.wallet += 1;
        let row = &mut self.customers;
        int(row, customer);
        text(row, Some(project));
        text(row, Some(external_id));
        text(row, Some("Active"));
        last_int(row, now);
        let row = &mut self.wallets;
        int(row, wallet);
        text(row, Some(project));
        int(row, asset.get());
        int(row, customer);
        text(row, Some("t"));
        text(row, Some("Open"));
        int(row, 0);
        last_int(row, now);
        Ok(WalletId::new(wallet))
    }

    /// A transaction row; returns its id.
    pub fn transaction(&mut self, t: &NewTransaction<'_>) -> Result<TransactionId, StoreError> {
        let id = self.next.transaction;
        self.next.transaction += 1;
        let row = &mut self.transactions;
        int(row, id);
        text(row, Some(t.project_id));
        text(row, t.reference_id);
        int(row, t.authority.get());
        text(row, Some(t.status.as_str()));
        text(row, t.error);
        text(row, t.description);
        text(row, t.operations);
        last_int(row, t.created_at);
        Ok(TransactionId::new(id))
    }

    /// An entry, without touching the wallet: the caller sets final
    /// balances and totals once, at the end.
    pub fn entry(&mut self, e: &NewEntry<'_>) -> Result<EntryId, StoreError> {
        let id = self.next.entry;
        self.next.entry += 1;
        let row = &mut self.entries;
        int(row, id);
        int(row, e.wallet.get());
        int(row, e.transaction.get());
        int(row, e.authority.get());
        text(row, Some(e.kind.as_str()));
        int(row, e.amount);
        int(row, e.balance_after);
        text(row, e.reason);
        last_int(row, e.created_at);
        Ok(EntryId::new(id))
    }

    /// An Issue with an expiry, as the ledger leaves one: its entry (as
    /// [`BulkTx::entry`]: the caller sets the final balance) and the Open
    /// lot it formed in the entry's wallet, `issue.amount` of value that
    /// expires at `expires_at`, formed in the entry's transaction at its
    /// time. Returns the lot's id. The caller keeps the lots within the
    /// wallet's balance (`check`'s invariant): the loader's other entries
    /// do not spend lots.
    pub fn lot(&mut self, issue: &NewEntry<'_>, expires_at: Millis) -> Result<LotId, StoreError> {
        if issue.kind != EntryKind::Issue || issue.amount <= 0 {
            return Err(StoreError::Internal(format!(
                "a lot forms from an Issue of a positive amount, not a {} of {}",
                issue.kind.as_str(),
                issue.amount
            )));
        }
        self.entry(issue)?;
        let id = self.next.lot;
        self.next.lot += 1;
        let row = &mut self.lots;
        int(row, id);
        int(row, issue.wallet.get());
        int(row, issue.amount);
        int(row, issue.amount);
        int(row, 0);
        int(row, expires_at);
        text(row, Some(LotStatus::Open.as_str()));
        int(row, issue.transaction.get());
        int(row, issue.created_at);
        last_int(row, issue.created_at);
        Ok(LotId::new(id))
    }

    /// An Active item granted with an API v1 entry of this load, owned by
    /// the entry's user, as the ledger's `post_v1` leaves it (its id is
    /// `v1_<entry>`, as the schema's step 3 names the items it converts).
    pub fn item(&mut self, entry: EntryId, name: &str, data: Option<&str>) -> Result<(), StoreError> {
        let row = &mut self.items;
        int(row, entry.get());
        text(row, Some(name));
        text(row, data);
        // `text` ends every field with a tab; this one ends the row.
        row.pop();
        row.push(b'\n');
        Ok(())
    }

    /// The wallet's final balance, and `authority`'s running total in it
    /// (the loader's entries are all by one authority).
    pub fn set_balance(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
        balance: i64,
    ) -> Result<(), StoreError> {
        self.balance_wallets.push(wallet.get());
        self.balances.push(balance);
        self.total_authorities.push(authority.get());
        Ok(())
    }

    /// Marks the asset used, as opening a wallet through the ledger does.
    pub fn mark_asset_used(&mut self, asset: AssetId) -> Result<(), StoreError> {
        self.used_assets.push(asset.get());
        Ok(())
    }
}

/// A field of `COPY`'s text format followed by a tab: `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped.
fn text(row: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => row.extend_from_slice(b"\\N"),
        Some(value) => {
            for byte in value.bytes() {
                match byte {
                    b'\\' => row.extend_from_slice(b"\\\\"),
                    b'\t' => row.extend_from_slice(b"\\t"),
                    b'\n' => row.extend_from_slice(b"\\n"),
                    b'\r' => row.extend_from_slice(b"\\r"),
                    other => row.push(other),
                }
            }
        }
    }
    row.push(b'\t');
}

fn int(row: &mut Vec<u8>, value: i64) {
    // Writing into a Vec cannot fail.
    let _ = write!(row, "{value}\t");
}

/// The row's last field, and its end.
fn last_int(row: &mut Vec<u8>, value: i64) {
    let _ = writeln!(row, "{value}");
}

/// How many wallets hold an asset, and the sum of their balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetTotals {
    pub wallets: i64,
    /// In i128: each balance is bounded, their sum is not.
    pub balance_sum: i128,
}

impl PostgresBackend {
    /// The wallets of `asset` and the sum of their balances, on one read
    /// snapshot: a benchmark checks money conservation by comparing this
    /// before and after a run.
    pub async fn asset_totals(&self, asset: AssetId) -> Result<AssetTotals, StoreError> {
        self.readers()?
            .run(move |conn| -> DbResult<AssetTotals> {
                let row = conn.query_one(
                    "SELECT count(*), coalesce(sum(balance), 0)::text FROM wallets WHERE asset_id = $1",
                    &[&asset.get()],
                )?;
                Ok(AssetTotals {
                    wallets: col(&row, 0)?,
                    balance_sum: rows::total(&row, 1)?,
                })
            })
            .await?
            .map_err(StoreError::from)
    }

    /// Bytes the ledger's tables take on disk, their indexes and TOAST
    /// included (what a SQLite file's pages are): the schema the ledger
    /// lives in, not the catalog every database has.
    pub async fn database_bytes(&self) -> Result<i64, StoreError> {
        self.readers()?
            .run(|conn| -> DbResult<i64> {
                let row = conn.query_one(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c
                     WHERE c.relkind IN ('r', 'm')
                       AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
                    &[],
                )?;
                col(&row, 0)
            })
            .await?
            .map_err(StoreError::from)
    }
}
