//! Events on PostgreSQL: the append-only table and pruning below the
//! anchor, `verify` finding rows edited in SQL, the head's lock numbering
//! many writers of two server processes with no gap, LISTEN/NOTIFY ringing
//! another process's bell (and again after its connection was cut),
//! webhooks' leases and queue moves across processes, and `check` naming
//! each broken event invariant.

use crate::common::{open, sql, value, Db};
use std::sync::Arc;
use std::time::Duration;
use wallet_core::clock::Clock;
use wallet_core::events::{settle, Attempt, Event, EventQuery, EventType, RetrySchedule};
use wallet_core::ids::{TransactionId, WalletId};
use wallet_core::policy::Caller;
use wallet_core::{AnchorSigner, TransactionOutcome};
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::fixture::{request, transfer};
use wallet_testkit::{Fixture, TestDb};

/// A second server process on the database: its own backend (writers,
/// pool, bell) and its own clock, starting where the first one's is.
fn second_process(db: &Db) -> Fixture {
    let fx = Fixture::new(TestDb::new(
        Arc::new(PostgresBackend::connect(&PgOptions::new(db.url())).expect("connects")),
        (),
    ));
    fx.clock.set(db.fx.clock.now());
    fx
}

/// Every event of `default`, oldest first.
async fn feed(fx: &Fixture, caller: &Caller) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let page = fx
            .ledger
            .events(
                caller,
                EventQuery {
                    after: events.last().map_or(0, |e: &Event| e.seq),
                    limit: 1000,
                    types: Vec::new(),
                },
            )
            .await
            .expect("reads the feed");
        if page.events.is_empty() {
            return events;
        }
        events.extend(page.events);
    }
}

fn signer() -> AnchorSigner {
    Arc::new(|text: &str| format!("signed:{text}"))
}

/// The first seq `verify` names in `default`, with its reason.
async fn first_mismatch(fx: &Fixture) -> Option<(i64, String)> {
    let reports = fx
        .ledger
        .verify(Some("default".to_owned()), Some(signer()))
        .await
        .expect("verifies");
    reports
        .into_iter()
        .next()
        .expect("one project")
        .mismatch
        .map(|m| (m.seq, m.reason))
}

/// Raw SQL with triggers and foreign keys off (a hand edit of a copy).
fn tamper(url: &str, statement: &str) {
    sql(
        url,
        &format!(
            "SET session_replication_role = replica; {statement}; SET session_replication_role = origin"
        ),
    )
    .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_refuse_update_truncate_and_delete_except_below_the_anchor() {
    let db = open();
    let (caller, wallet) = crate::common::funded(&db, 5).await;
    db.fx.issue(&caller, wallet, 3).await;
    let head: i64 = value(
        db.url(),
        "SELECT seq FROM event_heads WHERE project_id = 'default'",
    )
    .parse()
    .unwrap();
    assert!(head >= 3, "the writes recorded events: {head}");
    for statement in [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let refused = sql(db.url(), statement).expect_err(statement);
        let message = refused.as_db_error().map(|e| e.message().to_owned());
        assert_eq!(
            message.as_deref(),
            Some("events are append-only (dropped only below a pruning anchor)"),
            "{statement}: {refused:?}"
        );
    }

    // Pruning moves the anchor first, then drops what it covers.
    db.fx.clock.advance(10);
    let before = db.fx.clock.now();
    let dropped = db
        .fx
        .ledger
        .prune_events("default".to_owned(), before, signer())
        .await
        .expect("prunes");
    assert_eq!(dropped, u64::try_from(head).unwrap());
    assert_eq!(value(db.url(), "SELECT count(*) FROM events"), "0");
    assert_eq!(
        value(
            db.url(),
            "SELECT seq || ' ' || anchor_seq FROM event_heads WHERE project_id = 'default'"
        ),
        format!("{head} {head}")
    );
    assert_eq!(first_mismatch(&db.fx).await, None, "the anchor verifies");
    db.fx.issue(&caller, wallet, 1).await;
    let events = feed(&db.fx, &caller).await;
    assert_eq!(
        events.first().map(|e| e.seq),
        Some(head + 1),
        "numbered on from the anchor"
    );
    assert_eq!(first_mismatch(&db.fx).await, None);
    db.fx.assert_check().await;
}

/// `w` funded with 10, a Transfer of 3 to `v`, an Issue of 2 to `w`.
async fn history(db: &Db) -> (Caller, WalletId, TransactionId, Vec<Event>) {
    let (caller, w) = crate::common::funded(db, 10).await;
    let v = db.fx.wallet(&caller, None).await;
    let moved = wallet_testkit::answers::completed(db.fx.post(&caller, vec![transfer(w, v, 3)]).await);
    db.fx.issue(&caller, w, 2).await;
    let events = feed(&db.fx, &caller).await;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(events.len()).unwrap()).collect::<Vec<_>>()
    );
    assert_eq!(first_mismatch(&db.fx).await, None, "untouched, it verifies");
    (caller, w, moved.id, events)
}

