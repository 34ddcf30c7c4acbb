//! The schema's numbered steps: a fresh database gets them all once, one
//! made by an older binary (with data) is brought up to date in place, a
//! newer one is refused, and `create = false` never makes a database.

use crate::common::{open, sql, value};
use std::sync::Arc;
use wallet_core::clock::Clock;
use wallet_core::ids::WalletId;
use wallet_core::StoreError;
use wallet_postgres::{OpenError, PgOptions, PostgresBackend};
use wallet_testkit::answers::completed;
use wallet_testkit::fixture::{capture, hold, request};
use wallet_testkit::{Fixture, PgCluster, TestDb};

const TABLES: &[&str] = &[
    "admin_sessions",
    "assets",
    "authorities",
    "authority_totals",
    "check_checkpoint",
    "check_checkpoint_assets",
    "check_checkpoint_heads",
    "customer_keys",
    "customers",
    "entries",
    "event_heads",
    "events",
    "hold_lots",
    "holds",
    "item_steps",
    "items",
    "lot_steps",
    "lots",
    "projects",
    "schema_migrations",
    "settings",
    "transactions",
    "wallets",
    "webhook_deliveries",
    "webhooks",
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
        "1,2,3,4,5,6"
    );
    let project = db.store.read(|r| r.project("default")).await.expect("reads");
    assert!(project.is_some(), "the default project exists");
    assert_eq!(db.setting("maintenance").await.as_deref(), Some("off"));

    // Connecting again (as a second server process does) applies nothing twice.
    let again = PostgresBackend::connect(&PgOptions::new(db.url())).expect("connects again");
    drop(again);
    assert_eq!(value(db.url(), "SELECT count(*) FROM schema_migrations"), "6");
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
    assert_eq!(value(&url, "SELECT count(*) FROM schema_migrations"), "6");
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

/// Step 1 of the schema, as a binary before holds applied it.
const STEP_ONE: &str = include_str!("../../migrations/0001_schema.sql");

/// Rows as the binary before holds wrote them: two authorities (one
/// revoked), a customer with a key, her wallet, a Closed one and a system
/// wallet, an Issue and a Transfer pair (one millisecond apart) with their
/// running totals, a failed transaction, an item, an admin session; the
/// identities where that binary's writes would have left them.
const STEP_ONE_ROWS: &str = "
    CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
    INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0);
    INSERT INTO projects (id, name, created_at) VALUES ('default', 'Default project', 0);
    INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
        VALUES (1, 'default', 'PTS', 'Points', 1, true, 0);
    UPDATE projects SET default_asset = 1;
    INSERT INTO authorities (id, public_id, project_id, name, public_key_pem, token_digest, created_at, revoked_at)
        VALUES (1, 'ak_old', 'default', 'old', NULL, '\\x00', 0, NULL),
               (2, 'au_pem', 'default', 'sdk', '-----BEGIN PUBLIC KEY-----', NULL, 0, 7);
    INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES (1, 'default', 'alice', 'Active', 0);
    INSERT INTO customer_keys (id, public_id, customer_id, token_digest, created_at) VALUES (1, 'ck_1', 1, '\\x01', 0);
    INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, name, status, balance, created_at) VALUES
        (3, 'default', 1, 1, true, 'main', 'Open', 30, 0),
        (5, 'default', 1, 1, false, NULL, 'Closed', 0, 0),
        (8, 'default', 1, NULL, false, 'fees', 'Open', 10, 0);
    INSERT INTO transactions (id, project_id, reference_id, authority_id, status, operations, created_at) VALUES
        (11, 'default', 'r-1', 1, 'Completed', '[]', 1),
        (12, 'default', 'r-2', 1, 'Completed', '[]', 2),
        (13, 'default', 'r-3', 1, 'Failed', '[]', 3);
    INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at) VALUES
        (21, 3, 11, 1, 'Issue', 40, 40, 'hello', 1),
        (22, 3, 12, 1, 'Transfer', -10, 30, NULL, 2),
        (23, 8, 12, 1, 'Transfer', 10, 10, NULL, 2);
    INSERT INTO items (entry_id, name, data, used) VALUES (21, 'Hat', '{\"level\":1}', true);
    INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (3, 1, 30), (8, 1, 10);
    INSERT INTO admin_sessions (token_digest, password_stamp, created_at, expires_at) VALUES ('\\xaa', '\\xbb', 0, 99);
    SELECT setval(pg_get_serial_sequence(t, 'id'), 100)
    FROM unnest(ARRAY['assets', 'authorities', 'customers', 'customer_keys', 'wallets', 'transactions',
                      'entries']) t;";

