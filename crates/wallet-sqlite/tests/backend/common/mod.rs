//! A temp-dir database with the store over it, and a few rows to work on.
#![allow(dead_code)] // Each test binary uses a part.

use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use wallet_core::amount::Amount;
use wallet_core::ids::{AssetId, AuthorityRowId, CustomerRowId, EntryId, TransactionId, WalletId};
use wallet_core::model::AuthorityCredential;
use wallet_core::model::{ItemStatus, ItemStepKind};
use wallet_core::policy::{AuthorityCaller, Caller};
use wallet_core::port::{NewItem, NewItemStep, NewWallet, ReadTx, WriteTx};
use wallet_core::text::{CustomerId, ItemId, ItemName, ItemProperties, ItemType, ProjectId, PublicId, Text};
use wallet_core::{Ledger, Store, StoreError, V1EntryRequest, V1Item};
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

/// A database at schema step 1 with the state the code before the
/// one-default rule left (as `main`'s `tests/api/default_wallet.rs`):
/// - `only-v2` has one wallet (1), opened through API v2, not the default;
/// - `both` has a v2 wallet (2) and a later v1 default (3);
/// - `closed` has only a Closed v2 wallet (4);
/// - every wallet has entries by authority 1 and its running total.
pub fn step_one_database(path: &std::path::Path) {
    let db = rusqlite::Connection::open(path).expect("db");
    db.execute_batch(include_str!("../../../../../schema.sql"))
        .expect("step 1");
    db.execute_batch(
        "PRAGMA user_version = 1;
         BEGIN;
         INSERT INTO projects (id, name, default_asset, created_at) VALUES ('default', 'Default project', 1, 0);
         INSERT INTO assets (id, project_id, code, name, fractions, used, created_at)
             VALUES (1, 'default', 'PTS', 'Points', 1, 1, 0);
         INSERT INTO authorities (id, public_id, project_id, name, token_digest, created_at)
             VALUES (1, 'ak_old', 'default', 'old', x'00', 0);
         INSERT INTO customers (id, project_id, external_id, status, created_at) VALUES
             (1, 'default', 'only-v2', 'Active', 0),
             (2, 'default', 'both', 'Active', 0),
             (3, 'default', 'closed', 'Active', 0);
         INSERT INTO wallets (id, project_id, asset_id, customer_id, is_default, status, balance, created_at) VALUES
             (1, 'default', 1, 1, 0, 'Open', 40, 0),
             (2, 'default', 1, 2, 0, 'Open', 8, 0),
             (3, 'default', 1, 2, 1, 'Open', 2, 1),
             (4, 'default', 1, 3, 0, 'Closed', 5, 0);
         INSERT INTO transactions (id, project_id, authority_id, status, created_at) VALUES
             (1, 'default', 1, 'Completed', 0), (2, 'default', 1, 'Completed', 0),
             (3, 'default', 1, 'Completed', 1), (4, 'default', 1, 'Completed', 0);
         INSERT INTO entries (id, wallet_id, transaction_id, authority_id, kind, amount, balance_after, created_at) VALUES
             (1, 1, 1, 1, 'Issue', 40, 40, 0), (2, 2, 2, 1, 'Issue', 8, 8, 0),
             (3, 3, 3, 1, 'Issue', 2, 2, 1), (4, 4, 4, 1, 'Issue', 5, 5, 0);
         INSERT INTO authority_totals (wallet_id, authority_id, total) VALUES (1, 1, 40), (2, 1, 8), (3, 1, 2), (4, 1, 5);
         COMMIT;",
    )
    .expect("old rows");
}

/// `SELECT id, is_default FROM wallets`, in id order, straight from the file.
pub fn default_marks(path: &std::path::Path) -> Vec<(i64, bool)> {
    let db = rusqlite::Connection::open(path).expect("db");
    let mut stmt = db
        .prepare("SELECT id, is_default FROM wallets ORDER BY id")
        .expect("prepares");
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("reads");
    rows.collect::<Result<_, _>>().expect("reads")
}

/// A new authority of the default project, as the caller of its requests.
pub async fn authority(ledger: &Ledger, public_id: &str) -> Caller {
    let row = ledger
        .create_authority(
            ProjectId::default_project(),
            Text::parse("app", "name", 200).expect("valid"),
            PublicId::parse(public_id).expect("valid"),
            AuthorityCredential::TokenDigest(public_id.as_bytes().to_vec()),
        )
        .await
        .expect("the authority is stored");
    Caller::Authority(AuthorityCaller {
        authority: row.rowid,
        public_id: row.public_id,
        project_id: row.project_id,
        default_asset: row.default_asset,
        expires_at: None,
    })
}

pub fn customer(id: &str) -> CustomerId {
    CustomerId::parse(id).expect("valid")
}

/// An API v1 entry for `user`, with an item if `item` names one.
pub fn v1_entry(user: &str, amount: i64, item: Option<&str>) -> V1EntryRequest {
    V1EntryRequest {
        user: customer(user),
        amount: Amount::parse(amount).expect("valid"),
        reason: Text::parse("test", "reason", 1000).expect("valid"),
        item: item.map(|name| V1Item {
            name: ItemName::parse(name).expect("valid"),
            data: Some(ItemProperties::parse(r#"{"level":1}"#).expect("valid")),
        }),
    }
}

/// Grants the fixture's customer a `Hat` as API v1 entry `entry` (of
/// `transaction`) does: the item, naming the entry, and its GrantItem step.
pub fn grant_v1_item(
    tx: &mut dyn WriteTx,
    f: Fixture,
    transaction: TransactionId,
    entry: EntryId,
    id: &str,
    properties: Option<&str>,
) -> Result<(), StoreError> {
    let id = ItemId::parse(id).expect("valid");
    let properties = properties.map(|p| ItemProperties::parse(p).expect("valid"));
    tx.insert_item(
        PROJECT,
        &NewItem {
            id: &id,
            item_type: &ItemType::parse("Hat").expect("valid"),
            properties: properties.as_ref(),
            owner: Some(f.customer),
            status: ItemStatus::Active,
            v1_entry: Some(entry),
            created_at: 2,
        },
    )?;
    tx.append_item_step(
        PROJECT,
        &NewItemStep {
            item: &id,
            transaction,
            kind: ItemStepKind::GrantItem,
            from: None,
            to: Some(f.customer),
            properties: properties.as_ref(),
            created_at: 2,
        },
    )
}
