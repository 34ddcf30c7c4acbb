//! What the writer does with a job's verdict, and what a caller is told.

use crate::common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use wallet_core::model::AuthorityCredential;
use wallet_core::port::{Backend, Verdict, WriteTx};
use wallet_core::StoreError;
use wallet_sqlite::MAX_RUNS;

#[tokio::test]
async fn retry_runs_the_job_again_on_clean_state() {
    let db = common::open();
    let runs = Arc::new(AtomicU32::new(0));
    let clean = Arc::new(Mutex::new(Vec::new()));
    let job = {
        let (runs, clean) = (Arc::clone(&runs), Arc::clone(&clean));
        Box::new(move |tx: &mut dyn WriteTx| {
            let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
            let before = tx.setting("counter").expect("reads");
            clean.lock().expect("lock").push(before.is_none());
            tx.set_setting("counter", &run.to_string()).expect("writes");
            if run < 3 {
                Verdict::Retry
            } else {
                Verdict::Keep
            }
        })
    };
    let retries_before = db.backend.stats().retries;

    db.backend.write(job).await.expect("the job commits");

    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(
        *clean.lock().expect("lock"),
        [true, true, true],
        "every run starts without the writes of the runs before"
    );
    let counter = db.read(|r| r.setting("counter")).await.expect("reads");
    assert_eq!(counter.as_deref(), Some("3"), "the last run's writes are kept");
    assert_eq!(db.backend.stats().retries - retries_before, 2);
}

#[tokio::test]
async fn a_job_that_keeps_asking_to_retry_runs_a_bounded_number_of_times_and_applies_nothing() {
    let db = common::open();
    let runs = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&runs);

    let answer = db
        .write(move |tx| -> Result<(), StoreError> {
            counted.fetch_add(1, Ordering::SeqCst);
            tx.set_setting("stuck", "v")?;
            Err(StoreError::Retryable("the world keeps changing".to_owned()))
        })
        .await;

    assert_eq!(runs.load(Ordering::SeqCst), MAX_RUNS);
    assert!(matches!(answer, Err(StoreError::Retryable(_))), "{answer:?}");
    let stuck = db.read(|r| r.setting("stuck")).await.expect("reads");
    assert_eq!(stuck, None, "a job that never settled wrote nothing");
}

#[tokio::test]
async fn a_job_that_swallows_a_storage_error_and_says_keep_is_rolled_back_and_told() {
    let db = common::open();
    let credential = AuthorityCredential::TokenDigest(vec![1; 32]);
    let taken = credential.clone();
    db.write(move |tx| tx.insert_authority("au_taken", common::PROJECT, "first", &taken, 1))
        .await
        .expect("the first authority is stored");

    let answer = db
        .write(move |tx| -> Result<(), StoreError> {
            tx.set_setting("before", "v")?;
            // A bug: the error is dropped and the job goes on as if it wrote.
            let _ = tx.insert_authority("au_taken", common::PROJECT, "second", &credential, 2);
            tx.set_setting("after", "v")?;
            Ok(())
        })
        .await;

    assert!(
        matches!(answer, Err(StoreError::UniqueViolation(_))),
        "the caller hears the swallowed error, not a success: {answer:?}"
    );
    for key in ["before", "after"] {
        let value = db.read(move |r| r.setting(key)).await.expect("reads");
        assert_eq!(value, None, "{key} was kept after a swallowed error");
    }
}

#[tokio::test]
async fn a_discarded_job_writes_nothing_and_its_own_answer_stands() {
    let db = common::open();
    let answer = db
        .write(|tx| -> Result<(), StoreError> {
            tx.set_setting("discarded", "v")?;
            Err(StoreError::Internal("refused by the job".to_owned()))
        })
        .await;
    assert!(
        matches!(&answer, Err(StoreError::Internal(m)) if m == "refused by the job"),
        "{answer:?}"
    );
    let value = db.read(|r| r.setting("discarded")).await.expect("reads");
    assert_eq!(value, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_after_the_writes_reply_sees_it() {
    let db = common::open();
    for n in 0..100 {
        let value = n.to_string();
        db.write(move |tx| tx.set_setting("latest", &value))
            .await
            .expect("writes");
        let seen = db.read(|r| r.setting("latest")).await.expect("reads");
        assert_eq!(seen, Some(n.to_string()), "the read after write {n}'s reply");
    }
}
