//! Webhooks over HTTP, with receivers on 127.0.0.1 (so every app here
//! allows private networks, but the refusal test): the secret shown once,
//! retries until a failing receiver answers and a signature the PyPI
//! `standardwebhooks` verifier accepts, a dead receiver that slows neither
//! writes nor another endpoint, per-endpoint order, dead letters after the
//! (scaled) schedule, deliveries and their filter, replay, resumption
//! after a restart, refused URLs, and redirects not followed.

use crate::app::{spawn_app, spawn_app_with, v2, TestApp};
use crate::events_support::{eventually, head, Answer, Receiver};
use serde_json::{json, Value};
use wallet_service::config::Settings;

/// Receivers on 127.0.0.1, and the retry schedule in milliseconds.
fn local(scale: u32) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.webhooks_allow_private_networks = true;
        s.webhook_retry_scale = scale;
    }
}

async fn register(app: &TestApp, ctx: &v2::Ctx, url: &str, types: Option<Value>) -> Value {
    let mut body = json!({ "url": url, "description": "test receiver" });
    if let Some(types) = types {
        body["types"] = types;
    }
    ctx.call(app, "POST", "/webhooks", body, 201).await
}

async fn deliveries(app: &TestApp, ctx: &v2::Ctx, id: &str, query: &str) -> Vec<Value> {
    let page = ctx
        .get_ok(app, &format!("/webhooks/{id}/deliveries?pageSize=1000{query}"))
        .await;
    page["items"].as_array().unwrap().clone()
}

