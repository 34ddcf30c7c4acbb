//! One customer has one default wallet per asset, and API v1 and v2 use the
//! same one: the first wallet of an asset opened by either API.

use serde_json::{json, Value};
use wallet_testkit::app::v2::{ctx, issue, Ctx};
use wallet_testkit::app::{json_of, spawn_app, spawn_app_at, TestApp};

async fn v1_entry(app: &TestApp, token: &str, user: &str, amount: i64) -> (u16, Value) {
    let body = json!({ "user_id": user, "amount": amount, "reason": "v1" });
    json_of(app.post_entry(token, &body).await).await
}

/// The ids of a customer's wallets.
async fn wallets_of(app: &TestApp, c: &Ctx, customer: &str) -> Vec<String> {
    let page = c
        .get_ok(app, &format!("/customers/{customer}/wallets?pageSize=100"))
        .await;
    wallet_testkit::app::v2::ids(&page)
}

#[tokio::test]
async fn a_wallet_opened_through_v2_in_the_default_asset_is_the_one_v1_uses() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;
    let wallet = c.customer_wallet(&app, "dora").await;
    c.fund(&app, &wallet, 100).await;

    assert_eq!(
        app.total(&a.token, "dora").await,
        Some(100),
        "v1 sees the v2 balance"
    );
    let (status, body) = v1_entry(&app, &a.token, "dora", -30).await;
    assert_eq!(status, 200, "v1 spends what v2 issued: {body}");
    let (status, body) = v1_entry(&app, &a.token, "dora", 5).await;
    assert_eq!(status, 200, "v1 credits: {body}");

    assert_eq!(app.total(&a.token, "dora").await, Some(75));
    assert_eq!(c.balance(&app, &wallet).await, 75, "into the same wallet");
    assert_eq!(
        wallets_of(&app, &c, "dora").await,
        vec![wallet],
        "no second wallet"
    );
    app.assert_invariants().await;
}

#[tokio::test]
async fn the_first_wallet_of_an_asset_stays_the_default_whichever_api_opened_it() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;
    let gold = c.asset(&app, "GOLD", 1).await;

    // v1 first: its wallet is the default; a later v2 wallet is another one.
    app.entry(&a.token, "eve", 10).await;
    let v1_wallet = wallets_of(&app, &c, "eve").await;
    assert_eq!(v1_wallet.len(), 1);
    let second = c.wallet(&app, "eve", &c.asset).await;
    c.fund(&app, &second, 1_000).await;
    assert_eq!(app.total(&a.token, "eve").await, Some(10), "v1 keeps its wallet");
    assert_eq!(c.balance(&app, &v1_wallet[0]).await, 10);

    // v2 first, in another asset and then the default one: each the first of its asset.
    c.customer(&app, "finn").await;
    let finn_gold = c.wallet(&app, "finn", &gold).await;
    c.fund(&app, &finn_gold, 7).await;
    let finn_points = c.wallet(&app, "finn", &c.asset).await;
    c.fund(&app, &finn_points, 3).await;
    let extra = c.wallet(&app, "finn", &c.asset).await;
    c.fund(&app, &extra, 50).await;
    assert_eq!(
        app.total(&a.token, "finn").await,
        Some(3),
        "the first default-asset wallet"
    );
    let (status, _) = v1_entry(&app, &a.token, "finn", -3).await;
    assert_eq!(status, 200);
    assert_eq!(c.balance(&app, &finn_points).await, 0);
    assert_eq!(c.balance(&app, &extra).await, 50);
    assert_eq!(wallets_of(&app, &c, "finn").await.len(), 3, "v1 opened none");
    app.assert_invariants().await;
}

