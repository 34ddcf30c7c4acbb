//! Holds over HTTP (`spec/holds.md`): Hold, Capture and Void inside
//! `POST /transactions` and the batch, mixing with Issue/Redeem/Transfer
//! all-or-nothing; the `holds` of the reply; every error code; races.

use crate::app::v2::{
    assert_error, assert_failed, capture, ctx, hold, hold_to, issue, next_ref, transfer, void, Ctx, Failures,
};
use crate::app::{spawn_app, TestApp};
use serde_json::{json, Value};

/// What a failed or refused request must leave as it was: the wallets'
/// funds, and the number of transactions (`recorded`: one more, for a
/// recorded failure).
async fn funds_of(app: &TestApp, c: &Ctx, wallets: &[&str]) -> Vec<(i64, i64, i64, i64)> {
    let mut all = Vec::new();
    for w in wallets {
        all.push(c.funds(app, w).await);
    }
    all
}

#[tokio::test]
async fn a_hold_is_placed_captured_in_parts_and_its_transactions_show_it() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let buyer = c.customer_wallet(&app, "buyer").await;
    let seller = c.customer_wallet(&app, "seller").await;
    let escrow_fee = c.system_wallet(&app, &c.asset).await;
    let expires = crate::app::v2::now_ms() + 3_600_000;

    // Issue and Hold in one transaction; the reply lists the hold.
    let mut place = hold_to(&buyer, &seller, 60, "order-1");
    place["expiresAt"] = json!(expires);
    let placed = c.tx_ok(&app, vec![issue(&buyer, 100), place]).await;
    let holds = placed["holds"].as_array().expect("holds");
    assert_eq!(holds.len(), 1, "{placed}");
    let h = &holds[0];
    assert_eq!(h["id"], "order-1");
    assert_eq!(h["sourceWalletId"], buyer.as_str());
    assert_eq!(h["destinationWalletId"], seller.as_str());
    assert_eq!(h["assetId"], c.asset.as_str());
    assert_eq!(
        (&h["amount"], &h["captured"], &h["remaining"], &h["status"]),
        (&json!(60), &json!(0), &json!(60), &json!("Open")),
        "{h}"
    );
    assert_eq!(h["expiresAt"], expires);
    assert_eq!(h["transactionId"], placed["id"]);
    assert!(h["createdAt"].is_i64() && h["updatedAt"].is_i64(), "{h}");
    assert_eq!(
        c.hold_of(&app, "order-1").await,
        *h,
        "GET /holds/{{id}} shows the same"
    );
    assert_eq!(
        c.funds(&app, &buyer).await,
        (100, 60, 40, 0),
        "balance, held, available, limit"
    );
    assert_eq!(
        c.amounts(&app, &buyer).await,
        vec![(100, 100)],
        "a Hold writes no entry"
    );

    // The stored transaction shows its operations as posted.
    let stored = c
        .get_ok(&app, &format!("/transactions/{}", placed["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        stored["operations"][1],
        json!({"type": "Hold", "source": buyer, "destination": seller, "amount": 60,
               "holdId": "order-1", "expiresAt": expires}),
        "{stored}"
    );

    // A partial Capture (to the hold's destination), with a fee Transfer beside it.
    let part = c
        .tx_ok(
            &app,
            vec![capture("order-1", Some(25)), transfer(&buyer, &escrow_fee, 5)],
        )
        .await;
    let h = &part["holds"][0];
    assert_eq!(
        (&h["captured"], &h["remaining"], &h["status"]),
        (&json!(25), &json!(35), &json!("Open")),
        "{part}"
    );
    assert_eq!(c.funds(&app, &buyer).await, (70, 35, 35, 0));
    assert_eq!(c.balance(&app, &seller).await, 25);
    let entry = &c.entries(&app, &seller).await[0];
    assert_eq!(
        (&entry["type"], &entry["amount"]),
        (&json!("Capture"), &json!(25)),
        "{entry}"
    );
    let entry = &c.entries(&app, &buyer).await[1];
    assert_eq!(
        (&entry["type"], &entry["amount"]),
        (&json!("Capture"), &json!(-25)),
        "{entry}"
    );

    // A Capture of the rest ends it Captured.
    let rest = c.tx_ok(&app, vec![capture("order-1", None)]).await;
    let h = &rest["holds"][0];
    assert_eq!(
        (&h["captured"], &h["remaining"], &h["status"]),
        (&json!(60), &json!(0), &json!("Captured")),
        "{rest}"
    );
    assert_eq!(c.funds(&app, &buyer).await, (35, 0, 35, 0));
    assert_eq!(c.balance(&app, &seller).await, 60);

    // A hold without a destination, captured to one named by the Capture; another voided.
    c.tx_ok(
        &app,
        vec![hold(&buyer, 10, "tab"), hold(&buyer, 20, "refundable")],
    )
    .await;
    let mut to_fee = capture("tab", Some(4));
    to_fee["destination"] = json!(escrow_fee);
    c.tx_ok(&app, vec![to_fee]).await;
    let voided = c.tx_ok(&app, vec![void("refundable")]).await;
    assert_eq!(voided["holds"][0]["status"], "Voided", "{voided}");
    assert_eq!(voided["holds"][0]["remaining"], 0, "{voided}");
    assert_eq!(c.funds(&app, &buyer).await, (31, 6, 25, 0));
    assert_eq!(c.balance(&app, &escrow_fee).await, 9);

    // A transaction without holds replies an empty list; a server-made id.
    assert_eq!(c.tx_ok(&app, vec![issue(&buyer, 1)]).await["holds"], json!([]));
    let unnamed = json!({"type": "Hold", "source": buyer, "amount": 1});
    let made = c.tx_ok(&app, vec![unnamed]).await;
    let id = made["holds"][0]["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("hd_") && id.len() <= 30, "{id}");
    assert_eq!(c.hold_of(&app, &id).await["amount"], 1);
    app.assert_invariants().await;
}

#[tokio::test]
async fn every_hold_error_is_answered_as_the_spec_says_and_changes_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let gold = c.asset(&app, "GOLD", 1).await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    let a_gold = c.wallet(&app, "a", &gold).await;
    c.fund(&app, &a, 100).await;
    c.tx_ok(
        &app,
        vec![
            hold_to(&a, &b, 30, "fixed"),
            hold(&a, 10, "loose"),
            hold(&a, 5, "gone"),
        ],
    )
    .await;
    c.tx_ok(&app, vec![void("gone")]).await;
    let mut past = hold(&a, 1, "past");
    past["expiresAt"] = json!(crate::app::v2::now_ms() - 1);
    let mut now_or_past = hold(&a, 1, "zero");
    now_or_past["expiresAt"] = json!(0);
    let mut elsewhere = capture("loose", Some(1));
    elsewhere["destination"] = json!(a_gold);
    let mut other_destination = capture("fixed", Some(1));
    other_destination["destination"] = json!(c.system_wallet(&app, &c.asset).await);

    // (case, operations, HTTP, recorded as Failed with this error | refused with this status)
    let cases: Vec<(&str, Vec<Value>, u16, bool, &str)> = vec![
        (
            "destination of another asset",
            vec![hold_to(&a, &a_gold, 1, "x1")],
            400,
            true,
            "VALIDATION_ERROR",
        ),
        (
            "expiresAt in the past",
            vec![past],
            400,
            false,
            "VALIDATION_ERROR",
        ),
        ("expiresAt 0", vec![now_or_past], 400, false, "VALIDATION_ERROR"),
        (
            "capture to another destination than the hold's",
            vec![other_destination],
            400,
            true,
            "VALIDATION_ERROR",
        ),
        (
            "capture to a wallet of another asset",
            vec![elsewhere],
            400,
            true,
            "VALIDATION_ERROR",
        ),
        (
            "capture with no destination at all",
            vec![capture("loose", None)],
            400,
            true,
            "VALIDATION_ERROR",
        ),
        ("holdId reused", vec![hold(&a, 1, "fixed")], 409, true, "CONFLICT"),
        (
            "holdId of a voided hold",
            vec![hold(&a, 1, "gone")],
            409,
            true,
            "CONFLICT",
        ),
        (
            "capture of a voided hold",
            vec![capture("gone", None)],
            409,
            true,
            "WRONG_HOLD_STATUS",
        ),
        (
            "void of a voided hold",
            vec![void("gone")],
            409,
            true,
            "WRONG_HOLD_STATUS",
        ),
        (
            "capture of an unknown hold",
            vec![capture("nope", None)],
            404,
            false,
            "HOLD_NOT_FOUND",
        ),
        (
            "void of an unknown hold",
            vec![void("nope")],
            404,
            false,
            "HOLD_NOT_FOUND",
        ),
        (
            "void of an id that cannot exist",
            vec![void(&"h".repeat(31))],
            404,
            false,
            "HOLD_NOT_FOUND",
        ),
        (
            "hold of a wallet that does not exist",
            vec![hold("999999999", 1, "x2")],
            404,
            false,
            "WALLET_NOT_FOUND",
        ),
        (
            "hold beyond available",
            vec![hold(&a, 61, "x3")],
            409,
            true,
            "INSUFFICIENT_FUNDS",
        ),
        (
            "capture beyond what remains",
            vec![capture("fixed", Some(31))],
            409,
            true,
            "INSUFFICIENT_FUNDS",
        ),
        (
            "a hold, then a capture beyond it",
            vec![hold_to(&a, &b, 5, "x4"), capture("x4", Some(6))],
            409,
            true,
            "INSUFFICIENT_FUNDS",
        ),
    ];
    let watched = [a.as_str(), b.as_str(), a_gold.as_str()];
    let mut failures = Failures::default();
    for (case, operations, http, recorded, error) in cases {
        let before = funds_of(&app, &c, &watched).await;
        let transactions = c.transaction_total(&app).await;
        let holds_before = c.get_ok(&app, &format!("/wallets/{a}/holds?pageSize=1000")).await;
        let reference = next_ref("err");
        let reply = c.tx(&app, &reference, operations).await;
        if recorded {
            let (status, body) = &reply;
            let ok = *status == http
                && body["status"] == "Failed"
                && body["error"] == error
                && body["holds"] == json!([])
                && body["message"].is_string();
            failures.check(
                ok,
                case,
                format!("expected {http} Failed {error}, got {status} {body}"),
            );
        } else {
            failures.error(case, &reply, http, error);
        }
        let added = c.transaction_total(&app).await - transactions;
        failures.check(
            added == i64::from(recorded),
            case,
            format!("{added} transaction(s) recorded"),
        );
        failures.check(
            funds_of(&app, &c, &watched).await == before,
            case,
            "funds changed",
        );
        let holds_after = c.get_ok(&app, &format!("/wallets/{a}/holds?pageSize=1000")).await;
        failures.check(holds_after == holds_before, case, "holds changed");
    }
    failures.assert_none();
    app.assert_invariants().await;
}

#[tokio::test]
async fn bad_hold_bodies_are_400_and_change_nothing() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, 100).await;
    c.tx_ok(&app, vec![hold(&a, 10, "h")]).await;
    let with = |mut op: Value, field: &str, value: Value| {
        op[field] = value;
        op
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "a Void with an amount",
            with(void("h"), "amount", json!(1)),
            "VALIDATION_ERROR",
        ),
        (
            "a Void with a destination",
            with(void("h"), "destination", json!(b)),
            "VALIDATION_ERROR",
        ),
        (
            "a Void without a hold",
            json!({"type": "Void"}),
            "VALIDATION_ERROR",
        ),
        (
            "a Capture with a source",
            with(capture("h", None), "source", json!(a)),
            "VALIDATION_ERROR",
        ),
        (
            "a Capture with a holdId",
            with(capture("h", None), "holdId", json!("h")),
            "VALIDATION_ERROR",
        ),
        (
            "a Capture without a hold",
            json!({"type": "Capture", "amount": 1}),
            "VALIDATION_ERROR",
        ),
        ("a Capture of 0", capture("h", Some(0)), "VALIDATION_ERROR"),
        (
            "a Capture of 1.5",
            with(capture("h", None), "amount", json!(1.5)),
            "FRACTION_IN_AMOUNT_NOT_VALID",
        ),
        (
            "a Capture of a string",
            with(capture("h", None), "amount", json!("1")),
            "VALIDATION_ERROR",
        ),
        (
            "a Hold without a source",
            json!({"type": "Hold", "amount": 1}),
            "VALIDATION_ERROR",
        ),
        (
            "a Hold without an amount",
            json!({"type": "Hold", "source": a}),
            "VALIDATION_ERROR",
        ),
        ("a Hold of -1", hold(&a, -1, "n1"), "VALIDATION_ERROR"),
        (
            "a Hold of 1.0",
            with(hold(&a, 1, "n2"), "amount", json!(1.0)),
            "FRACTION_IN_AMOUNT_NOT_VALID",
        ),
        (
            "a Hold naming a hold",
            with(hold(&a, 1, "n3"), "hold", json!("h")),
            "VALIDATION_ERROR",
        ),
        (
            "a Hold into its own source",
            hold_to(&a, &a, 1, "n4"),
            "VALIDATION_ERROR",
        ),
        (
            "a holdId of 31 characters",
            hold(&a, 1, &"x".repeat(31)),
            "VALIDATION_ERROR",
        ),
        ("an empty holdId", hold(&a, 1, ""), "VALIDATION_ERROR"),
        (
            "a holdId with a control character",
            hold(&a, 1, "a\u{7}b"),
            "VALIDATION_ERROR",
        ),
        (
            "a holdId with a zero-width space",
            hold(&a, 1, "a\u{200b}b"),
            "VALIDATION_ERROR",
        ),
        (
            "a holdId that is a number",
            with(hold(&a, 1, "n5"), "holdId", json!(5)),
            "VALIDATION_ERROR",
        ),
        (
            "expiresAt 1.5",
            with(hold(&a, 1, "n6"), "expiresAt", json!(1.5)),
            "VALIDATION_ERROR",
        ),
        (
            "expiresAt a string",
            with(hold(&a, 1, "n7"), "expiresAt", json!("soon")),
            "VALIDATION_ERROR",
        ),
        (
            "expiresAt beyond i64",
            with(hold(&a, 1, "n8"), "expiresAt", json!(1e30)),
            "VALIDATION_ERROR",
        ),
        (
            "an unknown field",
            with(hold(&a, 1, "n9"), "memo", json!("x")),
            "VALIDATION_ERROR",
        ),
        (
            "the server's ExpireHold",
            json!({"type": "ExpireHold", "hold": "h"}),
            "VALIDATION_ERROR",
        ),
        (
            "a lowercase type",
            with(hold(&a, 1, "n10"), "type", json!("hold")),
            "VALIDATION_ERROR",
        ),
    ];
    let before = funds_of(&app, &c, &[&a, &b]).await;
    let transactions = c.transaction_total(&app).await;
    let probes = i64::try_from(cases.len()).unwrap();
    let mut failures = Failures::default();
    for (case, op, status) in cases {
        let reference = next_ref("bad");
        let reply = c.tx(&app, &reference, vec![op]).await;
        failures.error(case, &reply, 400, status);
        // The reference id stays free: nothing was recorded under it.
        let (code, body) = c.tx(&app, &reference, vec![issue(&b, 1)]).await;
        failures.check(
            code == 201,
            case,
            format!("its referenceId was spent: {code} {body}"),
        );
        c.tx_ok(&app, vec![crate::app::v2::redeem(&b, 1)]).await;
    }
    // The same holdId twice in one transaction.
    let twice = c
        .tx(&app, &next_ref("twice"), vec![hold(&a, 1, "t"), hold(&a, 1, "t")])
        .await;
    failures.error("one holdId placed twice", &twice, 400, "VALIDATION_ERROR");
    failures.assert_none();
    assert_eq!(funds_of(&app, &c, &[&a, &b]).await, before, "nothing changed");
    assert_eq!(
        c.transaction_total(&app).await,
        transactions + 2 * probes,
        "only the probes were recorded"
    );
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_hold_capture_or_void_goes_with_its_transaction() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, 100).await;
    c.tx_ok(&app, vec![hold_to(&a, &b, 40, "open")]).await;
    let open = c.hold_of(&app, "open").await;
    let before = funds_of(&app, &c, &[&a, &b]).await;

    // Each with a Transfer after it that cannot apply (60 are available before it).
    let cases = [
        ("a Hold", hold(&a, 10, "new"), 51),
        ("a Capture", capture("open", Some(10)), 61),
        ("a Void", void("open"), 101),
    ];
    for (case, op, too_much) in cases {
        let reply = c
            .tx(&app, &next_ref("undo"), vec![op, transfer(&a, &b, too_much)])
            .await;
        assert_failed(case, &reply, 409, "INSUFFICIENT_FUNDS");
        assert_eq!(reply.1["holds"], json!([]), "{case}: {}", reply.1);
        assert_eq!(funds_of(&app, &c, &[&a, &b]).await, before, "{case}: funds");
        assert_eq!(c.hold_of(&app, "open").await, open, "{case}: the open hold");
    }
    let (status, body) = c.get(&app, "/holds/new").await;
    assert_eq!(
        status, 404,
        "the hold of a failed transaction was not placed: {body}"
    );
    // Its id is still free; and the same mixes succeed whole when they fit.
    let done = c
        .tx_ok(
            &app,
            vec![
                hold(&a, 10, "new"),
                capture("open", Some(10)),
                transfer(&a, &b, 5),
            ],
        )
        .await;
    assert_eq!(done["holds"].as_array().map(Vec::len), Some(2), "{done}");
    assert_eq!(c.funds(&app, &a).await, (85, 40, 45, 0));
    assert_eq!(c.balance(&app, &b).await, 15);
    app.assert_invariants().await;
}

