//! The group-committing writer: waiting jobs commit as one group, each in
//! its savepoint; a job that asks to run again (here: a real deadlock)
//! runs again; a job that swallowed an error is never committed; a COMMIT
//! that fails fails the whole group.

use crate::common::{funded, open_with, spawn_write, sql, value, Blocker};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use wallet_core::model::AuthorityCredential;
use wallet_core::policy::Caller;
use wallet_core::port::WriteTx;
use wallet_core::{LedgerError, StoreError};

fn set(key: &'static str, value: &'static str) -> impl FnMut(&mut dyn WriteTx) -> Result<(), StoreError> {
    move |tx| tx.set_setting(key, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_wait_commit_as_one_group() {
    let db = open_with(|o| o.writers = 1);
    let blocker = Blocker::start(&db.store).await;
    let before = db.store.stats();
    let keys: Vec<&'static str> = (0..20).map(|i| &*format!("k{i}").leak()).collect();
    let jobs: Vec<_> = keys
        .iter()
        .map(|key| spawn_write(&db.store, set(key, "v")))
        .collect();
    blocker.release().await;
    for job in jobs {
        job.await.unwrap().expect("commits");
    }
    let after = db.store.stats();
    assert_eq!(
        after.commits - before.commits,
        2,
        "the blocker's group, then one for all 20"
    );
    assert!(after.largest_group >= 20, "{after:?}");
    for key in keys {
        assert_eq!(db.setting(key).await.as_deref(), Some("v"), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discarded_job_rolls_back_alone() {
    let db = open_with(|o| o.writers = 1);
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    let store = db.store.clone();
    let kept = spawn_write(&store, set("first", "kept"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let discarded = spawn_write(&store, |tx| -> Result<(), LedgerError> {
        tx.set_setting("second", "written, then discarded")?;
        Err(LedgerError::Invalid("the job changes its mind".to_owned()))
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = spawn_write(&store, set("third", "kept"));
    blocker.release().await;
    kept.await.unwrap().expect("commits");
    assert!(matches!(discarded.await.unwrap(), Err(LedgerError::Invalid(_))));
    after.await.unwrap().expect("commits");
    assert_eq!(db.commits() - commits, 2, "the three jobs were one group");
    assert_eq!(db.setting("first").await.as_deref(), Some("kept"));
    assert_eq!(db.setting("second").await, None);
    assert_eq!(db.setting("third").await.as_deref(), Some("kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_swallows_an_error_is_not_committed() {
    let db = open_with(|o| o.writers = 1);
    let caller = db.fx.authority("default").await;
    let taken = match &caller {
        wallet_core::policy::Caller::Authority(a) => a.public_id.clone(),
        _ => unreachable!(),
    };
    let answer = db
        .store
        .write(move |tx| {
            tx.set_setting("swallowed", "must not stay")?;
            // A unique violation (the public id is taken), ignored.
            let _ = tx.insert_authority(
                &taken,
                "default",
                "again",
                &AuthorityCredential::TokenDigest(vec![1]),
                1,
            );
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(
        matches!(answer, Err(StoreError::UniqueViolation(_))),
        "{answer:?}"
    );
    assert_eq!(db.setting("swallowed").await, None);
    // The connection is fine for the next job.
    db.store.write(set("next", "ok")).await.expect("commits");
    assert_eq!(db.setting("next").await.as_deref(), Some("ok"));
}

/// Two jobs on two writers lock two wallets in opposite orders: PostgreSQL
/// finds the deadlock and fails one (`40P01`), which is rolled back to its
/// savepoint and run again once the other has committed. Both apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_deadlock_is_retried_and_both_jobs_apply() {
    let db = open_with(|o| o.writers = 2);
    let (caller, first) = funded(&db, 100).await;
    let second = db.fx.funded(&caller, None, 100).await;
    let both_locked = Arc::new(Barrier::new(2));
    let runs = Arc::new(AtomicU32::new(0));
    let job = |mine, theirs, key: &'static str| {
        let (both_locked, runs) = (Arc::clone(&both_locked), Arc::clone(&runs));
        let mut run = 0;
        move |tx: &mut dyn WriteTx| {
            run += 1;
            runs.fetch_add(1, Ordering::SeqCst);
            tx.lock_wallets("default", &[mine])?;
            if run == 1 {
                both_locked.wait();
            }
            tx.lock_wallets("default", &[theirs])?;
            tx.debit(mine, 1)?;
            tx.credit(theirs, 1)?;
            tx.set_setting(key, "applied")
        }
    };
    let a = spawn_write(&db.store, job(first, second, "a"));
    // One writer takes `a` (and waits in it); the other must take `b`.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = spawn_write(&db.store, job(second, first, "b"));
    a.await.unwrap().expect("a applies");
    b.await.unwrap().expect("b applies");
    assert_eq!(runs.load(Ordering::SeqCst), 3, "one of them ran twice");
    assert!(db.store.stats().retries >= 1);
    assert_eq!(db.setting("a").await.as_deref(), Some("applied"));
    assert_eq!(db.setting("b").await.as_deref(), Some("applied"));
    assert_eq!(db.fx.balance(&caller, first).await, 100);
    assert_eq!(db.fx.balance(&caller, second).await, 100);
}

/// A deferred constraint (installed here by hand) refuses the group at its
/// COMMIT: every job of the group is answered with the error and nothing
/// of any of them applied; the writer goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_the_whole_group() {
    let db = open_with(|o| o.writers = 1);
    sql(
        db.url(),
        "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.value = 'boom' THEN RAISE EXCEPTION 'boom is refused at commit'; END IF;
             RETURN NEW;
         END $$;
         CREATE CONSTRAINT TRIGGER boom AFTER INSERT OR UPDATE ON settings
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_boom();",
    )
    .expect("installs the trigger");
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    let innocent = spawn_write(&db.store, set("innocent", "ok"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let boom = spawn_write(&db.store, set("culprit", "boom"));
    blocker.release().await;
    for (job, answer) in [
        ("innocent", innocent.await.unwrap()),
        ("culprit", boom.await.unwrap()),
    ] {
        match answer {
            Err(StoreError::Internal(message)) => assert!(message.contains("boom is refused"), "{message}"),
            other => panic!("{job}: {other:?}"),
        }
    }
    assert_eq!(db.commits() - commits, 1, "only the blocker's group committed");
    assert_eq!(db.setting("innocent").await, None);
    assert_eq!(db.setting("culprit").await, None);
    db.store
        .write(set("after", "ok"))
        .await
        .expect("the writer goes on");
    assert_eq!(
        value(db.url(), "SELECT value FROM settings WHERE key = 'after'"),
        "ok"
    );
}

/// In one group, balances move in the writer's cache and are written once
/// before the COMMIT; a job rolled back to its savepoint takes its moves
/// with it, also when it wrote the cache out in the middle (a read of the
/// wallet flushes it) and then failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_balances_follow_each_jobs_savepoint() {
    let db = open_with(|o| o.writers = 1);
    let (caller, wallet) = funded(&db, 1_000).await;
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    let step = |debit: i64, credit: i64, read: bool, keep: bool| {
        move |tx: &mut dyn WriteTx| -> Result<i64, LedgerError> {
            tx.lock_wallets("default", &[wallet])?;
            tx.debit(wallet, debit)?;
            if read {
                // Flushes the cache: the row holds the balance so far.
                let seen = tx.wallet("default", wallet)?.expect("the wallet");
                assert_eq!(seen.balance, tx.credit(wallet, 0)?, "the row is the cache's");
            }
            let after = tx.credit(wallet, credit)?;
            if keep {
                Ok(after)
            } else {
                Err(LedgerError::Invalid("rolled back".to_owned()))
            }
        }
    };
    let mut jobs = Vec::new();
    for (debit, credit, read, keep) in [
        (100, 0, false, true), // 900
        (50, 0, false, false), // rolled back
        (10, 1, true, false),  // flushed, then rolled back
        (0, 7, false, true),   // 907
        (200, 0, true, true),  // 707, flushed and kept
        (7, 0, false, false),  // rolled back
    ] {
        jobs.push(spawn_write(&db.store, step(debit, credit, read, keep)));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    blocker.release().await;
    let mut answers = Vec::new();
    for job in jobs {
        answers.push(job.await.unwrap().ok());
    }
    assert_eq!(answers, [Some(900), None, None, Some(907), Some(707), None]);
    assert_eq!(
        db.commits() - commits,
        2,
        "the blocker's group, then one for the six"
    );
    assert_eq!(db.fx.balance(&caller, wallet).await, 707);
    assert_eq!(
        value(
            db.url(),
            &format!("SELECT balance FROM wallets WHERE id = {wallet}")
        ),
        "707"
    );
}

/// A job after the first of a group that meets a lock another writer holds
/// gives up after `LATER_JOB_LOCK_WAIT` and leads the next group: the jobs
/// before it commit without waiting for that writer, and it applies once
/// the lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_job_that_meets_a_held_lock_leads_the_next_group() {
    use std::sync::atomic::AtomicBool;
    let db = open_with(|o| o.writers = 2);
    let (_, wallet) = funded(&db, 10).await;
    let (holding, wait_holding) = std::sync::mpsc::channel::<()>();
    let holding = std::sync::Mutex::new(holding);
    let held_done = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&held_done);
    let holder = spawn_write(&db.store, move |tx| {
        tx.lock_wallets("default", &[wallet])?;
        let _ = holding.lock().unwrap().send(());
        std::thread::sleep(Duration::from_secs(2));
        done.store(true, Ordering::SeqCst);
        Ok::<_, StoreError>(())
    });
    tokio::task::spawn_blocking(move || wait_holding.recv_timeout(Duration::from_secs(10)))
        .await
        .unwrap()
        .expect("one writer holds the wallet");
    // The other writer: held by a blocker while the two jobs queue, so it
    // takes them as one group.
    let blocker = Blocker::start(&db.store).await;
    let retries = db.store.stats().retries;
    let first = spawn_write(&db.store, set("first", "did not wait"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = spawn_write(&db.store, move |tx| {
        tx.lock_wallets("default", &[wallet])?;
        tx.debit(wallet, 1)
    });
    blocker.release().await;
    first.await.unwrap().expect("commits");
    assert!(
        !held_done.load(Ordering::SeqCst),
        "the group's first job waited for the other writer's lock"
    );
    holder.await.unwrap().expect("the holder commits");
    assert_eq!(later.await.unwrap().expect("applies after the holder"), 9);
    assert!(db.store.stats().retries > retries, "the later job ran again");
}

/// The re-check's rows (the maintenance setting, the caller's authority)
/// are read `FOR SHARE` once per group and kept for its later jobs. What a
/// job read goes with its savepoint when it is rolled back (its share
/// locks went with it, so another transaction may have changed the row
/// since), and the group's own writes of those rows are seen by the jobs
/// after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rechecks_rows_are_kept_per_group_and_follow_its_savepoints_and_writes() {
    let db = open_with(|o| o.writers = 1);
    let caller = db.fx.authority("default").await;
    let Caller::Authority(authority) = caller else {
        unreachable!()
    };
    let (rowid, public_id) = (authority.authority, authority.public_id.clone());
    let seen = move |tx: &mut dyn WriteTx| -> Result<(Option<String>, bool), StoreError> {
        let maintenance = tx.setting("maintenance")?;
        let live = tx
            .authority_by_rowid(rowid)?
            .is_some_and(|a| a.revoked_at.is_none());
        Ok((maintenance, live))
    };
    let url = db.url().to_owned();
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    let rolled_back = spawn_write(&db.store, move |tx| -> Result<(), LedgerError> {
        assert_eq!(seen(tx)?, (Some("off".to_owned()), true));
        Err(LedgerError::Invalid(
            "rolled back, and its share locks with it".to_owned(),
        ))
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_another_writer = spawn_write(&db.store, move |tx| {
        // Nothing of this group holds the row now: another connection
        // may switch maintenance on, and does.
        sql(&url, "UPDATE settings SET value = 'on' WHERE key = 'maintenance'").expect("not blocked");
        seen(tx)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let writes = spawn_write(&db.store, move |tx| {
        tx.set_setting("maintenance", "off")?;
        tx.revoke_authority(&public_id, 1)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let after_the_groups_writes = spawn_write(&db.store, seen);
    blocker.release().await;

    assert!(matches!(rolled_back.await.unwrap(), Err(LedgerError::Invalid(_))));
    assert_eq!(
        after_another_writer.await.unwrap().expect("reads"),
        (Some("on".to_owned()), true),
        "a rolled-back job's reads were kept"
    );
    assert!(writes.await.unwrap().expect("writes"), "revoked");
    assert_eq!(
        after_the_groups_writes.await.unwrap().expect("reads"),
        (Some("off".to_owned()), false),
        "the group's own writes were not seen"
    );
    assert_eq!(
        db.commits() - commits,
        2,
        "the blocker's group, then one for the four"
    );
}

/// Held values move in the group's cache like balances: a reservation
/// kept stays, one flushed mid-job and then rolled back goes, a debit sees
/// what is held, and what the group kept reaches the row at the COMMIT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_held_values_follow_each_jobs_savepoint_and_reach_the_row() {
    let db = open_with(|o| o.writers = 1);
    let (caller, wallet) = funded(&db, 100).await;
    let blocker = Blocker::start(&db.store).await;
    let commits = db.commits();
    // (held delta, debit, read the row mid-job, keep): answers (balance, held).
    let step = |held: i64, debit: i64, read: bool, keep: bool| {
        move |tx: &mut dyn WriteTx| -> Result<(i64, i64), LedgerError> {
            tx.lock_wallets("default", &[wallet])?;
            let held = tx.adjust_held(wallet, held)?;
            if read {
                let seen = tx.wallet("default", wallet)?.expect("the wallet");
                assert_eq!(seen.held, held, "the row is the cache's");
                tx.lock_wallets("default", &[wallet])?;
            }
            let balance = tx.debit(wallet, debit)?;
            if keep {
                Ok((balance, held))
            } else {
                Err(LedgerError::Invalid("rolled back".to_owned()))
            }
        }
    };
    let mut jobs = Vec::new();
    for (held, debit, read, keep) in [
        (30, 0, false, true), // 100, 30
        (10, 0, true, false), // flushed, then rolled back
        (0, 70, false, true), // all that is available: 30, 30
        (-10, 0, true, true), // 30, 20, flushed and kept
        (5, 0, false, false), // rolled back
    ] {
        jobs.push(spawn_write(&db.store, step(held, debit, read, keep)));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    blocker.release().await;
    let mut answers = Vec::new();
    for job in jobs {
        answers.push(job.await.unwrap().ok());
    }
    assert_eq!(
        answers,
        [Some((100, 30)), None, Some((30, 30)), Some((30, 20)), None]
    );
    assert_eq!(
        db.commits() - commits,
        2,
        "the blocker's group, then one for the five"
    );
    let row = db.fx.wallet_row(&caller, wallet).await;
    assert_eq!((row.balance, row.held), (30, 20));
    assert_eq!(
        value(
            db.url(),
            &format!("SELECT balance || ' ' || held FROM wallets WHERE id = {wallet}")
        ),
        "30 20"
    );
}
