//! Items on SQLite: `check` names every class of broken item invariant
//! (rows tampered with raw SQL, as a bad restore or a hand edit would), and
//! the schema's `json_valid` never refuses properties the core accepted.

use crate::common;

use std::path::Path;
use std::sync::Arc;
use wallet_core::amount::Amount;
use wallet_core::clock::ManualClock;
use wallet_core::ids::WalletId;
use wallet_core::model::ItemStatus;
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::Caller;
use wallet_core::text::{ItemId, ItemName, ItemProperties, ItemType, ReferenceId};
use wallet_core::{Ledger, Store, TransactionOutcome, V1Item};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

/// The sword's properties: a number no float holds, and a trailing zero.
pub const SWORD: &str = r#"{"n":123456789012345678901234567890,"f":1.50}"#;

/// A shop's ledger: alice and bob with wallets; a `sword` granted to alice
/// and traded to bob for 10, a `shield` in the stock whose properties
/// changed, a `potion` granted to bob and consumed, and an API v1 entry's
/// `Hat` given to carol and used.
pub struct Shop {
    pub ledger: Ledger,
    pub store: Store,
    pub caller: Caller,
}

pub fn op_grant(id: &str, item_type: &str, to: Option<&str>, properties: Option<&str>) -> Operation {
    Operation::GrantItem {
        item_type: ItemType::parse(item_type).expect("valid"),
        customer_id: to.map(common::customer),
        properties: properties.map(|p| ItemProperties::parse_unbounded(p).expect("valid JSON")),
        item_id: ItemId::parse(id).expect("valid"),
    }
}

pub async fn post(shop: &Shop, reference: &str, operations: Vec<Operation>) {
    let request = TransactionRequest::new(ReferenceId::parse(reference).expect("valid"), operations, None)
        .expect("a valid request");
    let outcome = shop
        .ledger
        .post_transaction(&shop.caller, request)
        .await
        .expect("answered");
    assert!(
        matches!(outcome, TransactionOutcome::Completed(..)),
        "{reference}: {outcome:?}"
    );
}

