//! The testkit's `TestApp`, bound to this test binary's backend
//! (`crate::BACKEND`): every module of the suite asks for an app here and
//! never names a backend, so the same file runs on SQLite (`tests/api`) and
//! on PostgreSQL (`tests/api_postgres`).
#![allow(dead_code)] // each binary includes a different set of modules

pub use wallet_testkit::app::*;

use wallet_service::config::Settings;

/// The app on a fresh database of this binary's backend.
pub async fn spawn_app() -> TestApp {
    TestApp::spawn(crate::BACKEND).await
}

/// As [`spawn_app`], with settings changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_with(crate::BACKEND, adjust).await
}

/// A fresh, empty database of this binary's backend (for an import, a
/// second ledger), with a private folder beside it.
pub fn fresh_database() -> TestDatabase {
    crate::BACKEND.fresh_database()
}