/// Every step-1 column of every table, as text: what the upgrade must keep
/// (API v1's items become items at step 3: see
/// `a_database_at_step_two_with_api_v1_items_upgrades_in_place`).
const STEP_ONE_SNAPSHOT: &str = "
    SELECT concat_ws(' | ',
        (SELECT string_agg(row(id, name, default_asset, created_at)::text, ',' ORDER BY id) FROM projects),
        (SELECT string_agg(row(id, project_id, code, name, fractions, used, created_at)::text, ',' ORDER BY id)
         FROM assets),
        (SELECT string_agg(row(id, public_id, project_id, name, public_key_pem, token_digest, created_at,
                               revoked_at)::text, ',' ORDER BY id) FROM authorities),
        (SELECT string_agg(row(id, project_id, external_id, status, created_at)::text, ',' ORDER BY id)
         FROM customers),
        (SELECT string_agg(row(id, public_id, customer_id, token_digest)::text, ',' ORDER BY id) FROM customer_keys),
        (SELECT string_agg(row(id, project_id, asset_id, customer_id, is_default, name, status, balance,
                               created_at)::text, ',' ORDER BY id) FROM wallets),
        (SELECT string_agg(row(id, reference_id, authority_id, status, operations, created_at)::text, ','
                           ORDER BY id) FROM transactions),
        (SELECT string_agg(row(id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason,
                               created_at)::text, ',' ORDER BY id) FROM entries),
        (SELECT string_agg(row(wallet_id, authority_id, total)::text, ',' ORDER BY wallet_id) FROM authority_totals),
        (SELECT string_agg(row(token_digest, expires_at)::text, ',') FROM admin_sessions),
        (SELECT string_agg(row(key, value)::text, ',' ORDER BY key) FROM settings))";

/// A database a binary before holds made (schema step 1, with data) is
/// brought to the last step in place by servers starting on it at once: every row
/// stays as it was, with its id; the new columns start at nothing held and
/// no credit; the invariants hold; and holds, credit, captures below zero,
/// balances at a time and the system authority work on the old wallets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_step_one_with_data_upgrades_in_place() {
    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    sql(&url, STEP_ONE).expect("step 1, as the old binary applied it");
    sql(&url, STEP_ONE_ROWS).expect("the old binary's rows");
    let before = value(&url, STEP_ONE_SNAPSHOT);

    start_three_servers_at_once(&url);
    assert_eq!(value(&url, STEP_ONE_SNAPSHOT), before, "every row as it was");
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(row(public_id, item_type, properties, customer_id, status, v1_entry_id)::text, ',')
             FROM items"
        ),
        r#"(v1_21,Hat,"{""level"":1}",1,Consumed,21)"#,
        "the item, used"
    );
    assert_eq!(
        value(
            &url,
            "SELECT (SELECT string_agg(held || '/' || credit_limit, ',' ORDER BY id) FROM wallets)
                    || ' ' || (SELECT bool_or(system)::text FROM authorities)"
        ),
        "0/0,0/0,0/0 false"
    );
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(attname, ',' ORDER BY k.n) FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indexrelid = 'entries_by_wallet_time'::regclass"
        ),
        "wallet_id,created_at,id"
    );

    let backend = Arc::new(PostgresBackend::connect(&PgOptions::new(url.clone())).expect("opens"));
    let fx = Fixture::new(TestDb::new(backend, ()));
    fx.assert_check().await;
    let caller = fx.authority("default").await;
    let (main, fees) = (WalletId::new(3), WalletId::new(8));
    assert_eq!(fx.ledger.balance_at(&caller, main, 1).await.expect("reads"), 40);
    assert_eq!(fx.ledger.balance_at(&caller, main, 2).await.expect("reads"), 30);
    fx.ledger
        .set_credit_limit(&caller, fees, 5)
        .await
        .expect("an old wallet takes a credit limit");
    let now = fx.clock.now();
    let post = |reference: &'static str, operations| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .post_transaction(&caller, request(reference, operations))
                .await
                .expect("answered")
        }
    };
    completed(
        post(
            "after-1",
            vec![
                hold("h", fees, 15, Some(main), None),
                hold("soon", main, 5, None, Some(now + 10)),
            ],
        )
        .await,
    );
    completed(post("after-2", vec![capture("h", None)]).await);
    let fees_row = fx.wallet_row(&caller, fees).await;
    assert_eq!((fees_row.balance, fees_row.held), (-5, 0), "captured below zero");
    fx.clock.advance(10);
    assert_eq!(fx.ledger.expire_due_holds().await.expect("expires"), 1);
    assert_eq!(
        value(
            &url,
            "SELECT count(*) FROM authorities WHERE system AND public_key_pem IS NULL AND token_digest IS NULL"
        ),
        "1",
        "the system authority, with no credential"
    );
    let fresh = fx.wallet(&caller, None).await;
    assert!(fresh.get() > 100, "new ids after the old ones: {fresh}");
    fx.assert_check().await;
}

