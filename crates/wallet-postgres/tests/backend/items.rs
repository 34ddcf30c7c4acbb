//! Items in PostgreSQL's SQL: the port's promises for them (an id is
//! claimed once, an item changes only while Active, locks come in id order,
//! pages and histories oldest first), a grant racing another writer's
//! uncommitted one, a move and a customer's suspension ordered by the
//! customer's row lock, 32 sales and consumptions of one item through two
//! server processes, the indexes the reads are meant to use, the schema's
//! last line of defence, and `check` finding every broken item invariant.

use crate::common::{authority_row, open, open_with, spawn_write, sql, value, Db};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wallet_core::ids::{AuthorityRowId, CustomerRowId, TransactionId};
use wallet_core::model::{ItemFilter, ItemStatus, ItemStepKind, PageRequest, TransactionStatus};
use wallet_core::operation::Operation;
use wallet_core::planner::FailCode;
use wallet_core::policy::Caller;
use wallet_core::port::{Claim, ItemUpdate, NewItem, NewItemStep, NewTransaction, WriteTx};
use wallet_core::text::{CustomerId, ItemId, ItemProperties, ItemType};
use wallet_core::{StoreError, TransactionOutcome};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::answers::{completed, failed};
use wallet_testkit::fixture::{customer_id, request, transfer};
use wallet_testkit::{Fixture, TestDb};

/// Properties whose text must survive to the byte: a number no float
/// holds, a trailing zero, spacing.
const EXACT: &str = r#"{"n":123456789012345678901234567890, "f":1.50}"#;

fn item_id(id: &str) -> ItemId {
    ItemId::parse(id).expect("a valid item id")
}

fn item_type(name: &str) -> ItemType {
    ItemType::parse(name).expect("a valid item type")
}

fn properties(json: &str) -> ItemProperties {
    ItemProperties::parse(json).expect("valid properties")
}

fn grant(kind: &str, owner: Option<&str>, id: &str) -> Operation {
    Operation::GrantItem {
        item_type: item_type(kind),
        customer_id: owner.map(customer_id),
        properties: Some(properties(EXACT)),
        item_id: item_id(id),
    }
}

fn move_item(id: &str, to: Option<&str>, from: Option<Option<&str>>) -> Operation {
    Operation::TransferItem {
        item: item_id(id),
        to: to.map(customer_id),
        from: from.map(|owner| owner.map(customer_id)),
    }
}

fn consume(id: &str, from: Option<Option<&str>>) -> Operation {
    Operation::ConsumeItem {
        item: item_id(id),
        from: from.map(|owner| owner.map(customer_id)),
    }
}

fn record(authority: AuthorityRowId) -> NewTransaction<'static> {
    NewTransaction {
        project_id: "default",
        reference_id: None,
        authority,
        status: TransactionStatus::Completed,
        error: None,
        description: None,
        operations: None,
        created_at: 1,
    }
}

/// A transaction row and, in it, items granted as the ledger writes them:
/// the row at its state and a GrantItem step. `(id, type, owner)`.
fn grant_rows(
    tx: &mut dyn WriteTx,
    authority: AuthorityRowId,
    items: &[(&str, &str, Option<CustomerRowId>)],
) -> Result<TransactionId, StoreError> {
    let Claim::Inserted(t) = tx.insert_transaction(&record(authority))? else {
        unreachable!("no reference id, no duplicate")
    };
    let exact = properties(EXACT);
    for (n, (id, kind, owner)) in (0i64..).zip(items) {
        let (id, kind) = (item_id(id), item_type(kind));
        tx.insert_item(
            "default",
            &NewItem {
                id: &id,
                item_type: &kind,
                properties: Some(&exact),
                owner: *owner,
                status: ItemStatus::Active,
                v1_entry: None,
                created_at: 10 + n,
            },
        )?;
        tx.append_item_step(
            "default",
            &NewItemStep {
                item: &id,
                transaction: t,
                kind: ItemStepKind::GrantItem,
                from: None,
                to: *owner,
                properties: Some(&exact),
                created_at: 10 + n,
            },
        )?;
    }
    Ok(t)
}

