//! Import: one project into a database, in one transaction that commits
//! only if every invariant of `check` holds on the result. Mirrors
//! `wallet_sqlite::Import`: each record is first asked of
//! [`ImportCheck`] (the validation both backends share, so both refuse the
//! same files with the same words), then written.
//!
//! Row ids are kept as they are: they are the ids clients hold (wallets,
//! transactions, entries, assets), so a moved project answers to the same
//! ids. A database where one of them is taken cannot take the project.
//! Before the commit every identity sequence is moved past the largest id,
//! so the rows the servers write next get new ids. While it runs, the
//! import holds the ledger's tables against writes (`SHARE ROW EXCLUSIVE`):
//! a server's write waits (or is refused after its lock timeout) rather than
//! take an id the import is about to use. Reads go on.
//!
//! The sync client cannot run on an async thread (the CLI runs commands in
//! one), so the session lives on a thread of its own and [`Import`] sends
//! it each record.

use crate::backend::OpenError;
use crate::check;
use crate::conn::{PgConn, Role, Target};
use crate::error::DbError;
use crate::migrations;
use crate::statements::rows::col;
use std::sync::mpsc;
use std::thread::JoinHandle;
use wallet_core::check::CheckReport;
use wallet_core::dump::{
    DumpCounts, DumpRecord, ImportCheck, InvalidRecord, ItemRecord, ProjectDump, V1ItemDump,
};
use wallet_core::StoreError;

/// Why an import refused or failed. Nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// The import would be unsafe (the project exists already and holds
    /// data); nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// The input (an export line) is not what it must be.
    #[error("{0}")]
    Invalid(String),
    /// The result would break a ledger invariant; nothing was changed.
    #[error("the ledger invariants would not hold; nothing was changed")]
    Violations(Box<CheckReport>),
}

impl From<DbError> for MaintenanceError {
    fn from(e: DbError) -> Self {
        MaintenanceError::Storage(e.0)
    }
}

impl From<InvalidRecord> for MaintenanceError {
    fn from(e: InvalidRecord) -> Self {
        MaintenanceError::Invalid(e.0)
    }
}

impl From<postgres::Error> for MaintenanceError {
    fn from(e: postgres::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<OpenError> for MaintenanceError {
    fn from(e: OpenError) -> Self {
        MaintenanceError::Storage(e.into())
    }
}

/// One project going into a database, in one transaction. Dropped without
/// [`Import::finish`], it rolls back.
pub struct Import {
    requests: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

enum Request {
    Insert(Box<DumpRecord>, mpsc::Sender<Result<(), MaintenanceError>>),
    Finish(mpsc::Sender<Result<DumpCounts, MaintenanceError>>),
}

fn gone() -> MaintenanceError {
    MaintenanceError::Storage(StoreError::Internal("the import's session has ended".to_owned()))
}

impl Import {
    /// Connects (creating the schema if the database has none), starts the
    /// transaction and writes the project's own row. The project must not
    /// exist there yet, or exist untouched (a fresh database's `default`:
    /// no credential, customer, wallet or transaction), in which case it is
    /// replaced.
    pub fn begin(url: &str, project: &ProjectDump) -> Result<Self, MaintenanceError> {
        let validator = ImportCheck::begin(project)?;
        let target = Target::parse(url)?;
        let project = project.clone();
        let (started, start) = mpsc::channel();
        let (requests, incoming) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("wallet-import".to_owned())
            .spawn(move || {
                let session = match Session::begin(&target, &project, validator) {
                    Ok(session) => {
                        let _ = started.send(Ok(()));
                        session
                    }
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                session.serve(&incoming);
            })
            .map_err(DbError::from)?;
        let import = Self {
            requests: Some(requests),
            thread: Some(thread),
        };
        start.recv().map_err(|_| gone())??;
        Ok(import)
    }

    /// Inserts one row after checking that what it refers to was imported
    /// before it, in this project.
    pub fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        let (reply, answer) = mpsc::channel();
        self.send(Request::Insert(Box::new(record.clone()), reply))?;
        answer.recv().map_err(|_| gone())?
    }

    /// Marks the default wallets an old export lacks, rebuilds the derived
    /// running totals, moves the id sequences past the imported ids, runs
    /// every check of `check`, and commits only if all hold.
    pub fn finish(self) -> Result<DumpCounts, MaintenanceError> {
        let (reply, answer) = mpsc::channel();
        self.send(Request::Finish(reply))?;
        answer.recv().map_err(|_| gone())?
    }

    fn send(&self, request: Request) -> Result<(), MaintenanceError> {
        self.requests
            .as_ref()
            .ok_or_else(gone)?
            .send(request)
            .map_err(|_| gone())
    }
}

impl Drop for Import {
    /// Ends the session thread: an unfinished import rolls back there.
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the import thread panicked; nothing was imported");
            }
        }
    }
}

