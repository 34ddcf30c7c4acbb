//! Lots over HTTP (`spec/lots.md`): an Issue with `expiresAt` forms a lot;
//! what leaves a wallet is taken soonest-expiring first, as
//! `GET /wallets/{id}/lots` shows after each Redeem, Transfer, Hold and
//! Capture; moved value keeps its expiry; wallets show `expiring`; a
//! customer key reads only its own lots; a bad `expiresAt` changes nothing;
//! batches and API v1 spend lots like any other write. The real-clock
//! expiries are in `v2_lots_expiry`.

use crate::app::v2::{
    assert_failed, capture, ctx, hold, issue, next_ref, now_ms, redeem, transfer, Ctx, Failures,
};
use crate::app::{spawn_app, TestApp};
use serde_json::{json, Value};

/// An Issue whose value forms a lot that expires at `at`.
pub fn issue_until(wallet: &str, amount: i64, at: i64) -> Value {
    let mut op = issue(wallet, amount);
    op["expiresAt"] = json!(at);
    op
}

/// Every lot of a wallet (one page of up to 1000), soonest expiry first.
pub async fn lots_of(app: &TestApp, c: &Ctx, wallet: &str) -> Vec<Value> {
    let page = c
        .get_ok(app, &format!("/wallets/{wallet}/lots?pageSize=1000"))
        .await;
    page["items"].as_array().expect("items").clone()
}

