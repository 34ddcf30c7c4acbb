//! Races: concurrent spends never overdraw, and every balance stays the sum
//! of its entries.

use serde_json::json;
use std::sync::Arc;
use wallet_testkit::app::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spends_never_overdraw_and_the_count_is_exact() {
    let app = Arc::new(spawn_app().await);
    let a = app.create_authority("default").await;
    // 25 spends of 10 fit in 250; 48 race for them.
    app.entry(&a.token, "spender", 250).await;
    let spenders = 48;
    let mut tasks = Vec::new();
    for i in 0..spenders {
        let app = Arc::clone(&app);
        let token = a.token.clone();
        tasks.push(tokio::spawn(async move {
            app.post_entry(
                &token,
                &json!({ "user_id": "spender", "amount": -10, "reason": format!("spend {i}") }),
            )
            .await
            .status()
            .as_u16()
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => ok += 1,
            402 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 25, "exactly the spends that fit succeed");
    assert_eq!(refused, spenders - 25);
    assert_eq!(app.total(&a.token, "spender").await, Some(0));
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_concurrent_load_keeps_every_invariant() {
    let app = Arc::new(spawn_app().await);
    let a = app.create_authority("default").await;
    let b = app.create_authority("default").await;
    let users = 8;
    let mut tasks = Vec::new();
    for i in 0..200i64 {
        let app = Arc::clone(&app);
        let token = if i % 3 == 0 {
            b.token.clone()
        } else {
            a.token.clone()
        };
        tasks.push(tokio::spawn(async move {
            let user = format!("user{}", (i / 2) % users);
            // Deposits of 5, spends of 3: some spends find no funds yet.
            let amount = if i % 2 == 0 { 5 } else { -3 };
            let status = app
                .post_entry(
                    &token,
                    &json!({ "user_id": user, "amount": amount, "reason": "load" }),
                )
                .await
                .status()
                .as_u16();
            (user, amount, status)
        }));
    }
    let mut expected = std::collections::HashMap::<String, i64>::new();
    for task in tasks {
        let (user, amount, status) = task.await.unwrap();
        assert!(
            status == 200 || (status == 402 && amount < 0),
            "status {status} for {amount}"
        );
        if status == 200 {
            *expected.entry(user).or_default() += amount;
        }
    }
    for (user, total) in expected {
        assert_eq!(app.total(&a.token, &user).await.unwrap_or(0), total, "{user}");
    }
    let report = app.check().await;
    assert!(report.is_ok(), "{report:#?}");
    assert!(report.entries > 100, "the load really ran: {}", report.entries);
}
