//! `GET /events` and `GET /events/stream`: paging, `next`, the types
//! filter, validation, who may read, long-poll, and a customer key's
//! stream carrying only its customer's events.

use crate::app::{spawn_app, v2};
use crate::events_support::{customer_key, feed_all, head, Sse};
use serde_json::json;

#[tokio::test]
async fn the_feed_pages_gaplessly_filters_by_type_and_refuses_bad_queries() {
    let app = spawn_app().await;
    let ctx = v2::ctx(&app, "default").await;
    let wallet = ctx.customer_wallet(&app, "feeder").await;
    for amount in [5, 7, 9] {
        ctx.fund(&app, &wallet, amount).await;
    }
    let all = feed_all(&app, &ctx.key, 0).await;
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gapless from 1"
    );
    for e in &all {
        assert_eq!(e["id"], format!("default:{}", e["seq"]), "{e}");
        assert_eq!(e["projectId"], "default");
        assert_eq!(e["hash"].as_str().unwrap().len(), 64);
    }
    // Pages of two, each `next` the last seq returned.
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let page = ctx.get_ok(&app, &format!("/events?after={after}&limit=2")).await;
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        if events.is_empty() {
            assert_eq!(page["next"], after, "an empty page's next is its after");
            break;
        }
        assert_eq!(page["next"], events.last().unwrap()["seq"]);
        after = page["next"].as_i64().unwrap();
        paged.extend(events.iter().cloned());
    }
    assert_eq!(paged, all, "pages of two give the same feed");
    // The types filter.
    let completed = ctx
        .get_ok(&app, "/events?types=transaction.completed,customer.created")
        .await;
    let kinds: Vec<&str> = completed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "transaction.completed").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "customer.created").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    // Validation.
    for query in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "wait=31",
        "wait=-1",
        "after=-1",
        "after=x",
        "types=transaction.nope",
        "unknown=1",
    ] {
        let reply = ctx.get(&app, &format!("/events?{query}")).await;
        v2::assert_error(query, &reply, 400, "VALIDATION_ERROR");
    }
    assert_eq!(
        ctx.get_ok(&app, "/events?limit=1000&wait=0").await["events"]
            .as_array()
            .unwrap()
            .len(),
        all.len()
    );
    // A customer key may not read the feed (it may stream its own events).
    let ck = customer_key(&app, &ctx.key, "feeder").await;
    let reply = app.v2("GET", "/events", Some(&ck), None).await;
    v2::assert_error("customer key on /events", &reply, 403, "ACCESS_DENIED");
    let reply = app.v2("GET", "/events", None, None).await;
    assert_eq!(reply.0, 401, "no key: {}", reply.1);
}

#[tokio::test]
async fn a_long_poll_is_woken_by_a_write_and_an_idle_one_answers_empty_with_next_after() {
    let app = spawn_app().await;
    let ctx = v2::ctx(&app, "default").await;
    let wallet = ctx.customer_wallet(&app, "poller").await;
    let start = head(&app, &ctx.key).await;
    let poll = {
        let (client, url, key) = (
            app.client.clone(),
            app.url(&format!(
                "/api/v2/events?after={start}&wait=30&types=transaction.completed"
            )),
            ctx.key.clone(),
        );
        tokio::spawn(async move {
            let reply = client.get(url).bearer_auth(key).send().await.unwrap();
            assert_eq!(reply.status().as_u16(), 200);
            reply.json::<serde_json::Value>().await.unwrap()
        })
    };
    let tx = ctx.tx_ok(&app, vec![v2::issue(&wallet, 11)]).await;
    let page = tokio::time::timeout(std::time::Duration::from_secs(60), poll)
        .await
        .expect("the long-poll answered")
        .unwrap();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["data"]["id"], tx["id"], "{page}");
    assert_eq!(page["next"], events[0]["seq"]);
    // Nothing after the head: an empty answer once `wait` passes.
    let now = head(&app, &ctx.key).await;
    let idle = ctx.get_ok(&app, &format!("/events?after={now}&wait=1")).await;
    assert_eq!(idle, json!({"events": [], "next": now}));
}