/// The lots of a wallet as `(amount, remaining, earmarked, expiresAt,
/// status)`, in the order the server lists them.
pub async fn lot_rows(app: &TestApp, c: &Ctx, wallet: &str) -> Vec<(i64, i64, i64, i64, String)> {
    lots_of(app, c, wallet)
        .await
        .iter()
        .map(|l| {
            let n = |f: &str| l[f].as_i64().unwrap_or_else(|| panic!("integer {f}: {l}"));
            (
                n("amount"),
                n("remaining"),
                n("earmarked"),
                n("expiresAt"),
                l["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

/// A wallet's `expiring` as `(expiresAt, amount)` pairs.
pub fn expiring_of(wallet: &Value) -> Vec<(i64, i64)> {
    wallet["expiring"]
        .as_array()
        .unwrap_or_else(|| panic!("a wallet has expiring: {wallet}"))
        .iter()
        .map(|e| {
            assert_eq!(
                e.as_object().map(serde_json::Map::len),
                Some(2),
                "{{expiresAt, amount}}: {e}"
            );
            (e["expiresAt"].as_i64().unwrap(), e["amount"].as_i64().unwrap())
        })
        .collect()
}

fn open(amount: i64, remaining: i64, earmarked: i64, at: i64) -> (i64, i64, i64, i64, String) {
    (amount, remaining, earmarked, at, "Open".to_owned())
}

fn settled(amount: i64, at: i64, status: &str) -> (i64, i64, i64, i64, String) {
    (amount, 0, 0, at, status.to_owned())
}

#[tokio::test]
async fn value_leaves_soonest_expiring_first_and_keeps_its_expiry_when_it_moves() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let soon = now_ms() + 3_600_000;
    let later = soon + 3_600_000;

    // Lots of two expiries (two of the same one: the first formed is spent
    // first) and plain value, in one transaction.
    let formed = c
        .tx_ok(
            &app,
            vec![
                issue_until(&a, 30, later),
                issue_until(&a, 20, soon),
                issue(&a, 40),
                issue_until(&a, 10, soon),
            ],
        )
        .await;
    let lots = lots_of(&app, &c, &a).await;
    assert_eq!(lots.len(), 3, "{lots:?}");
    let lot = &lots[0];
    let mut fields: Vec<&str> = lot.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "amount",
            "createdAt",
            "earmarked",
            "expiresAt",
            "id",
            "remaining",
            "status",
            "transactionId",
            "walletId"
        ],
        "exactly the Lot object: {lot}"
    );
    assert!(lot["id"].is_string(), "ids are strings: {lot}");
    assert_eq!(lot["walletId"], a.as_str());
    assert_eq!(lot["transactionId"], formed["id"]);
    assert_eq!(lot["createdAt"], json!(formed["createdAt"]));
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            open(20, 20, 0, soon),
            open(10, 10, 0, soon),
            open(30, 30, 0, later)
        ],
        "soonest expiry first; ties: the lot formed first"
    );
    assert_eq!(c.funds(&app, &a).await, (100, 0, 100, 0));
    assert_eq!(
        c.amounts(&app, &a).await.len(),
        4,
        "one entry per Issue, as before"
    );

    c.tx_ok(&app, vec![redeem(&a, 15)]).await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            open(20, 5, 0, soon),
            open(10, 10, 0, soon),
            open(30, 30, 0, later)
        ],
        "a Redeem takes the soonest lot first"
    );

    c.tx_ok(&app, vec![transfer(&a, &b, 10)]).await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            settled(20, soon, "Spent"),
            open(10, 5, 0, soon),
            open(30, 30, 0, later)
        ],
        "a Transfer's source spends in the same order; a lot spent out is Spent"
    );
    assert_eq!(
        lot_rows(&app, &c, &b).await,
        vec![open(10, 10, 0, soon)],
        "what a Transfer took from lots arrives as a lot of the same expiry (one per expiry)"
    );

    c.tx_ok(&app, vec![hold(&a, 10, "h")]).await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            settled(20, soon, "Spent"),
            open(10, 5, 5, soon),
            open(30, 30, 5, later)
        ],
        "a Hold earmarks lot parts in spending order; the balance is unchanged"
    );
    assert_eq!(c.funds(&app, &a).await, (75, 10, 65, 0));

    let mut part = capture("h", Some(7));
    part["destination"] = json!(b);
    c.tx_ok(&app, vec![part]).await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            settled(20, soon, "Spent"),
            settled(10, soon, "Spent"),
            open(30, 28, 3, later)
        ],
        "a Capture moves its earmarks first, soonest first"
    );
    assert_eq!(
        lot_rows(&app, &c, &b).await,
        vec![open(10, 10, 0, soon), open(5, 5, 0, soon), open(2, 2, 0, later)],
        "captured lot value keeps its expiry"
    );

    // Only the free part of a lot is spent: the hold keeps its 3.
    c.tx_ok(&app, vec![redeem(&a, 30)]).await;
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![
            settled(20, soon, "Spent"),
            settled(10, soon, "Spent"),
            open(30, 3, 3, later)
        ],
        "25 from the lot's free part, then 5 plain"
    );
    assert_eq!(c.funds(&app, &a).await, (38, 3, 35, 0));

    // `expiring` on the wallets: Open lots' remaining per expiry.
    assert_eq!(expiring_of(&c.wallet_of(&app, &a).await), vec![(later, 3)]);
    assert_eq!(
        expiring_of(&c.wallet_of(&app, &b).await),
        vec![(soon, 15), (later, 2)],
        "two lots of one expiry are one row"
    );

    // The status filter and paging.
    let spent = c.get_ok(&app, &format!("/wallets/{a}/lots?status=Spent")).await;
    assert_eq!(spent["total"], 2, "{spent}");
    assert_eq!(
        crate::app::v2::ids(&spent),
        vec![lots[0]["id"].as_str().unwrap(), lots[1]["id"].as_str().unwrap()]
    );
    let open_lots = c.get_ok(&app, &format!("/wallets/{a}/lots?status=Open")).await;
    assert_eq!(
        crate::app::v2::ids(&open_lots),
        vec![lots[2]["id"].as_str().unwrap()]
    );
    let second = c
        .get_ok(&app, &format!("/wallets/{a}/lots?pageSize=2&page=1"))
        .await;
    assert_eq!(
        (&second["total"], &second["page"], &second["pageSize"]),
        (&json!(3), &json!(1), &json!(2))
    );
    assert_eq!(
        crate::app::v2::ids(&second),
        vec![lots[2]["id"].as_str().unwrap()]
    );
    let expired = c.get_ok(&app, &format!("/wallets/{a}/lots?status=Expired")).await;
    assert_eq!((&expired["items"], &expired["total"]), (&json!([]), &json!(0)));
    app.assert_invariants().await;
}