/// A database of schema step 1 with the state the old code left: a v2
/// wallet of the default asset that is not the default, and a customer with
/// such a wallet and, later, a v1 default wallet.
fn old_database(path: &std::path::Path) {
    let db = rusqlite::Connection::open(path).expect("db");
    db.execute_batch(include_str!("../../schema.sql"))
        .expect("step 1");
    db.execute_batch(
        "PRAGMA user_version = 1;
         BEGIN;
         INSERT INTO projects (id, name, default_asset, created_at) VALUES ('default', 'Default project', 1, 0);
         INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
             VALUES (1, 'default', 'PTS', 'Points', 1, 1, 0);
         INSERT INTO authorities (id, public_id, project_id, name, token_digest, created_at)
             VALUES (1, 'ak_old', 'default', 'old', x'00', 0);
         INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES
             (1, 'default', 'only-v2', 'Active', 0),
             (2, 'default', 'both', 'Active', 0);
         INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, created_at) VALUES
             (1, 'default', 1, 1, 0, 'Open', 40, 0),
             (2, 'default', 1, 2, 0, 'Open', 8, 0),
             (3, 'default', 1, 2, 1, 'Open', 2, 1);
         INSERT INTO transactions (id, project_id, authority_id, status, created_at) VALUES
             (1, 'default', 1, 'Completed', 0), (2, 'default', 1, 'Completed', 0), (3, 'default', 1, 'Completed', 1);
         INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at) VALUES
             (1, 1, 1, 1, 'Issue', 40, 40, 0), (2, 2, 2, 1, 'Issue', 8, 8, 0), (3, 3, 3, 1, 'Issue', 2, 2, 1);
         INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (1, 1, 40), (2, 1, 8), (3, 1, 2);
         COMMIT;",
    )
    .expect("old rows");
}

#[tokio::test]
async fn an_old_database_gets_the_default_wallets_the_rule_would_have_made() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("wallet.db");
    old_database(&db);
    let app = spawn_app_at(&db).await;
    app.assert_invariants().await;
    let c = ctx(&app, "default").await;
    let a = app.create_authority("default").await;

    // Only a v2 wallet: it becomes the default, as if opened under the rule.
    assert_eq!(app.total(&a.token, "only-v2").await, Some(40));
    app.entry(&a.token, "only-v2", -40).await;
    assert_eq!(c.balance(&app, "1").await, 0);
    assert_eq!(wallets_of(&app, &c, "only-v2").await, vec!["1".to_owned()]);

    // Both: the v1 wallet its SDK users have seen stays the default; nothing moves.
    assert_eq!(app.total(&a.token, "both").await, Some(2));
    app.entry(&a.token, "both", 1).await;
    assert_eq!((c.balance(&app, "2").await, c.balance(&app, "3").await), (8, 3));
    assert_eq!(wallets_of(&app, &c, "both").await.len(), 2);
    app.assert_invariants().await;

    // A v2 issue into the old non-default wallet still works.
    c.tx_ok(&app, vec![issue("2", 1)]).await;
    assert_eq!(app.total(&a.token, "both").await, Some(3));
}

#[tokio::test]
async fn an_old_export_imports_with_the_same_default_wallets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, file, new) = (
        dir.path().join("old.db"),
        dir.path().join("default.jsonl"),
        dir.path().join("new.db"),
    );
    old_database(&old);
    let project = wallet_core::text::ProjectId::default_project();
    let store = wallet_service::startup::open_sqlite(&old).expect("opens");
    wallet_service::ops::export(&store, &project, &file)
        .await
        .expect("an old database exports");
    drop(store);
    // Opening the old file brought it to today's schema, which marks the v2
    // wallet default; a binary from before schema step 2 exported it
    // unmarked, and that is the file an old export is.
    let text = std::fs::read_to_string(&file).expect("export file").replace(
        r#""id":1,"asset":1,"customer":1,"isDefault":true"#,
        r#""id":1,"asset":1,"customer":1,"isDefault":false"#,
    );
    std::fs::write(&file, &text).expect("export file");
    assert!(
        text.contains(r#""id":1,"asset":1,"customer":1,"isDefault":false"#),
        "{text}"
    );
    wallet_service::ops::import(&new.clone().into(), &file).expect("imports");

    let app = spawn_app_at(&new).await;
    let a = app.create_authority("default").await;
    assert_eq!(app.total(&a.token, "only-v2").await, Some(40));
    assert_eq!(app.total(&a.token, "both").await, Some(2));
    app.assert_invariants().await;
}
