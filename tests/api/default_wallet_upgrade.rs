//! An old SQLite file (schema step 1, from before the default-wallet rule)
//! gets the default wallets the rule would have made, on opening and
//! through an old export. SQLite only: PostgreSQL's schema starts with the
//! rule (its step 1 is SQLite's steps 1–3), so it has no such file.

use crate::app::spawn_app_at;
use crate::app::v2::{ctx, issue};
use crate::default_wallet::wallets_of;

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