/// Whether the Standard Webhooks verifier accepts `received` with `secret`.
fn standardwebhooks_accepts(
    python: &std::path::Path,
    secret: &str,
    received: &crate::events_support::Received,
) -> Result<(), String> {
    let headers = json!({
        "webhook-id": received.header("webhook-id").unwrap(),
        "webhook-timestamp": received.header("webhook-timestamp").unwrap(),
        "webhook-signature": received.header("webhook-signature").unwrap(),
    });
    let script = "import sys, json\n\
                  from standardwebhooks.webhooks import Webhook\n\
                  secret, headers, body = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]\n\
                  Webhook(secret).verify(body, headers)\n\
                  print('verified')\n";
    let run = crate::common::run_with_timeout(
        std::process::Command::new(python)
            .args(["-c", script, secret])
            .arg(headers.to_string())
            .arg(&received.body),
        crate::common::CLI_TIMEOUT,
    );
    if run.ok() && run.stdout.contains("verified") {
        Ok(())
    } else {
        Err(run.describe())
    }
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_retry_signed_for_standard_webhooks() {
    // The verifier's virtualenv first (made once, off the runtime).
    let python = tokio::task::spawn_blocking(|| {
        crate::common::sdk_python(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
    })
    .await
    .unwrap();
    let app = spawn_app_with(local(1000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let receiver = Receiver::start(|n| {
        if n < 2 {
            Answer::Status(500)
        } else {
            Answer::Status(204)
        }
    })
    .await;
    let created = register(&app, &ctx, &receiver.url, Some(json!(["customer.created"]))).await;
    let (id, secret) = (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    );
    assert!(id.starts_with("wh_"), "{created}");
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(created["types"], json!(["customer.created"]));
    assert_eq!(created["url"], receiver.url.as_str());
    // Never shown again.
    let one = ctx.get_ok(&app, &format!("/webhooks/{id}")).await;
    let list = ctx.get_ok(&app, "/webhooks").await;
    for shown in [&one, &list] {
        assert!(
            !shown.to_string().contains(&secret[6..]),
            "the secret leaked: {shown}"
        );
        assert!(!shown.to_string().contains("secret"), "{shown}");
    }
    assert_eq!(list["items"][0]["id"], id.as_str());
    ctx.customer(&app, "retried").await;
    let delivered = eventually("the event is delivered on the third attempt", || async {
        receiver.delivered().into_iter().next()
    })
    .await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 3, "two failures, then the delivery");
    let event = delivered.event();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["id"], "retried");
    for r in &requests {
        assert_eq!(
            r.header("webhook-id").unwrap(),
            event["id"].as_str().unwrap(),
            "one id for every attempt"
        );
        assert_eq!(r.header("content-type").unwrap(), "application/json");
    }
    // The body is the event as the feed serves it.
    let feed = ctx
        .get_ok(&app, &format!("/events?after={}&limit=1", delivered.seq() - 1))
        .await;
    assert_eq!(feed["events"][0], event);
    standardwebhooks_accepts(&python, &secret, &delivered).expect("standardwebhooks verifies the signature");
    let mut tampered = delivered.clone();
    tampered.body = tampered.body.replace("retried", "retriee");
    assert!(
        standardwebhooks_accepts(&python, &secret, &tampered).is_err(),
        "a changed body is refused"
    );
    // The deliveries: newest first, two Failed (500) then Delivered.
    let rows = eventually("the delivery is recorded", || async {
        let rows = deliveries(&app, &ctx, &id, "").await;
        (rows.first().is_some_and(|r| r["status"] == "Delivered")).then_some(rows)
    })
    .await;
    let summary: Vec<(i64, &str, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["attempt"].as_i64().unwrap(),
                r["status"].as_str().unwrap(),
                r["httpStatus"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (3, "Delivered", json!(204)),
            (2, "Failed", json!(500)),
            (1, "Failed", json!(500))
        ]
    );
    assert!(rows.iter().all(|r| r["eventSeq"] == event["seq"]));
    let failed = deliveries(&app, &ctx, &id, "&status=Failed").await;
    assert_eq!(failed.len(), 2);
    assert!(
        failed[0]["nextAttemptAt"].is_i64() && failed[0]["error"].is_string(),
        "{failed:?}"
    );
    let reply = ctx
        .get(&app, &format!("/webhooks/{id}/deliveries?status=Lost"))
        .await;
    v2::assert_error("bad status", &reply, 400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn a_dead_receiver_never_slows_writes_nor_another_endpoint_which_gets_every_event_in_order() {
    let app = spawn_app_with(local(1000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let dead = Receiver::always(Answer::Hang).await;
    let healthy = Receiver::always(Answer::Status(200)).await;
    let dead_hook = register(&app, &ctx, &dead.url, None).await;
    register(&app, &ctx, &healthy.url, None).await;
    let start = head(&app, &ctx.key).await;
    let wallet = ctx.customer_wallet(&app, "busy").await;
    // Every write completes while the dead endpoint's first delivery hangs.
    const WRITES: i64 = 20;
    for n in 1..=WRITES {
        ctx.fund(&app, &wallet, n).await;
    }
    let end = head(&app, &ctx.key).await;
    assert!(!dead.requests().is_empty() || end > start, "writes went on");
    let got = eventually("the healthy endpoint gets every event", || async {
        let got = healthy.delivered();
        (got.len() as i64 >= end - start).then_some(got)
    })
    .await;
    let seqs: Vec<i64> = got.iter().map(crate::events_support::Received::seq).collect();
    assert_eq!(
        seqs,
        ((start + 1)..=end).collect::<Vec<_>>(),
        "in seq order, each once"
    );
    // The dead one is still on its first event.
    let rows = deliveries(&app, &ctx, dead_hook["id"].as_str().unwrap(), "").await;
    assert_eq!(rows[0]["eventSeq"], start + 1, "{rows:?}");
    assert!(dead.requests().iter().all(|r| r.seq() == start + 1));
    assert_eq!(ctx.balance(&app, &wallet).await, WRITES * (WRITES + 1) / 2);
}

#[tokio::test]
async fn events_go_dead_after_the_schedule_then_replay_sends_them_again_in_order() {
    // Scaled a millionfold: three days of retries in about a quarter second.
    let app = spawn_app_with(local(1_000_000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let receiver = Receiver::always(Answer::Status(503)).await;
    let hook = register(&app, &ctx, &receiver.url, Some(json!(["customer.created"]))).await;
    let id = hook["id"].as_str().unwrap();
    let start = head(&app, &ctx.key).await;
    ctx.customer(&app, "first").await;
    ctx.customer(&app, "second").await;
    let dead = eventually("both events go Dead", || async {
        let dead = deliveries(&app, &ctx, id, "&status=Dead").await;
        (dead.len() == 2).then_some(dead)
    })
    .await;
    assert!(
        dead[0]["eventSeq"].as_i64() > dead[1]["eventSeq"].as_i64(),
        "newest first"
    );
    assert!(dead
        .iter()
        .all(|d| d["httpStatus"] == 503 && d["nextAttemptAt"].is_null()));
    let attempts = receiver.requests().len();
    assert!(attempts >= 4, "retried before giving up: {attempts}");
    // Pending: nothing waits any more.
    assert!(deliveries(&app, &ctx, id, "&status=Pending").await.is_empty());
    // The receiver is fixed; a replay sends both again, in order.
    receiver.rescript(|_| Answer::Status(200));
    let reply = app
        .v2(
            "POST",
            &format!("/webhooks/{id}/replay"),
            Some(&ctx.key),
            Some(&json!({ "after": start })),
        )
        .await;
    assert_eq!(reply.0, 202, "{}", reply.1);
    let got = eventually("the replay is delivered", || async {
        let got = receiver.delivered();
        (got.len() >= 2).then_some(got)
    })
    .await;
    let names: Vec<Value> = got.iter().map(|r| r.event()["data"]["id"].clone()).collect();
    assert_eq!(names, vec![json!("first"), json!("second")]);
    for (body, status) in [
        (json!({ "after": -1 }), 400),
        (json!({}), 400),
        (json!({ "after": 0, "x": 1 }), 400),
    ] {
        let reply = app
            .v2(
                "POST",
                &format!("/webhooks/{id}/replay"),
                Some(&ctx.key),
                Some(&body),
            )
            .await;
        assert_eq!(reply.0, status, "{body}: {}", reply.1);
    }
}

#[tokio::test]
async fn deliveries_resume_after_a_restart_from_the_database() {
    let app = spawn_app_with(local(1000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let receiver = Receiver::always(Answer::Status(500)).await;
    let hook = register(&app, &ctx, &receiver.url, Some(json!(["customer.created"]))).await;
    ctx.customer(&app, "before-restart").await;
    eventually("an attempt failed", || async {
        (!receiver.requests().is_empty()).then_some(())
    })
    .await;
    let database = app.stop().await.expect("the app owns its database");
    receiver.rescript(|_| Answer::Status(200));
    let app = TestApp::spawn_on(database, local(1000)).await;
    let got = eventually("delivered by the restarted server", || async {
        receiver.delivered().into_iter().next()
    })
    .await;
    assert_eq!(got.event()["data"]["id"], "before-restart");
    let rows = deliveries(&app, &ctx, hook["id"].as_str().unwrap(), "").await;
    assert_eq!(rows[0]["status"], "Delivered", "{rows:?}");
    assert!(rows.iter().skip(1).all(|r| r["status"] == "Failed"), "{rows:?}");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let app = spawn_app_with(local(1000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let target = Receiver::always(Answer::Status(200)).await;
    let to: &'static str = Box::leak(target.url.clone().into_boxed_str());
    let redirecting = Receiver::always(Answer::Redirect(to)).await;
    let hook = register(&app, &ctx, &redirecting.url, Some(json!(["customer.created"]))).await;
    ctx.customer(&app, "redirected").await;
    let row = eventually("the redirect is recorded as a failure", || async {
        deliveries(&app, &ctx, hook["id"].as_str().unwrap(), "&status=Failed")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(row["httpStatus"], 302, "{row}");
    assert!(target.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn private_urls_bad_bodies_unknown_webhooks_and_customer_keys_are_refused() {
    let app = spawn_app().await;
    let ctx = v2::ctx(&app, "default").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:192.168.0.1]/",
        "http://100.64.0.1/",
        "ftp://example.com/",
        "not a url",
        "https://user:pw@example.com/",
    ] {
        let reply = app
            .v2("POST", "/webhooks", Some(&ctx.key), Some(&json!({ "url": url })))
            .await;
        v2::assert_error(url, &reply, 400, "VALIDATION_ERROR");
    }
    for body in [
        json!({ "url": "https://example.com/", "types": ["nope.nope"] }),
        json!({ "url": "https://example.com/", "types": [] }),
        json!({ "url": "https://example.com/", "extra": 1 }),
        json!({ "types": ["customer.created"] }),
    ] {
        let reply = app.v2("POST", "/webhooks", Some(&ctx.key), Some(&body)).await;
        v2::assert_error(&body.to_string(), &reply, 400, "VALIDATION_ERROR");
    }
    for (method, path) in [
        ("GET", "/webhooks/wh_nothere"),
        ("DELETE", "/webhooks/wh_nothere"),
        ("GET", "/webhooks/wh_nothere/deliveries"),
        ("GET", "/webhooks/zzz"),
    ] {
        let reply = app.v2(method, path, Some(&ctx.key), None).await;
        v2::assert_error(path, &reply, 404, "WEBHOOK_NOT_FOUND");
    }
    let reply = app
        .v2(
            "POST",
            "/webhooks/wh_nothere/replay",
            Some(&ctx.key),
            Some(&json!({ "after": 0 })),
        )
        .await;
    v2::assert_error("replay", &reply, 404, "WEBHOOK_NOT_FOUND");
    ctx.customer(&app, "outsider").await;
    let ck = crate::events_support::customer_key(&app, &ctx.key, "outsider").await;
    for (method, path) in [("GET", "/webhooks"), ("POST", "/webhooks")] {
        let reply = app
            .v2(
                method,
                path,
                Some(&ck),
                Some(&json!({ "url": "https://example.com/" })),
            )
            .await;
        v2::assert_error(path, &reply, 403, "ACCESS_DENIED");
    }
    // A public literal address is accepted (nothing is sent before an
    // event), and deleting it works once.
    let created = register(&app, &ctx, "https://93.184.215.14/hook", None).await;
    assert_eq!(created["types"], Value::Null, "all types");
    let path = format!("/webhooks/{}", created["id"].as_str().unwrap());
    assert_eq!(app.v2("DELETE", &path, Some(&ctx.key), None).await.0, 204);
    v2::assert_error(
        "deleted",
        &app.v2("GET", &path, Some(&ctx.key), None).await,
        404,
        "WEBHOOK_NOT_FOUND",
    );
}

#[tokio::test]
async fn a_run_of_many_events_is_recorded_in_one_write_a_failure_in_it_is_retried_in_order_and_a_restart_resumes_after_it(
) {
    let app = spawn_app_with(local(1000)).await;
    let ctx = v2::ctx(&app, "default").await;
    let receiver = Receiver::always(Answer::Status(200)).await;
    let hook = register(&app, &ctx, &receiver.url, None).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    let start = head(&app, &ctx.key).await;
    let wallet = ctx.customer_wallet(&app, "runs").await;
    for n in 1..=10 {
        ctx.fund(&app, &wallet, n).await;
    }
    let end = head(&app, &ctx.key).await;
    let events = (end - start) as usize;
    assert!(events >= 20, "{events} events");
    eventually("every event is delivered and recorded", || async {
        (deliveries(&app, &ctx, &id, "&status=Delivered").await.len() == events).then_some(())
    })
    .await;
    // A replay queues them all at once: one run sends them, and one write
    // (beside the replay's and the lease's) records every attempt. The
    // receiver fails the sixth: the run stops there, and the retry's run
    // sends the rest.
    let sent = receiver.requests().len();
    receiver.rescript(move |n| {
        if n == sent + 5 {
            Answer::Status(500)
        } else {
            Answer::Status(200)
        }
    });
    let jobs = app.writer_stats().jobs;
    let reply = app
        .v2(
            "POST",
            &format!("/webhooks/{id}/replay"),
            Some(&ctx.key),
            Some(&json!({ "after": start })),
        )
        .await;
    assert_eq!(reply.0, 202, "{}", reply.1);
    let rows = eventually("the replay is delivered and recorded", || async {
        let rows = deliveries(&app, &ctx, &id, "").await;
        (rows.len() == 2 * events + 1).then_some(rows)
    })
    .await;
    let written = app.writer_stats().jobs - jobs;
    assert!(
        written <= 6,
        "{written} write jobs for {} attempts (the replay; a lease and one record per run)",
        events + 1
    );
    // Every attempt listed, newest first: the replay's (the sixth event
    // twice, failed then delivered), then the first deliveries.
    let listed: Vec<(i64, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["eventSeq"].as_i64().unwrap(),
                r["status"].as_str().unwrap(),
                r["attempt"].as_i64().unwrap(),
            )
        })
        .collect();
    let sixth = start + 6;
    let mut expected: Vec<(i64, &str, i64)> = Vec::new();
    for seq in ((start + 1)..=end).rev() {
        if seq == sixth {
            expected.push((seq, "Delivered", 2));
            expected.push((seq, "Failed", 1));
        } else {
            expected.push((seq, "Delivered", 1));
        }
    }
    expected.extend(((start + 1)..=end).rev().map(|seq| (seq, "Delivered", 1)));
    assert_eq!(listed, expected);
    // What the receiver got: in seq order, the failed one again, nothing
    // skipped.
    let got: Vec<i64> = receiver.requests()[sent..]
        .iter()
        .map(crate::events_support::Received::seq)
        .collect();
    let mut in_order: Vec<i64> = ((start + 1)..=end).collect();
    in_order.insert(6, sixth);
    assert_eq!(got, in_order, "in seq order, the failed event retried");

    // A restart resumes after the recorded cursor: nothing recorded is sent
    // again, the next event is.
    let database = app.stop().await.expect("the app owns its database");
    let before = receiver.requests().len();
    let app = TestApp::spawn_on(database, local(1000)).await;
    ctx.fund(&app, &wallet, 1).await;
    let last = head(&app, &ctx.key).await;
    let resent = eventually("the new events are delivered", || async {
        let all = receiver.requests();
        (all.len() >= before + (last - end) as usize).then(|| all[before..].to_vec())
    })
    .await;
    let seqs: Vec<i64> = resent.iter().map(crate::events_support::Received::seq).collect();
    assert_eq!(
        seqs,
        ((end + 1)..=last).collect::<Vec<_>>(),
        "from the recorded cursor on"
    );
}