#[tokio::test]
async fn wallets_show_at_most_ten_expiring_rows_soonest_first_in_every_wallet_reply() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let plain = c.customer_wallet(&app, "plain").await;
    c.fund(&app, &plain, 5).await;
    let base = now_ms() + 3_600_000;
    // Twelve expiries, formed latest first.
    let ops: Vec<Value> = (0..12)
        .rev()
        .map(|k| issue_until(&a, k + 1, base + k * 1000))
        .collect();
    c.tx_ok(&app, ops).await;
    c.fund(&app, &a, 100).await;

    let soonest: Vec<(i64, i64)> = (0..10).map(|k| (base + k * 1000, k + 1)).collect();
    let wallet = c.wallet_of(&app, &a).await;
    assert_eq!(expiring_of(&wallet), soonest, "the ten soonest: {wallet}");
    assert_eq!(wallet["balance"], 178, "plain value is not listed");
    assert_eq!(
        expiring_of(&c.wallet_of(&app, &plain).await),
        vec![],
        "no lot: an empty list"
    );
    // Every reply with a wallet in it.
    let listed = c.get_ok(&app, "/customers/a/wallets").await;
    assert_eq!(expiring_of(&listed["items"][0]), soonest, "{listed}");
    let renamed = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{a}/name"),
            json!({"name": "n"}),
            200,
        )
        .await;
    assert_eq!(expiring_of(&renamed), soonest, "{renamed}");
    let described = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{a}/description"),
            json!({"description": "d"}),
            200,
        )
        .await;
    assert_eq!(expiring_of(&described), soonest);
    let limited = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{a}/credit-limit"),
            json!({"creditLimit": 0}),
            200,
        )
        .await;
    assert_eq!(expiring_of(&limited), soonest);
    let suspended = c
        .call(
            &app,
            "PUT",
            &format!("/wallets/{a}/status"),
            json!("Suspended"),
            200,
        )
        .await;
    assert_eq!(expiring_of(&suspended), soonest);
    let system = c.system_wallet(&app, &c.asset).await;
    c.tx_ok(&app, vec![issue_until(&system, 9, base)]).await;
    let systems = c.get_ok(&app, "/system-wallets").await;
    assert_eq!(expiring_of(&systems["items"][0]), vec![(base, 9)], "{systems}");
    let key = c.call(&app, "POST", "/customers/a/keys", json!({}), 201).await;
    let ck = key["token"].as_str().unwrap();
    let (status, own) = app.v2("GET", "/wallets", Some(ck), None).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(
        expiring_of(&own["items"][0]),
        soonest,
        "a customer key's own list"
    );
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_customer_key_reads_its_own_lots_and_nothing_else() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let bob = c.customer_wallet(&app, "bob").await;
    let at = now_ms() + 3_600_000;
    c.tx_ok(&app, vec![issue_until(&alice, 3, at), issue_until(&bob, 4, at)])
        .await;
    app.create_project("elsewhere").await;
    let e = ctx(&app, "elsewhere").await;
    let carol = e.customer_wallet(&app, "carol").await;
    e.tx_ok(&app, vec![issue_until(&carol, 5, at)]).await;

    let key = c
        .call(&app, "POST", "/customers/alice/keys", json!({}), 201)
        .await;
    let ck = key["token"].as_str().unwrap().to_owned();
    for path in [
        format!("/wallets/{alice}/lots"),
        format!("/wallets/{alice}/lots?status=Open&page=0&pageSize=5"),
    ] {
        let (status, page) = app.v2("GET", &path, Some(&ck), None).await;
        assert_eq!(status, 200, "own {path}: {page}");
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
        assert_eq!(page["items"][0]["walletId"], alice.as_str());
        assert_eq!(page["items"][0]["amount"], 3);
    }
    let (_, wallet) = app.v2("GET", &format!("/wallets/{alice}"), Some(&ck), None).await;
    assert_eq!(expiring_of(&wallet), vec![(at, 3)], "{wallet}");

    // Not its own, missing, or that cannot exist: one answer.
    let mut failures = Failures::default();
    let mut bodies = std::collections::BTreeSet::new();
    for path in [
        format!("/wallets/{bob}/lots"),
        format!("/wallets/{bob}/lots?status=Open"),
        format!("/wallets/{carol}/lots"),
        "/wallets/999999999/lots".to_owned(),
        "/wallets/abc/lots".to_owned(),
        "/wallets/01/lots".to_owned(),
    ] {
        let reply = app.v2("GET", &path, Some(&ck), None).await;
        failures.error(&path, &reply, 403, "ACCESS_DENIED");
        bodies.insert(reply.1.to_string());
    }
    failures.check(bodies.len() == 1, "one body for all", format!("{bodies:?}"));
    let post = json!({"referenceId": "ck-issue", "operations": [issue_until(&alice, 1, at)]});
    let reply = app.v2("POST", "/transactions", Some(&ck), Some(&post)).await;
    failures.error("a customer key issues nothing", &reply, 403, "ACCESS_DENIED");
    // Another project's access key: not found; its own wallet is its own.
    let reply = e.get(&app, &format!("/wallets/{alice}/lots")).await;
    failures.error("another project's wallet", &reply, 404, "WALLET_NOT_FOUND");
    let reply = app.v2("GET", &format!("/wallets/{alice}/lots"), None, None).await;
    failures.error("no key", &reply, 401, "NO_KEY");
    failures.assert_none();
    assert_eq!(lot_rows(&app, &e, &carol).await, vec![open(5, 5, 0, at)]);
}

