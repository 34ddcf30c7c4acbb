use super::*;
use std::sync::Arc;
use wallet_core::clock::ManualClock;
use wallet_core::{Store, StoreError};

struct Db {
    _dir: tempfile::TempDir,
    store: Store,
    clock: Arc<ManualClock>,
    ledger: Ledger,
}

fn db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(ManualClock::at(1_000_000));
    let store = crate::startup::open_sqlite(&dir.path().join("wallet.db")).expect("opens");
    let ledger = Ledger::with_clock(store.clone(), clock.clone());
    Db {
        _dir: dir,
        store,
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

/// Whether the session of this cookie still has a row, live or not (the
/// port's read does not judge expiry or the password).
async fn stored(db: &Db, token: &str) -> bool {
    let digest = digest(token);
    db.store
        .read(move |r| r.admin_session(&digest))
        .await
        .map_err(|e: StoreError| e)
        .expect("reads")
        .is_some()
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
    assert!(stored(&db, &token).await);
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
    assert!(!stored(&db, &token).await, "logout deletes the row");
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
    assert!(stored(&db, &token).await, "refused, not yet pruned");
    // The next login prunes the expired row.
    let (next, _) = open(&db.ledger, stamp).await.expect("opens").expect("a session");
    assert!(!stored(&db, &token).await, "pruned");
    assert!(stored(&db, &next).await);
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
    for token in &tokens {
        assert!(!stored(&db, token).await, "ended, not only refused");
    }
    assert!(
        open(&db.ledger, old).await.expect("runs").is_none(),
        "a login verified against the old password opens nothing"
    );
}

#[tokio::test]
async fn a_row_of_another_password_is_refused_even_if_not_pruned() {
    // Several processes: a session inserted while another process changed
    // the password escapes that prune. The check of every request refuses it.
    let db = db();
    let stamp = set_password(&db.ledger, "$argon2id$old").await;
    let (token, _) = open(&db.ledger, stamp).await.expect("opens").expect("a session");
    db.store
        .write(|w| w.set_setting("admin_password_hash", "$argon2id$new"))
        .await
        .map_err(|e: StoreError| e)
        .expect("another process sets the password without pruning");
    assert!(stored(&db, &token).await);
    assert!(find(&db.ledger, &token).await.expect("reads").is_none());
}
