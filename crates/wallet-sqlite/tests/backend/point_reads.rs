//! Point reads (`Backend::read_point`): run on the calling thread when a
//! connection is idle, each on a fresh snapshot; never waiting there for a
//! connection (they hop, as every read does, when none is idle).

use crate::common;
use std::future::Future;
use std::sync::mpsc;
use std::task::Poll;
use std::thread::{self, ThreadId};
use wallet_core::{Store, StoreError};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

async fn set(store: &Store, value: &'static str) {
    store
        .write(move |tx| tx.set_setting("probe", value))
        .await
        .expect("writes");
}

async fn probe(store: &Store) -> (Option<String>, ThreadId) {
    store
        .read_point(|r| Ok::<_, StoreError>((r.setting("probe")?, thread::current().id())))
        .await
        .expect("reads")
}

#[tokio::test]
async fn a_point_read_runs_on_the_calling_thread_on_a_fresh_snapshot_each_time() {
    let db = common::open();
    let here = thread::current().id();
    set(&db.store, "one").await;
    assert_eq!(probe(&db.store).await, (Some("one".to_owned()), here));
    set(&db.store, "two").await;
    assert_eq!(
        probe(&db.store).await,
        (Some("two".to_owned()), here),
        "the snapshot of the read before ended with it"
    );
    let hopped = db
        .store
        .read(|_| Ok::<_, StoreError>(thread::current().id()))
        .await
        .expect("reads");
    assert_ne!(hopped, here, "a plain read still runs in the blocking pool");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_read_with_no_idle_connection_hops_instead_of_waiting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = SqliteOptions::new(dir.path().join("wallet.db"));
    options.read_connections = 1;
    let store = Store::new(std::sync::Arc::new(SqliteBackend::open(&options).expect("opens")));
    set(&store, "kept").await;

    // The only connection, held by a read that waits for a word.
    let (release, wait) = mpsc::channel::<()>();
    let (started, running) = mpsc::channel::<()>();
    let held = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .read(move |_| {
                    started.send(()).expect("the test waits");
                    wait.recv().expect("the test releases");
                    Ok::<_, StoreError>(())
                })
                .await
        }
    });
    tokio::task::spawn_blocking(move || running.recv().expect("the read started"))
        .await
        .expect("joins");

    let here = thread::current().id();
    let mut read = Box::pin(probe(&store));
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx).is_ready())).await;
    assert!(
        !first,
        "no connection was idle: the read hopped rather than wait here"
    );
    release.send(()).expect("the held read waits");
    held.await.expect("joins").expect("reads");
    let (value, ran_on) = read.await;
    assert_eq!(value.as_deref(), Some("kept"));
    assert_ne!(ran_on, here);
}
