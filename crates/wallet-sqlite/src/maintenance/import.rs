//! Import: one project into a database, in one write transaction that
//! commits only if every invariant of `check` holds on the result.
//!
//! Row ids are kept as they are: they are the ids clients hold (wallets,
//! transactions, entries, assets), so a moved project answers to the same
//! ids. A database where one of them is taken cannot take the project.

use super::MaintenanceError;
use crate::connection::{self, Durability};
use crate::{check, migrations, statements};
use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::path::Path;
use wallet_core::dump::{unhex, DumpCounts, DumpRecord, ProjectDump};
use wallet_core::text::{AssetCode, CustomerId, ProjectId, PublicId, ReferenceId};

/// The rows imported so far, so every reference can be checked to stay
/// inside the imported project.
#[derive(Default)]
struct Seen {
    assets: HashSet<i64>,
    authorities: HashSet<i64>,
    customers: HashSet<i64>,
    wallets: HashSet<i64>,
    transactions: HashSet<i64>,
    entries: HashSet<i64>,
}

fn refer(set: &HashSet<i64>, id: i64, what: &str) -> Result<(), MaintenanceError> {
    if set.contains(&id) {
        Ok(())
    } else {
        Err(MaintenanceError::Invalid(format!(
            "refers to {what} {id}, which is not an earlier row of this project"
        )))
    }
}

fn valid<T, E: std::fmt::Display>(parsed: Result<T, E>) -> Result<(), MaintenanceError> {
    parsed
        .map(drop)
        .map_err(|e| MaintenanceError::Invalid(e.to_string()))
}

/// One project going into a database, in one write transaction. Dropped
/// without `finish`, it rolls back.
pub struct Import {
    conn: Connection,
    project: String,
    seen: Seen,
    counts: DumpCounts,
    default_asset: i64,
    committed: bool,
}

