//! API v2 catalog, continued: wallets, their statuses, entries in time
//! ranges, transaction lists, paging, and the ledger shared with API v1.

use serde_json::json;
use std::time::Duration;
use wallet_testkit::app::spawn_app;
use wallet_testkit::app::v2::{assert_error, assert_failed, ctx, ids, issue, next_ref, redeem, Failures};

#[tokio::test]
async fn wallets_and_system_wallets_are_created_listed_and_described() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    c.customer(&app, "alice").await;
    let body = json!({"customerId": "alice", "assetId": c.asset, "name": "main", "description": "daily"});
    let created = c.call(&app, "POST", "/wallets", body, 201).await;
    let w = created["id"].as_str().unwrap().to_owned();
    let expected = json!({"customerId": "alice", "assetId": c.asset, "name": "main", "description": "daily",
        "status": "Open", "balance": 0});
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&created[field], value, "{field}: {created}");
    }
    assert!(created["createdAt"].is_i64(), "{created}");
    assert_eq!(c.wallet_of(&app, &w).await, created);
    let second = c.wallet(&app, "alice", &c.asset).await;

    let system = c
        .call(
            &app,
            "POST",
            "/system-wallets",
            json!({"assetId": c.asset, "name": "fees"}),
            201,
        )
        .await;
    assert!(system["customerId"].is_null(), "{system}");
    assert_eq!(
        (&system["status"], &system["balance"]),
        (&json!("Open"), &json!(0))
    );
    let systems = c.get_ok(&app, "/system-wallets").await;
    assert_eq!(
        (ids(&systems), &systems["total"]),
        (vec![system["id"].as_str().unwrap().to_owned()], &json!(1))
    );

    let mut own = ids(&c.get_ok(&app, "/customers/alice/wallets").await);
    own.sort();
    let mut expected = vec![w.clone(), second];
    expected.sort();
    assert_eq!(own, expected, "alice's wallets, and not the system wallet");

    let renamed = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{w}/name"),
            json!({"name": "savings"}),
            200,
        )
        .await;
    assert_eq!(renamed["name"], "savings");
    let described = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{w}/description"),
            json!({"description": "rainy days"}),
            200,
        )
        .await;
    assert_eq!(
        (&described["name"], &described["description"]),
        (&json!("savings"), &json!("rainy days"))
    );
    assert_eq!(c.wallet_of(&app, &w).await["description"], "rainy days");

    let reply = app.v2("GET", "/wallets", Some(&c.key), None).await;
    assert_error("GET /wallets with an access key", &reply, 403, "ACCESS_DENIED");
    c.call(&app, "POST", "/customers/alice/suspend", json!({}), 200)
        .await;
    let body = json!({"customerId": "alice", "assetId": c.asset});
    let reply = app.v2("POST", "/wallets", Some(&c.key), Some(&body)).await;
    assert_error(
        "a wallet for a suspended customer",
        &reply,
        409,
        "WRONG_WALLET_STATUS",
    );
}

#[tokio::test]
async fn wallet_status_moves_follow_the_rules() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &w, 5).await;
    let path = format!("/wallets/{w}/status");
    let with_funds = [
        ("string Suspended", json!("Suspended"), 200, "Suspended"),
        ("object Open", json!({"status": "Open"}), 200, "Open"),
        (
            "object Suspended",
            json!({"status": "Suspended"}),
            200,
            "Suspended",
        ),
        ("string Open", json!("Open"), 200, "Open"),
        ("Closed with a balance", json!("Closed"), 409, "Open"),
        ("unknown status", json!({"status": "Frozen"}), 400, "Open"),
    ];
    let empty = [
        ("Closed at zero", json!({"status": "Closed"}), 200, "Closed"),
        ("reopen a closed wallet", json!("Open"), 409, "Closed"),
        (
            "suspend a closed wallet",
            json!({"status": "Suspended"}),
            409,
            "Closed",
        ),
    ];
    for (phase, steps) in [with_funds.to_vec(), empty.to_vec()].into_iter().enumerate() {
        if phase == 1 {
            c.tx_ok(&app, vec![redeem(&w, 5)]).await;
        }
        for (case, body, http, after) in steps {
            let reply = app.v2("PUT", &path, Some(&c.key), Some(&body)).await;
            match http {
                200 => assert_eq!(
                    (reply.0, &reply.1["status"]),
                    (200, &json!(after)),
                    "{case}: {}",
                    reply.1
                ),
                409 => assert_error(case, &reply, 409, "CHANGE_WALLET_STATUS_ERROR"),
                _ => assert_error(case, &reply, 400, "VALIDATION_ERROR"),
            }
            assert_eq!(c.wallet_of(&app, &w).await["status"], after, "{case}");
        }
    }
    let reply = c.tx(&app, &next_ref("closed"), vec![issue(&w, 1)]).await;
    assert_failed("issue into a closed wallet", &reply, 409, "WRONG_WALLET_STATUS");

    // A wallet cannot be opened while its customer is suspended.
    let v = c.customer_wallet(&app, "bob").await;
    c.call(&app, "POST", "/customers/bob/suspend", json!({}), 200)
        .await;
    let reply = app
        .v2(
            "PUT",
            &format!("/wallets/{v}/status"),
            Some(&c.key),
            Some(&json!("Open")),
        )
        .await;
    assert_error(
        "open under a suspended customer",
        &reply,
        409,
        "CHANGE_WALLET_STATUS_ERROR",
    );
}

