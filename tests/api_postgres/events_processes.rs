//! Events across two server processes on one PostgreSQL database (two
//! apps, each with its own store, writers, bell and webhook worker): the
//! feed stays gapless under writes on both, a long-poll on one is answered
//! with a write made on the other (LISTEN/NOTIFY rings its bell), and a
//! webhook gets each event once (one attempt per event: the endpoint's
//! lease keeps the other process off it).

use crate::app::{spawn_app_with, v2};
use crate::events_support::{eventually, feed_all, head, Answer, Receiver};
use serde_json::json;
use wallet_service::config::Settings;

fn local(s: &mut Settings) {
    s.webhooks_allow_private_networks = true;
    s.webhook_retry_scale = 1000;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_keep_one_gapless_feed_wake_each_others_polls_and_deliver_each_event_once() {
    let a = spawn_app_with(local).await;
    let b = a.spawn_beside(local).await;
    let ctx = v2::ctx(&a, "default").await;
    let receiver = Receiver::always(Answer::Status(200)).await;
    ctx.call(
        &a,
        "POST",
        "/webhooks",
        json!({ "url": receiver.url, "types": ["transaction.completed"] }),
        201,
    )
    .await;
    let wallet = ctx.customer_wallet(&a, "shared").await;
    // A long-poll on A, answered by a write on B.
    let start = head(&a, &ctx.key).await;
    let poll = {
        let (client, url, key) = (
            a.client.clone(),
            a.url(&format!(
                "/api/v2/events?after={start}&wait=30&types=transaction.completed"
            )),
            ctx.key.clone(),
        );
        tokio::spawn(async move {
            let reply = client.get(url).bearer_auth(key).send().await.unwrap();
            reply.json::<serde_json::Value>().await.unwrap()
        })
    };
    let on_b = ctx.tx_ok(&b, vec![v2::issue(&wallet, 1)]).await;
    let page = tokio::time::timeout(std::time::Duration::from_secs(60), poll)
        .await
        .expect("the long-poll on A answered")
        .unwrap();
    assert_eq!(page["events"][0]["data"]["id"], on_b["id"], "{page}");
    // Writes on both at once.
    const EACH: i64 = 15;
    tokio::join!(writes(&a, &ctx, &wallet, EACH), writes(&b, &ctx, &wallet, EACH));
    let from_a = feed_all(&a, &ctx.key, 0).await;
    let from_b = feed_all(&b, &ctx.key, 0).await;
    assert_eq!(from_a, from_b, "one feed");
    let seqs: Vec<i64> = from_a.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gapless");
    let completed: Vec<i64> = from_a
        .iter()
        .filter(|e| e["type"] == "transaction.completed")
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(completed.len() as i64, 2 * EACH + 1);
    let got = eventually("every transaction reaches the webhook", || async {
        let got = receiver.delivered();
        (got.len() >= completed.len()).then_some(got)
    })
    .await;
    let delivered: Vec<i64> = got.iter().map(crate::events_support::Received::seq).collect();
    assert_eq!(
        delivered, completed,
        "each event once, in seq order, across the processes"
    );
    b.stop().await;
    a.stop().await;
}

async fn writes(app: &crate::app::TestApp, ctx: &v2::Ctx, wallet: &str, n: i64) {
    for amount in 1..=n {
        ctx.tx_ok(app, vec![v2::issue(wallet, amount)]).await;
    }
}
