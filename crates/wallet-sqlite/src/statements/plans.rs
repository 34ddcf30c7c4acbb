//! The query plans of the item reads that must never scan a project's
//! items: a transaction's items (a duplicate referenceId's answer) and API
//! v1's inventory, whichever filter it has; and of the lot reads that run
//! on every transfer (`lots_of`), every wallet shown (`expiring`, and in the
//! wallet's own read `wallet_with_expiring`) and every
//! expiry pass (`due_lots`, `next_lot_expiry`), which must neither scan nor
//! sort; and of the admin overview's series, which read the window's
//! transactions and their entries, never every entry. An index dropped or a
//! statement respelled so the planner prefers a scan fails here, not in
//! production on a project with a million items.
#![allow(clippy::unwrap_used)]

use super::{items, lots, overview, v1, wallets};
use rusqlite::Connection;
use wallet_core::ids::EntryId;
use wallet_core::v1::InventoryFilter;

/// The plan's steps of `sql`, every parameter NULL.
fn plan(sql: &str) -> Vec<String> {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::migrations::migrate(&mut conn).unwrap();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let count = stmt.parameter_count();
    let nulls = vec![rusqlite::types::Null; count];
    let rows = stmt
        .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn assert_uses(sql: &str, expected: &[&str]) {
    let steps = plan(sql);
    assert!(
        !steps.iter().any(|s| s == "SCAN i" || s.starts_with("SCAN i ")),
        "a scan of items: {steps:#?}"
    );
    for index in expected {
        assert!(steps.iter().any(|s| s.contains(index)), "{index} in {steps:#?}");
    }
}

#[test]
fn a_transactions_items_are_found_from_its_steps() {
    let steps = plan(&items::transaction_items_sql());
    assert!(
        steps
            .iter()
            .any(|s| s.contains("item_steps USING INDEX item_steps_by_transaction")),
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("i USING INTEGER PRIMARY KEY")),
        "each item by its rowid, not the project's items searched: {steps:#?}"
    );
}

#[test]
fn the_inventory_uses_an_index_whatever_it_is_filtered_by() {
    let by_user = InventoryFilter {
        user_ids: Some(vec!["ann".to_owned()]),
        ..InventoryFilter::default()
    };
    assert_uses(&v1::inventory_sql(&by_user), &["items_by_owner"]);
    let by_entry = InventoryFilter {
        entry_ids: Some(vec![EntryId::new(1)]),
        ..InventoryFilter::default()
    };
    assert_uses(&v1::inventory_sql(&by_entry), &["items_v1_entry (v1_entry_id=?)"]);
    let all = v1::inventory_sql(&InventoryFilter::default());
    assert_uses(&all, &["items_v1_entry"]);
    assert!(
        !plan(&all).iter().any(|s| s.contains("TEMP B-TREE FOR ORDER BY")),
        "already in entry order: {:#?}",
        plan(&all)
    );
}

/// No step of the plan sorts (a temp b-tree) or scans a table whole.
fn assert_no_sort_or_scan(what: &str, steps: &[String]) {
    assert!(
        !steps.iter().any(|s| s.contains("TEMP B-TREE")),
        "{what}: a sort: {steps:#?}"
    );
    assert!(
        !steps.iter().any(|s| s.starts_with("SCAN ")),
        "{what}: a scan: {steps:#?}"
    );
}

#[test]
fn a_wallets_open_lots_are_one_range_of_their_index_in_spending_order() {
    let steps = plan(&lots::LOTS_OF_SQL);
    assert_no_sort_or_scan("lots_of", &steps);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("lots_by_wallet (wallet_id=? AND status=?)")),
        "{steps:#?}"
    );
}

#[test]
fn what_expires_when_is_summed_along_the_index_without_a_sort() {
    let steps = plan(lots::EXPIRING_SQL);
    assert_no_sort_or_scan("expiring", &steps);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("lots_by_wallet (wallet_id=? AND status=?)")),
        "{steps:#?}"
    );
}

#[test]
fn a_wallet_and_what_it_has_expiring_are_one_statement_along_the_index_without_a_sort() {
    let steps = plan(&wallets::WALLET_WITH_EXPIRING_SQL);
    assert_no_sort_or_scan("wallet_with_expiring", &steps);
    for step in [
        "w USING INTEGER PRIMARY KEY",
        "lots_by_wallet (wallet_id=? AND status=?)",
    ] {
        assert!(steps.iter().any(|s| s.contains(step)), "{step} in {steps:#?}");
    }
}

#[test]
fn the_expiry_queue_reads_the_partial_index_in_order() {
    for (what, sql) in [
        ("due_lots", lots::DUE_LOTS_SQL),
        ("next_lot_expiry", lots::NEXT_LOT_EXPIRY_SQL),
    ] {
        let steps = plan(sql);
        assert_no_sort_or_scan(what, &steps);
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX lots_due") || s.contains("USING COVERING INDEX lots_due")),
            "{what}: {steps:#?}"
        );
    }
}

/// How often `sql` was prepared again over five runs with other values.
fn reprepares(sql: &str, params: impl Fn(i64) -> Vec<rusqlite::types::Value>) -> i32 {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::migrations::migrate(&mut conn).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    for i in 0..5 {
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params(i)), |_| Ok(()))
            .unwrap();
        assert!(rows.count() <= 1);
    }
    stmt.get_status(rusqlite::StatementStatus::RePrepare)
}

/// A wallet by id and project compared the project's bound value with the
/// partial index `wallets_system`, and a bound `LIMIT` on a join was read
/// by the planner: either way SQLite prepared the statement again on every
/// run with another value, parsing and planning it per wallet read.
#[test]
fn the_wallet_reads_are_prepared_once_whatever_they_are_bound_to() {
    use rusqlite::types::Value;
    let by_id = |i: i64| vec![Value::Integer(i), Value::Text(format!("p{i}"))];
    assert_eq!(reprepares(&wallets::wallet_sql(), by_id), 0, "wallet");
    assert_eq!(
        reprepares(&wallets::WALLET_WITH_EXPIRING_SQL, by_id),
        0,
        "wallet_with_expiring"
    );
}

#[test]
fn the_overviews_series_read_a_range_of_transactions_and_their_entries_only() {
    let steps = plan(overview::DAYS_SQL);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("transactions_by_time") && s.contains("created_at>?")),
        "a range of transactions_by_time: {steps:#?}"
    );
    assert!(
        steps.iter().any(|s| s.contains("entries_by_transaction")),
        "entries by transaction: {steps:#?}"
    );
    assert!(
        !steps
            .iter()
            .any(|s| s.starts_with("SCAN e") || s.starts_with("SCAN entries")),
        "a scan of entries: {steps:#?}"
    );
    let steps = plan(overview::MINUTES_SQL);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("transactions_by_time") && s.contains("created_at>?")),
        "a range of transactions_by_time: {steps:#?}"
    );
}
