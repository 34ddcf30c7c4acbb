//! Events on SQLite with the file edited by hand (as with `sqlite3`):
//! `verify` names the first `seq` that no longer matches an edited entry,
//! an edited event or a deleted one; `check` names broken heads and
//! deliveries; the schema refuses edits of events.

use crate::common;
use std::path::Path;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::events::{Event, EventQuery, EventType};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::Caller;
use wallet_core::text::ReferenceId;
use wallet_core::{Ledger, Store, TransactionOutcome};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

fn sql(path: &Path, statements: &str) {
    rusqlite::Connection::open(path)
        .and_then(|c| c.execute_batch(statements))
        .unwrap_or_else(|e| panic!("{statements}: {e}"));
}

struct Shop {
    ledger: Ledger,
    caller: Caller,
    /// The three issues' transactions.
    issues: Vec<TransactionId>,
}

/// A customer's wallet with three issues (10, 5, 2): ten events.
async fn shop(path: &Path) -> Shop {
    let backend = SqliteBackend::open(&SqliteOptions::new(path)).expect("opens");
    let ledger = Ledger::with_clock(Store::new(Arc::new(backend)), Arc::new(ManualClock::at(1_000)));
    let caller = common::authority(&ledger, "ak_shop").await;
    ledger
        .upsert_customer(&caller, common::customer("alice"), None, None)
        .await
        .expect("created");
    let Caller::Authority(ref a) = caller else {
        unreachable!("an authority")
    };
    let wallet: WalletId = ledger
        .create_wallet(
            &caller,
            Some(common::customer("alice")),
            a.default_asset,
            None,
            None,
        )
        .await
        .expect("opens")
        .id;
    let mut issues = Vec::new();
    for (n, amount) in [10, 5, 2].into_iter().enumerate() {
        let issue = Operation::Issue {
            destination: wallet,
            amount: Quantity::new(amount).expect("positive"),
            expires_at: None,
        };
        let request = TransactionRequest::new(
            ReferenceId::parse(&format!("issue-{n}")).expect("valid"),
            vec![issue],
            None,
        )
        .expect("valid");
        match ledger.post_transaction(&caller, request).await.expect("answered") {
            TransactionOutcome::Completed(t, _) => issues.push(t.id),
            other => panic!("{other:?}"),
        }
    }
    Shop {
        ledger,
        caller,
        issues,
    }
}

async fn feed(shop: &Shop) -> Vec<Event> {
    let query = EventQuery {
        after: 0,
        limit: EventQuery::MAX_LIMIT,
        types: Vec::new(),
    };
    shop.ledger
        .events(&shop.caller, query)
        .await
        .expect("reads")
        .events
}

/// The `wallet.balance_changed` of a transaction.
fn balance_event(feed: &[Event], transaction: TransactionId) -> i64 {
    feed.iter()
        .find(|e| {
            e.kind == EventType::WalletBalanceChanged
                && e.data
                    .get()
                    .contains(&format!("\"transactionId\":\"{transaction}\""))
        })
        .expect("a balance event")
        .seq
}

/// The first mismatch `verify` reports, if any.
async fn first_mismatch(ledger: &Ledger) -> Option<i64> {
    let reports = ledger.verify(None, None).await.expect("verify runs");
    reports.into_iter().find_map(|r| r.mismatch).map(|m| m.seq)
}

#[tokio::test]
async fn verify_finds_an_entry_or_event_edited_or_deleted_with_sqlite3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.db");
    let first = shop(&path).await;
    let events = feed(&first).await;
    assert_eq!(events.len(), 7, "customer.created, then two events per issue");
    assert_eq!(first_mismatch(&first.ledger).await, None);
    drop(first);

    // Each case on a file of its own.
    let middle = 4;
    let cases: Vec<(&str, String, i64)> = vec![
        (
            "an entry's amount",
            "DROP TRIGGER entries_no_update;
             UPDATE entries SET amount = 6, balance_after = 16 WHERE amount = 5;"
                .to_owned(),
            0, // filled in below: the second issue's balance event
        ),
        (
            "an event's data",
            "DROP TRIGGER events_no_update;
             UPDATE events SET data = replace(data, '\"balance\":15', '\"balance\":16') WHERE seq = 5;"
                .to_owned(),
            5,
        ),
        (
            "an event deleted in the middle",
            format!("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {middle};"),
            middle + 1,
        ),
    ];
    for (what, tamper, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shop.db");
        let shop = shop(&path).await;
        let events = feed(&shop).await;
        let expected = if expected == 0 {
            balance_event(&events, shop.issues[1])
        } else {
            expected
        };
        sql(&path, &tamper);
        assert_eq!(first_mismatch(&shop.ledger).await, Some(expected), "{what}");
    }
}

#[tokio::test]
async fn check_names_broken_event_heads_and_deliveries() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "a head past the last event",
            "UPDATE event_heads SET seq = seq + 1",
            "head at seq 8",
        ),
        (
            "an event gone from the middle",
            "DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3",
            "but 6 events from seq 1 to 7",
        ),
        (
            "events without a head",
            "DELETE FROM event_heads",
            "events but no head",
        ),
        (
            "a delivery of no webhook",
            "PRAGMA foreign_keys = OFF;
             INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, at)
             VALUES (99, 1, 1, 'Delivered', 1)",
            "of webhook 99, which is not there",
        ),
        (
            "a delivery past the head",
            "INSERT INTO webhooks (public_id, project_id, url, salt, created_at, cursor, failures,
                                   next_attempt_at)
             VALUES ('wh_x', 'default', 'http://127.0.0.1/', 's', 1, 0, 0, 1);
             INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, at)
             SELECT id, 50, 1, 'Delivered', 1 FROM webhooks",
            "of event 50, past its project's head 7",
        ),
    ];
    for (what, tamper, needle) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shop.db");
        let shop = shop(&path).await;
        assert!(
            shop.ledger.check().await.expect("checks").is_ok(),
            "{what}: before"
        );
        sql(&path, tamper);
        let report = shop.ledger.check().await.expect("checks");
        assert!(
            report.event_mismatches.iter().any(|m| m.contains(needle)),
            "{what}: {needle:?} not in {:#?}",
            report.event_mismatches
        );
        assert!(!report.is_ok(), "{what}");
    }
}

#[tokio::test]
async fn the_schema_refuses_to_edit_or_drop_events_above_the_anchor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shop.db");
    let _shop = shop(&path).await;
    let conn = rusqlite::Connection::open(&path).expect("opens");
    for refused in [
        "UPDATE events SET data = '{}' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 7",
        "UPDATE event_heads SET anchor_seq = 3",
    ] {
        assert!(conn.execute_batch(refused).is_err(), "{refused}");
    }
    conn.execute_batch(
        "UPDATE event_heads SET anchor_seq = 3, anchor_hash = 'h', anchor_pruned_at = 1,
                                anchor_signature = 's';
         DELETE FROM events WHERE seq <= 3;",
    )
    .expect("at or below the anchor, a prune may drop them");
    let left: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("counts");
    assert_eq!(left, 4);
}