/// An authority of `default` and its customers `names`, by row.
async fn customers(db: &Db, names: &[&str]) -> (Caller, Vec<CustomerRowId>) {
    let caller = db.fx.authority("default").await;
    let mut rows = Vec::new();
    for name in names {
        rows.push(db.fx.customer(&caller, name).await.rowid);
    }
    (caller, rows)
}

fn ids(items: &[wallet_core::model::Item]) -> Vec<&str> {
    items.iter().map(|i| i.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_claimed_once_changed_only_while_active_and_read_oldest_first() {
    let db = open();
    let (caller, rows) = customers(&db, &["ann", "bob"]).await;
    let (authority, ann, bob) = (authority_row(&caller), rows[0], rows[1]);
    let t = db
        .store
        .write(move |tx| {
            grant_rows(
                tx,
                authority,
                &[
                    ("sword-2", "sword", Some(ann)),
                    ("sword-1", "sword", Some(ann)),
                    ("shield", "shield", None),
                ],
            )
        })
        .await
        .expect("grants");

    let read = |id: &'static str| {
        let store = db.store.clone();
        async move {
            store
                .read(move |r| r.item("default", &item_id(id)))
                .await
                .expect("reads")
        }
    };
    let sword = read("sword-1").await.expect("found");
    assert_eq!(
        (
            sword.item_type.as_str(),
            sword.properties.as_ref().map(ItemProperties::as_str),
            sword.owner.as_ref().map(|o| (o.rowid, o.id.as_str())),
            sword.status,
            sword.created_at,
            sword.v1_entry
        ),
        (
            "sword",
            Some(EXACT),
            Some((ann, "ann")),
            ItemStatus::Active,
            11,
            None
        ),
        "read back as written, the properties to the byte"
    );
    assert_eq!(read("shield").await.expect("found").owner, None, "stock");
    assert_eq!(
        db.store
            .read(|r| r.item("other", &item_id("sword-1")))
            .await
            .expect("reads"),
        None,
        "items are per project"
    );

    let again = db
        .store
        .write(move |tx| grant_rows(tx, authority, &[("sword-1", "sword", None)]))
        .await;
    assert!(
        matches!(again, Err(StoreError::Retryable(_))),
        "a taken id: {again:?}"
    );

    let owned = |owner: Option<CustomerRowId>, filter: ItemFilter, page: PageRequest| {
        let store = db.store.clone();
        async move {
            let page = store
                .read(move |r| r.owner_items("default", owner, &filter, page))
                .await
                .expect("reads");
            (
                page.items.iter().map(|i| i.id.to_string()).collect::<Vec<_>>(),
                page.total,
            )
        }
    };
    let all = ItemFilter::default();
    let swords = ItemFilter {
        item_type: Some(item_type("sword")),
        status: None,
    };
    let consumed = ItemFilter {
        item_type: None,
        status: Some(ItemStatus::Consumed),
    };
    let strings = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        owned(Some(ann), all.clone(), PageRequest::ALL).await,
        (strings(&["sword-2", "sword-1"]), 2),
        "oldest first"
    );
    assert_eq!(
        owned(Some(ann), all.clone(), PageRequest { page: 1, size: 1 }).await,
        (strings(&["sword-1"]), 2)
    );
    assert_eq!(owned(Some(ann), swords.clone(), PageRequest::ALL).await.1, 2);
    assert_eq!(
        owned(None, all.clone(), PageRequest::ALL).await,
        (strings(&["shield"]), 1)
    );
    assert_eq!(owned(None, swords.clone(), PageRequest::ALL).await, (vec![], 0));
    assert_eq!(owned(Some(bob), all.clone(), PageRequest::ALL).await, (vec![], 0));

    let change = |status: ItemStatus| {
        let store = db.store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.update_item(
                        "default",
                        &ItemUpdate {
                            id: &item_id("sword-1"),
                            owner: Some(bob),
                            status,
                            properties: None,
                            updated_at: 20,
                        },
                    )
                })
                .await
        }
    };
    assert_eq!(change(ItemStatus::Active).await, Ok(()), "moved to bob");
    assert_eq!(change(ItemStatus::Consumed).await, Ok(()), "consumed");
    let final_change = change(ItemStatus::Consumed).await;
    assert!(
        matches!(final_change, Err(StoreError::Retryable(_))),
        "a Consumed item never changes again: {final_change:?}"
    );
    let sword = read("sword-1").await.expect("found");
    assert_eq!(
        (sword.status, sword.properties, sword.updated_at, sword.created_at),
        (ItemStatus::Consumed, None, 20, 11)
    );
    assert_eq!(
        owned(Some(bob), consumed.clone(), PageRequest::ALL).await,
        (strings(&["sword-1"]), 1)
    );
    assert_eq!(owned(Some(ann), consumed, PageRequest::ALL).await, (vec![], 0));

    let (locked, customers) = db
        .store
        .write(|tx| {
            let locked = tx.lock_items(
                "default",
                &["missing", "sword-2", "sword-1", "shield"].map(item_id),
            )?;
            let customers = tx.lock_customers(
                "default",
                &["bob", "zed", "ann"].map(|c| CustomerId::parse(c).unwrap()),
            )?;
            Ok::<_, StoreError>((locked, customers))
        })
        .await
        .expect("locks");
    assert_eq!(ids(&locked), ["shield", "sword-1", "sword-2"], "in id order");
    assert_eq!(
        locked[1].owner.as_ref().map(|o| o.id.as_str()),
        Some("bob"),
        "with their owners now"
    );
    assert_eq!(
        customers.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["ann", "bob"],
        "in id order, missing ones left out"
    );

    let touched = db
        .store
        .read(move |r| r.transaction_items("default", t))
        .await
        .expect("reads");
    assert_eq!(
        ids(&touched),
        ["sword-2", "sword-1", "shield"],
        "in the order the transaction first touched them"
    );

    db.store
        .write(move |tx| {
            tx.append_item_step(
                "default",
                &NewItemStep {
                    item: &item_id("sword-1"),
                    transaction: t,
                    kind: ItemStepKind::ConsumeItem,
                    from: Some(bob),
                    to: Some(bob),
                    properties: None,
                    created_at: 20,
                },
            )
        })
        .await
        .expect("appends");
    let history = db
        .store
        .read(|r| r.item_history("default", &item_id("sword-1"), PageRequest::ALL))
        .await
        .expect("reads");
    let steps: Vec<_> = history
        .items
        .iter()
        .map(|s| {
            (
                s.kind,
                s.from.as_ref().map(CustomerId::as_str),
                s.to.as_ref().map(CustomerId::as_str),
                s.transaction,
            )
        })
        .collect();
    assert_eq!(
        (steps, history.total),
        (
            vec![
                (ItemStepKind::GrantItem, None, Some("ann"), Some(t)),
                (ItemStepKind::ConsumeItem, Some("bob"), Some("bob"), Some(t)),
            ],
            2
        ),
        "oldest first, owners by their ids"
    );
    let elsewhere = db
        .store
        .write(move |tx| {
            tx.append_item_step(
                "other",
                &NewItemStep {
                    item: &item_id("sword-2"),
                    transaction: t,
                    kind: ItemStepKind::TransferItem,
                    from: Some(ann),
                    to: None,
                    properties: None,
                    created_at: 20,
                },
            )
        })
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::Internal(_))),
        "a step of another project's item: {elsewhere:?}"
    );
}

