//! The writer's own promises, with the SQLite-specific faults only a test
//! hook on the write connection can inject. (The port's promises are tested
//! through the public API in `tests/`.)

use crate::{SqliteBackend, SqliteOptions};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use wallet_core::model::NewAsset;
use wallet_core::port::Verdict;
use wallet_core::{Store, StoreError};

fn open() -> (TempDir, Arc<SqliteBackend>, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let backend = SqliteBackend::open(&SqliteOptions::new(dir.path().join("w.db"))).expect("the store opens");
    let backend = Arc::new(backend);
    let store = Store::new(backend.clone());
    (dir, backend, store)
}

/// Holds the writer busy, so that the jobs sent next queue up behind it and
/// run as one group.
async fn hold_writer(store: &Store) -> tokio::task::JoinHandle<Result<(), StoreError>> {
    let store = store.clone();
    let blocker = tokio::spawn(async move {
        store
            .write(|_| -> Result<(), StoreError> {
                std::thread::sleep(Duration::from_millis(300));
                Ok(())
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    blocker
}

/// SQLite's largest `max_page_count`: no cap.
const NO_PAGE_CAP: i64 = 0xFFFF_FFFE;

/// Caps (or uncaps) the file at its current size on the writer's connection:
/// the next write that needs a new page fails with `SQLITE_FULL`, exactly as
/// on a full disk.
async fn disk_full(backend: &SqliteBackend, full: bool) {
    backend
        .writer()
        .on_connection(move |conn| {
            let pages: i64 = conn
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .expect("page count");
            let cap = if full { pages } else { NO_PAGE_CAP };
            conn.pragma_update_and_check(None, "max_page_count", cap, |r| r.get::<_, i64>(0))
                .expect("page cap");
            Verdict::Keep
        })
        .await
        .expect("the cap is set");
}

async fn setting(store: &Store, key: &str) -> Option<String> {
    let key = key.to_owned();
    store.read(move |r| r.setting(&key)).await.expect("the read runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_jobs_commit_as_one_group_and_a_failing_job_sinks_only_itself() {
    let (_dir, backend, store) = open();

    let blocker = hold_writer(&store).await;
    let mut jobs = Vec::new();
    for n in 0..20 {
        let store = store.clone();
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), StoreError> {
                    tx.create_project(&format!("p{n}"), "p", &NewAsset::default_points(), 0)?;
                    // Every fifth job fails after writing: its writes must vanish.
                    if n % 5 == 0 {
                        return Err(StoreError::Internal("refused".to_owned()));
                    }
                    Ok(())
                })
                .await
        }));
    }
    assert!(blocker.await.expect("joined").is_ok());
    for (n, job) in jobs.into_iter().enumerate() {
        let result = job.await.expect("joined");
        assert_eq!(result.is_ok(), n % 5 != 0, "job {n}: {result:?}");
    }

    let stats = wallet_core::port::Backend::stats(backend.as_ref());
    assert!(
        stats.largest_group >= 10,
        "jobs queued behind a busy writer share a commit: {stats:?}"
    );
    assert!(stats.commits < stats.jobs, "{stats:?}");
    for n in 0..20 {
        let id = format!("p{n}");
        let exists = store
            .read(move |r| Ok::<_, StoreError>(r.project(&id)?.is_some()))
            .await
            .expect("read");
        assert_eq!(exists, n % 5 != 0, "project p{n}");
    }
}