#[tokio::test]
async fn a_customer_keys_stream_carries_only_its_customers_events() {
    let app = spawn_app().await;
    let ctx = v2::ctx(&app, "default").await;
    let alice = ctx.customer_wallet(&app, "alice").await;
    let bob = ctx.customer_wallet(&app, "bob").await;
    let carol = ctx.customer_wallet(&app, "carol").await;
    ctx.fund(&app, &alice, 100).await;
    let (alice_key, bob_key) = (
        customer_key(&app, &ctx.key, "alice").await,
        customer_key(&app, &ctx.key, "bob").await,
    );
    let mut alice_stream = Sse::open(&app, &alice_key, "", None).await;
    let mut bob_stream = Sse::open(&app, &bob_key, "", None).await;
    let mut all_stream = Sse::open(&app, &ctx.key, "", None).await;
    // Carol's own business, then a transfer between alice and bob, then
    // one more of carol's, then a marker on alice alone.
    ctx.fund(&app, &carol, 50).await;
    let between = ctx.tx_ok(&app, vec![v2::transfer(&alice, &bob, 30)]).await;
    ctx.tx_ok(&app, vec![v2::redeem(&carol, 5)]).await;
    let marker = ctx.tx_ok(&app, vec![v2::redeem(&alice, 1)]).await;
    let mut seen = Vec::new();
    loop {
        let frame = alice_stream.next().await;
        assert!(!touches(&frame, &carol, "carol"), "alice saw {}", frame.data);
        assert!(touches(&frame, &alice, "alice"), "alice saw {}", frame.data);
        assert_eq!(frame.id, frame.data["seq"].as_i64().unwrap());
        assert_eq!(frame.kind, frame.data["type"].as_str().unwrap());
        let done = frame.kind == "transaction.completed" && frame.data["data"]["id"] == marker["id"];
        seen.push(frame);
        if done {
            break;
        }
    }
    let completed = |frames: &[crate::events_support::Frame], tx: &serde_json::Value| {
        frames
            .iter()
            .any(|f| f.kind == "transaction.completed" && f.data["data"]["id"] == tx["id"])
    };
    assert!(completed(&seen, &between), "the transfer reaches alice");
    assert!(
        seen.iter()
            .any(|f| f.kind == "wallet.balance_changed" && f.data["data"]["walletId"] == alice.as_str()),
        "alice sees her balance move"
    );
    // Bob gets the transfer too; the access key's stream gets everything.
    let mut bob_seen = Vec::new();
    while !completed(&bob_seen, &between) {
        let frame = bob_stream.next().await;
        assert!(!touches(&frame, &carol, "carol"), "bob saw {}", frame.data);
        bob_seen.push(frame);
    }
    let mut every = Vec::new();
    while !completed(&every, &marker) {
        every.push(all_stream.next().await);
    }
    assert!(
        every.iter().any(|f| touches(f, &carol, "carol")),
        "the access key sees carol"
    );
    let seqs: Vec<i64> = every.iter().map(|f| f.id).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gapless: {seqs:?}");
}

#[tokio::test]
async fn a_stream_resumes_after_last_event_id_and_without_it_starts_with_new_events() {
    let app = spawn_app().await;
    let ctx = v2::ctx(&app, "default").await;
    let wallet = ctx.customer_wallet(&app, "resumer").await;
    ctx.fund(&app, &wallet, 3).await;
    let all = feed_all(&app, &ctx.key, 0).await;
    assert!(all.len() >= 3);
    // Last-Event-ID wins over `after`.
    let mut resumed = Sse::open(&app, &ctx.key, "?after=0", Some("2")).await;
    let first = resumed.next().await;
    assert_eq!(first.id, 3, "resumes after Last-Event-ID");
    assert_eq!(first.data, all[2], "served as the feed serves it");
    let mut from_after = Sse::open(&app, &ctx.key, "?after=1", None).await;
    assert_eq!(from_after.next().await.id, 2);
    // No after, no Last-Event-ID: the next new event first.
    let head = all.last().unwrap()["seq"].as_i64().unwrap();
    let mut fresh = Sse::open(&app, &ctx.key, "", None).await;
    ctx.fund(&app, &wallet, 4).await;
    assert_eq!(fresh.next().await.id, head + 1);
    // A bad Last-Event-ID or type is refused.
    for (query, header) in [("", "x"), ("", "-3"), ("?types=nope", "1"), ("?after=-1", "")] {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v2/events/stream{query}")))
            .bearer_auth(&ctx.key);
        if !header.is_empty() {
            request = request.header("last-event-id", header);
        }
        let reply = crate::app::json_of(request.send().await.unwrap()).await;
        v2::assert_error(&format!("{query} {header}"), &reply, 400, "VALIDATION_ERROR");
    }
    // Stopping the server ends the open streams (it does not hang on them).
    drop(resumed);
    app.stop().await;
    assert!(from_after.ends().await, "the stream ended with the server");
}

/// Whether an event names `customer` or its wallet `wallet`: a wallet's or
/// a balance's `walletId`, a transaction's operations, a customer's `id`.
fn touches(frame: &crate::events_support::Frame, wallet: &str, customer: &str) -> bool {
    let data = &frame.data["data"];
    if data["walletId"] == wallet || data["customerId"] == customer {
        return true;
    }
    if frame.kind.starts_with("customer.") {
        return data["id"] == customer;
    }
    if frame.kind.starts_with("wallet.") {
        return data["id"] == wallet;
    }
    data["operations"].as_array().is_some_and(|ops| {
        ops.iter()
            .any(|op| op["source"] == wallet || op["destination"] == wallet)
    })
}
