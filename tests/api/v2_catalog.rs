//! API v2 catalog: the project, assets and customers (suspend, resume, delete).

use serde_json::{json, Value};
use wallet_testkit::app::spawn_app;
use wallet_testkit::app::v2::{assert_error, assert_failed, ctx, ids, issue, next_ref, redeem};

#[tokio::test]
async fn the_project_shows_its_default_asset() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let project = c.get_ok(&app, "/project").await;
    assert_eq!(project["id"], "default");
    assert!(project["name"].is_string(), "{project}");
    assert!(project["createdAt"].is_i64(), "{project}");
    let assets = project["assets"].as_array().expect("assets");
    let default = assets
        .iter()
        .find(|a| a["id"] == c.asset.as_str())
        .expect("default asset listed");
    for field in ["code", "name"] {
        assert!(default[field].is_string(), "{field}: {default}");
    }
    assert!(default["fractions"].as_i64().is_some_and(|f| f >= 1), "{default}");
}

#[tokio::test]
async fn assets_are_created_listed_renamed_and_deleted_when_unused() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let created = c
        .call(
            &app,
            "POST",
            "/assets",
            json!({"name": "Euro", "code": "EUR", "fractions": 100}),
            201,
        )
        .await;
    let eur = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            &created["code"],
            &created["name"],
            &created["fractions"],
            &created["used"]
        ),
        (&json!("EUR"), &json!("Euro"), &json!(100), &json!(false)),
        "{created}"
    );
    let dup = json!({"name": "Other", "code": "EUR", "fractions": 1});
    let reply = app.v2("POST", "/assets", Some(&c.key), Some(&dup)).await;
    assert_error("duplicate code", &reply, 409, "CONFLICT");
    let hours = c.asset(&app, "HOURS", 24).await;

    // Three assets: the default, EUR, HOURS.
    let all = c.get_ok(&app, "/assets").await;
    assert_eq!(all["total"], 3, "{all}");
    assert_eq!(
        (&all["page"], &all["pageSize"]),
        (&json!(0), &json!(20)),
        "defaults: {all}"
    );
    let mut seen = Vec::new();
    for page in 0..3 {
        let one = c.get_ok(&app, &format!("/assets?page={page}&pageSize=1")).await;
        assert_eq!(
            (&one["total"], &one["page"], &one["pageSize"]),
            (&json!(3), &json!(page), &json!(1))
        );
        seen.extend(ids(&one));
    }
    seen.sort();
    let mut expected = vec![c.asset.clone(), eur.clone(), hours.clone()];
    expected.sort();
    assert_eq!(seen, expected, "paging visits every asset once");

    assert_eq!(c.get_ok(&app, &format!("/assets/{eur}")).await, created);
    let renamed = c
        .call(
            &app,
            "PUT",
            &format!("/assets/{eur}/name"),
            json!({"name": "Euro €"}),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "Euro €");
    assert_eq!(c.get_ok(&app, &format!("/assets/{eur}")).await["name"], "Euro €");

    let (status, _) = app
        .v2("DELETE", &format!("/assets/{hours}"), Some(&c.key), None)
        .await;
    assert_eq!(status, 204, "an unused asset can be deleted");
    let gone = c.get(&app, &format!("/assets/{hours}")).await;
    assert_error("deleted asset", &gone, 404, "ASSET_NOT_FOUND");

    c.customer(&app, "alice").await;
    c.wallet(&app, "alice", &eur).await;
    assert_eq!(c.get_ok(&app, &format!("/assets/{eur}")).await["used"], true);
    let used = app
        .v2("DELETE", &format!("/assets/{eur}"), Some(&c.key), None)
        .await;
    assert_error("delete a used asset", &used, 403, "ASSET_IS_USED");
    let default = app
        .v2("DELETE", &format!("/assets/{}", c.asset), Some(&c.key), None)
        .await;
    assert_error("delete the default asset", &default, 409, "CONFLICT");
    assert_eq!(c.get_ok(&app, "/assets").await["total"], 2);
}

#[tokio::test]
async fn customers_are_upserted_listed_and_read() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c
        .call(
            &app,
            "POST",
            "/customers",
            json!({"id": "alice", "name": "Alice"}),
            201,
        )
        .await;
    assert_eq!(
        (&alice["id"], &alice["name"], &alice["status"]),
        (&json!("alice"), &json!("Alice"), &json!("Active"))
    );
    assert!(alice["createdAt"].is_i64(), "{alice}");
    let body = json!({"id": "alice", "name": "Alice B", "description": "vip"});
    let updated = c.call(&app, "POST", "/customers", body, 200).await;
    assert_eq!(
        (&updated["name"], &updated["description"]),
        (&json!("Alice B"), &json!("vip"))
    );
    c.call(&app, "PUT", "/customers/bob", json!({"name": "Bob"}), 201)
        .await;
    let bob = c
        .call(&app, "PUT", "/customers/bob", json!({"description": "d"}), 200)
        .await;
    assert_eq!(bob["description"], "d", "{bob}");
    c.call(&app, "PUT", "/customers/carol", json!({}), 201).await;

    let cases = [
        ("page=0&pageSize=2", vec!["alice", "bob"]),
        ("page=1&pageSize=2", vec!["carol"]),
        ("page=1&pageSize=1", vec!["bob"]),
        ("page=9&pageSize=2", vec![]),
        ("", vec!["alice", "bob", "carol"]),
    ];
    for (query, expected) in cases {
        let page = c.get_ok(&app, &format!("/customers?{query}")).await;
        assert_eq!(ids(&page), expected, "GET /customers?{query}");
        assert_eq!(page["total"], 3, "GET /customers?{query}");
    }
    let read = c.get_ok(&app, "/customers/alice").await;
    assert_eq!(
        (&read["name"], &read["description"]),
        (&json!("Alice B"), &json!("vip"))
    );
}

