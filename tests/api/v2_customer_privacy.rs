//! A customer key cannot tell an existing customer, wallet or transaction
//! that is not its own from one that does not exist: both are the same 403
//! `ACCESS_DENIED`, body and all (issue 9, item 10). Authorities keep their
//! 404s (`v2_isolation.rs`).

use serde_json::{json, Value};
use wallet_testkit::app::spawn_app;
use wallet_testkit::app::v2::{ctx, issue, Failures};

#[tokio::test]
async fn a_customer_key_gets_one_answer_for_not_yours_and_not_there() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let own = c.customer_wallet(&app, "alice").await;
    let theirs = c.customer_wallet(&app, "bob").await;
    let system = c.system_wallet(&app, &c.asset).await;
    c.fund(&app, &own, 5).await;
    let tx = c.tx_ok(&app, vec![issue(&theirs, 7)]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_project("elsewhere").await;
    let e = ctx(&app, "elsewhere").await;
    let elsewhere = e.customer_wallet(&app, "carol").await;
    let minted = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await;
    let ck = minted["token"].as_str().unwrap().to_owned();
    let key_id = minted["id"].as_str().unwrap().to_owned();

    // Its own data is readable: the 403s below are not a broken key.
    for path in [
        format!("/wallets/{own}"),
        format!("/wallets/{own}/entries"),
        "/customers/alice".into(),
        "/customers/alice/wallets".into(),
    ] {
        let (status, body) = app.v2("GET", &path, Some(&ck), None).await;
        assert_eq!(status, 200, "own GET {path}: {body}");
    }

    // Customer ids: another customer, one of another project, missing, and
    // ones that cannot exist (too long, a control character).
    let customers = ["bob", "carol", "nobody", &"x".repeat(65), "a%0Ab"];
    // Wallet ids: another customer's, a system wallet, another project's,
    // missing, and ones that cannot exist.
    let (far, huge) = ("999999999".to_owned(), "99999999999999999999".to_owned());
    let wallets = [
        &theirs,
        &system,
        &elsewhere,
        &far,
        &huge,
        &"0".into(),
        &"abc".into(),
        &"-1".into(),
    ];
    let transactions = [tx.as_str(), "999999999", "abc"];
    let templates: Vec<(&str, &str, Option<Value>)> = vec![
        ("GET", "/customers/{c}", None),
        ("PUT", "/customers/{c}", Some(json!({ "name": "x" }))),
        ("DELETE", "/customers/{c}", None),
        ("POST", "/customers/{c}/suspend", None),
        ("POST", "/customers/{c}/resume", Some(json!({ "walletIds": [] }))),
        ("POST", "/customers/{c}/keys", Some(json!({}))),
        ("GET", "/customers/{c}/keys", None),
        ("DELETE", "/customers/{c}/keys/{k}", None),
        ("GET", "/customers/{c}/wallets", None),
        (
            "POST",
            "/wallets",
            Some(json!({ "customerId": "{c}", "assetId": c.asset })),
        ),
        ("GET", "/wallets/{w}", None),
        ("GET", "/wallets/{w}/entries", None),
        ("PUT", "/wallets/{w}/name", Some(json!({ "name": "mine now" }))),
        (
            "PUT",
            "/wallets/{w}/description",
            Some(json!({ "description": "mine now" })),
        ),
        ("PUT", "/wallets/{w}/status", Some(json!("Suspended"))),
        (
            "POST",
            "/customers/alice/resume",
            Some(json!({ "walletIds": ["{w}"] })),
        ),
        (
            "POST",
            "/transactions",
            Some(
                json!({ "referenceId": "ck", "operations": [{ "type": "Issue", "destination": "{w}", "amount": 1 }] }),
            ),
        ),
        ("GET", "/transactions/{t}", None),
    ];
    let before = app.check().await;
    let mut failures = Failures::default();
    for (method, template, body) in &templates {
        let ids: Vec<(&str, &str)> = if template.contains("{c}")
            || body.as_ref().is_some_and(|b| b.to_string().contains("{c}"))
        {
            customers.iter().map(|id| ("{c}", *id)).collect()
        } else if template.contains("{w}") || body.as_ref().is_some_and(|b| b.to_string().contains("{w}")) {
            wallets.iter().map(|id| ("{w}", id.as_str())).collect()
        } else {
            transactions.iter().map(|id| ("{t}", *id)).collect()
        };
        let mut first: Option<(String, (u16, Value))> = None;
        for (placeholder, id) in ids {
            let path = template.replace(placeholder, id).replace("{k}", &key_id);
            let request = body
                .as_ref()
                .map(|b| serde_json::from_str::<Value>(&b.to_string().replace(placeholder, id)).unwrap());
            let reply = app.v2(method, &path, Some(&ck), request.as_ref()).await;
            let case = format!("customer key {method} {path}");
            failures.error(&case, &reply, 403, "ACCESS_DENIED");
            match &first {
                None => first = Some((case, reply)),
                Some((first_case, first_reply)) => failures.check(
                    &reply == first_reply,
                    &case,
                    format!("answers {reply:?}, but {first_case} answers {first_reply:?}"),
                ),
            }
        }
    }
    failures.assert_none();
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets),
        "nothing changed"
    );
    assert_eq!(c.wallet_of(&app, &theirs).await["name"], "bob's");
}