fn data(event: &Event) -> serde_json::Value {
    serde_json::from_str(event.data.get()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_the_first_seq_an_sql_edit_broke() {
    // An entry's amount: the wallet's balance change in that transaction no
    // longer adds up to what its event says.
    let db = open();
    let (_, w, moved, events) = history(&db).await;
    let changed = events
        .iter()
        .find(|e| {
            let d = data(e);
            e.kind == EventType::WalletBalanceChanged
                && d["walletId"] == w.to_string()
                && d["transactionId"] == moved.to_string()
        })
        .expect("w's balance change in the Transfer");
    tamper(
        db.url(),
        &format!("UPDATE entries SET amount = amount - 1 WHERE transaction_id = {moved} AND wallet_id = {w}"),
    );
    let (seq, reason) = first_mismatch(&db.fx).await.expect("a mismatch");
    assert_eq!(seq, changed.seq, "{reason}");
    assert!(reason.contains("entries"), "{reason}");

    // An event's data: its hash no longer matches.
    let db = open();
    let (_, _, _, events) = history(&db).await;
    let middle = events[events.len() / 2].seq;
    tamper(
        db.url(),
        &format!("UPDATE events SET data = '{{\"edited\":true}}' WHERE seq = {middle}"),
    );
    let (seq, reason) = first_mismatch(&db.fx).await.expect("a mismatch");
    assert_eq!(seq, middle, "{reason}");
    assert!(reason.contains("hash"), "{reason}");

    // A middle event deleted: the next one follows a gap.
    let db = open();
    let (_, _, _, events) = history(&db).await;
    let middle = events[events.len() / 2].seq;
    tamper(db.url(), &format!("DELETE FROM events WHERE seq = {middle}"));
    let (seq, reason) = first_mismatch(&db.fx).await.expect("a mismatch");
    assert_eq!(seq, middle + 1, "{reason}");
    assert!(reason.contains("gap"), "{reason}");
    let report = db.fx.ledger.check().await.expect("checks");
    assert!(
        report
            .event_mismatches
            .iter()
            .any(|m| m.contains(&format!("no event {middle} between"))),
        "{report:?}"
    );
}

/// 160 Transfers among 8 wallets through two processes (two backends,
/// four writer threads each) at once: the feed is 1..N with no gap, in
/// commit order, each transaction's events together, and it replays to the
/// ledger's balances (`verify`), and `check` holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_writers_of_two_processes_number_events_with_no_gap() {
    let db = open();
    let second = second_process(&db);
    let caller = db.fx.authority("default").await;
    let mut wallets = Vec::new();
    for _ in 0..8 {
        wallets.push(db.fx.funded(&caller, None, 1_000).await);
    }
    let processes = [db.fx.ledger.clone(), second.ledger.clone()];
    let tasks: Vec<_> = (0..160usize)
        .map(|i| {
            let (ledger, caller) = (processes[i % 2].clone(), caller.clone());
            let (from, to) = (wallets[i % 8], wallets[(i * 3 + 1) % 8]);
            let to = if to == from { wallets[(i + 1) % 8] } else { to };
            tokio::spawn(async move {
                ledger
                    .post_transaction(
                        &caller,
                        request(
                            &format!("t-{i}"),
                            vec![transfer(from, to, 1 + i64::try_from(i % 5).unwrap())],
                        ),
                    )
                    .await
                    .expect("answered")
            })
        })
        .collect();
    let mut completed = 0;
    for task in tasks {
        if matches!(
            task.await.expect("the task ends"),
            TransactionOutcome::Completed(..)
        ) {
            completed += 1;
        }
    }
    assert_eq!(completed, 160, "every Transfer had the funds");

    let events = feed(&db.fx, &caller).await;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(events.len()).unwrap()).collect::<Vec<_>>(),
        "no gap"
    );
    let transfers = events
        .iter()
        .filter(|e| e.kind == EventType::TransactionCompleted)
        .count();
    assert_eq!(transfers, 8 + 160, "one per transaction");
    // Each transaction's events are together: its balance changes follow
    // its `transaction.completed`, none of another's in between.
    let mut current = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for event in &events {
        let d = data(event);
        match event.kind {
            EventType::TransactionCompleted => {
                current = d["id"].as_str().unwrap().to_owned();
                assert!(seen.insert(current.clone()), "one run of events per transaction");
            }
            EventType::WalletBalanceChanged => {
                assert_eq!(
                    d["transactionId"].as_str(),
                    Some(current.as_str()),
                    "seq {}",
                    event.seq
                );
            }
            _ => {}
        }
    }
    assert_eq!(first_mismatch(&db.fx).await, None, "replays to the ledger");
    assert_eq!(first_mismatch(&second).await, None, "from either process");
    db.fx.assert_check().await;
}