/// SQLite rolls the whole transaction back on `SQLITE_FULL`. The jobs after
/// the failing one must not go on in autocommit mode (each would persist on
/// its own while the group reports failure): the group fails whole, every
/// job is told so, and nothing of it applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_on_a_full_disk_fails_whole_and_the_writer_recovers() {
    let (_dir, backend, store) = open();
    disk_full(&backend, true).await;

    let blocker = hold_writer(&store).await;
    // Small settings fit in the free space of existing pages; the big one
    // needs new pages, which the cap refuses.
    let sizes = [10, 10, 40_000, 10, 10];
    let mut jobs = Vec::new();
    for (n, size) in sizes.into_iter().enumerate() {
        let store = store.clone();
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| tx.set_setting(&format!("key-{n}"), &"x".repeat(size)))
                .await
        }));
    }
    assert!(blocker.await.expect("joined").is_ok());
    for (n, job) in jobs.into_iter().enumerate() {
        let result = job.await.expect("joined");
        assert!(
            matches!(result, Err(StoreError::Unavailable(_))),
            "job {n} of a group on a full disk: {result:?}"
        );
    }
    for n in 0..sizes.len() {
        assert_eq!(
            setting(&store, &format!("key-{n}")).await,
            None,
            "key-{n} was applied"
        );
    }

    // Space returns: the same writer takes writes again, without a restart.
    disk_full(&backend, false).await;
    store
        .write(|tx| tx.set_setting("key-2", &"x".repeat(40_000)))
        .await
        .expect("the writer recovers");
    assert_eq!(setting(&store, "key-2").await.map(|v| v.len()), Some(40_000));
    let report = store.read(|r| r.check()).await.expect("check runs");
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_panics_is_rolled_back_alone_and_the_writer_goes_on() {
    let (_dir, _backend, store) = open();

    let blocker = hold_writer(&store).await;
    let mut jobs = Vec::new();
    for n in 0..3 {
        let store = store.clone();
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), StoreError> {
                    tx.set_setting(&format!("key-{n}"), "v")?;
                    if n == 1 {
                        panic!("a bug in a job");
                    }
                    Ok(())
                })
                .await
        }));
    }
    assert!(blocker.await.expect("joined").is_ok());
    let answers: Vec<_> = futures_join(jobs).await;
    assert!(answers[0].is_ok() && answers[2].is_ok(), "{answers:?}");
    assert!(matches!(answers[1], Err(StoreError::Internal(_))), "{answers:?}");
    assert_eq!(setting(&store, "key-0").await.as_deref(), Some("v"));
    assert_eq!(
        setting(&store, "key-1").await,
        None,
        "the panicked job's write stayed"
    );
    assert_eq!(setting(&store, "key-2").await.as_deref(), Some("v"));
    store
        .write(|tx| tx.set_setting("after", "v"))
        .await
        .expect("the writer goes on");
}

async fn futures_join<T>(jobs: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        out.push(job.await.expect("joined"));
    }
    out
}

/// A job may hold the last handle on the backend (its caller went away):
/// the backend is then dropped on the writer thread, which must neither
/// wait for itself nor lose the job's commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_may_be_dropped_by_a_job_on_the_writer_thread() {
    let (dir, backend, store) = open();
    let mut last_handle = Some(store);
    let job = wallet_core::port::Backend::write(
        backend.as_ref(),
        Box::new(move |tx| {
            // The last handle drops here: on the writer thread, mid-group.
            let _store = last_handle.take();
            match tx.set_setting("kept", "v") {
                Ok(()) => Verdict::Keep,
                Err(_) => Verdict::Discard,
            }
        }),
    );
    drop(backend);
    job.await.expect("commits");

    let reopened = SqliteBackend::open(&SqliteOptions::new(dir.path().join("w.db"))).expect("reopens");
    let store = Store::new(Arc::new(reopened));
    assert_eq!(setting(&store, "kept").await.as_deref(), Some("v"));
}

/// A file's size: the database file grows only when a checkpoint copies
/// pages from the WAL into it.
fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_pages_reach_the_database_file_without_the_writer_checkpointing() {
    let (dir, backend, _store) = open();
    let db = dir.path().join("w.db");
    let before = file_len(&db);
    // A few hundred new pages: far below the writer's own auto-checkpoint
    // (`WRITER_AUTOCHECKPOINT`), so only the background thread copies them.
    backend
        .writer()
        .on_connection(|conn| {
            conn.execute_batch(
                "CREATE TABLE filler (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                 INSERT INTO filler SELECT randomblob(4000) FROM n;",
            )
            .expect("the filler is written");
            Verdict::Keep
        })
        .await
        .expect("the group commits");
    let pages: u64 = 300;
    assert!(
        pages < u64::from(crate::writer::WRITER_AUTOCHECKPOINT),
        "the test must stay below the writer's own checkpoint"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while file_len(&db) < before + pages * 4000 {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint copied the committed pages into the database file ({} -> {} bytes)",
            before,
            file_len(&db)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
