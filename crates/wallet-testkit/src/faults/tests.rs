//! The decorator itself, on SQLite, through raw port jobs: a cut job
//! applies nothing (the backend rolls its savepoint back), a swallowed
//! fault is still a failure, reads go on, and lifting the fault restores
//! writes.

use super::{Faults, FaultyBackend};
use crate::harness::{Harness, SqliteHarness, TestDb};
use std::sync::Arc;
use wallet_core::{Store, StoreError};

/// The project every fresh SQLite database has.
const PROJECT: &str = "default";

async fn faulty() -> (TestDb, Store, Faults) {
    let mut faults = None;
    let db = SqliteHarness.fresh().await.wrapped(|inner| {
        let backend = FaultyBackend::new(inner);
        faults = Some(backend.faults());
        Arc::new(backend)
    });
    let store = db.store();
    (db, store, faults.expect("wrapped"))
}

/// Writes customers `ids`, stopping at the first error.
async fn insert_customers(store: &Store, ids: &'static [&'static str]) -> Result<(), StoreError> {
    store
        .write(move |tx| {
            for id in ids {
                tx.insert_customer(PROJECT, id, None, None, 1)?;
            }
            Ok(())
        })
        .await
}

async fn customers(store: &Store) -> Vec<String> {
    store
        .read(|r| {
            let page = r.customers(PROJECT, wallet_core::model::PageRequest::ALL)?;
            Ok::<_, StoreError>(page.items.into_iter().map(|c| c.id).collect())
        })
        .await
        .expect("reads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cut_after_part_of_its_writes_applies_nothing() {
    let (_db, store, faults) = faulty().await;
    faults.fail_from_write(3);

    let cut = insert_customers(&store, &["c1", "c2", "c3"]).await;

    assert!(matches!(cut, Err(StoreError::Unavailable(_))), "{cut:?}");
    assert_eq!((faults.write_primitives(), faults.injected()), (3, 1));
    assert!(
        customers(&store).await.is_empty(),
        "the two rows written were rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_swallows_an_injected_fault_is_discarded_and_told() {
    let (_db, store, faults) = faulty().await;
    faults.fail_from_write(2);

    let swallowed = store
        .write(|tx| -> Result<(), StoreError> {
            tx.insert_customer(PROJECT, "kept?", None, None, 1)?;
            let _ignored = tx.insert_customer(PROJECT, "failed", None, None, 1);
            Ok(())
        })
        .await;

    assert!(
        matches!(swallowed, Err(StoreError::Unavailable(_))),
        "{swallowed:?}"
    );
    assert!(customers(&store).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_work_while_writes_fail_and_writes_resume_once_lifted() {
    let (_db, store, faults) = faulty().await;
    insert_customers(&store, &["before"]).await.expect("no fault yet");
    faults.fail_every_write();

    assert_eq!(customers(&store).await, vec!["before".to_owned()], "a read");
    let read_in_write = store
        .write(|tx| Ok::<_, StoreError>(tx.customer(PROJECT, "before")?.is_some()))
        .await;
    assert_eq!(read_in_write, Ok(true), "the reads of a write forward");
    for _ in 0..3 {
        let refused = insert_customers(&store, &["during"]).await;
        assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
    }

    faults.lift();
    insert_customers(&store, &["after"]).await.expect("writes again");
    assert_eq!(
        customers(&store).await,
        vec!["before".to_owned(), "after".to_owned()]
    );
    assert_eq!(faults.injected(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_commit_applies_nothing() {
    let (_db, store, faults) = faulty().await;
    faults.fail_commits();

    let refused = insert_customers(&store, &["c1", "c2"]).await;

    assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
    assert_eq!(
        (faults.write_primitives(), faults.injected()),
        (2, 1),
        "the job ran in full"
    );
    assert!(customers(&store).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_job_leaves_its_neighbours_alone() {
    let (_db, store, faults) = faulty().await;
    faults.fail_from_write(2);

    let (one, two) = tokio::join!(
        insert_customers(&store, &["one"]),
        insert_customers(&store, &["two"])
    );

    let failed = [&one, &two].iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 1, "{one:?} {two:?}");
    assert_eq!(customers(&store).await.len(), 1, "the other job committed");
}