#[tokio::test]
async fn a_suspended_customer_cannot_transact_until_resumed_wallet_by_wallet() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w1 = c.customer_wallet(&app, "alice").await;
    let w2 = c.wallet(&app, "alice", &c.asset).await;
    let w3 = c.wallet(&app, "alice", &c.asset).await;
    let closed = c.wallet(&app, "alice", &c.asset).await;
    c.set_status(&app, &closed, "Closed").await;
    let other = c.customer_wallet(&app, "bob").await;
    for w in [&w1, &w3] {
        c.fund(&app, w, 100).await;
    }

    let suspended = c
        .call(&app, "POST", "/customers/alice/suspend", json!({}), 200)
        .await;
    assert_eq!(suspended["status"], "Suspended");
    assert_eq!(c.get_ok(&app, "/customers/alice").await["status"], "Suspended");
    for w in [&w1, &w2, &w3] {
        assert_eq!(c.wallet_of(&app, w).await["status"], "Suspended", "{w}");
    }
    assert_eq!(
        c.wallet_of(&app, &closed).await["status"],
        "Closed",
        "a closed wallet stays closed"
    );
    assert_eq!(
        c.wallet_of(&app, &other).await["status"],
        "Open",
        "another customer's wallet"
    );
    let blocked: Vec<(&str, Vec<Value>)> = vec![
        ("redeem", vec![redeem(&w1, 1)]),
        ("issue", vec![issue(&w2, 1)]),
        (
            "transfer out",
            vec![wallet_testkit::app::v2::transfer(&w1, &other, 1)],
        ),
    ];
    for (case, ops) in &blocked {
        let reply = c.tx(&app, &next_ref("susp"), ops.clone()).await;
        assert_failed(case, &reply, 409, "WRONG_WALLET_STATUS");
    }
    // Listing a closed wallet refuses the whole resume.
    let body = json!({"walletIds": [w1, closed]});
    let reply = app
        .v2("POST", "/customers/alice/resume", Some(&c.key), Some(&body))
        .await;
    assert_error(
        "resume with a closed wallet",
        &reply,
        409,
        "CHANGE_WALLET_STATUS_ERROR",
    );
    assert_eq!(c.get_ok(&app, "/customers/alice").await["status"], "Suspended");
    assert_eq!(c.wallet_of(&app, &w1).await["status"], "Suspended");
    assert_eq!(c.wallet_of(&app, &closed).await["status"], "Closed");
    // Resuming the customer alone does not reopen a wallet that was left out.
    let resumed = c
        .call(
            &app,
            "POST",
            "/customers/alice/resume",
            json!({"walletIds": [w1, w2]}),
            200,
        )
        .await;
    assert_eq!(resumed["status"], "Active");
    let statuses = [(&w1, "Open"), (&w2, "Open"), (&w3, "Suspended")];
    for (w, status) in statuses {
        assert_eq!(c.wallet_of(&app, w).await["status"], status, "{w}");
    }
    for (_, ops) in blocked {
        c.tx_ok(&app, ops).await;
    }
    let reply = c.tx(&app, &next_ref("susp"), vec![redeem(&w3, 1)]).await;
    assert_failed("wallet left suspended", &reply, 409, "WRONG_WALLET_STATUS");
    assert_eq!(c.balance(&app, &w3).await, 100);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_customer_is_deleted_only_when_all_wallets_are_closed() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w1 = c.customer_wallet(&app, "alice").await;
    let w2 = c.wallet(&app, "alice", &c.asset).await;
    c.fund(&app, &w2, 5).await;

    let refused = app.v2("DELETE", "/customers/alice", Some(&c.key), None).await;
    assert_error("two open wallets", &refused, 409, "CUSTOMER_HAS_ACTIVE_WALLETS");
    c.set_status(&app, &w1, "Closed").await;
    let refused = app.v2("DELETE", "/customers/alice", Some(&c.key), None).await;
    assert_error("one open wallet", &refused, 409, "CUSTOMER_HAS_ACTIVE_WALLETS");
    c.set_status(&app, &w2, "Suspended").await;
    let refused = app.v2("DELETE", "/customers/alice", Some(&c.key), None).await;
    assert_error(
        "one suspended wallet",
        &refused,
        409,
        "CUSTOMER_HAS_ACTIVE_WALLETS",
    );
    c.set_status(&app, &w2, "Open").await;
    c.tx_ok(&app, vec![redeem(&w2, 5)]).await;
    c.set_status(&app, &w2, "Closed").await;

    let (status, deleted) = app.v2("DELETE", "/customers/alice", Some(&c.key), None).await;
    assert_eq!(
        (status, &deleted["status"]),
        (200, &json!("Deleted")),
        "{deleted}"
    );
    assert_eq!(c.get_ok(&app, "/customers/alice").await["status"], "Deleted");
    // Closed wallets and their history are kept.
    assert_eq!(c.wallet_of(&app, &w2).await["status"], "Closed");
    assert_eq!(c.amounts(&app, &w2).await, vec![(-5, 0), (5, 5)]);
    let reuse = app
        .v2("POST", "/customers", Some(&c.key), Some(&json!({"id": "alice"})))
        .await;
    assert_error("a deleted customer's id", &reuse, 409, "CONFLICT");
    // POST /wallets needs an Active customer: 409 WRONG_WALLET_STATUS otherwise.
    let body = json!({"customerId": "alice", "assetId": c.asset});
    let reply = app.v2("POST", "/wallets", Some(&c.key), Some(&body)).await;
    assert_error(
        "a wallet for a deleted customer",
        &reply,
        409,
        "WRONG_WALLET_STATUS",
    );
}