/// The sessions that LISTEN on the database now.
fn listeners(url: &str) -> i64 {
    value(
        url,
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN wallet_events' AND pid <> pg_backend_pid()",
    )
    .parse()
    .unwrap()
}

/// Waits (bounded) until `listeners` is `n`.
async fn listeners_become(url: &str, n: i64) {
    for _ in 0..200 {
        if listeners(url) == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} listeners, not {n}", listeners(url));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_another_process_rings_the_watching_bell_even_after_a_lost_connection() {
    let db = open();
    let caller = db.fx.authority("default").await;
    let wallet = db.fx.wallet(&caller, None).await;
    let watching = second_process(&db);
    watching.ledger.watch_events().expect("listens");
    let bell = watching.ledger.event_bell();
    let mut rings = bell.subscribe();
    rings.borrow_and_update();
    let deadline = Duration::from_secs(20);

    // A write through the other process (the lead's backend).
    db.fx.issue(&caller, wallet, 1).await;
    tokio::time::timeout(deadline, rings.changed())
        .await
        .expect("the watcher rang for the other process's commit")
        .expect("the bell lives");

    // The listening connection is cut: it reconnects and rings once, as
    // what was notified meanwhile is lost.
    listeners_become(db.url(), 1).await;
    rings.borrow_and_update();
    let cut = value(
        db.url(),
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN wallet_events'",
    );
    assert_eq!(cut, "1");
    tokio::time::timeout(deadline, rings.changed())
        .await
        .expect("the watcher rang after reconnecting")
        .expect("the bell lives");
    listeners_become(db.url(), 1).await;
    rings.borrow_and_update();
    db.fx.issue(&caller, wallet, 1).await;
    tokio::time::timeout(deadline, rings.changed())
        .await
        .expect("and rings for commits again")
        .expect("the bell lives");

    // Dropping the backend stops the thread and closes its connection.
    drop(watching);
    listeners_become(db.url(), 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_holds_a_webhooks_lease_and_only_it_moves_the_queue() {
    let db = open();
    let second = second_process(&db);
    let caller = db.fx.authority("default").await;
    let webhook = db
        .fx
        .ledger
        .create_webhook(&caller, "http://127.0.0.1:9/hook".to_owned(), None, None)
        .await
        .expect("registers");
    let wallet = db.fx.funded(&caller, None, 5).await;
    let first = db
        .fx
        .ledger
        .next_webhook_event(&webhook)
        .await
        .expect("reads")
        .expect("an event after the webhook was created");
    assert_eq!(first.seq, webhook.progress.cursor + 1);

    // Both processes try at once: one gets it.
    let (a, b) = tokio::join!(
        db.fx.ledger.lease_webhook(&webhook.id, "a", 30_000),
        second.ledger.lease_webhook(&webhook.id, "b", 30_000)
    );
    let (a, b) = (a.expect("leases"), b.expect("leases"));
    assert!(a ^ b, "exactly one owner: a {a}, b {b}");
    let (owner, other, other_ledger, other_clock) = if a {
        ("a", "b", &second.ledger, &second.clock)
    } else {
        ("b", "a", &db.fx.ledger, &db.fx.clock)
    };
    assert!(!other_ledger
        .lease_webhook(&webhook.id, other, 30_000)
        .await
        .unwrap());

    let now = db.fx.clock.now();
    let delivered = settle(
        &webhook,
        first.seq,
        Attempt::Delivered { http_status: 200 },
        now,
        &RetrySchedule::standard(),
        0.0,
    );
    // The other process, or a stale cursor, moves nothing.
    assert!(!other_ledger
        .record_delivery(other, webhook.progress.cursor, delivered.clone())
        .await
        .unwrap());
    let ledger = if a { &db.fx.ledger } else { &second.ledger };
    assert!(!ledger
        .record_delivery(owner, webhook.progress.cursor + 1, delivered.clone())
        .await
        .unwrap());

    // Past the lease, the other process takes it over; the first owner's
    // late attempt is then refused.
    other_clock.advance(30_001);
    assert!(other_ledger
        .lease_webhook(&webhook.id, other, 30_000)
        .await
        .unwrap());
    assert!(!ledger
        .record_delivery(owner, webhook.progress.cursor, delivered.clone())
        .await
        .unwrap());
    assert!(other_ledger
        .record_delivery(other, webhook.progress.cursor, delivered.clone())
        .await
        .unwrap());
    let moved = db.fx.ledger.webhook(&caller, webhook.id.clone()).await.unwrap();
    assert_eq!(moved.progress.cursor, first.seq);
    let attempts = db
        .fx
        .ledger
        .deliveries(
            &caller,
            webhook.id.clone(),
            None,
            wallet_core::model::PageRequest::ALL,
        )
        .await
        .unwrap();
    let stored: Vec<_> = attempts
        .items
        .iter()
        .filter(|d| d.status != wallet_core::events::DeliveryStatus::Pending)
        .map(|d| (d.event_seq, d.attempt, d.status, d.http_status))
        .collect();
    assert_eq!(
        stored,
        [(
            first.seq,
            1,
            wallet_core::events::DeliveryStatus::Delivered,
            Some(200)
        )]
    );
    let _ = wallet;
    db.fx.assert_check().await;
}

/// Each broken event invariant, made by hand with the triggers and keys
/// off: `check` names it in `event_mismatches`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_every_broken_event_invariant() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "the last event gone",
            "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)",
            "its event head is at {head} but its last event is {last}",
        ),
        (
            "a head moved",
            "UPDATE event_heads SET seq = seq + 1",
            "its event head is at {next} but its last event is {head}",
        ),
        (
            "the first event gone",
            "DELETE FROM events WHERE seq = 1",
            "its first event is 2, not 1",
        ),
        (
            "a middle event gone",
            "DELETE FROM events WHERE seq = 3",
            "no event 3 between 2 and 4",
        ),
        (
            "events without a head",
            "DELETE FROM event_heads",
            "events up to {head} but no event head",
        ),
        (
            "an attempt of no webhook",
            "INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, at) VALUES (9999, 1, 1, 'Delivered', 0)",
            "of webhook 9999, which does not exist",
        ),
        (
            "an attempt at an event past the head",
            "INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, at)
             SELECT id, 1000, 1, 'Failed', 0 FROM webhooks",
            "event 1000 is not one of its project's (head {head})",
        ),
        (
            "a cursor past the head",
            "UPDATE webhooks SET cursor = 1000",
            "its cursor 1000 is past its project's head {head}",
        ),
    ];
    for (what, statement, words) in cases {
        let db = open();
        let (caller, wallet) = crate::common::funded(&db, 5).await;
        db.fx
            .ledger
            .create_webhook(&caller, "http://127.0.0.1:9/hook".to_owned(), None, None)
            .await
            .expect("registers");
        db.fx.issue(&caller, wallet, 1).await;
        db.fx.issue(&caller, wallet, 1).await;
        db.fx.assert_check().await;
        let head: i64 = value(db.url(), "SELECT seq FROM event_heads").parse().unwrap();
        assert!(head >= 5, "{head}");
        tamper(db.url(), statement);
        let words = words
            .replace("{head}", &head.to_string())
            .replace("{last}", &(head - 1).to_string())
            .replace("{next}", &(head + 1).to_string());
        let report = db.fx.ledger.check().await.expect("checks");
        assert!(!report.is_ok(), "{what}");
        assert!(
            report.event_mismatches.iter().any(|m| m.contains(&words)),
            "{what}: {words:?} not in {:?}",
            report.event_mismatches
        );
    }
}