#[tokio::test]
async fn holds_in_a_batch_apply_in_order_and_a_past_expiry_is_refused_like_one_post() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, 50).await;
    let mut past = hold(&a, 1, "past");
    past["expiresAt"] = json!(crate::app::v2::now_ms() - 1_000);
    let batch = json!({"transactions": [
        {"referenceId": "bh1", "operations": [hold_to(&a, &b, 20, "bh")]},
        {"referenceId": "bh2", "operations": [capture("bh", Some(5))]},
        {"referenceId": "bh3", "operations": [past]},
        {"referenceId": "bh4", "operations": [void("bh")]},
        {"referenceId": "bh1", "operations": [hold_to(&a, &b, 20, "bh")]},
    ]});
    let (status, body) = app
        .v2("POST", "/transactions/batch", Some(&c.key), Some(&batch))
        .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    let summary: Vec<(u64, Value)> = results
        .iter()
        .map(|r| (r["httpStatus"].as_u64().unwrap(), r["body"]["status"].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (201, json!("Completed")),
            (201, json!("Completed")),
            (400, json!("VALIDATION_ERROR")),
            (201, json!("Completed")),
            (409, json!("DuplicateReferenceId")),
        ],
        "{body}"
    );
    assert_eq!(results[1]["body"]["holds"][0]["remaining"], 15, "{body}");
    assert_eq!(results[3]["body"]["holds"][0]["status"], "Voided", "{body}");
    let duplicate = &results[4]["body"]["transaction"];
    assert_eq!(
        duplicate["holds"][0]["id"], "bh",
        "a retry learns its holds: {duplicate}"
    );
    assert_eq!(
        duplicate["holds"][0]["status"], "Voided",
        "as they are now: {duplicate}"
    );
    // The refused one recorded nothing: its referenceId is free.
    let (status, reply) = c.tx(&app, "bh3", vec![issue(&a, 1)]).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(c.funds(&app, &a).await, (46, 0, 46, 0));
    app.assert_invariants().await;
}

