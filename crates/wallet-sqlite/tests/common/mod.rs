//! A temp-dir database with the store over it, and a few rows to work on.
#![allow(dead_code)] // Each test binary uses a part.

use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use wallet_core::ids::{AssetId, AuthorityRowId, CustomerRowId, WalletId};
use wallet_core::model::AuthorityCredential;
use wallet_core::port::{NewWallet, ReadTx, WriteTx};
use wallet_core::{Store, StoreError};
use wallet_sqlite::{SqliteBackend, SqliteOptions};

/// The project every fresh database has.
pub const PROJECT: &str = "default";

pub struct TestDb {
    /// Kept so the file outlives the test.
    pub dir: TempDir,
    pub backend: Arc<SqliteBackend>,
    pub store: Store,
}

/// The rows most tests need: an authority, a customer and her wallet in the
/// project's default asset.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub authority: AuthorityRowId,
    pub customer: CustomerRowId,
    pub asset: AssetId,
    pub wallet: WalletId,
}

pub fn open() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let backend =
        SqliteBackend::open(&SqliteOptions::new(dir.path().join("wallet.db"))).expect("the store opens");
    let backend = Arc::new(backend);
    let store = Store::new(backend.clone());
    TestDb { dir, backend, store }
}

impl TestDb {
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnMut(&mut dyn WriteTx) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.store.write(work).await
    }

    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut dyn ReadTx) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.store.read(work).await
    }

    pub async fn fixture(&self) -> Fixture {
        self.write(|tx| {
            let asset = tx.project(PROJECT)?.expect("the default project").default_asset;
            let credential = AuthorityCredential::TokenDigest(vec![7; 32]);
            let authority = tx.insert_authority("au_test", PROJECT, "test", &credential, 1)?;
            let customer = tx
                .insert_customer(PROJECT, "alice", None, None, 1)?
                .expect("a new customer");
            let wallet = tx.insert_wallet(&wallet_of(Some(customer), asset))?;
            Ok(Fixture {
                authority,
                customer,
                asset,
                wallet,
            })
        })
        .await
        .expect("the fixture is written")
    }

    pub async fn balance(&self, wallet: WalletId) -> i64 {
        self.read(move |r| Ok(r.wallet(PROJECT, wallet)?.expect("the wallet").balance))
            .await
            .expect("the balance reads")
    }

    /// Holds the writer busy, so that the jobs sent next queue up behind it
    /// and run as one group.
    pub async fn hold_writer(&self) -> tokio::task::JoinHandle<Result<(), StoreError>> {
        let store = self.store.clone();
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
}

/// A new wallet of `asset` in the default project.
pub fn wallet_of(owner: Option<CustomerRowId>, asset: AssetId) -> NewWallet<'static> {
    NewWallet {
        project_id: PROJECT,
        asset,
        owner,
        name: None,
        description: None,
        created_at: 1,
    }
}