/// Step 2 of the schema, as a binary before items applied it.
const STEP_TWO: &str = include_str!("../../migrations/0002_holds.sql");

/// Rows as the binary before items wrote them: API v1 entries of alice and
/// bob with items (one used, one with a name of 150 characters and no
/// data, one with a number no float holds), an entry without an item, and
/// another project's entry with an item.
const STEP_TWO_ROWS: &str = r#"
    CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
    INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0), (2, 0);
    INSERT INTO projects (id, name, created_at) VALUES ('default', 'Default project', 0), ('side', 'Side', 0);
    INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
        VALUES (1, 'default', 'PTS', 'Points', 1, true, 0), (2, 'side', 'PTS', 'Points', 1, true, 0);
    UPDATE projects SET default_asset = CASE id WHEN 'default' THEN 1 ELSE 2 END;
    INSERT INTO authorities (id, public_id, project_id, name, token_digest, created_at)
        VALUES (1, 'ak_old', 'default', 'old', '\x00', 0), (3, 'ak_side', 'side', 'side', '\x03', 0);
    INSERT INTO customers (id, project_id, external_id, status, created_at)
        VALUES (1, 'default', 'alice', 'Active', 0), (2, 'default', 'bob', 'Active', 0),
               (3, 'side', 'carol', 'Active', 0);
    INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, created_at) VALUES
        (3, 'default', 1, 1, true, 'Open', 35, 0), (4, 'default', 1, 2, true, 'Open', 0, 0),
        (9, 'side', 2, 3, true, 'Open', 1, 0);
    INSERT INTO transactions (id, project_id, authority_id, status, created_at) VALUES
        (11, 'default', 1, 'Completed', 1), (12, 'default', 1, 'Completed', 2),
        (13, 'default', 1, 'Completed', 3), (14, 'default', 1, 'Completed', 4), (15, 'side', 3, 'Completed', 5);
    INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at) VALUES
        (21, 3, 11, 1, 'Issue', 40, 40, 'hat', 1), (22, 4, 12, 1, 'Issue', 0, 0, 'long', 2),
        (23, 3, 13, 1, 'Issue', 0, 40, 'big', 3), (24, 3, 14, 1, 'Redeem', -5, 35, NULL, 4),
        (25, 9, 15, 3, 'Issue', 1, 1, 'ring', 5);
    INSERT INTO items (entry_id, name, data, used) VALUES
        (21, 'Hat', '{"level":1}', true), (22, repeat('n', 150), NULL, false),
        (23, 'Big', '{"n":123456789012345678901234567890}', false), (25, 'Ring', '"gold"', false);
    INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (3, 1, 35), (4, 1, 0), (9, 3, 1);
    SELECT setval(pg_get_serial_sequence(t, 'id'), 100)
    FROM unnest(ARRAY['assets', 'authorities', 'customers', 'wallets', 'transactions', 'entries']) t;"#;

