//! API v2 project isolation: a credential of project A never reads or
//! changes anything of project B, through any endpoint.

use serde_json::{json, Value};
use wallet_testkit::app::spawn_app;
use wallet_testkit::app::v2::{ctx, issue, redeem, transfer, Failures};

#[tokio::test]
async fn an_access_key_of_one_project_never_touches_another() {
    let app = spawn_app().await;
    app.create_project("b").await;
    let a = ctx(&app, "default").await;
    let b = ctx(&app, "b").await;
    let aw = a.customer_wallet(&app, "ac").await;
    a.fund(&app, &aw, 100).await;

    // Project B's data.
    let ba = b.asset(&app, "BGOLD", 1).await;
    let bw = b.customer_wallet(&app, "bc").await;
    let bs = b.system_wallet(&app, &ba).await;
    let (status, btx) = b.tx(&app, "b-ref", vec![issue(&bw, 100)]).await;
    assert_eq!(status, 201, "{btx}");
    let btx = btx["id"].as_str().unwrap().to_owned();
    let bkey = b.call(&app, "POST", "/customers/bc/keys", json!({}), 201).await;
    let (bk, b_token) = (
        bkey["id"].as_str().unwrap().to_owned(),
        bkey["token"].as_str().unwrap().to_owned(),
    );
    let snapshot = || async {
        let mut all = Vec::new();
        for path in [
            format!("/assets/{ba}"),
            "/customers/bc".into(),
            format!("/wallets/{bw}"),
            format!("/wallets/{bs}"),
            format!("/wallets/{bw}/entries"),
            format!("/transactions/{btx}"),
            "/customers/bc/keys".into(),
            "/customers/bc/wallets".into(),
            "/assets".into(),
            "/customers".into(),
            "/system-wallets".into(),
            "/transactions".into(),
        ] {
            all.push((path.clone(), b.get_ok(&app, &path).await));
        }
        all
    };
    let before = snapshot().await;

    let body = |v: Value| Some(v);
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/assets/{ba}"), None),
        (
            "PUT",
            format!("/assets/{ba}/name"),
            body(json!({"name": "stolen"})),
        ),
        ("DELETE", format!("/assets/{ba}"), None),
        ("GET", "/customers/bc".into(), None),
        ("POST", "/customers/bc/suspend".into(), body(json!({}))),
        (
            "POST",
            "/customers/bc/resume".into(),
            body(json!({"walletIds": [bw]})),
        ),
        ("DELETE", "/customers/bc".into(), None),
        ("POST", "/customers/bc/keys".into(), body(json!({}))),
        ("GET", "/customers/bc/keys".into(), None),
        ("DELETE", format!("/customers/bc/keys/{bk}"), None),
        ("DELETE", format!("/customers/ac/keys/{bk}"), None),
        ("GET", "/customers/bc/wallets".into(), None),
        (
            "POST",
            "/wallets".into(),
            body(json!({"customerId": "bc", "assetId": ba})),
        ),
        (
            "POST",
            "/wallets".into(),
            body(json!({"customerId": "ac", "assetId": ba})),
        ),
        (
            "POST",
            "/wallets".into(),
            body(json!({"customerId": "bc", "assetId": a.asset})),
        ),
        ("POST", "/system-wallets".into(), body(json!({"assetId": ba}))),
        ("GET", format!("/wallets/{bw}"), None),
        ("GET", format!("/wallets/{bs}"), None),
        (
            "PUT",
            format!("/wallets/{bw}/name"),
            body(json!({"name": "stolen"})),
        ),
        (
            "PUT",
            format!("/wallets/{bw}/description"),
            body(json!({"description": "stolen"})),
        ),
        ("PUT", format!("/wallets/{bw}/status"), body(json!("Suspended"))),
        (
            "PUT",
            format!("/wallets/{bs}/status"),
            body(json!({"status": "Closed"})),
        ),
        ("GET", format!("/wallets/{bw}/entries"), None),
        (
            "POST",
            "/customers/ac/resume".into(),
            body(json!({"walletIds": [bw]})),
        ),
        ("GET", format!("/transactions/{btx}"), None),
    ];
    let txs: Vec<(&str, Vec<Value>)> = vec![
        ("redeem B's wallet", vec![redeem(&bw, 100)]),
        ("transfer out of B", vec![transfer(&bw, &aw, 10)]),
        ("transfer into B", vec![transfer(&aw, &bw, 10)]),
        ("issue into B's system wallet", vec![issue(&bs, 1)]),
    ];
    let mut all = cases;
    for (i, (_, ops)) in txs.into_iter().enumerate() {
        all.push((
            "POST",
            "/transactions".into(),
            body(json!({"referenceId": format!("iso-{i}"), "operations": ops})),
        ));
    }
    // docs/api-v2.md: another project's ids are simply not found (a 403 would
    // tell A that the id exists somewhere).
    let mut failures = Failures::default();
    for (method, path, request) in &all {
        let (status, reply) = app.v2(method, path, Some(&a.key), request.as_ref()).await;
        let case = format!("A's key: {method} {path} {request:?}");
        failures.check(
            status == 404,
            &case,
            format!("expected 404, got {status} {reply}"),
        );
    }
    failures.assert_none();

    // A's lists show nothing of B.
    for (list, b_id) in [
        ("/assets", &ba),
        ("/customers", &"bc".into()),
        ("/system-wallets", &bs),
        ("/transactions", &btx),
    ] {
        let page = a.get_ok(&app, &format!("{list}?pageSize=1000")).await;
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == b_id.as_str());
        assert!(!found, "A's {list} lists B's {b_id}: {page}");
    }
    // B's customer key reads nothing of A.
    for path in [
        format!("/wallets/{aw}"),
        format!("/wallets/{aw}/entries"),
        "/customers/ac".into(),
    ] {
        let (status, reply) = app.v2("GET", &path, Some(&b_token), None).await;
        assert!(
            status == 404 || status == 403,
            "B's customer key GET {path}: {status} {reply}"
        );
    }
    assert_eq!(snapshot().await, before, "B's data is unchanged");

    // Ids are per project: A may reuse B's customer id and reference id for its own data.
    let (status, own) = app
        .v2(
            "PUT",
            "/customers/bc",
            Some(&a.key),
            Some(&json!({"name": "A's bc"})),
        )
        .await;
    assert_eq!(status, 201, "a new customer of A: {own}");
    let (status, reply) = a.tx(&app, "b-ref", vec![issue(&aw, 1)]).await;
    assert_eq!(status, 201, "B's referenceId is free in A: {reply}");
    assert_ne!(reply["id"], btx.as_str());
    assert_eq!(snapshot().await[1], before[1], "B's customer bc is unchanged");
    assert_eq!(a.balance(&app, &aw).await, 101);
    app.assert_invariants().await;
}
