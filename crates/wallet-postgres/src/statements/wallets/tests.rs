//! Statements of the hot path are planned once per connection.

use super::lock_wallets;
use crate::conn::{Role, Target};
use crate::statements::rows::col;
use crate::{PgOptions, PostgresBackend};
use wallet_core::ids::WalletId;
use wallet_testkit::PgCluster;

/// The lock a transfer takes (two wallets; three with a fee wallet) uses a
/// generic plan after PostgreSQL's five custom ones: it is not planned
/// again on every call. On a table of some size, with statistics: on an
/// empty one every plan costs next to nothing and the generic one wins
/// whatever the statement.
#[test]
fn the_wallet_lock_is_planned_once_per_connection() {
    let database = PgCluster::shared().fresh_database();
    let url = database.url().to_owned();
    // The client blocks: a thread of its own, off the test harness's.
    std::thread::spawn(move || {
        drop(PostgresBackend::connect(&PgOptions::new(&url)).expect("migrates"));
        let mut conn = Target::parse(&url)
            .expect("a url")
            .connect(Role::Writer)
            .expect("connects");
        conn.batch(
            "INSERT INTO wallets (project_id, asset_id, created_at)
             SELECT 'default', (SELECT default_asset FROM projects WHERE id = 'default'), 0
             FROM generate_series(1, 5000);
             ANALYZE wallets",
        )
        .expect("wallets to lock");
        for ids in [&[1, 2][..], &[1, 2, 3]] {
            let ids: Vec<WalletId> = ids.iter().copied().map(WalletId::new).collect();
            for _ in 0..20 {
                lock_wallets(&mut conn, "default", &ids).expect("locks nothing, but runs");
            }
        }
        let plans = conn
            .query(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements
                 WHERE statement LIKE 'SELECT w.id%FOR NO KEY UPDATE OF w' ORDER BY statement",
                &[],
            )
            .expect("reads the session's statements");
        assert!(!plans.is_empty(), "no lock statement prepared");
        for row in &plans {
            let (generic, custom): (i64, i64) =
                (col(row, 0).expect("a count"), col(row, 1).expect("a count"));
            assert!(
                custom <= 5 && generic >= 15,
                "planned on every call: {custom} custom plans, {generic} generic"
            );
        }
    })
    .join()
    .expect("the test's thread");
}