/// The ledger's tables an import writes (and holds against writes).
const TABLES: &str = "assets, authorities, customers, customer_keys, wallets, transactions, entries, \
                      items, item_steps, authority_totals, holds, lots, lot_steps, hold_lots";

/// The tables whose ids are identities, moved past the imported ids.
pub(crate) const IDENTITIES: &[&str] = &[
    "SELECT setval(pg_get_serial_sequence('assets', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM assets) + 1, nextval(pg_get_serial_sequence('assets', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('authorities', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM authorities) + 1, nextval(pg_get_serial_sequence('authorities', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM customers) + 1, nextval(pg_get_serial_sequence('customers', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('customer_keys', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM customer_keys) + 1, nextval(pg_get_serial_sequence('customer_keys', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('wallets', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM wallets) + 1, nextval(pg_get_serial_sequence('wallets', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('transactions', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM transactions) + 1, nextval(pg_get_serial_sequence('transactions', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('entries', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM entries) + 1, nextval(pg_get_serial_sequence('entries', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('items', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM items) + 1, nextval(pg_get_serial_sequence('items', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('item_steps', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM item_steps) + 1, nextval(pg_get_serial_sequence('item_steps', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('holds', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM holds) + 1, nextval(pg_get_serial_sequence('holds', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('lots', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM lots) + 1, nextval(pg_get_serial_sequence('lots', 'id'))), false)",
    "SELECT setval(pg_get_serial_sequence('lot_steps', 'id'),
                   greatest((SELECT coalesce(max(id), 0) FROM lot_steps) + 1, nextval(pg_get_serial_sequence('lot_steps', 'id'))), false)",
];

/// The import's transaction, on its own thread.
struct Session {
    conn: PgConn,
    project: String,
    validator: ImportCheck,
    counts: DumpCounts,
    default_asset: i64,
    committed: bool,
}

impl Session {
    fn begin(
        target: &Target,
        project: &ProjectDump,
        validator: ImportCheck,
    ) -> Result<Self, MaintenanceError> {
        let mut conn = target.connect(Role::Maintenance)?;
        // Into an empty database, the schema is made in the import's own
        // transaction: a refused import leaves no schema behind.
        let empty = !migrations::has_schema(&mut conn)?;
        if !empty {
            migrations::migrate(&mut conn, true, target)?;
        }
        conn.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        if empty {
            migrations::create_in_transaction(&mut conn)?;
        }
        let mut session = Self {
            conn,
            project: project.id.clone(),
            validator,
            counts: DumpCounts::default(),
            default_asset: project.default_asset,
            committed: false,
        };
        session.conn.batch(&format!(
            "LOCK TABLE projects, {TABLES} IN SHARE ROW EXCLUSIVE MODE"
        ))?;
        session.make_room()?;
        session.conn.execute(
            "INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)",
            &[&project.id, &project.name, &project.created_at],
        )?;
        Ok(session)
    }

    fn serve(mut self, incoming: &mpsc::Receiver<Request>) {
        while let Ok(request) = incoming.recv() {
            match request {
                Request::Insert(record, reply) => {
                    let _ = reply.send(self.insert(&record));
                }
                Request::Finish(reply) => {
                    let _ = reply.send(self.finish());
                    return;
                }
            }
        }
    }

    fn make_room(&mut self) -> Result<(), MaintenanceError> {
        let p = self.project.as_str();
        let exists = self
            .conn
            .query_opt("SELECT 1 FROM projects WHERE id = $1", &[&p])?
            .is_some();
        if !exists {
            return Ok(());
        }
        let used: bool = col(
            &self.conn.query_one(
                "SELECT EXISTS (SELECT 1 FROM authorities WHERE project_id = $1)
                     OR EXISTS (SELECT 1 FROM customers WHERE project_id = $1)
                     OR EXISTS (SELECT 1 FROM wallets WHERE project_id = $1)
                     OR EXISTS (SELECT 1 FROM transactions WHERE project_id = $1)
                     OR EXISTS (SELECT 1 FROM events WHERE project_id = $1)
                     OR EXISTS (SELECT 1 FROM webhooks WHERE project_id = $1)",
                &[&p],
            )?,
            0,
        )?;
        if used {
            return Err(MaintenanceError::Refused(format!(
                "project {p} already exists in this database and holds data; import it into a database without it"
            )));
        }
        self.conn
            .execute("UPDATE projects SET default_asset = NULL WHERE id = $1", &[&p])?;
        self.conn
            .execute("DELETE FROM assets WHERE project_id = $1", &[&p])?;
        // Its head (made with the project; it has no event).
        self.conn
            .execute("DELETE FROM event_heads WHERE project_id = $1", &[&p])?;
        self.conn.execute("DELETE FROM projects WHERE id = $1", &[&p])?;
        Ok(())
    }