pub async fn shop(path: &Path) -> Shop {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens");
    let store = Store::new(Arc::new(backend));
    let ledger = Ledger::with_clock(store.clone(), Arc::new(ManualClock::at(1_000)));
    let caller = common::authority(&ledger, "ak_shop").await;
    let shop = Shop {
        ledger,
        store,
        caller,
    };
    let asset = match &shop.caller {
        Caller::Authority(a) => a.default_asset,
        _ => unreachable!("an authority"),
    };
    let mut wallets: Vec<WalletId> = Vec::new();
    for user in ["alice", "bob"] {
        shop.ledger
            .upsert_customer(&shop.caller, common::customer(user), None, None)
            .await
            .expect("created");
        let wallet = shop
            .ledger
            .create_wallet(&shop.caller, Some(common::customer(user)), asset, None, None)
            .await
            .expect("opens");
        wallets.push(wallet.id);
    }
    let q = |n| Quantity::new(n).expect("not negative");
    post(
        &shop,
        "grant",
        vec![
            Operation::Issue {
                destination: wallets[1],
                amount: q(30),
                expires_at: None,
            },
            op_grant("sword", "sword", Some("alice"), Some(SWORD)),
            op_grant("shield", "shield", None, None),
            op_grant("potion", "potion", Some("bob"), Some("7")),
        ],
    )
    .await;
    let item = |id: &str| ItemId::parse(id).expect("valid");
    let from = |owner: &str| Some(Some(common::customer(owner)));
    post(
        &shop,
        "trade",
        vec![
            Operation::Transfer {
                source: wallets[1],
                destination: wallets[0],
                amount: q(10),
            },
            Operation::TransferItem {
                item: item("sword"),
                to: Some(common::customer("bob")),
                from: from("alice"),
            },
        ],
    )
    .await;
    post(
        &shop,
        "drink",
        vec![Operation::ConsumeItem {
            item: item("potion"),
            from: from("bob"),
        }],
    )
    .await;
    post(
        &shop,
        "polish",
        vec![Operation::SetItemProperties {
            item: item("shield"),
            properties: ItemProperties::parse(r#"{"def":[1,2,3]}"#).expect("valid"),
        }],
    )
    .await;
    let mut hat = common::v1_entry("carol", 0, None);
    hat.item = Some(V1Item {
        name: ItemName::parse("Hat").expect("valid"),
        data: Some(ItemProperties::parse_unbounded(r#"{"size": 3}"#).expect("valid")),
    });
    hat.amount = Amount::parse(0).expect("valid");
    let entry = shop.ledger.post_v1_entry(&shop.caller, hat).await.expect("posts");
    shop.ledger
        .use_v1_item(&shop.caller, entry.entry_id)
        .await
        .expect("uses");
    let report = shop.ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    assert_eq!(report.items, 4);
    shop
}

fn sql(path: &Path, statements: &str) {
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch(statements))
        .unwrap_or_else(|e| panic!("{statements}: {e}"));
}

/// Each class of broken item, made with raw SQL on a fresh shop: `check`
/// reports it (and only then is the report not ok).
#[tokio::test]
async fn check_names_every_broken_item_invariant() {
    let item = "(SELECT id FROM items WHERE public_id = ";
    let trade = "(SELECT id FROM transactions WHERE reference_id = 'trade')";
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "an owner that is no customer",
            "UPDATE items SET customer_id = 999 WHERE public_id = 'sword'".to_owned(),
            &["is not a customer of project default"],
        ),
        (
            "an owner of another project",
            "INSERT INTO projects (id, name, default_asset, created_at) VALUES ('other', 'o', 1, 0);
             INSERT INTO customers (id, project_id, external_id, created_at) VALUES (50, 'other', 'eve', 0);
             UPDATE items SET customer_id = 50 WHERE public_id = 'shield';"
                .to_owned(),
            &["is not a customer of project default"],
        ),
        (
            "an item without a history",
            "INSERT INTO items (project_id, public_id, item_type, status, created_at, updated_at)
             VALUES ('default', 'ghost', 'sword', 'Active', 1, 1)"
                .to_owned(),
            &["(ghost): it has no history", "item type \"sword\": 2 Active items, but 1 granted"],
        ),
        (
            "a history that does not start with a grant",
            format!(
                "INSERT INTO items (project_id, public_id, item_type, status, created_at, updated_at)
                 VALUES ('default', 'ghost', 'sword', 'Active', 1, 1);
                 INSERT INTO item_steps (item_id, transaction_id, kind, created_at)
                 VALUES ({item}'ghost'), {trade}, 'TransferItem', 1);"
            ),
            &["(ghost): its history starts with step"],
        ),
        (
            "a second grant",
            format!(
                "INSERT INTO item_steps (item_id, transaction_id, kind, to_customer_id, properties, created_at)
                 VALUES ({item}'sword'), {trade}, 'GrantItem', 2, '{SWORD}', 9);"
            ),
            &["(sword): step", "grants it a second time"],
        ),
        (
            "a step after its consumption",
            format!(
                "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                         properties, created_at)
                 VALUES ({item}'potion'), {trade}, 'TransferItem', 2, 1, '7', 9);"
            ),
            &["(potion): step", "comes after its ConsumeItem"],
        ),
        (
            "a step from another owner than the last one left it with",
            format!(
                "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                         properties, created_at)
                 VALUES ({item}'sword'), {trade}, 'TransferItem', 1, 1, '{SWORD}', 9);
                 UPDATE items SET customer_id = 1 WHERE public_id = 'sword';"
            ),
            &["moves it from customer 1 but the step before left it with customer 2"],
        ),
        (
            "a consumption that moves the item",
            format!(
                "INSERT INTO item_steps (item_id, transaction_id, kind, from_customer_id, to_customer_id,
                                         properties, created_at)
                 VALUES ({item}'sword'), {trade}, 'ConsumeItem', 2, 1, '{SWORD}', 9);
                 UPDATE items SET customer_id = 1, status = 'Consumed' WHERE public_id = 'sword';"
            ),
            &["(sword): step", "(ConsumeItem) changes its owner"],
        ),
        (
            "an owner the history does not end with",
            "UPDATE items SET customer_id = 1 WHERE public_id = 'sword'".to_owned(),
            &["(sword): its history leaves it with customer 2"],
        ),
        (
            "properties the history does not end with",
            r#"UPDATE items SET properties = '{"n":123456789012345678901234567890,"f":1.5}'
               WHERE public_id = 'sword'"#
                .to_owned(),
            &[r#"properties {"n":123456789012345678901234567890,"f":1.50}, but"#],
        ),
        (
            "Consumed without a consumption",
            "UPDATE items SET status = 'Consumed' WHERE public_id = 'sword'".to_owned(),
            &[
                "(sword): it is Consumed but has no ConsumeItem step",
                "item type \"sword\": 0 Active items, but 1 granted and 0 consumed",
            ],
        ),
        (
            "Active after a consumption",
            "UPDATE items SET status = 'Active' WHERE public_id = 'potion'".to_owned(),
            &[
                "(potion): it has a ConsumeItem step but is Active",
                "item type \"potion\": 1 Active items, but 1 granted and 1 consumed",
            ],
        ),
        (
            "a Failed transaction that moved an item",
            "UPDATE transactions SET status = 'Failed', error = 'CONFLICT' WHERE reference_id = 'polish'"
                .to_owned(),
            &["failed but has item steps"],
        ),
    ];
    for (what, tamper, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shop.db");
        let shop = shop(&path).await;
        sql(&path, &tamper);
        let report = shop.ledger.check().await.expect("checks");
        assert!(!report.is_ok(), "{what}: not reported: {report:#?}");
        for needle in expected {
            assert!(
                report.item_mismatches.iter().any(|m| m.contains(needle)),
                "{what}: {needle:?} not in {:#?}",
                report.item_mismatches
            );
        }
    }
}