/// A database a binary before items made (schema step 2, with API v1
/// items) is brought to step 3 in place by servers starting on it at once:
/// each item becomes an item of its entry's user (`v1_<entry>`, its name
/// the type, its data the properties to the byte, Consumed if it was used)
/// with its history; the old table goes; API v1 reads them as before, and
/// API v1 and v2 go on from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_step_two_with_api_v1_items_upgrades_in_place() {
    use wallet_core::ids::EntryId;
    use wallet_core::model::{ItemStatus, ItemStepKind, PageRequest};
    use wallet_core::text::{ItemId, ItemProperties};
    use wallet_core::v1::InventoryFilter;

    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    sql(&url, STEP_ONE).expect("step 1");
    sql(&url, STEP_TWO).expect("step 2, as the old binary applied it");
    sql(&url, STEP_TWO_ROWS).expect("the old binary's rows");

    start_three_servers_at_once(&url);
    assert_eq!(
        value(&url, "SELECT to_regclass('v1_items') IS NULL"),
        "t",
        "the old table is gone"
    );
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(concat_ws('/', project_id, public_id, left(item_type, 4), properties, customer_id,
                                         status, v1_entry_id, created_at, updated_at), ' ' ORDER BY id)
             FROM items"
        ),
        r#"default/v1_21/Hat/{"level":1}/1/Consumed/21/1/1 default/v1_22/nnnn/2/Active/22/2/2 default/v1_23/Big/{"n":123456789012345678901234567890}/1/Active/23/3/3 side/v1_25/Ring/"gold"/3/Active/25/5/5"#
    );
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(concat_ws('/', i.public_id, s.kind, coalesce(s.transaction_id::text, '-'),
                                         coalesce(s.from_customer::text, '-'), s.to_customer), ' '
                               ORDER BY s.id)
             FROM item_steps s JOIN items i ON i.id = s.item_id"
        ),
        "v1_21/GrantItem/11/-/1 v1_22/GrantItem/12/-/2 v1_23/GrantItem/13/-/1 v1_25/GrantItem/15/-/3 \
         v1_21/ConsumeItem/-/1/1"
    );

    let backend = Arc::new(PostgresBackend::connect(&PgOptions::new(url.clone())).expect("opens"));
    let store = wallet_core::Store::new(backend.clone());
    let fx = Fixture::new(TestDb::new(backend, ()));
    let report = fx.assert_check().await;
    assert_eq!(report.items, 4);
    let caller = fx.authority("default").await;
    let inventory = |filter: InventoryFilter| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .v1_inventory(&caller, filter)
                .await
                .expect("reads")
                .into_iter()
                .map(|line| {
                    (
                        line.entry_id.get(),
                        line.authority_id,
                        line.user_id,
                        line.item.data,
                        line.item.used,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let line = |entry: i64, user: &str, data: Option<&str>, used: bool| {
        (
            entry,
            "ak_old".to_owned(),
            user.to_owned(),
            data.map(str::to_owned),
            used,
        )
    };
    let big = r#"{"n":123456789012345678901234567890}"#;
    assert_eq!(
        inventory(InventoryFilter::default()).await,
        [
            line(21, "alice", Some(r#"{"level":1}"#), true),
            line(22, "bob", None, false),
            line(23, "alice", Some(big), false),
        ],
        "the project's items, as API v1 listed them"
    );
    assert_eq!(
        inventory(InventoryFilter {
            used: Some(false),
            user_ids: Some(vec!["alice".to_owned()]),
            ..InventoryFilter::default()
        })
        .await,
        [line(23, "alice", Some(big), false)]
    );

    let relic = fx
        .ledger
        .item(&caller, ItemId::parse("v1_23").unwrap())
        .await
        .expect("API v2 shows an API v1 item");
    assert_eq!(
        (
            relic.properties.as_ref().map(ItemProperties::as_str),
            relic.owner.as_ref().map(|o| o.id.as_str()),
            relic.v1_entry
        ),
        (Some(big), Some("alice"), Some(EntryId::new(23)))
    );
    let history = fx
        .ledger
        .item_history(&caller, ItemId::parse("v1_21").unwrap(), PageRequest::ALL)
        .await
        .expect("reads");
    assert_eq!(
        history
            .items
            .iter()
            .map(|s| (s.kind, s.transaction.map(wallet_core::ids::TransactionId::get)))
            .collect::<Vec<_>>(),
        [
            (ItemStepKind::GrantItem, Some(11)),
            (ItemStepKind::ConsumeItem, None)
        ]
    );

    let used = fx
        .ledger
        .use_v1_item(&caller, EntryId::new(22))
        .await
        .expect("an unused old item is used");
    assert_eq!(used.item.map(|i| i.used), Some(true));
    for entry in [21, 22] {
        let again = fx.ledger.use_v1_item(&caller, EntryId::new(entry)).await;
        assert!(
            again.as_ref().is_err_and(wallet_testkit::answers::is_conflict),
            "entry {entry}: {again:?}"
        );
    }
    let elsewhere = fx.ledger.use_v1_item(&caller, EntryId::new(25)).await;
    assert!(
        elsewhere
            .as_ref()
            .is_err_and(|e| wallet_testkit::answers::is_not_found(e, wallet_core::Missing::ItemEntry)),
        "another project's entry: {elsewhere:?}"
    );

    // API v2 moves an old item: API v1 lists it with its new owner, and its
    // entry still names the user it was given to.
    completed(
        fx.post(
            &caller,
            vec![wallet_core::operation::Operation::TransferItem {
                item: ItemId::parse("v1_23").unwrap(),
                to: Some(wallet_testkit::fixture::customer_id("bob")),
                from: Some(Some(wallet_testkit::fixture::customer_id("alice"))),
            }],
        )
        .await,
    );
    assert_eq!(
        inventory(InventoryFilter {
            entry_ids: Some(vec![EntryId::new(23)]),
            ..InventoryFilter::default()
        })
        .await,
        [line(23, "bob", Some(big), false)]
    );
    let entry = store
        .read(|r| r.v1_entry(EntryId::new(23)))
        .await
        .expect("reads")
        .expect("the entry");
    assert_eq!(entry.user_id, "alice");
    assert_eq!(relic.status, ItemStatus::Active, "read before the move: Active");
    let fresh = fx
        .ledger
        .post_v1_entry(&caller, wallet_testkit::fixture::v1_with_item("alice", 1, "Cap"))
        .await
        .expect("a new API v1 item");
    let cap = store
        .read(move |r| r.item_of_v1_entry("default", fresh.entry_id))
        .await
        .expect("reads")
        .expect("granted");
    assert!(fresh.entry_id.get() > 100, "new ids after the old ones");
    assert!(cap.id.as_str().starts_with("it_"), "{cap:?}");
    fx.assert_check().await;
}

/// Step 3 of the schema, as a binary before lots applied it.
const STEP_THREE: &str = include_str!("../../migrations/0003_items.sql");

/// Rows as the binary before lots wrote them: a customer's wallet on
/// credit with an Open hold (held 4) and a captured one (a Capture pair),
/// a system wallet, an Issue, a Redeem, an item with its grant, the
/// running totals; the identities where that binary left them.
const STEP_THREE_ROWS: &str = r#"
    CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
    INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0), (2, 0), (3, 0);
    INSERT INTO projects (id, name, created_at) VALUES ('default', 'Default project', 0);
    INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
        VALUES (1, 'default', 'PTS', 'Points', 1, true, 0);
    UPDATE projects SET default_asset = 1;
    INSERT INTO authorities (id, public_id, project_id, name, token_digest, created_at)
        VALUES (1, 'ak_old', 'default', 'old', '\x00', 0);
    INSERT INTO customers (id, project_id, external_id, status, created_at)
        VALUES (1, 'default', 'alice', 'Active', 0);
    INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, held, credit_limit,
                         created_at) VALUES
        (3, 'default', 1, 1, true, 'Open', 20, 4, 10, 0), (8, 'default', 1, NULL, false, 'Open', 6, 0, 0, 0);
    INSERT INTO transactions (id, project_id, reference_id, authority_id, status, operations, created_at) VALUES
        (11, 'default', 'r-1', 1, 'Completed', '[]', 1), (12, 'default', 'r-2', 1, 'Completed', '[]', 2),
        (13, 'default', 'r-3', 1, 'Completed', '[]', 3), (14, 'default', 'r-4', 1, 'Completed', '[]', 4);
    INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, reason, created_at) VALUES
        (21, 3, 11, 1, 'Issue', 30, 30, 'hello', 1), (22, 3, 13, 1, 'Capture', -6, 24, NULL, 3),
        (23, 8, 13, 1, 'Capture', 6, 6, NULL, 3), (24, 3, 14, 1, 'Redeem', -4, 20, NULL, 4);
    INSERT INTO holds (id, project_id, public_id, source_id, destination_id, asset_id, amount, captured, remaining,
                       status, expires_at, transaction_id, created_at, updated_at) VALUES
        (31, 'default', 'open', 3, 8, 1, 4, 0, 4, 'Open', NULL, 12, 2, 2),
        (32, 'default', 'done', 3, 8, 1, 6, 6, 0, 'Captured', NULL, 12, 2, 3);
    INSERT INTO items (id, project_id, public_id, item_type, customer_id, status, created_at, updated_at)
        VALUES (41, 'default', 'sword', 'sword', 1, 'Active', 1, 1);
    INSERT INTO item_steps (id, item_id, transaction_id, kind, from_customer, to_customer, created_at)
        VALUES (51, 41, 11, 'GrantItem', NULL, 1, 1);
    INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (3, 1, 20), (8, 1, 6);
    SELECT setval(pg_get_serial_sequence(t, 'id'), 100)
    FROM unnest(ARRAY['assets', 'authorities', 'customers', 'wallets', 'transactions', 'entries', 'holds',
                      'items', 'item_steps']) t;"#;

/// Every row of every table step 3 has, as text (the step adds none of
/// their columns).
const STEP_THREE_SNAPSHOT: &str = "
    SELECT concat_ws(' | ',
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM projects t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM assets t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM authorities t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM customers t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM wallets t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM transactions t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM entries t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM holds t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM items t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM item_steps t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM authority_totals t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM settings t))";

