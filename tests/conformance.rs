//! The backend conformance suite (`wallet-testkit`), once per backend: every
//! promise of `docs/model.md` the port must keep, on a fresh database per
//! test. `cargo test --test conformance sqlite_` runs the SQLite list,
//! `postgres_` the PostgreSQL one (on a throwaway cluster this test binary
//! starts on 127.0.0.1; its watchdog stops it when the binary ends).

wallet_testkit::conformance_suite!(sqlite, wallet_testkit::SqliteHarness);
wallet_testkit::conformance_suite!(postgres, wallet_testkit::PgHarness);
