//! The admin dashboard's overview (`Ledger::overview`, the port's
//! `ledger_stats`) on real data, on the fixture's clock: supply per asset,
//! issued / redeemed / expired per UTC day with zeros on quiet days, the
//! Completed transactions per minute of the last hour, Open holds, each
//! webhook's health and backlog; and the search by each kind of id.

use crate::answers::{completed, failed};
use crate::fixture::{hold, issue, issue_expiring, redeem, transfer, Fixture, T0};
use crate::harness::TestDb;
use wallet_core::events::{settle, Attempt, DeliveryStatus, RetrySchedule};
use wallet_core::model::Millis;
use wallet_core::overview::{DayTotals, DAY, MINUTE};
use wallet_core::planner::FailCode;

/// Activity on two UTC days (either side of a midnight), one older issue
/// (outside the 30 days, inside the supply), a lot's expiry, an Open hold,
/// another project's activity (never counted), and a webhook with one failed
/// attempt: every number the overview answers is the one the ledger implies.
pub async fn the_overview_sums_real_activity_per_utc_day_and_minute(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let caller = fx.authority("pa").await;
    let other = fx.authority("pb").await;
    fx.customer(&caller, "alice").await;
    let w1 = fx.wallet(&caller, Some("alice")).await;
    let w2 = fx.wallet(&caller, None).await;
    let w3 = fx.wallet(&caller, None).await;
    let elsewhere = fx.wallet(&other, None).await;
    let hook = fx
        .ledger
        .create_webhook(&caller, "http://127.0.0.1:9/hook".to_owned(), None, None)
        .await
        .expect("created");

    // 2023-11-14: 32 days before `day`, outside the daily series.
    fx.issue(&caller, w1, 7).await;
    let day: Millis = (T0 / DAY + 32) * DAY;
    let next_day = day + DAY;
    fx.clock.set(day + 21 * 3_600_000);
    fx.issue(&caller, w1, 5).await;
    fx.clock.set(next_day - 30_000); // 23:59:30
    fx.issue(&caller, w1, 100).await;
    completed(fx.post(&caller, vec![transfer(w1, w2, 30)]).await);
    completed(fx.post(&caller, vec![redeem(w2, 10)]).await);
    // Recorded, Failed: counted in no minute and no day.
    failed(
        fx.post(&caller, vec![issue(w1, 1), redeem(w2, 10_000)]).await,
        FailCode::InsufficientFunds,
    );
    fx.issue(&other, elsewhere, 1_000).await;
    fx.clock.set(next_day + 10_000); // 00:00:10, the next UTC day
    completed(
        fx.post(&caller, vec![issue_expiring(w3, 50, next_day + 40_000)])
            .await,
    );
    completed(fx.post(&caller, vec![hold("h1", w1, 20, None, None)]).await);
    fx.clock.set(next_day + 60_000);
    assert_eq!(fx.ledger.expire_due_lots().await.expect("expires"), 1);

    // One failed attempt at the webhook's first event.
    let first = fx
        .ledger
        .next_webhook_event(&hook)
        .await
        .expect("reads")
        .expect("queued");
    assert!(fx
        .ledger
        .lease_webhook(&hook.id, "w1", 10_000)
        .await
        .expect("leases"));
    let failure = Attempt::Failed {
        http_status: Some(503),
        error: "HTTP 503".to_owned(),
    };
    let run = settle(
        &hook,
        first.seq,
        failure,
        fx.ledger.now(),
        &RetrySchedule::standard(),
        0.0,
    );
    assert!(fx
        .ledger
        .record_delivery("w1", hook.progress.cursor, run)
        .await
        .expect("records"));

    fx.clock.set(next_day + 90_000); // 00:01:30
    let o = fx.ledger.overview(&caller).await.expect("the overview");

    assert_eq!(o.window.days_from, next_day - 29 * DAY);
    assert_eq!(o.assets.len(), 1, "the project's one asset");
    let a = &o.assets[0];
    assert_eq!(
        a.supply,
        7 + 5 + 100 - 10 + 50 - 50,
        "issued - redeemed - expired"
    );
    assert_eq!(
        a.supply,
        i128::from(
            fx.balance(&caller, w1).await + fx.balance(&caller, w2).await + fx.balance(&caller, w3).await
        )
    );
    assert_eq!((a.wallets, a.open_holds, a.held), (3, 1, 20));
    assert_eq!(a.days.len(), 30);
    for (n, d) in a.days.iter().enumerate() {
        assert_eq!(
            d.day,
            o.window.days_from + n as i64 * DAY,
            "UTC midnights, oldest first"
        );
        let expected = match n {
            28 => (105, 10, 0),
            29 => (50, 0, 50),
            _ => (0, 0, 0),
        };
        assert_eq!((d.issued, d.redeemed, d.expired), expected, "day {n}: {d:?}");
    }
    assert_eq!(
        a.days[28],
        DayTotals {
            day,
            issued: 105,
            redeemed: 10,
            expired: 0
        }
    );

    assert_eq!(o.minutes.len(), 60);
    assert_eq!(o.minutes[59].0, next_day + MINUTE, "this minute is last");
    for (n, (minute, count)) in o.minutes.iter().enumerate() {
        assert_eq!(*minute, next_day + MINUTE - (59 - n as i64) * MINUTE);
        let expected = match n {
            57 => 3, // 23:59: issue, transfer, redeem (not the Failed one, nor the other project's)
            58 => 2, // 00:00: the expiring issue, the hold
            59 => 1, // 00:01: the lot's expiry
            _ => 0,
        };
        assert_eq!(*count, expected, "minute {n}");
    }

    let head = fx.ledger.event_head(&caller).await.expect("the head");
    assert_eq!(o.head, head);
    assert_eq!(o.webhooks.len(), 1);
    let w = &o.webhooks[0];
    assert_eq!(w.webhook.id, hook.id);
    assert_eq!(w.backlog, head - hook.progress.cursor, "nothing settled yet");
    assert!(
        w.backlog >= 8,
        "every transaction's events are queued: {}",
        w.backlog
    );
    assert_eq!((w.health.failing, w.health.dead), (1, 0));
    let last = w.last_delivery.as_ref().expect("the failed attempt");
    assert_eq!(
        (last.status, last.http_status, last.event_seq),
        (DeliveryStatus::Failed, Some(503), first.seq)
    );

    // The other project sees only its own.
    let theirs = fx.ledger.overview(&other).await.expect("the overview");
    assert_eq!(theirs.assets[0].supply, 1_000);
    assert_eq!(theirs.assets[0].days[28].issued, 1_000);
    assert_eq!(theirs.minutes.iter().map(|(_, c)| c).sum::<u64>(), 1);
    assert!(theirs.webhooks.is_empty());
}