/// A database a binary before lots made (schema step 3, with holds, a
/// Capture, credit and items) is brought to step 4 in place by servers
/// starting on it at once: every row as it was, no lots, the invariants
/// hold; then the old wallet takes a lot, its old Open hold (which
/// earmarks nothing) is captured (from the lot first: what a Capture's
/// earmarks do not cover is taken in spending order, and keeps its
/// expiry), and both lots expire with Expire entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_step_three_upgrades_in_place_and_takes_lots() {
    use wallet_core::model::LotStatus;
    use wallet_core::operation::{Operation, Quantity};

    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    sql(&url, STEP_ONE).expect("step 1");
    sql(&url, STEP_TWO).expect("step 2");
    sql(&url, STEP_THREE).expect("step 3, as the old binary applied it");
    sql(&url, STEP_THREE_ROWS).expect("the old binary's rows");
    let before = value(&url, STEP_THREE_SNAPSHOT);

    start_three_servers_at_once(&url);
    assert_eq!(value(&url, STEP_THREE_SNAPSHOT), before, "every row as it was");
    assert_eq!(
        value(
            &url,
            "SELECT (SELECT count(*) FROM lots) + (SELECT count(*) FROM lot_steps) + (SELECT count(*) FROM hold_lots)"
        ),
        "0"
    );

    let backend = Arc::new(PostgresBackend::connect(&PgOptions::new(url.clone())).expect("opens"));
    let fx = Fixture::new(TestDb::new(backend, ()));
    let report = fx.assert_check().await;
    assert_eq!((report.lots, report.items), (0, 1));
    let caller = fx.authority("default").await;
    let main = WalletId::new(3);
    let now = fx.clock.now();
    let expiring = Operation::Issue {
        destination: main,
        amount: Quantity::new(5).unwrap(),
        expires_at: Some(now + 10),
    };
    let issued = completed(fx.post(&caller, vec![expiring]).await);
    completed(fx.post(&caller, vec![capture("open", None)]).await);
    fx.clock.advance(10);
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 2);
    let lots = |wallet| {
        let (ledger, caller) = (fx.ledger.clone(), caller.clone());
        async move {
            ledger
                .wallet_lots(&caller, wallet, None, wallet_core::model::PageRequest::ALL)
                .await
                .expect("reads")
                .items
                .iter()
                .map(|l| (l.amount, l.remaining, l.status, l.transaction == issued.id))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(lots(main).await, [(5, 0, LotStatus::Expired, true)]);
    assert_eq!(lots(WalletId::new(8)).await, [(4, 0, LotStatus::Expired, false)]);
    assert!(issued.id.get() > 100, "new ids after the old ones");
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(kind || ' ' || amount, ',' ORDER BY id) FROM entries WHERE id > 100"
        ),
        "Issue 5,Capture -4,Capture 4,Expire -1,Expire -4"
    );
    assert_eq!(fx.balance(&caller, main).await, 20 + 5 - 4 - 1);
    fx.assert_check().await;
}