#[tokio::test]
async fn a_bad_lot_list_query_is_a_400_and_an_unknown_wallet_a_404() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let mut failures = Failures::default();
    for (case, query) in [
        ("an unknown status", "status=Pending"),
        ("a lowercase status", "status=open"),
        ("a hold's status", "status=Voided"),
        ("an empty status", "status="),
        ("pageSize above 1000", "pageSize=1001"),
        ("pageSize 0", "pageSize=0"),
        ("a negative page", "page=-1"),
        ("a fractional page", "page=1.5"),
        ("an unknown parameter", "sort=asc"),
    ] {
        let reply = c.get(&app, &format!("/wallets/{a}/lots?{query}")).await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
    }
    for path in ["/wallets/999999999/lots", "/wallets/abc/lots", "/wallets/01/lots"] {
        let reply = c.get(&app, path).await;
        failures.error(path, &reply, 404, "WALLET_NOT_FOUND");
    }
    let reply = c
        .call(&app, "POST", &format!("/wallets/{a}/lots"), json!({}), 405)
        .await;
    failures.check(reply["status"] == "METHOD_NOT_ALLOWED", "POST", reply.to_string());
    failures.assert_none();
}

#[tokio::test]
async fn a_bad_expires_at_on_an_issue_is_a_400_that_records_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let future = now_ms() + 3_600_000;
    c.tx_ok(&app, vec![issue_until(&a, 10, future), issue(&a, 5)])
        .await;
    let with = |value: Value| {
        let mut op = issue(&a, 1);
        op["expiresAt"] = value;
        op
    };
    let past = now_ms() - 1_000;
    let cases: Vec<(&str, Vec<Value>)> = vec![
        ("a string", vec![with(json!("soon"))]),
        ("a string of digits", vec![with(json!(future.to_string()))]),
        ("a fraction", vec![with(json!(1.5))]),
        (
            "a future time with a fraction",
            vec![with(json!(future as f64 + 0.5))],
        ),
        ("an exponent", vec![with(json!(4.1e12))]),
        ("negative", vec![with(json!(-1))]),
        ("the smallest integer", vec![with(json!(i64::MIN))]),
        ("0", vec![with(json!(0))]),
        ("in the past", vec![with(json!(past))]),
        ("beyond i64", vec![with(json!(1e30))]),
        ("true", vec![with(json!(true))]),
        ("an object", vec![with(json!({"at": future}))]),
        ("an array", vec![with(json!([future]))]),
        (
            "a past one after a good one",
            vec![issue_until(&a, 1, future), with(json!(past))],
        ),
        (
            "on a Redeem",
            vec![{
                let mut op = redeem(&a, 1);
                op["expiresAt"] = json!(future);
                op
            }],
        ),
        (
            "on a Transfer",
            vec![{
                let mut op = transfer(&a, &b, 1);
                op["expiresAt"] = json!(future);
                op
            }],
        ),
        (
            "the server's ExpireLot",
            vec![json!({"type": "ExpireLot", "wallet": a, "lot": "1"})],
        ),
    ];
    let lots_before = lots_of(&app, &c, &a).await;
    let funds_before = (c.funds(&app, &a).await, c.funds(&app, &b).await);
    let transactions = c.transaction_total(&app).await;
    let probes = i64::try_from(cases.len()).unwrap();
    let mut failures = Failures::default();
    for (case, ops) in cases {
        let reference = next_ref("bad-lot");
        let reply = c.tx(&app, &reference, ops).await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
        // The reference id stays free: nothing was recorded under it.
        let (code, body) = c.tx(&app, &reference, vec![issue(&b, 1)]).await;
        failures.check(
            code == 201,
            case,
            format!("its referenceId was spent: {code} {body}"),
        );
        c.tx_ok(&app, vec![redeem(&b, 1)]).await;
    }
    failures.assert_none();
    assert_eq!(lots_of(&app, &c, &a).await, lots_before, "no lot changed");
    assert_eq!(
        (c.funds(&app, &a).await, c.funds(&app, &b).await),
        funds_before,
        "no balance changed"
    );
    assert!(lots_of(&app, &c, &b).await.is_empty(), "b's probes were plain");
    assert_eq!(
        c.transaction_total(&app).await,
        transactions + 2 * probes,
        "only the probes were recorded"
    );
    // `"expiresAt": null` is no expiry, as for a Hold: plain value.
    c.tx_ok(&app, vec![with(Value::Null)]).await;
    assert_eq!(lots_of(&app, &c, &a).await, lots_before);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_batch_forms_and_moves_lots_and_refuses_a_past_expiry_alone() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let soon = now_ms() + 3_600_000;
    let later = soon + 1_000;
    let past = now_ms() - 1;
    let refused = next_ref("batch-past");
    let body = json!({"transactions": [
        {"referenceId": next_ref("batch"), "operations": [
            issue_until(&a, 10, soon), transfer(&a, &b, 4)]},
        {"referenceId": refused, "operations": [issue_until(&a, 5, past)]},
        {"referenceId": next_ref("batch"), "operations": [issue_until(&a, 7, later), issue(&a, 1)]},
        {"referenceId": next_ref("batch"), "operations": [redeem(&b, 5)]},
    ]});
    let reply = c.call(&app, "POST", "/transactions/batch", body, 200).await;
    let results = reply["results"].as_array().expect("results");
    let statuses: Vec<&Value> = results.iter().map(|r| &r["httpStatus"]).collect();
    assert_eq!(statuses, [201, 400, 201, 409], "{reply}");
    assert_eq!(results[1]["body"]["status"], "VALIDATION_ERROR", "{reply}");
    assert_eq!(results[3]["body"]["error"], "INSUFFICIENT_FUNDS", "{reply}");
    assert_eq!(
        lot_rows(&app, &c, &a).await,
        vec![open(10, 6, 0, soon), open(7, 7, 0, later)]
    );
    assert_eq!(lot_rows(&app, &c, &b).await, vec![open(4, 4, 0, soon)]);
    assert_eq!((c.balance(&app, &a).await, c.balance(&app, &b).await), (14, 4));
    let stored = c
        .get_ok(
            &app,
            &format!("/transactions/{}", results[0]["body"]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        stored["operations"][0],
        json!({"type": "Issue", "destination": a, "amount": 10, "expiresAt": soon}),
        "the stored operation shows its expiresAt: {stored}"
    );
    // The refused one's referenceId is still free.
    c.tx(&app, &refused, vec![issue(&a, 1)]).await;
    assert_eq!(c.balance(&app, &a).await, 15);
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_wallet_keeping_lot_value_uses_no_credit_and_expiring_value_first_covers_holds() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let at = now_ms() + 3_600_000;
    for w in [&a, &b] {
        c.call(
            &app,
            "PUT",
            &format!("/wallets/{w}/credit-limit"),
            json!({"creditLimit": 50}),
            200,
        )
        .await;
    }
    c.tx_ok(&app, vec![issue_until(&a, 20, at)]).await;
    assert_eq!(c.funds(&app, &a).await, (20, 0, 70, 50));

    // A Hold beyond the lot would leave lot value (its earmark) over a
    // balance the credit took below it: refused.
    let reply = c
        .tx(&app, &next_ref("credit-hold"), vec![hold(&a, 30, "over")])
        .await;
    assert_failed(
        "a Hold into credit beside a lot",
        &reply,
        409,
        "INSUFFICIENT_FUNDS",
    );
    // A Redeem that spends every lot may use the credit.
    c.tx_ok(&app, vec![redeem(&a, 30)]).await;
    assert_eq!(c.funds(&app, &a).await, (-10, 0, 40, 50));
    assert_eq!(lot_rows(&app, &c, &a).await, vec![settled(20, at, "Spent")]);

    // Expiring value arriving where holds reserve more than the balance
    // first covers that, as plain value.
    c.tx_ok(&app, vec![hold(&b, 30, "tab")]).await;
    assert_eq!(c.funds(&app, &b).await, (0, 30, 20, 50));
    c.tx_ok(&app, vec![issue_until(&b, 20, at)]).await;
    assert!(
        lots_of(&app, &c, &b).await.is_empty(),
        "all of it covered the hold"
    );
    c.tx_ok(&app, vec![issue_until(&b, 40, at)]).await;
    assert_eq!(
        lot_rows(&app, &c, &b).await,
        vec![open(30, 30, 0, at)],
        "10 covered the rest of the hold, 30 formed a lot"
    );
    assert_eq!(c.funds(&app, &b).await, (60, 30, 80, 50));
    assert_eq!(expiring_of(&c.wallet_of(&app, &b).await), vec![(at, 30)]);
    app.assert_invariants().await;
}

