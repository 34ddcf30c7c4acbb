//! A change to what writes re-check inside their transaction (a customer
//! key's revocation, a customer's suspension, the maintenance switch; an
//! authority's revocation: `revocation_at_write`) commits while writes that
//! re-check it keep coming, and the next write sees it.
//!
//! On PostgreSQL every write share-locks the rows it re-checked until it
//! commits, so that a change cannot commit while a write that saw the old
//! value is in flight. A share lock is granted beside the others even
//! while the change waits for them: with several writers (or processes)
//! there was always a write holding the row, and the change waited for as
//! long as the load lasted (minutes, in this test's first runs).

use crate::app::v2::{ctx, issue, next_ref};
use crate::app::{json_of, spawn_app, TestApp};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long such a change may take under load: the writes in flight
/// finish first (milliseconds; far more on a busy CI machine).
pub const UNDER_LOAD: Duration = Duration::from_secs(20);
/// Clients sending the load, each one request after another.
const CLIENTS: usize = 32;

/// One write of the load; its status.
type Write = Pin<Box<dyn Future<Output = u16> + Send>>;

/// Runs `change` while `CLIENTS` clients keep sending `write`; panics if
/// the change has not committed within [`UNDER_LOAD`].
async fn under_load<W>(what: &str, write: W, change: impl Future<Output = ()>)
where
    W: Fn() -> Write + Clone + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (write, stop) = (write.clone(), stop.clone());
        load.spawn(async move {
            let mut sent = 0usize;
            // Bounded even if the change never comes.
            while !stop.load(Ordering::SeqCst) && sent < 5_000 {
                write().await;
                sent += 1;
            }
            sent
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let done = tokio::time::timeout(UNDER_LOAD, change).await;
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let sent: usize = load.join_all().await.into_iter().sum();
    assert!(
        done.is_ok(),
        "{what}: not committed within {UNDER_LOAD:?} while writes kept coming"
    );
    println!("{what}: committed in {took:?} under load ({sent} writes sent)");
}

/// A PUT of a wallet's name with `token`: a write that re-checks the token.
fn rename(app: &Arc<TestApp>, wallet: &str, token: &str) -> impl Fn() -> Write + Clone + Send + 'static {
    let (app, path, token) = (app.clone(), format!("/wallets/{wallet}/name"), token.to_owned());
    move || {
        let (app, path, token) = (app.clone(), path.clone(), token.clone());
        Box::pin(async move {
            app.v2("PUT", &path, Some(&token), Some(&json!({ "name": "load" })))
                .await
                .0
        })
    }
}

async fn customer_key(app: &TestApp, c: &crate::app::v2::Ctx, customer: &str) -> (String, String) {
    let key: Value = c
        .call(
            app,
            "POST",
            &format!("/customers/{customer}/keys"),
            json!({}),
            201,
        )
        .await;
    (
        key["id"].as_str().expect("key id").to_owned(),
        key["token"].as_str().expect("token").to_owned(),
    )
}

async fn switch_maintenance(app: &TestApp, (cookie, csrf): &(String, String), on: bool) {
    let body = json!({ "enabled": on });
    let response = app
        .admin("PUT", "/maintenance", cookie, Some(csrf), Some(&body))
        .await;
    let (status, body) = json_of(response).await;
    assert_eq!((status, body["enabled"].as_bool()), (200, Some(on)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_that_writes_recheck_commits_while_they_keep_coming() {
    let app = Arc::new(spawn_app().await);
    let c = ctx(&app, "default").await;

    // A customer key revoked while it renames its wallet again and again.
    let wallet = c.customer_wallet(&app, "keyed").await;
    let (key_id, key) = customer_key(&app, &c, "keyed").await;
    let path = format!("/customers/keyed/keys/{key_id}");
    under_load(
        "a customer key's revocation",
        rename(&app, &wallet, &key),
        async {
            assert_eq!(app.v2("DELETE", &path, Some(&c.key), None).await.0, 204);
        },
    )
    .await;
    let after = rename(&app, &wallet, &key)().await;
    assert_eq!(after, 401, "the next write with the revoked key");

    // A customer suspended while its key renames its wallet.
    let wallet = c.customer_wallet(&app, "suspended").await;
    let (_, key) = customer_key(&app, &c, "suspended").await;
    under_load("a customer's suspension", rename(&app, &wallet, &key), async {
        let suspend = json!({});
        let (status, body) = app
            .v2(
                "POST",
                "/customers/suspended/suspend",
                Some(&c.key),
                Some(&suspend),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("Suspended")),
            "{body}"
        );
    })
    .await;
    let (_, customer) = app.v2("GET", "/customers/suspended", Some(&c.key), None).await;
    assert_eq!(customer["status"], "Suspended", "{customer}");

    // The maintenance switch, turned on through the admin API (which also
    // tells the server's flag in memory) while transactions keep coming;
    // switched once before, as any database that has seen one has the row.
    let wallet = c.customer_wallet(&app, "funded").await;
    let session = app.admin_login().await;
    switch_maintenance(&app, &session, false).await;
    let transact = {
        let (app, key, wallet) = (app.clone(), c.key.clone(), wallet.clone());
        move || {
            let (app, key, wallet) = (app.clone(), key.clone(), wallet.clone());
            Box::pin(async move {
                let body = json!({ "referenceId": next_ref("load"), "operations": [issue(&wallet, 1)] });
                app.v2("POST", "/transactions", Some(&key), Some(&body)).await.0
            }) as Write
        }
    };
    under_load(
        "the maintenance switch",
        transact.clone(),
        switch_maintenance(&app, &session, true),
    )
    .await;
    assert_eq!(transact().await, 503, "the next write in maintenance");
    switch_maintenance(&app, &session, false).await;
    assert_eq!(transact().await, 201, "and after it");
    app.assert_invariants().await;
}
