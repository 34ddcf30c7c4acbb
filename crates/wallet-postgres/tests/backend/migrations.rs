//! The schema's numbered steps: a fresh database gets them all once, a
//! newer one is refused, and `create = false` never makes a database.

use crate::common::{open, sql, value};
use wallet_core::StoreError;
use wallet_postgres::{OpenError, PgOptions, PostgresBackend};
use wallet_testkit::PgCluster;

const TABLES: &[&str] = &[
    "admin_sessions",
    "assets",
    "authorities",
    "authority_totals",
    "customer_keys",
    "customers",
    "entries",
    "holds",
    "items",
    "projects",
    "schema_migrations",
    "settings",
    "transactions",
    "wallets",
];

fn public_tables(url: &str) -> Vec<String> {
    sql(
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    )
    .expect("lists tables")
    .into_iter()
    .flatten()
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_database_gets_every_step_once_and_the_default_project() {
    let db = open();
    assert_eq!(public_tables(db.url()), TABLES);
    assert_eq!(
        value(
            db.url(),
            "SELECT string_agg(version::text, ',') FROM schema_migrations"
        ),
        "1,2"
    );
    let project = db.store.read(|r| r.project("default")).await.expect("reads");
    assert!(project.is_some(), "the default project exists");
    assert_eq!(db.setting("maintenance").await.as_deref(), Some("off"));

    // Connecting again (as a second server process does) applies nothing twice.
    let again = PostgresBackend::connect(&PgOptions::new(db.url())).expect("connects again");
    drop(again);
    assert_eq!(value(db.url(), "SELECT count(*) FROM schema_migrations"), "2");
    assert_eq!(value(db.url(), "SELECT count(*) FROM projects"), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_at_once_migrate_once() {
    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresBackend::connect(&PgOptions::new(url)).map(drop))
        })
        .collect();
    for start in starts {
        start.join().unwrap().expect("every start succeeds");
    }
    assert_eq!(value(&url, "SELECT count(*) FROM schema_migrations"), "2");
    assert_eq!(
        value(&url, "SELECT count(*) FROM assets"),
        "1",
        "one default asset"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_refuse_update_delete_and_truncate() {
    let db = open();
    let (_, _) = crate::common::funded(&db, 5).await;
    for statement in [
        "UPDATE entries SET amount = 0",
        "DELETE FROM entries",
        "TRUNCATE entries CASCADE",
    ] {
        let refused = sql(db.url(), statement).expect_err(statement);
        let message = refused.as_db_error().map(|e| e.message().to_owned());
        assert_eq!(
            message.as_deref(),
            Some("entries are append-only"),
            "{statement}: {refused:?}"
        );
    }
    assert_eq!(value(db.url(), "SELECT count(*) FROM entries"), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_a_newer_step_is_refused() {
    let db = open();
    sql(
        db.url(),
        "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)",
    )
    .unwrap();
    let refused = PostgresBackend::connect(&PgOptions::new(db.url())).expect_err("refused");
    match refused {
        OpenError::Store(StoreError::Schema(message)) => {
            assert!(message.contains("99") && message.contains("upgrade"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_false_refuses_an_empty_database_and_makes_nothing() {
    let database = PgCluster::shared().fresh_database();
    // A password in the URL (trust auth ignores it) must not reach the message.
    let url = database.url().replace("postgres@", "postgres:hunter2@");
    let mut options = PgOptions::new(url.clone());
    options.create = false;
    match PostgresBackend::connect(&options).expect_err("refused") {
        OpenError::Missing(message) => {
            assert!(message.contains(database.name()), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(public_tables(&url).is_empty(), "nothing was created");

    PostgresBackend::connect(&PgOptions::new(url.clone())).expect("creates");
    PostgresBackend::connect(&options).expect("create = false opens a wallet database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_unavailable_and_never_shows_the_password() {
    let port = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("postgres://wallet:hunter2@127.0.0.1:{port}/ledger?connect_timeout=2");
    let options = PgOptions::new(url);
    assert!(!format!("{options:?}").contains("hunter2"), "{options:?}");
    match PostgresBackend::connect(&options).expect_err("nothing listens") {
        OpenError::Store(StoreError::Unavailable(message)) => {
            assert!(message.contains(&format!("127.0.0.1:{port}/ledger")), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let invalid = PostgresBackend::connect(&PgOptions::new("postgres://127.0.0.1:notaport/x"));
    assert!(
        matches!(invalid, Err(OpenError::Store(StoreError::Unavailable(_)))),
        "{invalid:?}"
    );
}