#[tokio::test]
async fn entries_and_transactions_filter_by_time_and_page() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let mut txs = Vec::new();
    for amount in [1, 2, 4] {
        txs.push(
            c.tx_ok(&app, vec![issue(&w, amount)]).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let entries = c.entries(&app, &w).await;
    let entry_ids: Vec<String> = entries
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let at: Vec<i64> = entries.iter().map(|e| e["createdAt"].as_i64().unwrap()).collect();
    assert!(
        at[0] > at[1] && at[1] > at[2],
        "distinct times, newest first: {at:?}"
    );
    let (t1, t2, t3) = (at[2], at[1], at[0]);
    let (e1, e2, e3) = (&entry_ids[2], &entry_ids[1], &entry_ids[0]);
    let cases: Vec<(String, Vec<&String>, i64)> = vec![
        (format!("from={t2}"), vec![e3, e2], 2),
        (format!("to={t2}"), vec![e1], 1),
        (format!("from={t2}&to={t3}"), vec![e2], 1),
        (format!("from={t1}&to={}", t3 + 1), vec![e3, e2, e1], 3),
        (format!("from={}", t3 + 1), vec![], 0),
        ("pageSize=2".into(), vec![e3, e2], 3),
        ("page=1&pageSize=2".into(), vec![e1], 3),
        ("page=7&pageSize=2".into(), vec![], 3),
        (format!("from={t1}&page=1&pageSize=1"), vec![e2], 3),
    ];
    for (query, expected, total) in cases {
        let page = c.get_ok(&app, &format!("/wallets/{w}/entries?{query}")).await;
        assert_eq!(
            ids(&page),
            expected.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
            "entries?{query}"
        );
        assert_eq!(page["total"], total, "entries?{query}");
    }

    let listed = c.get_ok(&app, "/transactions").await;
    assert_eq!(
        ids(&listed),
        vec![txs[2].clone(), txs[1].clone(), txs[0].clone()],
        "newest first"
    );
    assert_eq!(listed["total"], 3);
    let tx_at: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["createdAt"].as_i64().unwrap())
        .collect();
    let since = c
        .get_ok(&app, &format!("/transactions?from={}&to={}", tx_at[1], tx_at[0]))
        .await;
    assert_eq!((ids(&since), &since["total"]), (vec![txs[1].clone()], &json!(1)));
    let second = c.get_ok(&app, "/transactions?page=1&pageSize=1").await;
    assert_eq!(
        (ids(&second), &second["total"]),
        (vec![txs[1].clone()], &json!(3))
    );
}

#[tokio::test]
async fn paging_parameters_are_checked_on_every_list() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let w = c.customer_wallet(&app, "alice").await;
    let lists = [
        "/assets".to_owned(),
        "/customers".into(),
        "/customers/alice/wallets".into(),
        "/system-wallets".into(),
        format!("/wallets/{w}/entries"),
        "/transactions".into(),
    ];
    let mut failures = Failures::default();
    for list in &lists {
        for query in [
            "pageSize=1001",
            "pageSize=0",
            "page=-1",
            "pageSize=abc",
            "from=yesterday",
            "bogus=1",
        ] {
            let reply = c.get(&app, &format!("{list}?{query}")).await;
            failures.error(&format!("GET {list}?{query}"), &reply, 400, "VALIDATION_ERROR");
        }
        let max = c.get_ok(&app, &format!("{list}?pageSize=1000&page=3")).await;
        assert_eq!(max["items"], json!([]), "{list}: beyond the end");
        assert_eq!(
            (&max["page"], &max["pageSize"]),
            (&json!(3), &json!(1000)),
            "{list}"
        );
        assert!(max["total"].is_i64(), "{list}: {max}");
    }
    failures.assert_none();
}

#[tokio::test]
async fn api_v1_and_api_v2_share_one_ledger() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;
    app.entry(&a.token, "carol", 70).await;

    let wallets = c.get_ok(&app, "/customers/carol/wallets").await;
    assert_eq!(wallets["total"], 1, "v1 opened one wallet: {wallets}");
    let w = wallets["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        wallets["items"][0]["assetId"],
        c.asset.as_str(),
        "in the default asset"
    );
    assert_eq!(c.balance(&app, &w).await, 70);
    let entries = c.entries(&app, &w).await;
    assert_eq!(
        (&entries[0]["amount"], &entries[0]["balanceAfter"]),
        (&json!(70), &json!(70))
    );
    assert_eq!(entries[0]["type"], "Issue");

    c.fund(&app, &w, 30).await;
    assert_eq!(
        app.total(&a.token, "carol").await,
        Some(100),
        "a v2 Issue shows in v1"
    );
    app.entry(&a.token, "carol", -20).await;
    assert_eq!(c.balance(&app, &w).await, 80);
    let newest = &c.entries(&app, &w).await[0];
    assert_eq!(
        (&newest["type"], &newest["amount"], &newest["balanceAfter"]),
        (&json!("Redeem"), &json!(-20), &json!(80))
    );
    let v1_tx = newest["transactionId"].as_str().unwrap();
    let stored = c.get_ok(&app, &format!("/transactions/{v1_tx}")).await;
    assert!(
        stored["referenceId"].is_null(),
        "a v1 entry has no referenceId: {stored}"
    );
    app.assert_invariants().await;
}
