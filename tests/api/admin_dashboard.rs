//! The admin dashboard's endpoints (issue 17): the overview, the search and
//! the live feed of a project — behind the admin session like the rest of
//! the admin API, with clear 4xx JSON errors, and answering real activity
//! made through API v2.

use crate::app::v2::{ctx, hold, issue, next_ref, redeem, transfer, Ctx};
use crate::app::{spawn_app_with, TestApp};
use crate::events_support::{eventually, Answer, Receiver, Sse, PATIENCE};
use serde_json::{json, Value};
use wallet_service::config::Settings;

async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, Value) {
    let response = app.admin("GET", path, cookie, None, None).await;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn app() -> TestApp {
    spawn_app_with(|s: &mut Settings| {
        s.webhooks_allow_private_networks = true;
        s.webhook_retry_scale = 1000;
    })
    .await
}

#[tokio::test]
async fn the_dashboard_endpoints_need_an_admin_session_and_a_project() {
    let app = app().await;
    let (cookie, _) = app.admin_login().await;
    let paths = [
        "/projects/default/overview",
        "/projects/default/search?q=x",
        "/projects/default/events/stream",
    ];
    for path in paths {
        for (who, cookie) in [("no session", ""), ("a made-up session", "wallet_admin=forged")] {
            let (status, body) = get(&app, cookie, path).await;
            assert_eq!(status, 401, "{path} with {who}: {body}");
            assert!(body["error"].is_string(), "{path}: a JSON error: {body}");
        }
        let elsewhere = path.replace("/default/", "/no-such-project/");
        let (status, body) = get(&app, &cookie, &elsewhere).await;
        assert_eq!(status, 404, "{elsewhere}: {body}");
        assert!(body["error"].is_string(), "{elsewhere}: {body}");
    }
    let (status, _) = get(&app, &cookie, "/projects/default/overview").await;
    assert_eq!(status, 200, "with the session");
}

#[tokio::test]
async fn bad_input_gets_a_clear_400() {
    let app = app().await;
    let (cookie, _) = app.admin_login().await;
    let long = "x".repeat(201);
    let cases = [
        ("/projects/default/search", "q"),
        ("/projects/default/search?q=", "q must not be empty"),
        ("/projects/default/search?q=%20%20", "q must not be empty"),
        (
            &format!("/projects/default/search?q={long}") as &str,
            "at most 200",
        ),
        ("/projects/default/search?q=a&x=1", "unknown field"),
        (
            "/projects/default/events/stream?after=-1",
            "after must be 0 or more",
        ),
        (
            "/projects/default/events/stream?after=abc",
            "invalid query string",
        ),
    ];
    for (path, words) in cases {
        let (status, body) = get(&app, &cookie, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(words), "{path}: {error:?} should say {words:?}");
    }
    let response = app
        .client
        .get(app.url("/admin/api/projects/default/events/stream"))
        .header("Cookie", &cookie)
        .header("Last-Event-ID", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "a Last-Event-ID that is no seq");
}

/// Alice gets 100, sends 30 to Bob, Bob redeems 10, a hold of 20 is placed
/// on Alice's wallet; a webhook whose receiver answers 500.
async fn activity(app: &TestApp, c: &Ctx) -> (String, String, Receiver, String) {
    let receiver = Receiver::always(Answer::Status(500)).await;
    let hook = c
        .call(app, "POST", "/webhooks", json!({ "url": receiver.url }), 201)
        .await;
    let alice = c.customer_wallet(app, "alice").await;
    let bob = c.customer_wallet(app, "bob").await;
    c.tx_ok(app, vec![issue(&alice, 100)]).await;
    c.tx_ok(app, vec![transfer(&alice, &bob, 30)]).await;
    c.tx_ok(app, vec![redeem(&bob, 10)]).await;
    c.tx_ok(app, vec![hold(&alice, 20, "h-dash")]).await;
    (alice, bob, receiver, hook["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_overview_answers_the_real_activity() {
    let app = app().await;
    let c = ctx(&app, "default").await;
    let gems = c.asset(&app, "GEMS", 1).await;
    let (_alice, _bob, receiver, hook) = activity(&app, &c).await;
    let (cookie, _) = app.admin_login().await;
    eventually("the receiver is tried", || async {
        (!receiver.requests().is_empty()).then_some(())
    })
    .await;

    let o = eventually("the webhook's failure is recorded", || async {
        let (status, o) = get(&app, &cookie, "/projects/default/overview").await;
        assert_eq!(status, 200, "{o}");
        (o["webhooks"][0]["lastDelivery"]["status"] == "Failed").then_some(o)
    })
    .await;

    let assets = o["assets"].as_array().unwrap();
    let default = assets
        .iter()
        .find(|a| a["id"] == c.asset.as_str())
        .expect("the default asset");
    assert_eq!(default["supply"], 90, "100 issued - 10 redeemed: {default}");
    assert_eq!(
        (&default["openHolds"], &default["held"], &default["wallets"]),
        (&json!(1), &json!(20), &json!(2))
    );
    let days = default["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    // Today's, or (past a UTC midnight during the test) today's and yesterday's.
    let total = |kind: &str| days.iter().map(|d| d[kind].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (total("issued"), total("redeemed"), total("expired")),
        (100, 10, 0),
        "{days:?}"
    );
    assert!(days[..28]
        .iter()
        .all(|d| d["issued"] == 0 && d["redeemed"] == 0 && d["expired"] == 0));
    assert_eq!(days[29]["day"].as_i64().unwrap() % 86_400_000, 0, "UTC midnight");
    let gems = assets
        .iter()
        .find(|a| a["id"] == gems.as_str())
        .expect("an asset with no wallet");
    assert_eq!((&gems["supply"], &gems["code"]), (&json!(0), &json!("GEMS")));

    let minutes = o["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 60);
    let counted: i64 = minutes.iter().map(|m| m["transactions"].as_i64().unwrap()).sum();
    assert_eq!(
        counted, 4,
        "the four transactions of the last minutes: {minutes:?}"
    );

    let w = &o["webhooks"][0];
    assert_eq!((&w["id"], &w["url"]), (&json!(hook), &json!(receiver.url)));
    assert_eq!(w["lastDelivery"]["httpStatus"], 500, "{w}");
    assert!(w["failing"].as_u64().unwrap() >= 1, "{w}");
    assert!(w["backlog"].as_i64().unwrap() >= 1, "nothing settled for it: {w}");
    assert_eq!(
        o["head"].as_i64().unwrap(),
        w["cursor"].as_i64().unwrap() + w["backlog"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn the_search_finds_each_kind_with_what_to_open() {
    let app = app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let reference = next_ref("order");
    let grant =
        json!({ "type": "GrantItem", "itemType": "sword", "customerId": "alice", "itemId": "sword-9" });
    let (status, t) = c.tx(&app, &reference, vec![issue(&alice, 5), grant]).await;
    assert_eq!(status, 201, "{t}");
    let (cookie, _) = app.admin_login().await;
    let search = |q: String| {
        let (app, cookie) = (&app, &cookie);
        async move {
            let (status, body) = get(app, cookie, &format!("/projects/default/search?q={q}")).await;
            assert_eq!(status, 200, "{q}: {body}");
            body["results"].as_array().unwrap().clone()
        }
    };
    let found = search(reference.clone()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (&found[0]["kind"], &found[0]["matched"]),
        (&json!("transaction"), &json!("referenceId"))
    );
    assert_eq!(found[0]["transaction"]["id"], t["id"]);
    let found = search(t["id"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (&found[0]["kind"], &found[0]["matched"]),
        (&json!("transaction"), &json!("id"))
    );
    assert_eq!(found[0]["transaction"]["referenceId"], json!(reference));
    let found = search("alice".to_owned()).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (&found[0]["kind"], &found[0]["customer"]["id"]),
        (&json!("customer"), &json!("alice"))
    );
    let found = search("sword-9".to_owned()).await;
    assert_eq!(
        (&found[0]["kind"], &found[0]["item"]["id"]),
        (&json!("item"), &json!("sword-9"))
    );
    assert_eq!(found[0]["item"]["customerId"], "alice", "{found:?}");
    assert!(search("nobody-has-this".to_owned()).await.is_empty());
}

#[tokio::test]
async fn the_live_feed_streams_the_projects_new_events_to_the_session() {
    let app = app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let (cookie, _) = app.admin_login().await;
    let mut feed = Sse::admin(&app, &cookie, "default", "").await;
    let reference = next_ref("live");
    let (status, t) = c.tx(&app, &reference, vec![issue(&alice, 7)]).await;
    assert_eq!(status, 201, "{t}");
    let mut kinds = Vec::new();
    loop {
        let frame = feed.next().await;
        kinds.push(frame.kind.clone());
        if frame.kind == "transaction.completed" {
            assert_eq!(
                frame.data["data"]["referenceId"],
                json!(reference),
                "{:?}",
                frame.data
            );
            break;
        }
        assert!(kinds.len() < 10, "no transaction.completed: {kinds:?}");
    }

    // Resuming after a seq replays what came after it.
    let head = app
        .admin("GET", "/projects/default/events/head", &cookie, None, None)
        .await;
    let head: Value = head.json().await.unwrap();
    let mut again = Sse::admin(
        &app,
        &cookie,
        "default",
        &format!("?after={}", head["seq"].as_i64().unwrap() - 1),
    )
    .await;
    assert_eq!(again.next().await.id, head["seq"].as_i64().unwrap());

    // A logout ends an open stream of that session at its next batch.
    let (other, csrf) = app.admin_login().await;
    let mut closing = Sse::admin(&app, &other, "default", "").await;
    let out = app.admin("POST", "/logout", &other, Some(&csrf), None).await;
    assert!(out.status().is_success(), "logout: {}", out.status());
    c.tx_ok(&app, vec![issue(&alice, 1)]).await;
    let ended = tokio::time::timeout(PATIENCE, closing.ends()).await;
    assert_eq!(ended.ok(), Some(true), "the stream outlived its session");
    // The other session's stream goes on.
    c.tx_ok(&app, vec![issue(&alice, 1)]).await;
    assert!(feed.next().await.id > 0);
}
