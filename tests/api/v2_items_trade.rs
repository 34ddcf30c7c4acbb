//! A trade — currency one way, an item the other, in one transaction — is
//! all-or-nothing (`spec/items.md`, "Tests must show"): when the buyer
//! cannot pay the item stays, when the seller no longer owns the item no
//! money moves; and of 32 concurrent attempts to sell or consume one item
//! exactly one wins.

use crate::app::spawn_app;
use crate::app::v2::{assert_failed, ctx, next_ref, transfer};
use crate::v2_items::{consume_from, grant, history_of, item_of, move_from, move_to, owned_by};
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test]
async fn a_trade_happens_whole_or_not_at_all() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let seller = c.customer_wallet(&app, "seller").await;
    let buyer = c.customer_wallet(&app, "buyer").await;
    c.fund(&app, &buyer, 60).await;
    c.tx_ok(&app, vec![grant("sword", Some("seller"), "sword")]).await;
    let sell = move_from("sword", Some("seller"), Some("buyer"));
    let pay = transfer(&buyer, &seller, 100);

    // The buyer cannot pay: the item stays, whichever operation comes first.
    for (case, operations) in [
        ("pay, then the item", vec![pay.clone(), sell.clone()]),
        ("the item, then pay", vec![sell.clone(), pay.clone()]),
    ] {
        let before = c.transaction_total(&app).await;
        let reply = c.tx(&app, &next_ref("trade"), operations).await;
        assert_failed(case, &reply, 409, "INSUFFICIENT_FUNDS");
        assert_eq!(
            reply.1["items"],
            json!([]),
            "{case}: a failed one touched no item: {reply:?}"
        );
        let sword = item_of(&app, &c, "sword").await;
        assert_eq!(sword["customerId"], "seller", "{case}: the item stays: {sword}");
        assert_eq!(
            history_of(&app, &c, "sword").await.len(),
            1,
            "{case}: no step was written"
        );
        assert_eq!(
            (c.balance(&app, &buyer).await, c.balance(&app, &seller).await),
            (60, 0),
            "{case}"
        );
        assert_eq!(
            c.transaction_total(&app).await,
            before + 1,
            "{case}: recorded as Failed"
        );
    }

    // The seller no longer owns the item (it went to the shop's stock): no
    // money moves, whichever operation comes first.
    c.fund(&app, &buyer, 40).await;
    c.tx_ok(&app, vec![move_to("sword", None)]).await;
    for (case, operations) in [
        ("pay, then the item", vec![pay.clone(), sell.clone()]),
        ("the item, then pay", vec![sell.clone(), pay.clone()]),
    ] {
        let reply = c.tx(&app, &next_ref("trade"), operations).await;
        assert_failed(case, &reply, 409, "WRONG_ITEM_OWNER");
        assert_eq!(
            (c.balance(&app, &buyer).await, c.balance(&app, &seller).await),
            (100, 0),
            "{case}"
        );
        assert_eq!(
            item_of(&app, &c, "sword").await["customerId"],
            Value::Null,
            "{case}"
        );
        assert!(
            c.entries(&app, &seller).await.is_empty(),
            "{case}: no entry for the seller"
        );
    }

    // Back with the seller, the trade happens whole.
    c.tx_ok(&app, vec![move_from("sword", None, Some("seller"))])
        .await;
    let done = c.tx_ok(&app, vec![pay, sell]).await;
    assert_eq!(done["items"][0]["customerId"], "buyer", "{done}");
    assert_eq!(
        (c.balance(&app, &buyer).await, c.balance(&app, &seller).await),
        (0, 100)
    );
    assert_eq!(owned_by(&app, &c, "buyer").await, vec!["sword".to_owned()]);
    assert_eq!(owned_by(&app, &c, "seller").await, Vec::<String>::new());
    app.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_32_concurrent_sales_and_uses_of_one_item_exactly_one_wins() {
    let app = Arc::new(spawn_app().await);
    let c = Arc::new(ctx(&app, "default").await);
    let seller = c.customer_wallet(&app, "seller").await;
    let mut buyers = Vec::new();
    for i in 0..16 {
        let id = format!("buyer-{i}");
        let wallet = c.customer_wallet(&app, &id).await;
        c.fund(&app, &wallet, 10).await;
        buyers.push((id, wallet));
    }
    c.tx_ok(&app, vec![grant("relic", Some("seller"), "relic")]).await;

    // 16 buyers each try to buy it (pay 10, take it from the seller); 16
    // times the seller tries to use it up.
    let mut tasks = Vec::new();
    for (i, (id, wallet)) in buyers.iter().enumerate() {
        let sale = vec![
            transfer(wallet, &seller, 10),
            move_from("relic", Some("seller"), Some(id)),
        ];
        let usage = vec![consume_from("relic", Some("seller"))];
        for (kind, operations) in [("sale", sale), ("use", usage)] {
            let (app, c) = (Arc::clone(&app), Arc::clone(&c));
            tasks.push(tokio::spawn(async move {
                (kind, i, c.tx(&app, &next_ref("race"), operations).await)
            }));
        }
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (kind, i, reply) = task.await.unwrap();
        if reply.0 == 201 {
            winners.push((kind, i));
            continue;
        }
        assert_eq!(reply.0, 409, "{kind} {i}: {reply:?}");
        assert_eq!(reply.1["status"], "Failed", "{kind} {i}: {reply:?}");
        let error = reply.1["error"].as_str().unwrap_or_default();
        assert!(
            ["WRONG_ITEM_OWNER", "WRONG_ITEM_STATUS"].contains(&error),
            "{kind} {i}: a loser fails on the item: {reply:?}"
        );
    }
    assert_eq!(winners.len(), 1, "exactly one wins: {winners:?}");
    let (kind, i) = winners[0];

    let relic = item_of(&app, &c, "relic").await;
    let steps = history_of(&app, &c, "relic").await;
    assert_eq!(steps.len(), 2, "a grant and exactly one more step: {steps:?}");
    let paid: i64 = {
        let mut total = 0;
        for (_, wallet) in &buyers {
            total += 10 - c.balance(&app, wallet).await;
        }
        total
    };
    match kind {
        "sale" => {
            assert_eq!(relic["customerId"], buyers[i].0.as_str(), "{relic}");
            assert_eq!(relic["status"], "Active", "{relic}");
            assert_eq!(steps[1]["type"], "TransferItem");
            assert_eq!((paid, c.balance(&app, &seller).await), (10, 10), "one buyer paid");
        }
        _ => {
            assert_eq!(
                (&relic["customerId"], &relic["status"]),
                (&json!("seller"), &json!("Consumed"))
            );
            assert_eq!(steps[1]["type"], "ConsumeItem");
            assert_eq!((paid, c.balance(&app, &seller).await), (0, 0), "no buyer paid");
        }
    }
    app.assert_invariants().await;
}