/// JSON the core takes as properties is JSON to SQLite too: its corners
/// (lone surrogate escapes, escaped NUL, deep nesting, numbers past every
/// float, exponents, non-ASCII) are granted, stored and read back byte for
/// byte, never refused by the schema's `json_valid`.
#[tokio::test]
async fn the_schema_takes_every_json_the_core_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.db");
    let shop = shop(&path).await;
    let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    let corners = [
        r#""\ud800""#,
        r#"{"lone":"\udfff\ud800x"}"#,
        r#""\u0000""#,
        r#""tab\tand\nnewline \"quoted\" \\ \/""#,
        "123456789012345678901234567890123456789012345678901234567890",
        "-0",
        "1e400",
        "-1.5E-400",
        "0.000000000000000000000000000001",
        "[]",
        "{}",
        "null",
        "true",
        r#""été ☕ 𝄞""#,
        r#"{"a":{"a":{"a":[1,{"b":null}]}},"a":2}"#,
        &deep,
    ];
    for (n, json) in corners.iter().enumerate() {
        // The widest the core accepts: API v1's item data (API v2 also
        // bounds the depth, at 64, which `deep` passes).
        let properties = ItemProperties::parse_unbounded(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        let id = format!("c{n}");
        post(
            &shop,
            &format!("corner-{n}"),
            vec![op_grant(&id, "corner", Some("alice"), Some(properties.as_str()))],
        )
        .await;
        let stored = shop
            .ledger
            .item(&shop.caller, ItemId::parse(&id).expect("valid"))
            .await
            .expect("reads");
        assert_eq!(
            stored.properties.as_ref().map(ItemProperties::as_str),
            Some(*json)
        );
        assert_eq!(stored.status, ItemStatus::Active);
    }
    let report = shop.ledger.check().await.expect("checks");
    assert!(report.is_ok(), "{report:#?}");
    // And the check is there: what is not JSON is refused.
    let refused = rusqlite::Connection::open(&path).and_then(|c| {
        c.execute(
            "UPDATE items SET properties = '{\"a\":}' WHERE public_id = 'c0'",
            [],
        )
    });
    assert!(refused.is_err(), "{refused:?}");
}
