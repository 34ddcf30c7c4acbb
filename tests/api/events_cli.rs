//! `wallet-service verify` and `wallet-service events prune` through the
//! real command line, on the SQLite file a running server uses (its key is
//! the default one beside the file, which both find).
//!
//! Promises: verify exits 0 on an untouched ledger while the server runs;
//! an entry or an event edited behind the server's back (as `sqlite3`
//! would) makes it exit 1 naming the first `seq` that does not match;
//! prune drops old events keeping a signed anchor, after which verify
//! still passes, the feed starts after the anchor, and an anchor the key did
//! not sign fails verify.

use crate::app::spawn_app;
use crate::app::v2::{ctx, transfer};
use crate::reliability_export::{cli, describe};
use serde_json::Value;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `verify` (with `args`) and asserts it exits 1 naming `seq` first.
async fn assert_verify_fails_at(app: &wallet_testkit::app::TestApp, args: &[&str], seq: i64) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let broken = cli(app.db_arg(), &all).await;
    assert_eq!(broken.status.code(), Some(1), "{}", describe(&broken));
    assert!(
        stdout(&broken).contains(&format!("MISMATCH at seq {seq}:")),
        "expected seq {seq}: {}",
        describe(&broken)
    );
}

/// The project's feed, as the API serves it.
async fn feed(app: &wallet_testkit::app::TestApp, c: &wallet_testkit::app::v2::Ctx) -> Vec<Value> {
    let (status, page) = c.get(app, "/events?limit=1000").await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_then_names_the_first_seq_an_sqlite3_edit_broke() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    let bob = c.customer_wallet(&app, "bob").await;
    c.fund(&app, &alice, 50).await;
    c.tx_ok(&app, vec![transfer(&alice, &bob, 20)]).await;

    let ok = cli(app.db_arg(), &["verify"]).await;
    assert!(ok.status.success(), "verify while serving: {}", describe(&ok));
    assert!(stdout(&ok).contains("default: ok,"), "{}", describe(&ok));

    // Bob's balance event of the transfer: its entry is edited.
    let events = feed(&app, &c).await;
    let bobs = events
        .iter()
        .find(|e| e["type"] == "wallet.balance_changed" && e["data"]["walletId"] == bob.as_str())
        .unwrap_or_else(|| panic!("no balance event of bob in {events:?}"));
    let seq = bobs["seq"].as_i64().unwrap();
    app.tamper(
        &format!(
            "DROP TRIGGER entries_no_update;
             UPDATE entries SET amount = 21, balance_after = 21 WHERE wallet_id = {bob};"
        ),
        "",
    );
    assert_verify_fails_at(&app, &[], seq).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_event_fails_verify_at_its_seq() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &alice, 7).await;
    let events = feed(&app, &c).await;
    let last = events.last().unwrap()["seq"].as_i64().unwrap();
    app.tamper(
        &format!(
            "DROP TRIGGER events_no_update;
             UPDATE events SET data = replace(data, '7', '8') WHERE seq = {last};"
        ),
        "",
    );
    assert_verify_fails_at(&app, &["--project", "default"], last).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_keeps_a_signed_anchor_that_verify_checks() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &alice, 5).await;
    let before = feed(&app, &c).await;
    let cut = before.last().unwrap()["seq"].as_i64().unwrap();
    let cutoff = before.last().unwrap()["createdAt"].as_i64().unwrap() + 1;
    // Events after the cutoff stay.
    std::thread::sleep(std::time::Duration::from_millis(5));
    c.fund(&app, &alice, 6).await;

    let pruned = cli(
        app.db_arg(),
        &["events", "prune", "--before", &cutoff.to_string()],
    )
    .await;
    assert!(pruned.status.success(), "{}", describe(&pruned));
    assert!(
        stdout(&pruned).contains(&format!("default: {cut} events pruned")),
        "{}",
        describe(&pruned)
    );
    let after = feed(&app, &c).await;
    assert_eq!(
        after.first().unwrap()["seq"].as_i64(),
        Some(cut + 1),
        "the feed starts after the anchor"
    );
    let ok = cli(app.db_arg(), &["verify"]).await;
    assert!(ok.status.success(), "verify after prune: {}", describe(&ok));

    app.tamper("UPDATE event_heads SET anchor_signature = 'forged';", "");
    assert_verify_fails_at(&app, &[], cut).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_events_fails_verify_against_the_head() {
    let app = spawn_app().await;
    let c = ctx(&app, "default").await;
    let alice = c.customer_wallet(&app, "alice").await;
    c.fund(&app, &alice, 3).await;
    let last = feed(&app, &c).await.last().unwrap()["seq"].as_i64().unwrap();
    app.tamper(
        &format!("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = {last};"),
        "",
    );
    assert_verify_fails_at(&app, &[], last).await;
    app.stop().await;
}
