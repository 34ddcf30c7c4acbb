//! Import: one project into a database, in one write transaction that
//! commits only if every invariant of `check` holds on the result.
//!
//! Row ids are kept as they are: they are the ids clients hold (wallets,
//! transactions, entries, assets), so a moved project answers to the same
//! ids. A database where one of them is taken cannot take the project.
//!
//! Each record is first asked of [`ImportCheck`] (the validation every
//! backend shares: ids parse, statuses are known, references reach only
//! earlier rows of the project, amounts fit their kind, balances their
//! credit limits, holds add up and wallets hold what their Open holds
//! reserve, lots add up and replay their history); only then is it written. What needs the whole result is
//! `check` before the commit.

use super::MaintenanceError;
use crate::connection::{self, Durability};
use crate::{check, migrations, statements};
use rusqlite::{params, Connection};
use std::path::Path;
use wallet_core::dump::{
    DumpCounts, DumpRecord, ImportCheck, InvalidRecord, ItemRecord, ProjectDump, V1ItemDump,
};

impl From<InvalidRecord> for MaintenanceError {
    fn from(e: InvalidRecord) -> Self {
        MaintenanceError::Invalid(e.0)
    }
}

/// One project going into a database, in one write transaction. Dropped
/// without `finish`, it rolls back.
pub struct Import {
    conn: Connection,
    project: String,
    validator: ImportCheck,
    counts: DumpCounts,
    committed: bool,
}

impl Import {
    /// Opens (creating if needed) the database and starts the transaction
    /// with the project's own row. The project must not exist there yet, or
    /// exist untouched (a fresh database's `default`: no credential,
    /// customer, wallet or transaction), in which case it is replaced.
    pub fn begin(db: &Path, project: &ProjectDump) -> Result<Self, MaintenanceError> {
        let validator = ImportCheck::begin(project)?;
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
            validator,
            counts: DumpCounts::default(),
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
                 OR EXISTS (SELECT 1 FROM transactions WHERE project_id = ?1)
                 OR EXISTS (SELECT 1 FROM events WHERE project_id = ?1)
                 OR EXISTS (SELECT 1 FROM webhooks WHERE project_id = ?1)",
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
        self.conn
            .execute("DELETE FROM event_heads WHERE project_id = ?1", [p])?;
        self.conn.execute("DELETE FROM projects WHERE id = ?1", [p])?;
        Ok(())
    }

