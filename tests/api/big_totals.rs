//! Totals beyond i64 on a legal ledger: a wallet holds at most i64::MAX, but
//! what one authority issued into it, or the sum over some authorities, can
//! pass that (one issues near MAX again and again while another redeems).
//! The v1 wallet query answers exactly, and no legal issue is refused for
//! the sake of a running total.

use serde_json::json;
use wallet_testkit::app::v2::{ctx, issue, redeem};
use wallet_testkit::app::{spawn_app, TestApp};

const MAX: i64 = i64::MAX;

async fn v1(app: &TestApp, token: &str, user: &str, amount: i64) -> u16 {
    let body = json!({ "user_id": user, "amount": amount, "reason": "big" });
    let response = app.post_entry(token, &body).await;
    response.status().as_u16()
}

/// `GET /api/v1/wallet` as text: totals beyond u64 do not fit a `Value`.
async fn wallet_text(app: &TestApp, token: &str, query: &str) -> (u16, String) {
    let response = app.get(token, &format!("/api/v1/wallet?{query}")).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Asserts each `(query, expected JSON fragment)` of the v1 wallet query.
async fn assert_totals(app: &TestApp, token: &str, cases: &[(String, String)]) {
    let mut wrong = Vec::new();
    for (query, expected) in cases {
        let (status, text) = wallet_text(app, token, query).await;
        if status != 200 || !text.contains(expected.as_str()) {
            wrong.push(format!("{query}: {status} {text} (expected {expected})"));
        }
    }
    assert!(wrong.is_empty(), "exact totals:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_sum_over_authorities_past_i64_is_exact_not_a_500() {
    let app = spawn_app().await;
    let [a, b, c] = [
        app.create_authority("default").await,
        app.create_authority("default").await,
        app.create_authority("default").await,
    ];
    // Each authority's total fits i64; a's and b's together do not.
    assert_eq!(v1(&app, &a.token, "w", MAX).await, 200);
    assert_eq!(v1(&app, &c.token, "w", -MAX).await, 200);
    assert_eq!(v1(&app, &b.token, "w", MAX).await, 200);
    assert_eq!(v1(&app, &a.token, "x", 5).await, 200);
    let two_max = (2 * i128::from(MAX)).to_string();
    let both = format!("{},{}", a.id, b.id);
    let cases: Vec<(String, String)> = vec![
        ("user_ids=w".into(), format!(r#"{{"user_id":"w","total":{MAX}}}"#)),
        (
            "user_ids=w&authority_ids=".into(),
            format!(r#"{{"user_id":"w","total":{MAX}}}"#),
        ),
        (
            format!("user_ids=w&authority_ids={both}"),
            format!(r#"{{"user_id":"w","total":{two_max}}}"#),
        ),
        (
            format!("user_ids=w&authority_ids={}", c.id),
            format!(r#"{{"user_id":"w","total":-{MAX}}}"#),
        ),
        (
            format!("user_ids=&authority_ids={both}"),
            format!(r#"[{{"user_id":"w","total":{two_max}}},{{"user_id":"x","total":5}}]"#),
        ),
        (
            "user_ids=&authority_ids=".into(),
            format!(r#"[{{"user_id":"w","total":{MAX}}},{{"user_id":"x","total":5}}]"#),
        ),
    ];
    assert_totals(&app, &a.token, &cases).await;
    app.assert_invariants().await;
}

#[tokio::test]
async fn an_authority_whose_running_total_passes_i64_still_issues() {
    let app = spawn_app().await;
    let (a, b) = (
        app.create_authority("default").await,
        app.create_authority("default").await,
    );
    // a issues MAX three times; b redeems it twice in between. The balance
    // never passes MAX; a's running total reaches 3 MAX (past u64 too), b's -2 MAX.
    assert_eq!(v1(&app, &a.token, "u", MAX).await, 200);
    assert_eq!(v1(&app, &b.token, "u", -MAX).await, 200);
    assert_eq!(v1(&app, &a.token, "u", MAX).await, 200, "a's total reaches 2 MAX");
    assert_eq!(v1(&app, &b.token, "u", -MAX).await, 200);
    assert_eq!(v1(&app, &a.token, "u", MAX).await, 200, "a's total reaches 3 MAX");
    let three_max = (3 * i128::from(MAX)).to_string();
    let two_max = (2 * i128::from(MAX)).to_string();
    let cases: Vec<(String, String)> = vec![
        ("user_ids=u".into(), format!(r#"{{"user_id":"u","total":{MAX}}}"#)),
        (
            format!("user_ids=u&authority_ids={}", a.id),
            format!(r#"{{"user_id":"u","total":{three_max}}}"#),
        ),
        (
            format!("user_ids=u&authority_ids={}", b.id),
            format!(r#"{{"user_id":"u","total":-{two_max}}}"#),
        ),
        (
            format!("user_ids=&authority_ids={}", a.id),
            format!(r#"[{{"user_id":"u","total":{three_max}}}]"#),
        ),
    ];
    assert_totals(&app, &a.token, &cases).await;
    // b spends the rest; a's total comes back down by exact arithmetic.
    assert_eq!(v1(&app, &b.token, "u", -MAX).await, 200);
    assert_eq!(v1(&app, &a.token, "u", 7).await, 200);
    let cases = vec![(
        format!("user_ids=u&authority_ids={}", b.id),
        format!(r#"{{"user_id":"u","total":-{}}}"#, 3 * i128::from(MAX)),
    )];
    assert_totals(&app, &a.token, &cases).await;
    assert_eq!(app.total(&a.token, "u").await, Some(7));
    app.assert_invariants().await;

    // check compares exactly: a running total off by 2^64 is found.
    let db = rusqlite::Connection::open(&app.db).expect("db");
    db.execute("UPDATE authority_totals SET total_high = total_high + 1", [])
        .expect("tampered");
    let report = app.check().await;
    assert_eq!(
        report.authority_total_mismatches.len(),
        2,
        "both running totals are off: {report:#?}"
    );
}

#[tokio::test]
async fn a_v2_authority_issues_near_max_again_and_again() {
    let app = spawn_app().await;
    let issuer = ctx(&app, "default").await;
    let redeemer = ctx(&app, "default").await;
    let wallet = issuer.customer_wallet(&app, "big").await;
    for round in 0..3 {
        let body = issuer.tx_ok(&app, vec![issue(&wallet, MAX)]).await;
        assert_eq!(body["status"], "Completed", "round {round}");
        redeemer.tx_ok(&app, vec![redeem(&wallet, MAX)]).await;
    }
    assert_eq!(issuer.balance(&app, &wallet).await, 0);
    app.assert_invariants().await;

    // The ledger moves out and back in through export and import.
    let dir = tempfile::tempdir().expect("temp dir");
    let (file, copy) = (dir.path().join("p.jsonl"), dir.path().join("copy.db"));
    let project = wallet_core::text::ProjectId::default_project();
    let store = wallet_service::startup::open_sqlite(&app.db).expect("opens");
    wallet_service::ops::export(&store, &project, &file)
        .await
        .expect("exports");
    wallet_service::ops::import(&copy.clone().into(), &file)
        .expect("imports: running totals past i64 rebuild");
}
