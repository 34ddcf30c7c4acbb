//! Credit limits, balances in time, and who may read holds
//! (`spec/holds.md`): `PUT /wallets/{id}/credit-limit`,
//! `GET /wallets/{id}/balance?at=`, and the customer key's view of
//! `GET /holds/{id}` and `GET /wallets/{id}/holds`.

use crate::app::spawn_app;
use crate::app::v2::{
    assert_error, assert_failed, ctx, hold, issue, next_ref, now_ms, raw, redeem, transfer, void, Failures,
};
use serde_json::{json, Value};

#[tokio::test]
async fn a_credit_limit_lets_a_balance_go_below_zero_down_to_it_and_no_further() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    assert_eq!(
        c.funds(&app, &a).await,
        (0, 0, 0, 0),
        "a new wallet has no credit"
    );
    let limit = |n: Value| json!({ "creditLimit": n });
    let path = format!("/wallets/{a}/credit-limit");

    let wallet = c.call(&app, "PUT", &path, limit(json!(50)), 200).await;
    assert_eq!(
        (&wallet["creditLimit"], &wallet["available"]),
        (&json!(50), &json!(50)),
        "{wallet}"
    );
    c.tx_ok(&app, vec![redeem(&a, 30)]).await;
    assert_eq!(c.funds(&app, &a).await, (-30, 0, 20, 50));
    assert_eq!(
        c.amounts(&app, &a).await,
        vec![(-30, -30)],
        "balanceAfter below zero"
    );
    let over = c.tx(&app, &next_ref("over"), vec![transfer(&a, &b, 21)]).await;
    assert_failed("a transfer past the limit", &over, 409, "INSUFFICIENT_FUNDS");
    c.tx_ok(&app, vec![hold(&a, 20, "tab")]).await;
    assert_eq!(
        c.funds(&app, &a).await,
        (-30, 20, 0, 50),
        "a hold counts against the limit"
    );

    // A limit below what the wallet uses (-(balance - held) = 50) is a conflict.
    let reply = app.v2("PUT", &path, Some(&c.key), Some(&limit(json!(49)))).await;
    assert_error("a limit below the use", &reply, 409, "CONFLICT");
    c.call(&app, "PUT", &path, limit(json!(50)), 200).await;
    c.tx_ok(&app, vec![void("tab")]).await;
    c.call(&app, "PUT", &path, limit(json!(30)), 200).await;
    let reply = app.v2("PUT", &path, Some(&c.key), Some(&limit(json!(29)))).await;
    assert_error("a limit below the balance", &reply, 409, "CONFLICT");
    assert_eq!(c.funds(&app, &a).await, (-30, 0, 0, 30));

    // Bad bodies are 400 and change nothing.
    let before = c.funds(&app, &a).await;
    let bodies: Vec<(&str, String, &str)> = vec![
        (
            "a negative limit",
            r#"{"creditLimit": -1}"#.into(),
            "VALIDATION_ERROR",
        ),
        (
            "above 2^62",
            format!(r#"{{"creditLimit": {}}}"#, (1_i64 << 62) + 1),
            "VALIDATION_ERROR",
        ),
        (
            "beyond i64",
            r#"{"creditLimit": 99999999999999999999}"#.into(),
            "VALIDATION_ERROR",
        ),
        (
            "a fraction",
            r#"{"creditLimit": 1.5}"#.into(),
            "FRACTION_IN_AMOUNT_NOT_VALID",
        ),
        (
            "an exponent",
            r#"{"creditLimit": 1e3}"#.into(),
            "FRACTION_IN_AMOUNT_NOT_VALID",
        ),
        ("a string", r#"{"creditLimit": "40"}"#.into(), "VALIDATION_ERROR"),
        ("null", r#"{"creditLimit": null}"#.into(), "VALIDATION_ERROR"),
        ("no limit", "{}".into(), "VALIDATION_ERROR"),
        (
            "an unknown field",
            r#"{"creditLimit": 40, "currency": "x"}"#.into(),
            "VALIDATION_ERROR",
        ),
        ("a bare number", "40".into(), "VALIDATION_ERROR"),
        ("an array", "[40]".into(), "VALIDATION_ERROR"),
        ("not JSON", "{creditLimit: 40".into(), "VALIDATION_ERROR"),
    ];
    let mut failures = Failures::default();
    for (case, body, status) in bodies {
        let reply = raw(&app, "PUT", &path, &c.key, body).await;
        failures.error(case, &reply, 400, status);
    }
    let reply = app
        .v2(
            "PUT",
            "/wallets/999999999/credit-limit",
            Some(&c.key),
            Some(&limit(json!(1))),
        )
        .await;
    failures.error("an unknown wallet", &reply, 404, "WALLET_NOT_FOUND");
    let reply = app.v2("PUT", &path, None, Some(&limit(json!(1)))).await;
    failures.error("no key", &reply, 401, "NO_KEY");
    let key = c.call(&app, "POST", "/customers/a/keys", json!({}), 201).await;
    let ck = key["token"].as_str().unwrap();
    let reply = app.v2("PUT", &path, Some(ck), Some(&limit(json!(1000)))).await;
    failures.error("the owner's customer key", &reply, 403, "ACCESS_DENIED");
    failures.assert_none();
    assert_eq!(c.funds(&app, &a).await, before, "nothing changed");

    // Paid back, the limit can go to 0 again.
    c.tx_ok(&app, vec![issue(&a, 30)]).await;
    c.call(&app, "PUT", &path, limit(json!(0)), 200).await;
    assert_eq!(c.funds(&app, &a).await, (0, 0, 0, 0));
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_wallet_with_open_holds_cannot_be_closed() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    // Balance 0 and a hold on credit: only the hold stands in the way.
    c.call(
        &app,
        "PUT",
        &format!("/wallets/{a}/credit-limit"),
        json!({"creditLimit": 5}),
        200,
    )
    .await;
    c.tx_ok(&app, vec![hold(&a, 5, "keep")]).await;
    let reply = app
        .v2(
            "PUT",
            &format!("/wallets/{a}/status"),
            Some(&c.key),
            Some(&json!("Closed")),
        )
        .await;
    assert_error(
        "closing with an Open hold",
        &reply,
        409,
        "CHANGE_WALLET_STATUS_ERROR",
    );
    assert_eq!(c.wallet_of(&app, &a).await["status"], "Open");
    c.tx_ok(&app, vec![void("keep")]).await;
    c.set_status(&app, &a, "Closed").await;
    app.assert_invariants().await;
}

#[tokio::test]
async fn balance_at_is_the_posted_balance_after_every_entry_up_to_then() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
    c.fund(&app, &a, 100).await;
    pause().await;
    c.tx_ok(&app, vec![redeem(&a, 30)]).await;
    pause().await;
    c.tx_ok(&app, vec![issue(&a, 5), hold(&a, 20, "reserved")]).await;
    let times: Vec<i64> = c
        .entries(&app, &a)
        .await
        .iter()
        .rev()
        .map(|e| e["createdAt"].as_i64().unwrap())
        .collect();
    let [t1, t2, t3] = times[..] else {
        panic!("three entries: {times:?}")
    };
    assert!(t1 < t2 && t2 < t3, "{times:?}");

    let cases = [
        (i64::MIN, 0, "the beginning of time"),
        (0, 0, "epoch 0"),
        (t1 - 1, 0, "just before the first entry"),
        (t1, 100, "at the first entry: createdAt <= at"),
        (t2 - 1, 100, "just before the second"),
        (t2, 70, "at the second"),
        (t3, 75, "at the third: a hold moves no balance"),
        (i64::MAX, 75, "the end of time"),
    ];
    let mut failures = Failures::default();
    for (at, balance, case) in cases {
        let body = c.get_ok(&app, &format!("/wallets/{a}/balance?at={at}")).await;
        let expected = json!({"walletId": a, "at": at, "balance": balance});
        failures.check(body == expected, case, format!("{body}, expected {expected}"));
    }
    assert_eq!(c.funds(&app, &a).await, (75, 20, 55, 0));
    for (case, query) in [
        ("no at", String::new()),
        ("at not a number", "?at=yesterday".into()),
        ("at with a fraction", "?at=1.5".into()),
        ("at beyond i64", "?at=99999999999999999999".into()),
        ("an unknown parameter", format!("?at={t1}&asset=1")),
    ] {
        let reply = c.get(&app, &format!("/wallets/{a}/balance{query}")).await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
    }
    let reply = c.get(&app, "/wallets/999999999/balance?at=0").await;
    failures.error("an unknown wallet", &reply, 404, "WALLET_NOT_FOUND");
    failures.assert_none();
}

#[tokio::test]
async fn a_customer_key_reads_its_own_holds_and_balances_and_nothing_else() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let bob = c.customer_wallet(&app, "bob").await;
    c.fund(&app, &alice, 10).await;
    c.fund(&app, &bob, 10).await;
    // Bob's hold names Alice's wallet as its destination: still Bob's to read.
    c.tx_ok(
        &app,
        vec![
            hold(&alice, 3, "ha"),
            crate::app::v2::hold_to(&bob, &alice, 4, "hb"),
        ],
    )
    .await;
    app.create_project("elsewhere").await;
    let e = ctx(&app, "elsewhere").await;
    let carol = e.customer_wallet(&app, "carol").await;
    e.fund(&app, &carol, 10).await;
    e.tx_ok(&app, vec![hold(&carol, 1, "ha")]).await;

    let key = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await;
    let ck = key["token"].as_str().unwrap().to_owned();
    let now = now_ms();
    let own = [
        "/holds/ha".to_owned(),
        format!("/wallets/{alice}/holds"),
        format!("/wallets/{alice}/holds?status=Open"),
        format!("/wallets/{alice}/balance?at={now}"),
    ];
    for path in &own {
        let (status, body) = app.v2("GET", path, Some(&ck), None).await;
        assert_eq!(status, 200, "own {path}: {body}");
    }
    let (_, own_hold) = app.v2("GET", "/holds/ha", Some(&ck), None).await;
    assert_eq!(
        (&own_hold["sourceWalletId"], &own_hold["amount"]),
        (&json!(alice), &json!(3)),
        "{own_hold}"
    );
    let (_, list) = app
        .v2("GET", &format!("/wallets/{alice}/holds"), Some(&ck), None)
        .await;
    assert_eq!(
        crate::app::v2::ids(&list),
        vec!["ha"],
        "only holds of which it is the source"
    );

    // Not its own, missing, or that cannot exist: one answer.
    let not_yours = [
        "/holds/hb".to_owned(),
        "/holds/nope".to_owned(),
        format!("/holds/{}", "x".repeat(31)),
        format!("/wallets/{bob}/holds"),
        format!("/wallets/{carol}/holds"),
        "/wallets/999999999/holds".to_owned(),
        format!("/wallets/{bob}/balance?at={now}"),
        format!("/wallets/{carol}/balance?at={now}"),
        "/wallets/abc/balance?at=0".to_owned(),
    ];
    let mut failures = Failures::default();
    let mut bodies = std::collections::BTreeSet::new();
    for path in &not_yours {
        let reply = app.v2("GET", path, Some(&ck), None).await;
        failures.error(path, &reply, 403, "ACCESS_DENIED");
        bodies.insert(reply.1.to_string());
    }
    failures.check(bodies.len() == 1, "one body for all", format!("{bodies:?}"));
    let post = json!({"referenceId": "ck-hold", "operations": [hold(&alice, 1, "mine")]});
    let reply = app.v2("POST", "/transactions", Some(&ck), Some(&post)).await;
    failures.error("a customer key places no hold", &reply, 403, "ACCESS_DENIED");

    // Another project's access key: not found, and its own "ha" is its own.
    for (path, status) in [
        ("/holds/hb".to_owned(), "HOLD_NOT_FOUND"),
        (format!("/wallets/{alice}/holds"), "WALLET_NOT_FOUND"),
        (format!("/wallets/{alice}/balance?at={now}"), "WALLET_NOT_FOUND"),
    ] {
        let reply = e.get(&app, &path).await;
        failures.error(&format!("another project: {path}"), &reply, 404, status);
    }
    failures.assert_none();
    assert_eq!(e.hold_of(&app, "ha").await["sourceWalletId"], carol.as_str());
    assert_eq!(c.hold_of(&app, "ha").await["sourceWalletId"], alice.as_str());
}
