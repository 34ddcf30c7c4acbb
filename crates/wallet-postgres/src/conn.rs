//! Connections: parsing the URL, opening a connection with its session
//! settings, and a per-connection cache of prepared statements (the writer's
//! own connections and the read pool's alike).
//!
//! Every statement of this crate is a `&'static str` (no SQL is built from
//! input), so the cache keys on the text itself: each statement is parsed
//! once per connection, and a query costs one round trip, not two.

use crate::error::{DbError, DbResult};
use crate::tls::TlsSettings;
use postgres::config::Host;
use postgres::types::ToSql;
use postgres::{Client, Config, Row, Statement};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres_rustls::MakeRustlsConnect;
use wallet_core::StoreError;

/// How long opening a connection may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parameters of one statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A parsed database URL. Its password never reaches a log: [`Target::describe`]
/// names the database without it.
#[derive(Clone)]
pub(crate) struct Target {
    config: Config,
    /// TLS as `sslmode` / `sslrootcert` asked (see `tls`).
    tls: MakeRustlsConnect,
}

impl Target {
    /// Parses `postgres://user:password@host:port/database?sslmode=...`
    /// (or `postgresql://`, or libpq's `key=value` form).
    pub(crate) fn parse(url: &str) -> Result<Self, StoreError> {
        let (url, tls) = TlsSettings::split(url)?;
        let mut config = Config::from_str(&url).map_err(|e| {
            // The parser's message names the bad part, never the password.
            StoreError::Unavailable(format!("the PostgreSQL URL is not valid: {e}"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("wallet-service");
        }
        config.ssl_mode(tls.driver_mode());
        Ok(Self {
            config,
            tls: tls.connector()?,
        })
    }

    /// `user@host:port/database`, for messages.
    pub(crate) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        format!(
            "{}@{}:{}/{}",
            self.config.get_user().unwrap_or("?"),
            hosts.join(","),
            ports.join(","),
            self.config.get_dbname().unwrap_or("?")
        )
    }

    /// A new connection with the session settings every connection of the
    /// backend has.
    pub(crate) fn connect(&self, role: Role) -> DbResult<PgConn> {
        let client = self.config.connect(self.tls.clone()).map_err(|e| {
            DbError(StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.describe(),
                crate::error::map_pg(&e)
            )))
        })?;
        let mut conn = PgConn::new(client);
        conn.client.batch_execute(role.session_settings())?;
        Ok(conn)
    }

    /// The read pool's manager.
    pub(crate) fn manager(&self) -> Manager {
        Manager {
            inner: PostgresConnectionManager::new(self.config.clone(), self.tls.clone()),
        }
    }
}

/// What a connection is for: its session settings differ.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// A writer thread's connection. The first job of a group waits up to
    /// 10 s for a lock (a deadlock is broken by the server sooner); later
    /// jobs of a group wait far less (see `writer`).
    Writer,
    /// A read pool connection: read-only, whatever a statement says.
    Reader,
    /// Migrations and imports: long statements, no lock timeout worth
    /// failing over.
    Maintenance,
}

impl Role {
    fn session_settings(self) -> &'static str {
        match self {
            Role::Writer => "SET lock_timeout = '10s'; SET TIME ZONE 'UTC'",
            Role::Reader => "SET default_transaction_read_only = on; SET TIME ZONE 'UTC'",
            Role::Maintenance => "SET lock_timeout = '60s'; SET TIME ZONE 'UTC'",
        }
    }
}

/// One connection and its prepared statements.
pub(crate) struct PgConn {
    pub(crate) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl PgConn {
    fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::new(),
        }
    }

    fn statement(&mut self, sql: &'static str) -> DbResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(&mut self, sql: &'static str, params: Params<'_>) -> DbResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    pub(crate) fn query_opt(&mut self, sql: &'static str, params: Params<'_>) -> DbResult<Option<Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    pub(crate) fn query_one(&mut self, sql: &'static str, params: Params<'_>) -> DbResult<Row> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }

    pub(crate) fn execute(&mut self, sql: &'static str, params: Params<'_>) -> DbResult<u64> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// Hands each row of `sql` to `each` as it arrives, without holding the
    /// whole result in memory (exports of large projects).
    pub(crate) fn for_each(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
        mut each: impl FnMut(&Row) -> DbResult<()>,
    ) -> DbResult<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let statement = self.statement(sql)?;
        let mut rows = self.client.query_raw(&statement, params.iter().copied())?;
        while let Some(row) = rows.next()? {
            each(&row)?;
        }
        Ok(())
    }

    /// Statements without parameters, in one round trip (transaction
    /// control: `BEGIN`, savepoints, `COMMIT`).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// r2d2's manager for the read pool: `r2d2_postgres`'s, with each
/// connection's session settings and statement cache.
pub(crate) struct Manager {
    inner: PostgresConnectionManager<MakeRustlsConnect>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Manager")
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let mut conn = PgConn::new(self.inner.connect()?);
        conn.client.batch_execute(Role::Reader.session_settings())?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        self.inner.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        self.inner.has_broken(&mut conn.client)
    }
}

/// Runs `work` on a thread of its own and waits for it. The sync postgres
/// client drives its connection on a runtime of its own, which panics when
/// it is started (connecting) or dropped (closing) on a thread that is
/// running async code: opening or closing connections from a caller's
/// async context goes through here.
pub(crate) fn off_async<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