#[tokio::test]
async fn a_wallets_holds_are_listed_newest_first_by_status_and_paged() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    let b = c.customer_wallet(&app, "b").await;
    c.fund(&app, &a, 100).await;
    for k in 0..5 {
        c.tx_ok(&app, vec![hold(&a, 1, &format!("l{k}"))]).await;
    }
    c.tx_ok(&app, vec![void("l1"), void("l3")]).await;
    c.fund(&app, &b, 1).await;
    c.tx_ok(&app, vec![hold(&b, 1, "not-a")]).await;

    let page = c.get_ok(&app, &format!("/wallets/{a}/holds?pageSize=2")).await;
    assert_eq!(crate::app::v2::ids(&page), vec!["l4", "l3"], "{page}");
    assert_eq!(
        (&page["total"], &page["page"], &page["pageSize"]),
        (&json!(5), &json!(0), &json!(2))
    );
    let last = c
        .get_ok(&app, &format!("/wallets/{a}/holds?pageSize=2&page=2"))
        .await;
    assert_eq!(crate::app::v2::ids(&last), vec!["l0"], "{last}");
    let voided = c.get_ok(&app, &format!("/wallets/{a}/holds?status=Voided")).await;
    assert_eq!(crate::app::v2::ids(&voided), vec!["l3", "l1"], "{voided}");
    let open = c.get_ok(&app, &format!("/wallets/{a}/holds?status=Open")).await;
    assert_eq!(crate::app::v2::ids(&open), vec!["l4", "l2", "l0"], "{open}");
    let none = c
        .get_ok(&app, &format!("/wallets/{b}/holds?status=Captured"))
        .await;
    assert_eq!((&none["items"], &none["total"]), (&json!([]), &json!(0)));

    let mut failures = Failures::default();
    for (case, query) in [
        ("an unknown status", "status=Pending"),
        ("a lowercase status", "status=open"),
        ("pageSize above 1000", "pageSize=1001"),
        ("pageSize 0", "pageSize=0"),
        ("a negative page", "page=-1"),
        ("an unknown parameter", "sort=asc"),
    ] {
        let reply = c.get(&app, &format!("/wallets/{a}/holds?{query}")).await;
        failures.error(case, &reply, 400, "VALIDATION_ERROR");
    }
    let reply = c.get(&app, "/wallets/999999999/holds").await;
    failures.error("an unknown wallet", &reply, 404, "WALLET_NOT_FOUND");
    let reply = c.get(&app, "/holds/nope").await;
    failures.error("an unknown hold", &reply, 404, "HOLD_NOT_FOUND");
    let reply = c.get(&app, &format!("/holds/{}", "x".repeat(31))).await;
    failures.error("a hold id that cannot exist", &reply, 404, "HOLD_NOT_FOUND");
    failures.assert_none();
    assert_error(
        "GET /holds without a key",
        &app.v2("GET", "/holds/l0", None, None).await,
        401,
        "NO_KEY",
    );
}

/// Every byte but ASCII letters and digits, percent-encoded (a path segment).
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_hold_id_of_any_allowed_characters_is_read_back_by_its_path() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = c.customer_wallet(&app, "a").await;
    c.fund(&app, &a, 100).await;
    // ("." and ".." are left out: URL parsers drop them from a path even
    // percent-encoded, so no client could ask for such an id.)
    let ids = ["a b", "a/b", "50%", "q?x=1", "h#1", "é-ü", "a+b", "ordre:42;x"];
    let mut failures = Failures::default();
    for id in ids {
        c.tx_ok(&app, vec![hold(&a, 1, id)]).await;
        let (status, body) = c.get(&app, &format!("/holds/{}", encode_segment(id))).await;
        failures.check(
            status == 200 && body["id"] == id,
            id,
            format!("GET /holds/{}: {status} {body}", encode_segment(id)),
        );
    }
    failures.assert_none();
}