/// Another writer grants an item with the same id and holds its
/// transaction open: the ledger's grant waits for it on the unique
/// constraint, is `Retryable` once it commits (its savepoint rolled back
/// cleanly), and its rerun sees the item and fails `CONFLICT`, with the
/// referenceId spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_racing_an_uncommitted_grant_of_its_id_fails_conflict() {
    let db = open_with(|o| o.writers = 2);
    let (caller, rows) = customers(&db, &["ann"]).await;
    let (authority, ann) = (authority_row(&caller), rows[0]);
    let (granted, wait_granted) = std::sync::mpsc::channel::<()>();
    let granted = std::sync::Mutex::new(granted);
    let first = spawn_write(&db.store, move |tx| {
        let t = grant_rows(tx, authority, &[("relic", "relic", Some(ann))])?;
        let _ = granted.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(500));
        Ok::<_, StoreError>(t)
    });
    tokio::task::spawn_blocking(move || wait_granted.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the first grant is written");
    let outcome = db
        .fx
        .ledger
        .post_transaction(
            &caller,
            request("grant-relic", vec![grant("relic", None, "relic")]),
        )
        .await
        .expect("answered");
    first.await.unwrap().expect("the first grant commits");
    failed(outcome, FailCode::Conflict);
    let again = db
        .fx
        .ledger
        .post_transaction(
            &caller,
            request("grant-relic", vec![grant("relic", None, "relic")]),
        )
        .await
        .expect("answered");
    assert!(
        matches!(again, TransactionOutcome::Duplicate(..)),
        "the referenceId is spent: {again:?}"
    );
    assert_eq!(
        value(db.url(), "SELECT count(*) FROM items WHERE public_id = 'relic'"),
        "1"
    );
    assert!(db.store.stats().retries >= 1, "the grant was retried");
    db.fx.assert_check().await;
}