#[tokio::test]
async fn an_api_v1_negative_entry_spends_the_users_lots_first() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let authority = app.create_authority("default").await;
    // The customer's first wallet of the default asset: API v1's wallet of
    // the user.
    let wallet = c.customer_wallet(&app, "u1").await;
    let at = now_ms() + 3_600_000;
    c.tx_ok(&app, vec![issue_until(&wallet, 30, at), issue(&wallet, 5)])
        .await;
    assert_eq!(app.total(&authority.token, "u1").await, Some(35));

    // Exactly what the SDK sends for a spend.
    app.entry(&authority.token, "u1", -12).await;
    assert_eq!(lot_rows(&app, &c, &wallet).await, vec![open(30, 18, 0, at)]);
    assert_eq!(
        app.total(&authority.token, "u1").await,
        Some(23),
        "v1's total is the balance, lots and plain"
    );
    app.entry(&authority.token, "u1", -20).await;
    assert_eq!(lot_rows(&app, &c, &wallet).await, vec![settled(30, at, "Spent")]);
    assert_eq!(app.total(&authority.token, "u1").await, Some(3));
    assert_eq!(c.balance(&app, &wallet).await, 3);
    // v1 still never overdraws.
    let over = app
        .post_entry(
            &authority.token,
            &json!({"user_id": "u1", "amount": -4, "reason": "x", "item": null}),
        )
        .await;
    assert_eq!(over.status().as_u16(), 402, "the SDK's NotEnoughFundsError");
    app.assert_invariants().await;
}