    fn insert(&mut self, record: &DumpRecord) -> Result<(), MaintenanceError> {
        self.validator.check(record)?;
        let (c, p) = (&mut self.conn, self.project.as_str());
        match record {
            // Refused by the check above already; never a panic on a file's content.
            DumpRecord::Project(_) => {
                return Err(MaintenanceError::Invalid("a second project row".to_owned()));
            }
            DumpRecord::Asset(a) => {
                c.execute(
                    "INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&a.id, &p, &a.code, &a.name, &a.fractions, &a.used, &a.created_at],
                )?;
            }
            DumpRecord::Authority(a) => {
                let token = a.token_digest_bytes()?;
                c.execute(
                    "INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest,
                                              system, created_at, revoked_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &a.rowid,
                        &a.id,
                        &p,
                        &a.name,
                        &a.public_key_pem,
                        &token,
                        &a.system,
                        &a.created_at,
                        &a.revoked_at,
                    ],
                )?;
            }
            DumpRecord::Customer(u) => {
                c.execute(
                    "INSERT INTO customers (id, project_id, external_id, name, description, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[&u.rowid, &p, &u.id, &u.name, &u.description, &u.status, &u.created_at],
                )?;
            }
            DumpRecord::CustomerKey(k) => {
                let token = k.token_digest_bytes()?;
                c.execute(
                    "INSERT INTO customer_keys (id, public_id, customer_id, token_digest, created_at,
                                                expires_at, revoked_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[
                        &k.rowid,
                        &k.id,
                        &k.customer,
                        &token,
                        &k.created_at,
                        &k.expires_at,
                        &k.revoked_at,
                    ],
                )?;
            }
            DumpRecord::Wallet(w) => {
                c.execute(
                    "INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, name, description,
                                          status, balance, held, credit_limit, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        &w.id,
                        &p,
                        &w.asset,
                        &w.customer,
                        &w.is_default,
                        &w.name,
                        &w.description,
                        &w.status,
                        &w.balance,
                        &w.held,
                        &w.credit_limit,
                        &w.created_at,
                    ],
                )?;
            }
            DumpRecord::Transaction(t) => {
                c.execute(
                    "INSERT INTO transactions (id, project_id, reference_id, authority_id, status, error,
                                               description, operations, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &t.id,
                        &p,
                        &t.reference_id,
                        &t.authority,
                        &t.status,
                        &t.error,
                        &t.description,
                        &t.operations,
                        &t.created_at,
                    ],
                )?;
            }
            DumpRecord::Entry(e) => {
                c.execute(
                    "INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount,
                                          balance_after, reason, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &e.id,
                        &e.wallet,
                        &e.transaction,
                        &e.authority,
                        &e.kind,
                        &e.amount,
                        &e.balance_after,
                        &e.reason,
                        &e.created_at,
                    ],
                )?;
            }
            DumpRecord::Item(ItemRecord::Item(i)) => {
                c.execute(
                    "INSERT INTO items (id, project_id, public_id, item_type, properties, customer_id, status,
                                        v1_entry_id, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        &i.rowid,
                        &p,
                        &i.id,
                        &i.item_type,
                        &i.properties,
                        &i.customer,
                        &i.status,
                        &i.v1_entry,
                        &i.created_at,
                        &i.updated_at,
                    ],
                )?;
            }
            DumpRecord::Item(ItemRecord::V1(i)) => v1_item(c, p, i)?,
            DumpRecord::ItemStep(step) => {
                c.execute(
                    "INSERT INTO item_steps (id, item_id, transaction_id, kind, from_customer, to_customer,
                                             properties, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &step.rowid,
                        &step.item,
                        &step.transaction,
                        &step.kind,
                        &step.from,
                        &step.to,
                        &step.properties,
                        &step.created_at,
                    ],
                )?;
            }
            DumpRecord::Hold(h) => {
                c.execute(
                    "INSERT INTO holds (id, project_id, public_id, source_id, destination_id, asset_id, amount,
                                        captured, remaining, status, expires_at, transaction_id, created_at,
                                        updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    &[
                        &h.rowid,
                        &p,
                        &h.id,
                        &h.source,
                        &h.destination,
                        &h.asset,
                        &h.amount,
                        &h.captured,
                        &h.remaining,
                        &h.status,
                        &h.expires_at,
                        &h.transaction,
                        &h.created_at,
                        &h.updated_at,
                    ],
                )?;
            }
            DumpRecord::Lot(l) => {
                c.execute(
                    "INSERT INTO lots (id, wallet_id, amount, remaining, earmarked, expires_at, status,
                                       transaction_id, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[
                        &l.id,
                        &l.wallet,
                        &l.amount,
                        &l.remaining,
                        &l.earmarked,
                        &l.expires_at,
                        &l.status,
                        &l.transaction,
                        &l.created_at,
                        &l.updated_at,
                    ],
                )?;
            }
            DumpRecord::LotStep(step) => {
                c.execute(
                    "INSERT INTO lot_steps (id, lot_id, transaction_id, kind, amount, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        &step.rowid,
                        &step.lot,
                        &step.transaction,
                        &step.kind,
                        &step.amount,
                        &step.created_at,
                    ],
                )?;
            }
            DumpRecord::Earmark(m) => {
                c.execute(
                    "INSERT INTO hold_lots (hold_id, lot_id, amount) VALUES ($1, $2, $3)",
                    &[&m.hold, &m.lot, &m.amount],
                )?;
            }
        }
        self.counts.add(record);
        Ok(())
    }

    fn finish(&mut self) -> Result<DumpCounts, MaintenanceError> {
        self.validator.finish()?;
        let p = self.project.as_str();
        self.conn.execute(
            "UPDATE projects SET default_asset = $2 WHERE id = $1",
            &[&p, &self.default_asset],
        )?;
        // An export of a database from before SQLite's schema step 2 may
        // have a customer whose wallets of an asset have no default: the
        // rule of that step (the oldest one is the default) applies here too.
        self.conn.execute(
            "UPDATE wallets SET is_default = true
             WHERE project_id = $1 AND customer_id IS NOT NULL
               AND id = (SELECT min(o.id) FROM wallets o
                         WHERE o.customer_id = wallets.customer_id AND o.asset_id = wallets.asset_id)
               AND NOT EXISTS (SELECT 1 FROM wallets d
                               WHERE d.customer_id = wallets.customer_id AND d.asset_id = wallets.asset_id
                                 AND d.is_default)",
            &[&p],
        )?;
        // The derived running totals, from the entries: exact in NUMERIC.
        self.conn.execute(
            "INSERT INTO authority_totals (wallet_id, authority_id, total)
             SELECT e.wallet_id, e.authority_id, sum(e.amount)
             FROM entries e JOIN wallets w ON w.id = e.wallet_id
             WHERE w.project_id = $1
             GROUP BY e.wallet_id, e.authority_id",
            &[&p],
        )?;
        let report = check::run(&mut self.conn)?;
        if !report.is_ok() {
            return Err(MaintenanceError::Violations(Box::new(report)));
        }
        for statement in IDENTITIES {
            self.conn.query_one(statement, &[])?;
        }
        self.conn.batch("COMMIT")?;
        self.committed = true;
        Ok(self.counts)
    }
}