/// `lock_items` holds its rows until the write ends: a sale of an item
/// another writer is selling waits for it, then reads the item with the
/// owner that writer left (from a customer it may have created meanwhile)
/// and fails `WRONG_ITEM_OWNER`; no money moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_of_a_locked_item_waits_then_reads_its_new_owner() {
    let db = open_with(|o| o.writers = 2);
    let (caller, _) = customers(&db, &["ann", "bob"]).await;
    let purse = db.fx.funded(&caller, Some("bob"), 50).await;
    let till = db.fx.wallet(&caller, Some("ann")).await;
    completed(
        db.fx
            .post(&caller, vec![grant("relic", Some("ann"), "relic")])
            .await,
    );

    let authority = authority_row(&caller);
    let (locked, wait_locked) = std::sync::mpsc::channel::<()>();
    let locked = std::sync::Mutex::new(locked);
    let first = spawn_write(&db.store, move |tx| {
        let relic = tx.lock_items("default", &[item_id("relic")])?;
        assert_eq!(relic.len(), 1);
        let _ = locked.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(300));
        let carol = tx
            .insert_customer("default", "carol", None, None, 5)?
            .expect("a new customer");
        tx.update_item(
            "default",
            &ItemUpdate {
                id: &item_id("relic"),
                owner: Some(carol),
                status: ItemStatus::Active,
                properties: Some(&properties(EXACT)),
                updated_at: 5,
            },
        )?;
        let t = grant_rows(tx, authority, &[])?;
        tx.append_item_step(
            "default",
            &NewItemStep {
                item: &item_id("relic"),
                transaction: t,
                kind: ItemStepKind::TransferItem,
                from: relic[0].owner.as_ref().map(|o| o.rowid),
                to: Some(carol),
                properties: Some(&properties(EXACT)),
                created_at: 5,
            },
        )?;
        std::thread::sleep(Duration::from_millis(200));
        Ok::<_, StoreError>(())
    });
    tokio::task::spawn_blocking(move || wait_locked.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the first writer holds the item");
    let sale = db
        .fx
        .post(
            &caller,
            vec![
                transfer(purse, till, 20),
                move_item("relic", Some("bob"), Some(Some("ann"))),
            ],
        )
        .await;
    first.await.unwrap().expect("the first sale commits");
    failed(sale, FailCode::WrongItemOwner);
    assert_eq!(db.fx.balance(&caller, purse).await, 50, "no money moved");
    let relic = db.fx.ledger.item(&caller, item_id("relic")).await.expect("reads");
    assert_eq!(relic.owner.map(|o| o.id.into_inner()).as_deref(), Some("carol"));
    db.fx.assert_check().await;
}

