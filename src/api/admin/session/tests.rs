use super::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wallet_core::clock::ManualClock;

struct Db {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<ManualClock>,
    ledger: Ledger,
}

fn db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wallet.db");
    let clock = Arc::new(ManualClock::at(1_000_000));
    let store = crate::startup::open_sqlite(&path).expect("opens");
    let ledger = Ledger::with_clock(store, clock.clone());
    Db {
        _dir: dir,
        path,
        clock,
        ledger,
    }
}

/// Sets a password hash as `admin set-password` does; returns its stamp.
async fn set_password(ledger: &Ledger, phc: &str) -> PasswordStamp {
    ledger
        .set_admin_password_hash(phc.to_owned(), false)
        .await
        .expect("stored");
    PasswordStamp::of(phc)
}

/// The session rows stored, live or not, read from the file itself.
fn stored_rows(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .and_then(|c| c.query_row("SELECT count(*) FROM admin_sessions", [], |r| r.get(0)))
        .expect("counts")
}

#[test]
fn the_csrf_token_is_derived_from_the_cookie_and_not_from_its_digest() {
    let (a, b) = (random_base32(40), random_base32(40));
    assert_eq!(csrf_of(&a), csrf_of(&a), "any process computes the same token");
    assert_ne!(csrf_of(&a), csrf_of(&b));
    assert_eq!(csrf_of(&a).len(), 52, "256 bits in base32");
    assert_ne!(csrf_of(&a), base32(&digest(&a)), "not the stored digest");
    assert_eq!(base32(&[0xff]), "96");
    assert_eq!(base32(&[0, 0, 0, 0, 0]), "aaaaaaaa");
}

#[tokio::test]
async fn a_session_is_a_row_found_by_its_cookie_and_ended_by_logout() {
    let db = db();
    let stamp = set_password(&db.ledger, "$argon2id$first").await;
    let (token, session) = open(&db.ledger, stamp).await.expect("opens").expect("a session");
    assert_eq!(stored_rows(&db.path), 1);
    let found = find(&db.ledger, &token).await.expect("reads").expect("live");
    assert!(
        found.csrf_matches(&session.csrf),
        "the same CSRF token, recomputed"
    );
    assert_eq!(found.expires_at, session.expires_at);
    assert!(!found.csrf_matches("nope"));
    assert!(find(&db.ledger, "other").await.expect("reads").is_none());
    end(&db.ledger, &token).await.expect("ends");
    assert!(find(&db.ledger, &token).await.expect("reads").is_none());
    assert_eq!(stored_rows(&db.path), 0, "logout deletes the row");
}

#[tokio::test]
async fn a_session_ends_when_it_expires() {
    let db = db();
    let stamp = set_password(&db.ledger, "$argon2id$first").await;
    let (token, _) = open(&db.ledger, stamp.clone())
        .await
        .expect("opens")
        .expect("a session");
    let ttl = i64::try_from(SESSION_TTL.as_millis()).expect("fits");
    db.clock.advance(ttl - 1);
    assert!(find(&db.ledger, &token).await.expect("reads").is_some());
    db.clock.advance(1);
    assert!(
        find(&db.ledger, &token).await.expect("reads").is_none(),
        "expired"
    );
    // The next login prunes the expired row.
    open(&db.ledger, stamp).await.expect("opens").expect("a session");
    assert_eq!(stored_rows(&db.path), 1);
}

#[tokio::test]
async fn another_password_ends_every_session_and_prunes_them() {
    let db = db();
    let old = set_password(&db.ledger, "$argon2id$old").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (token, _) = open(&db.ledger, old.clone())
            .await
            .expect("opens")
            .expect("a session");
        tokens.push(token);
    }
    set_password(&db.ledger, "$argon2id$new").await;
    for token in &tokens {
        assert!(find(&db.ledger, token).await.expect("reads").is_none());
    }
    assert_eq!(stored_rows(&db.path), 0, "ended, not only refused");
    assert!(
        open(&db.ledger, old).await.expect("runs").is_none(),
        "a login verified against the old password opens nothing"
    );
    assert_eq!(stored_rows(&db.path), 0);
}

#[tokio::test]
async fn a_row_of_another_password_is_refused_even_if_not_pruned() {
    // Several processes: a session inserted while another process changed
    // the password escapes that prune. The check of every request refuses it.
    let db = db();
    let stamp = set_password(&db.ledger, "$argon2id$old").await;
    let (token, _) = open(&db.ledger, stamp).await.expect("opens").expect("a session");
    rusqlite::Connection::open(&db.path)
        .and_then(|c| {
            c.execute(
                "UPDATE settings SET value = '$argon2id$new' WHERE key = 'admin_password_hash'",
                [],
            )
        })
        .expect("another process sets the password without pruning");
    assert_eq!(stored_rows(&db.path), 1);
    assert!(find(&db.ledger, &token).await.expect("reads").is_none());
}
