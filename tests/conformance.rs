//! The backend conformance suite (`wallet-testkit`), once per backend: every
//! promise of `docs/model.md` the port must keep, on a fresh database per
//! test. `cargo test --test conformance sqlite_` runs the SQLite list.

wallet_testkit::conformance_suite!(sqlite, wallet_testkit::SqliteHarness);
