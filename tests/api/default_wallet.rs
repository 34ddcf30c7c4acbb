//! One customer has one default wallet per asset, and API v1 and v2 use the
//! same one: the first wallet of an asset opened by either API. (How an old
//! SQLite file gets its default wallets: `default_wallet_upgrade`.)

use crate::app::v2::{ctx, Ctx};
use crate::app::{json_of, spawn_app, TestApp};
use serde_json::{json, Value};

async fn v1_entry(app: &TestApp, token: &str, user: &str, amount: i64) -> (u16, Value) {
    let body = json!({ "user_id": user, "amount": amount, "reason": "v1" });
    json_of(app.post_entry(token, &body).await).await
}

/// The ids of a customer's wallets.
pub async fn wallets_of(app: &TestApp, c: &Ctx, customer: &str) -> Vec<String> {
    let page = c
        .get_ok(app, &format!("/customers/{customer}/wallets?pageSize=100"))
        .await;
    crate::app::v2::ids(&page)
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
