//! Holds racing over HTTP (`spec/holds.md`, "Tests must show"): concurrent
//! Holds never reserve more than is available, and of a Capture and a Void
//! of one hold racing, exactly one wins and value is conserved.

use crate::app::spawn_app;
use crate::app::v2::{assert_failed, capture, ctx, hold, hold_to, next_ref, void};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_holds_reserve_exactly_what_is_available() {
    let app = Arc::new(spawn_app().await);
    let c = Arc::new(ctx(&app, "default").await);
    let wallet = c.customer_wallet(&app, "w").await;
    c.fund(&app, &wallet, 100).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (app, c, wallet) = (Arc::clone(&app), Arc::clone(&c), wallet.clone());
        tasks.push(tokio::spawn(async move {
            c.tx(
                &app,
                &format!("race-{i}"),
                vec![hold(&wallet, 7, &format!("h{i}"))],
            )
            .await
        }));
    }
    let (mut placed, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.0 {
            201 => placed += 1,
            _ => {
                assert_failed("a hold beyond available", &reply, 409, "INSUFFICIENT_FUNDS");
                refused += 1;
            }
        }
    }
    assert_eq!((placed, refused), (14, 50), "exactly 14 holds of 7 fit in 100");
    assert_eq!(c.funds(&app, &wallet).await, (100, 98, 2, 0));
    let open = c
        .get_ok(&app, &format!("/wallets/{wallet}/holds?status=Open&pageSize=100"))
        .await;
    assert_eq!(open["total"], 14, "{open}");
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_capture_and_a_void_racing_on_one_hold_exactly_one_wins() {
    let app = Arc::new(spawn_app().await);
    let c = Arc::new(ctx(&app, "default").await);
    let source = c.customer_wallet(&app, "source").await;
    let destination = c.customer_wallet(&app, "destination").await;
    c.fund(&app, &source, 160).await;
    let pairs = 16;
    for k in 0..pairs {
        c.tx_ok(&app, vec![hold_to(&source, &destination, 10, &format!("p{k}"))])
            .await;
    }
    let mut tasks = Vec::new();
    for k in 0..pairs {
        for op in [capture(&format!("p{k}"), None), void(&format!("p{k}"))] {
            let (app, c) = (Arc::clone(&app), Arc::clone(&c));
            tasks.push(tokio::spawn(async move {
                let kind = op["type"].as_str().unwrap().to_owned();
                (kind, c.tx(&app, &next_ref("pair"), vec![op]).await)
            }));
        }
    }
    let mut captured = 0;
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    for (k, pair) in results.chunks(2).enumerate() {
        let winners: Vec<&str> = pair
            .iter()
            .filter(|(_, reply)| reply.0 == 201)
            .map(|(kind, _)| kind.as_str())
            .collect();
        assert_eq!(winners.len(), 1, "pair {k}: exactly one wins: {pair:?}");
        let (_, loser) = pair.iter().find(|(_, reply)| reply.0 != 201).unwrap();
        assert_failed(&format!("pair {k} loser"), loser, 409, "WRONG_HOLD_STATUS");
        let status = c.hold_of(&app, &format!("p{k}")).await["status"].clone();
        let expected = if winners[0] == "Capture" {
            "Captured"
        } else {
            "Voided"
        };
        assert_eq!(status, expected, "pair {k}: the hold as the winner left it");
        if winners[0] == "Capture" {
            captured += 10;
        }
    }
    let (source_balance, held, _, _) = c.funds(&app, &source).await;
    assert_eq!(held, 0, "every hold ended");
    assert_eq!(c.balance(&app, &destination).await, captured);
    assert_eq!(source_balance + captured, 160, "value is conserved");
    app.assert_invariants().await;
}