/// Three servers start on the database at once, as after an upgrade of a
/// deployment: each one upgrades it or finds it upgraded (the migration
/// lock), and it ends at the last step.
fn start_three_servers_at_once(url: &str) {
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let url = url.to_owned();
            std::thread::spawn(move || PostgresBackend::connect(&PgOptions::new(url)).map(drop))
        })
        .collect();
    for start in starts {
        start
            .join()
            .unwrap()
            .expect("every start upgrades or finds it upgraded");
    }
    assert_eq!(
        value(
            url,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations"
        ),
        "1,2,3,4,5,6"
    );
}

/// Step 4 of the schema, as a binary before events applied it.
const STEP_FOUR: &str = include_str!("../../migrations/0004_lots.sql");

/// A database a binary before events made (schema step 4, with the rows
/// of step 3's test, a second project and a lot) is brought to step 5 in
/// place by servers starting on it at once: every row as it was, a head at
/// genesis for each project and no event; then a write numbers its events
/// from 1, `verify` and `check` hold, and a project that came without a
/// head row (as an import makes one) gets it at its first event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_step_four_upgrades_in_place_and_takes_events() {
    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    sql(&url, STEP_ONE).expect("step 1");
    sql(&url, STEP_TWO).expect("step 2");
    sql(&url, STEP_THREE).expect("step 3");
    sql(&url, STEP_FOUR).expect("step 4, as the old binary applied it");
    sql(&url, STEP_THREE_ROWS).expect("the old binary's rows");
    sql(
        &url,
        "INSERT INTO schema_migrations (version, applied_at) VALUES (4, 0);
         INSERT INTO projects (id, name, created_at) VALUES ('other', 'Other', 0);
         INSERT INTO assets (id, project_id, code, name, fractions, created_at)
             VALUES (2, 'other', 'PTS', 'Points', 1, 0);
         UPDATE projects SET default_asset = 2 WHERE id = 'other';
         INSERT INTO lots (id, wallet_id, amount, remaining, earmarked, expires_at, status, transaction_id,
                           created_at, updated_at)
             VALUES (61, 8, 6, 6, 0, 9999999999999, 'Open', 13, 3, 3);
         SELECT setval(pg_get_serial_sequence('lots', 'id'), 100)",
    )
    .expect("step 4's rows");
    let snapshot = format!(
        "SELECT concat_ws(' | ', ({}), (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM lots t))",
        STEP_THREE_SNAPSHOT.trim().trim_start_matches("SELECT ")
    );
    let before = value(&url, &snapshot);

    start_three_servers_at_once(&url);
    assert_eq!(value(&url, &snapshot), before, "every row as it was");
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(project_id || ' ' || seq || ' ' || left(hash, 4) || ' '
                               || coalesce(anchor_seq::text, '-'), ',' ORDER BY project_id)
             FROM event_heads"
        ),
        "default 0 0000 -,other 0 0000 -"
    );
    assert_eq!(value(&url, "SELECT count(*) FROM events"), "0");

    let backend = Arc::new(PostgresBackend::connect(&PgOptions::new(url.clone())).expect("opens"));
    let fx = Fixture::new(TestDb::new(backend, ()));
    fx.assert_check().await;
    let caller = fx.authority("default").await;
    fx.issue(&caller, WalletId::new(3), 5).await;
    assert_eq!(
        value(
            &url,
            "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM events WHERE project_id = 'default'"
        ),
        "1,2"
    );
    let verified = fx.ledger.verify(None, None).await.expect("verifies");
    assert!(verified.iter().all(|p| p.mismatch.is_none()), "{verified:?}");

    // A project without a head row gets one at its first event.
    sql(&url, "DELETE FROM event_heads WHERE project_id = 'other'").expect("deletes");
    let other = fx.authority("other").await;
    let wallet = fx.wallet(&other, None).await;
    fx.issue(&other, wallet, 1).await;
    assert_eq!(
        value(&url, "SELECT seq FROM event_heads WHERE project_id = 'other'"),
        "2"
    );
    fx.assert_check().await;
}