/// A move and a customer's status change are ordered by the customer's
/// row: a move to a customer whose suspension is uncommitted waits for it
/// and fails `WRONG_CUSTOMER_STATUS`; a suspension waits for an
/// uncommitted move to or from the customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_and_a_suspension_of_its_customer_wait_for_each_other() {
    let db = open_with(|o| o.writers = 2);
    let (caller, _) = customers(&db, &["ann", "bob"]).await;
    completed(
        db.fx
            .post(&caller, vec![grant("sword", Some("ann"), "sword")])
            .await,
    );

    let (locked, wait_locked) = std::sync::mpsc::channel::<()>();
    let locked = std::sync::Mutex::new(locked);
    let suspension = spawn_write(&db.store, move |tx| {
        let bob = tx.lock_customer("default", "bob")?.expect("bob");
        tx.set_customer_status(bob.rowid, wallet_core::model::CustomerStatus::Suspended)?;
        let _ = locked.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(500));
        Ok::<_, StoreError>(())
    });
    tokio::task::spawn_blocking(move || wait_locked.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the suspension holds bob");
    let moved = db
        .fx
        .post(&caller, vec![move_item("sword", Some("bob"), Some(Some("ann")))])
        .await;
    suspension.await.unwrap().expect("the suspension commits");
    failed(moved, FailCode::WrongCustomerStatus);

    let (locked, wait_locked) = std::sync::mpsc::channel::<()>();
    let locked = std::sync::Mutex::new(locked);
    let mover = spawn_write(&db.store, move |tx| {
        tx.lock_customers("default", &[CustomerId::parse("ann").unwrap()])?;
        let _ = locked.lock().unwrap().send(());
        std::thread::sleep(Duration::from_millis(500));
        Ok::<_, StoreError>(Instant::now())
    });
    tokio::task::spawn_blocking(move || wait_locked.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("the move holds ann");
    db.fx
        .ledger
        .suspend_customer(&caller, customer_id("ann"))
        .await
        .expect("suspends");
    let suspended = Instant::now();
    let moved = mover.await.unwrap().expect("the move commits");
    assert!(moved <= suspended, "the suspension waited for the move");
    db.fx.assert_check().await;
}

/// Two server processes (two backends on one database, four writers each):
/// 32 attempts at once to sell one item (10 paid for it in the same
/// transaction), then 32 to sell or consume another. Each time exactly one
/// wins; the others fail on the item's new owner or status and move no
/// money; the item's history has the grant and that one step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_sales_and_consumptions_of_one_item_through_two_processes_one_wins() {
    let db = open_with(|o| o.writers = 4);
    let second = Fixture::new(TestDb::new(
        Arc::new(
            PostgresBackend::connect(&{
                let mut options = PgOptions::new(db.url());
                options.writers = 4;
                options
            })
            .expect("connects"),
        ),
        (),
    ));
    let ledgers = [db.fx.ledger.clone(), second.ledger.clone()];
    let caller = db.fx.authority("default").await;
    db.fx.customer(&caller, "sam").await;
    let till = db.fx.wallet(&caller, Some("sam")).await;
    let mut purses = Vec::new();
    for b in 0..4 {
        let buyer = format!("buyer{b}");
        db.fx.customer(&caller, &buyer).await;
        purses.push((buyer.clone(), db.fx.funded(&caller, Some(&buyer), 100).await));
    }
    completed(
        db.fx
            .post(
                &caller,
                vec![
                    grant("relic", Some("sam"), "relic"),
                    grant("charm", Some("sam"), "charm"),
                ],
            )
            .await,
    );

    let mut sold = 0;
    for (item, consumptions) in [("relic", false), ("charm", true)] {
        let attempts = (0..32).map(|i| {
            let (ledger, caller) = (ledgers[i % 2].clone(), caller.clone());
            let (buyer, purse) = purses[i / 2 % 4].clone();
            tokio::spawn(async move {
                let operations = if consumptions && i % 4 >= 2 {
                    vec![consume(item, Some(Some("sam")))]
                } else {
                    vec![
                        transfer(purse, till, 10),
                        move_item(item, Some(&buyer), Some(Some("sam"))),
                    ]
                };
                ledger
                    .post_transaction(&caller, request(&format!("{item}-{i}"), operations))
                    .await
                    .expect("answered")
            })
        });
        let mut wins = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                TransactionOutcome::Completed(..) => wins += 1,
                TransactionOutcome::Failed(_, failure) => assert!(
                    matches!(
                        failure.reason.code(),
                        FailCode::WrongItemOwner | FailCode::WrongItemStatus
                    ),
                    "{item}: {failure:?}"
                ),
                other => panic!("{item}: {other:?}"),
            }
        }
        assert_eq!(wins, 1, "{item}: exactly one attempt wins");
        let history = db
            .fx
            .ledger
            .item_history(&caller, item_id(item), PageRequest::ALL)
            .await
            .expect("reads");
        assert_eq!(history.total, 2, "{item}: the grant and the winner: {history:?}");
        let stored = db.fx.ledger.item(&caller, item_id(item)).await.expect("reads");
        match history.items[1].kind {
            ItemStepKind::TransferItem => {
                assert_eq!(stored.status, ItemStatus::Active);
                sold += 1;
            }
            ItemStepKind::ConsumeItem => assert_eq!(stored.status, ItemStatus::Consumed),
            other => panic!("{item}: {other:?}"),
        }
    }
    assert_eq!(
        db.fx.balance(&caller, till).await,
        10 * sold,
        "each sale paid once, nothing else moved"
    );
    db.fx.assert_check().await;
}