/// The search finds a transaction by `referenceId` and by id, a customer
/// and an item, only in the caller's project; a text that names nothing
/// (or cannot be an id) finds nothing.
pub async fn the_search_finds_each_kind_of_id_in_the_project_only(db: TestDb) {
    let fx = Fixture::new(db);
    fx.project("pa").await;
    fx.project("pb").await;
    let caller = fx.authority("pa").await;
    let other = fx.authority("pb").await;
    fx.customer(&caller, "alice").await;
    let w = fx.wallet(&caller, Some("alice")).await;
    let t = fx
        .ledger
        .post_transaction(
            &caller,
            crate::fixture::request(
                "order-77",
                vec![
                    issue(w, 5),
                    crate::fixture::grant("sword-1", "sword", Some("alice"), None),
                ],
            ),
        )
        .await
        .expect("answered");
    let t = completed(t);

    let hits = fx
        .ledger
        .search(&caller, "order-77".to_owned())
        .await
        .expect("searches");
    assert_eq!(hits.by_reference.as_ref().map(|t| t.id), Some(t.id));
    assert!(hits.transaction.is_none() && hits.customer.is_none() && hits.item.is_none());
    let hits = fx
        .ledger
        .search(&caller, t.id.to_string())
        .await
        .expect("searches");
    assert_eq!(hits.transaction.as_ref().map(|t| t.id), Some(t.id));
    let hits = fx
        .ledger
        .search(&caller, "alice".to_owned())
        .await
        .expect("searches");
    assert_eq!(hits.customer.as_ref().map(|c| c.id.as_str()), Some("alice"));
    let hits = fx
        .ledger
        .search(&caller, "sword-1".to_owned())
        .await
        .expect("searches");
    let item = hits.item.expect("the item");
    assert_eq!(
        item.owner.map(|o| o.id.as_str().to_owned()),
        Some("alice".to_owned())
    );

    for text in ["order-77", "alice", "sword-1", &t.id.to_string()] {
        let none = fx.ledger.search(&other, text.to_owned()).await.expect("searches");
        assert_eq!(none, Default::default(), "{text} is not in pb");
    }
    let none = fx
        .ledger
        .search(&caller, "x".repeat(300))
        .await
        .expect("searches");
    assert_eq!(none, Default::default(), "too long for any id");
}