    /// Inserts one row after [`ImportCheck`] found it valid and referring
    /// only to rows imported before it, in this project. An error ends the
    /// import: drop it (it rolls back).
    pub fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        self.validator.check(record)?;
        let (c, p) = (&self.conn, self.project.as_str());
        match record {
            // Refused by the check above already; never a panic on a file's content.
            DumpRecord::Project(_) => {
                return Err(MaintenanceError::Invalid("a second project row".to_owned()));
            }
            DumpRecord::Asset(a) => {
                c.execute(
                    "INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![a.id, p, a.code, a.name, a.fractions, a.used, a.created_at],
                )?;
            }
            DumpRecord::Authority(a) => {
                c.execute(
                    "INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest,
                                              system, created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        a.rowid,
                        a.id,
                        p,
                        a.name,
                        a.public_key_pem,
                        a.token_digest_bytes()?,
                        a.system,
                        a.created_at,
                        a.revoked_at
                    ],
                )?;
            }
            DumpRecord::Customer(u) => {
                c.execute(
                    "INSERT INTO customers (id, project_id, external_id, name, description, status, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![u.rowid, p, u.id, u.name, u.description, u.status, u.created_at],
                )?;
            }
            DumpRecord::CustomerKey(k) => {
                c.execute(
                    "INSERT INTO customer_keys (id, public_id, customer_id, token_digest, created_at,
                                                expires_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        k.rowid,
                        k.id,
                        k.customer,
                        k.token_digest_bytes()?,
                        k.created_at,
                        k.expires_at,
                        k.revoked_at
                    ],
                )?;
            }
            DumpRecord::Wallet(w) => {
                c.execute(
                    "INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, name, description,
                                          status, balance, held, credit_limit, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
                        w.held,
                        w.credit_limit,
                        w.created_at
                    ],
                )?;
            }
            DumpRecord::Transaction(t) => {
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
            }
            DumpRecord::Entry(e) => {
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
            }
            DumpRecord::Item(ItemRecord::Item(i)) => {
                c.execute(
                    "INSERT INTO items (id, project_id, public_id, item_type, properties, customer_id, status,
                                        v1_entry_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        i.rowid,
                        p,
                        i.id,
                        i.item_type,
                        i.properties,
                        i.customer,
                        i.status,
                        i.v1_entry,
                        i.created_at,
                        i.updated_at
                    ],
                )?;
            }
            DumpRecord::Item(ItemRecord::V1(i)) => self.insert_v1_item(i)?,
            DumpRecord::ItemStep(s) => {
                c.execute(
                    "INSERT INTO item_steps (id, item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                             properties, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        s.rowid,
                        s.item,
                        s.transaction,
                        s.kind,
                        s.from,
                        s.to,
                        s.properties,
                        s.created_at
                    ],
                )?;
            }
            DumpRecord::Hold(h) => {
                c.execute(
                    "INSERT INTO holds (id, project_id, public_id, source_id, destination_id, asset_id, amount,
                                        captured, remaining, status, expires_at, transaction_id, created_at,
                                        updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                    params![
                        h.rowid,
                        p,
                        h.id,
                        h.source,
                        h.destination,
                        h.asset,
                        h.amount,
                        h.captured,
                        h.remaining,
                        h.status,
                        h.expires_at,
                        h.transaction,
                        h.created_at,
                        h.updated_at
                    ],
                )?;
            }
            DumpRecord::Lot(l) => {
                c.execute(
                    "INSERT INTO lots (id, wallet_id, amount, remaining, earmarked, expires_at, status,
                                       transaction_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        l.id,
                        l.wallet,
                        l.amount,
                        l.remaining,
                        l.earmarked,
                        l.expires_at,
                        l.status,
                        l.transaction,
                        l.created_at,
                        l.updated_at
                    ],
                )?;
            }
            DumpRecord::LotStep(s) => {
                c.execute(
                    "INSERT INTO lot_steps (id, lot_id, transaction_id, kind, amount, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![s.rowid, s.lot, s.transaction, s.kind, s.amount, s.created_at],
                )?;
            }
            DumpRecord::Earmark(e) => {
                c.execute(
                    "INSERT INTO hold_lots (hold_id, lot_id, amount) VALUES (?1, ?2, ?3)",
                    params![e.hold, e.lot, e.amount],
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
        self.validator.finish()?;
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
    /// An item of an API v1 entry as exports made before items had their
    /// own table wrote it, converted as schema step 6 converts the rows:
    /// id `v1_<entry>`, owned by the entry's user, dated at the entry, with
    /// a GrantItem step in the entry's transaction and, if it was used, a
    /// ConsumeItem with no transaction. It takes the next free rowid.
    fn insert_v1_item(&self, i: &V1ItemDump) -> Result<(), MaintenanceError> {
        let c = &self.conn;
        let status = if i.used { "Consumed" } else { "Active" };
        let inserted = c.execute(
            "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                                created_at, updated_at)
             SELECT ?1, ?2, ?3, ?4, w.customer_id, ?5, e.id, e.created_at, e.created_at
             FROM entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE e.id = ?6 AND w.project_id = ?1",
            params![self.project, i.item_id(), i.name, i.data, status, i.entry],
        )?;
        if inserted != 1 {
            return Err(MaintenanceError::Invalid(format!(
                "the item of entry {}: no such entry in the project",
                i.entry
            )));
        }
        let item = c.last_insert_rowid();
        c.execute(
            "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id, properties,
                                     created_at)
             SELECT i.id, e.transaction_id, 'GrantItem', NULL, i.customer_id, i.properties, i.created_at
             FROM items i JOIN entries e ON e.id = i.v1_entry_id
             WHERE i.id = ?1",
            [item],
        )?;
        if i.used {
            c.execute(
                "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                         properties, created_at)
                 SELECT id, NULL, 'ConsumeItem', customer_id, customer_id, properties, created_at
                 FROM items WHERE id = ?1",
                [item],
            )?;
        }
        Ok(())
    }

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