/// An item of an API v1 entry as exports made before items were kept
/// (`{entry, name, data, used}`), converted as the schema's step 3 converts
/// the rows of that time: id `v1_<entry>`, owned by the entry's user, dated
/// at the entry, a GrantItem in the entry's transaction and, if it was
/// used, a ConsumeItem with no transaction. Its row id is a new one (the
/// old records had none).
fn v1_item(c: &mut PgConn, project: &str, i: &V1ItemDump) -> Result<(), MaintenanceError> {
    let status = if i.used { "Consumed" } else { "Active" };
    let row = c.query_one(
        "INSERT INTO items (project_id, public_id, item_type, properties, customer_id, status, v1_entry_id,
                            created_at, updated_at)
         SELECT $1, $2, $3, $4, w.customer_id, $5, e.id, e.created_at, e.created_at
         FROM entries e JOIN wallets w ON w.id = e.wallet_id
         WHERE e.id = $6 AND w.project_id = $1
         RETURNING id",
        &[&project, &i.item_id(), &i.name, &i.data, &status, &i.entry],
    )?;
    let item: i64 = col(&row, 0)?;
    c.execute(
        "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, properties,
                                 created_at)
         SELECT i.id, e.transaction_id, 'GrantItem', NULL, i.customer_id, i.properties, i.created_at
         FROM items i JOIN entries e ON e.id = i.v1_entry_id WHERE i.id = $1",
        &[&item],
    )?;
    if i.used {
        c.execute(
            "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, properties,
                                     created_at)
             SELECT i.id, NULL, 'ConsumeItem', i.customer_id, i.customer_id, i.properties, i.created_at
             FROM items i WHERE i.id = $1",
            &[&item],
        )?;
    }
    Ok(())
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.committed && !self.conn.is_closed() {
            if let Err(e) = self.conn.batch("ROLLBACK") {
                log::error!("rolling back an import failed: {e}");
            }
        }
    }
}