/// `EXPLAIN` of `query` on the database, one line per plan node.
fn plan(url: &str, query: &str) -> String {
    sql(url, &format!("ANALYZE; EXPLAIN {query}"))
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Thousands of items of a customer, of others and of the stock, thousands
/// of steps: an owner's page (a customer's, the stock's), an item's
/// history, a transaction's items, an API v1 entry's item each read their
/// own index, and never sort.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_reads_use_their_indexes() {
    let db = open();
    let (caller, rows) = customers(&db, &["ann"]).await;
    let (authority, ann) = (authority_row(&caller), rows[0]);
    db.store
        .write(move |tx| grant_rows(tx, authority, &[("mine", "sword", Some(ann))]))
        .await
        .expect("grants");
    // Of 20000 items: 200 in the stock, 310 of ann, the rest of 500 others.
    sql(
        db.url(),
        &format!(
            "INSERT INTO customers (project_id, external_id, created_at)
             SELECT 'default', 'c' || n, 0 FROM generate_series(1, 500) n;
             INSERT INTO items (project_id, public_id, item_type, customer_id, status, created_at, updated_at)
             SELECT 'default', 'it' || n, 'gem',
                    CASE WHEN n % 100 = 0 THEN NULL WHEN n % 64 = 1 THEN {ann}
                         ELSE (SELECT min(id) FROM customers WHERE external_id LIKE 'c%') + n % 500 END,
                    'Active', n, n
             FROM generate_series(1, 20000) n;
             INSERT INTO item_steps (item_id, transaction_id, kind, to_customer, created_at)
             SELECT i.id, (SELECT max(id) FROM transactions), 'GrantItem', i.customer_id, 0
             FROM items i WHERE i.public_id LIKE 'it%'"
        ),
    )
    .expect("many items");
    for (query, index) in [
        (
            format!(
                "SELECT * FROM items i WHERE i.project_id = 'default' AND i.customer_id = {ann}
                 AND (NULL::text IS NULL OR i.item_type = NULL) ORDER BY i.id LIMIT 50"
            ),
            "items_by_owner",
        ),
        (
            "SELECT * FROM items i WHERE i.project_id = 'default' AND i.customer_id IS NULL
             ORDER BY i.id LIMIT 50"
                .to_owned(),
            "items_stock",
        ),
        (
            "SELECT s.*, (SELECT external_id FROM customers c WHERE c.id = s.to_customer) FROM item_steps s
             WHERE s.item_id = (SELECT id FROM items i WHERE i.project_id = 'default' AND i.public_id = 'mine')
             ORDER BY s.id LIMIT 50"
                .to_owned(),
            "item_steps_by_item",
        ),
        (
            "SELECT * FROM items i WHERE i.v1_entry_id = 7 AND i.project_id = 'default'".to_owned(),
            "items_v1_entry",
        ),
        (
            "SELECT * FROM items i WHERE i.project_id = 'default' AND i.public_id = 'it7'".to_owned(),
            "items_public_id",
        ),
    ] {
        let plan = plan(db.url(), &query);
        assert!(plan.contains(index), "{query}:\n{plan}");
        assert!(!plan.contains("Sort"), "{query}:\n{plan}");
    }
    let plan = plan(
        db.url(),
        "SELECT s.item_id FROM item_steps s WHERE s.transaction_id = 424242",
    );
    assert!(plan.contains("item_steps_by_transaction"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_item_invariants_forbid() {
    let db = open();
    let (caller, rows) = customers(&db, &["ann"]).await;
    let (authority, ann) = (authority_row(&caller), rows[0]);
    db.store
        .write(move |tx| grant_rows(tx, authority, &[("mine", "sword", Some(ann))]))
        .await
        .expect("grants");
    let refused = [
        "UPDATE items SET status = 'Lost'".to_owned(),
        "UPDATE items SET public_id = ''".to_owned(),
        format!("UPDATE items SET public_id = '{}'", "x".repeat(65)),
        "UPDATE items SET item_type = ''".to_owned(),
        format!("UPDATE items SET item_type = '{}'", "x".repeat(65)),
        "UPDATE items SET customer_id = 999999".to_owned(),
        "INSERT INTO items (project_id, public_id, item_type, status, created_at, updated_at)
         VALUES ('default', 'mine', 'sword', 'Active', 0, 0)"
            .to_owned(),
        "INSERT INTO item_steps (item_id, kind, created_at)
         SELECT id, 'TransferItem', 0 FROM items"
            .to_owned(),
        "INSERT INTO item_steps (item_id, transaction_id, kind, created_at)
         SELECT id, (SELECT max(id) FROM transactions), 'Stolen', 0 FROM items"
            .to_owned(),
        "UPDATE item_steps SET created_at = 1".to_owned(),
        "DELETE FROM item_steps".to_owned(),
        "TRUNCATE item_steps CASCADE".to_owned(),
    ];
    for statement in &refused {
        assert!(sql(db.url(), statement).is_err(), "{statement}");
    }
    let allowed = [
        "INSERT INTO item_steps (item_id, kind, created_at) SELECT id, 'ConsumeItem', 0 FROM items",
        // An API v1 item keeps a name of up to 200 characters.
        "INSERT INTO items (project_id, public_id, item_type, status, v1_entry_id, created_at, updated_at)
         SELECT 'default', 'v1', repeat('x', 200), 'Active', min(id), 0, 0 FROM entries",
    ];
    crate::common::funded(&db, 1).await;
    for statement in allowed {
        sql(db.url(), statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

/// Each broken item invariant, made by hand (a restore of a damaged copy,
/// a hand edit): `check` names it in `item_mismatches`, in words that say
/// which. The rows: ann owns `sword` (granted, moved to bob and back),
/// `gem` is in the stock, `apple` was consumed; customer `eve` is of
/// another project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_every_broken_item_invariant() {
    let cases: [(&str, &str, &str); 10] = [
        (
            "an owner of another project",
            "UPDATE items SET customer_id = (SELECT id FROM customers WHERE external_id = 'eve')
             WHERE public_id = 'gem'",
            "is of another project",
        ),
        (
            "an item without history",
            "INSERT INTO items (project_id, public_id, item_type, status, created_at, updated_at)
             VALUES ('default', 'ghost', 'ghost', 'Consumed', 0, 0)",
            "no history",
        ),
        (
            "a history that does not start with the grant",
            "INSERT INTO items (project_id, public_id, item_type, status, created_at, updated_at)
             VALUES ('default', 'odd', 'odd', 'Active', 0, 0);
             INSERT INTO item_steps (item_id, transaction_id, kind, created_at)
             SELECT id, (SELECT max(id) FROM transactions), 'SetItemProperties', 0 FROM items
             WHERE public_id = 'odd'",
            "does not start with the grant",
        ),
        (
            "a step after the consumption",
            "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, created_at)
             SELECT i.id, (SELECT max(id) FROM transactions), 'SetItemProperties', i.customer_id,
                    i.customer_id, 0
             FROM items i WHERE public_id = 'apple'",
            "after the item was consumed",
        ),
        (
            "a step from another owner than the last one left it with",
            "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, properties,
                                     created_at)
             SELECT i.id, (SELECT max(id) FROM transactions), 'TransferItem',
                    (SELECT id FROM customers WHERE external_id = 'bob'), i.customer_id, i.properties, 0
             FROM items i WHERE public_id = 'sword'",
            "but the previous step left it with",
        ),
        (
            "a consumption that moves the item",
            "UPDATE items SET status = 'Consumed' WHERE public_id = 'gem';
             INSERT INTO item_steps (item_id, transaction_id, kind, from_customer, to_customer, created_at)
             SELECT i.id, (SELECT max(id) FROM transactions), 'ConsumeItem', NULL,
                    (SELECT id FROM customers WHERE external_id = 'bob'), 0
             FROM items i WHERE public_id = 'gem'",
            "a ConsumeItem that moves the item",
        ),
        (
            "an owner the history does not end with",
            "UPDATE items SET customer_id = (SELECT id FROM customers WHERE external_id = 'bob')
             WHERE public_id = 'sword'",
            "its history leaves it with",
        ),
        (
            "properties the history does not end with",
            "UPDATE items SET properties = '{\"atk\":1}' WHERE public_id = 'sword'",
            "other properties than it has",
        ),
        (
            "Consumed without a ConsumeItem",
            "UPDATE items SET status = 'Consumed' WHERE public_id = 'sword'",
            "Consumed but its history has no ConsumeItem",
        ),
        (
            "Active items that are not granted minus consumed",
            "UPDATE items SET status = 'Active' WHERE public_id = 'apple'",
            "Active items but",
        ),
    ];
    for (what, damage, words) in cases {
        let db = open();
        let (caller, _) = customers(&db, &["ann", "bob"]).await;
        db.fx.project("elsewhere").await;
        let other = db.fx.authority("elsewhere").await;
        db.fx.customer(&other, "eve").await;
        for operations in [
            vec![
                grant("sword", Some("ann"), "sword"),
                grant("gem", None, "gem"),
                grant("apple", Some("bob"), "apple"),
            ],
            vec![move_item("sword", Some("bob"), None), consume("apple", None)],
            vec![move_item("sword", Some("ann"), None)],
        ] {
            completed(db.fx.post(&caller, operations).await);
        }
        let report = db.fx.assert_check().await;
        assert_eq!(report.items, 3);
        sql(db.url(), damage).unwrap_or_else(|e| panic!("{what}: {e}"));
        let report = db.fx.ledger.check().await.expect("check runs");
        assert!(
            report.item_mismatches.iter().any(|m| m.contains(words)),
            "{what}: not found as {words:?}: {:#?}",
            report.item_mismatches
        );
        assert!(!report.is_ok(), "{what}");
    }
}