impl Import {
    /// Opens (creating if needed) the database and starts the transaction
    /// with the project's own row. The project must not exist there yet, or
    /// exist untouched (a fresh database's `default`: no credential,
    /// customer, wallet or transaction), in which case it is replaced.
    pub fn begin(db: &Path, project: &ProjectDump) -> Result<Self, MaintenanceError> {
        valid(ProjectId::parse(&project.id))?;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = connection::open_writer(db, Durability::Full)?;
        migrations::migrate(&mut conn)?;
        connection::restrict_permissions(db)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let import = Self {
            conn,
            project: project.id.clone(),
            seen: Seen::default(),
            counts: DumpCounts::default(),
            default_asset: project.default_asset,
            committed: false,
        };
        import.make_room()?;
        import.conn.execute(
            "INSERT INTO projects (id, name, default_asset, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                project.id,
                project.name,
                project.default_asset,
                project.created_at
            ],
        )?;
        Ok(import)
    }

    fn make_room(&self) -> Result<(), MaintenanceError> {
        let p = self.project.as_str();
        let exists: bool =
            self.conn
                .query_row("SELECT count(*) > 0 FROM projects WHERE id = ?1", [p], |r| {
                    r.get(0)
                })?;
        if !exists {
            return Ok(());
        }
        let used: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM authorities WHERE project_id = ?1)
                 OR EXISTS (SELECT 1 FROM customers WHERE project_id = ?1)
                 OR EXISTS (SELECT 1 FROM wallets WHERE project_id = ?1)
                 OR EXISTS (SELECT 1 FROM transactions WHERE project_id = ?1)",
            [p],
            |r| r.get(0),
        )?;
        if used {
            return Err(MaintenanceError::Refused(format!(
                "project {p} already exists in this database and holds data; import it into a database without it"
            )));
        }
        self.conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        self.conn
            .execute("DELETE FROM assets WHERE project_id = ?1", [p])?;
        self.conn.execute("DELETE FROM projects WHERE id = ?1", [p])?;
        Ok(())
    }

    /// Inserts one row after checking that what it refers to was imported
    /// before it, in this project.
    pub fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        let (c, p, seen) = (&self.conn, self.project.as_str(), &mut self.seen);
        match record {
            DumpRecord::Project(_) => {
                return Err(MaintenanceError::Invalid("a second project row".to_owned()));
            }
            DumpRecord::Asset(a) => {
                valid(AssetCode::parse(&a.code))?;
                c.execute(
                    "INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![a.id, p, a.code, a.name, a.fractions, a.used, a.created_at],
                )?;
                seen.assets.insert(a.id);
            }
            DumpRecord::Authority(a) => {
                valid(PublicId::parse(&a.id))?;
                let digest = a
                    .token_digest
                    .as_deref()
                    .map(|d| {
                        unhex(d).ok_or_else(|| MaintenanceError::Invalid("tokenDigest is not hex".into()))
                    })
                    .transpose()?;
                c.execute(
                    "INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest,
                                              created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        a.rowid,
                        a.id,
                        p,
                        a.name,
                        a.public_key_pem,
                        digest,
                        a.created_at,
                        a.revoked_at
                    ],
                )?;
                seen.authorities.insert(a.rowid);
            }
            DumpRecord::Customer(u) => {
                valid(CustomerId::parse(&u.id))?;
                c.execute(
                    "INSERT INTO customers (id, project_id, external_id, name, description, status, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![u.rowid, p, u.id, u.name, u.description, u.status, u.created_at],
                )?;
                seen.customers.insert(u.rowid);
            }
            DumpRecord::CustomerKey(k) => {
                valid(PublicId::parse(&k.id))?;
                refer(&seen.customers, k.customer, "customer")?;
                let digest = unhex(&k.token_digest)
                    .ok_or_else(|| MaintenanceError::Invalid("tokenDigest is not hex".into()))?;
                c.execute(
                    "INSERT INTO customer_keys (id, public_id, customer_id, token_digest, created_at,
                                                expires_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        k.rowid,
                        k.id,
                        k.customer,
                        digest,
                        k.created_at,
                        k.expires_at,
                        k.revoked_at
                    ],
                )?;
            }
            DumpRecord::Wallet(w) => {
                refer(&seen.assets, w.asset, "asset")?;
                if let Some(customer) = w.customer {
                    refer(&seen.customers, customer, "customer")?;
                }
                c.execute(
                    "INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, name, description,
                                          status, balance, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        w.id,
                        p,
                        w.asset,
                        w.customer,
                        w.is_default,
                        w.name,
                        w.description,
                        w.status,
                        w.balance,
                        w.created_at
                    ],
                )?;
                seen.wallets.insert(w.id);
            }
            DumpRecord::Transaction(t) => {
                if let Some(reference) = &t.reference_id {
                    valid(ReferenceId::parse(reference))?;
                }
                refer(&seen.authorities, t.authority, "authority")?;
                c.execute(
                    "INSERT INTO transactions (id, project_id, reference_id, authority_id, status, error,
                                               description, operations, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        t.id,
                        p,
                        t.reference_id,
                        t.authority,
                        t.status,
                        t.error,
                        t.description,
                        t.operations,
                        t.created_at
                    ],
                )?;
                seen.transactions.insert(t.id);
            }
            DumpRecord::Entry(e) => {
                refer(&seen.wallets, e.wallet, "wallet")?;
                refer(&seen.transactions, e.transaction, "transaction")?;
                refer(&seen.authorities, e.authority, "authority")?;
                let sign_ok = match e.kind.as_str() {
                    // 0 is an API v1 entry that only carries an item.
                    "Issue" => e.amount >= 0,
                    "Redeem" => e.amount < 0,
                    _ => e.amount != 0,
                };
                if !sign_ok {
                    return Err(MaintenanceError::Invalid(format!(
                        "entry {}: a {} of {} cannot be",
                        e.id, e.kind, e.amount
                    )));
                }
                c.execute(
                    "INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount,
                                          balance_after, reason, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        e.id,
                        e.wallet,
                        e.transaction,
                        e.authority,
                        e.kind,
                        e.amount,
                        e.balance_after,
                        e.reason,
                        e.created_at
                    ],
                )?;
                seen.entries.insert(e.id);
            }
            DumpRecord::Item(i) => {
                refer(&seen.entries, i.entry, "entry")?;
                c.execute(
                    "INSERT INTO items (entry_id, name, data, used) VALUES (?1, ?2, ?3, ?4)",
                    params![i.entry, i.name, i.data, i.used],
                )?;
            }
        }
        self.counts.add(record);
        Ok(())
    }

    /// Marks the default wallets an old export lacks, rebuilds the derived
    /// running totals, runs every check of `check` on the result, and
    /// commits only if all hold.
    pub fn finish(mut self) -> Result<DumpCounts, MaintenanceError> {
        refer(&self.seen.assets, self.default_asset, "default asset")?;
        // An export of a database from before schema step 2 may have a
        // customer whose wallets of an asset have no default: the rule of
        // that step (the oldest one is the default) applies here too.
        self.conn.execute(
            "UPDATE wallets SET is_default = 1
             WHERE project_id = ?1 AND customer_id IS NOT NULL
               AND id = (SELECT min(o.id) FROM wallets o
                         WHERE o.customer_id = wallets.customer_id AND o.asset_id = wallets.asset_id)
               AND NOT EXISTS (SELECT 1 FROM wallets d
                               WHERE d.customer_id = wallets.customer_id AND d.asset_id = wallets.asset_id
                                 AND d.is_default = 1)",
            [self.project.as_str()],
        )?;
        self.rebuild_authority_totals()?;
        let report = check::run(&self.conn)?;
        if !report.is_ok() {
            return Err(MaintenanceError::Violations(Box::new(report)));
        }
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        Ok(self.counts)
    }
}

impl Import {
    /// The derived running totals of the project, from its entries. Summed
    /// exactly in two parts (see `check`): a total may pass i64.
    fn rebuild_authority_totals(&self) -> Result<(), MaintenanceError> {
        let mut sums = self.conn.prepare(
            "SELECT e.wallet_id, e.authority_id, sum(e.amount >> 32), sum(e.amount & 4294967295)
             FROM entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE w.project_id = ?1
             GROUP BY e.wallet_id, e.authority_id",
        )?;
        let mut insert = self.conn.prepare(
            "INSERT INTO authority_totals (wallet_id, authority_id, total, total_high) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut rows = sums.query([self.project.as_str()])?;
        while let Some(row) = rows.next()? {
            let (wallet, authority): (i64, i64) = (row.get(0)?, row.get(1)?);
            let sum = statements::rows::exact_sum(row.get(2)?, row.get(3)?);
            let (low, high) = statements::rows::split_total(sum).ok_or_else(|| {
                MaintenanceError::Invalid(format!("wallet {wallet}: a running total out of range"))
            })?;
            insert.execute(params![wallet, authority, low, high])?;
        }
        Ok(())
    }
}

impl Drop for Import {
    fn drop(&mut self) {
        if !self.committed && !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                log::error!("rolling back an import failed: {e}");
            }
        }
    }
}
