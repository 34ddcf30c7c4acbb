//! Rows made the way the server makes them, and short request builders.
//!
//! A [`Fixture`] is one [`Ledger`] over one test's database, on a
//! [`ManualClock`] (tests move time to expire credentials). Callers are
//! built as the server's authentication builds them: an authority row from
//! [`Ledger::create_authority`] becomes a [`Caller::Authority`], a key from
//! [`Ledger::create_customer_key`] a [`Caller::Customer`].

use crate::faults::{Faults, FaultyBackend};
use crate::harness::TestDb;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use wallet_core::amount::Amount;
use wallet_core::check::CheckReport;
use wallet_core::clock::ManualClock;
use wallet_core::dump::DumpRecord;
use wallet_core::events::{Event, EventQuery};
use wallet_core::ids::{AssetId, WalletId};
use wallet_core::model::{
    AuthorityCredential, Customer, CustomerKey, Entry, Hold, Item, ItemStep, Lot, LotStatus, Millis,
    PageRequest, Project, TimeRange, Transaction, Wallet,
};
use wallet_core::operation::{Operation, Quantity, TransactionRequest};
use wallet_core::policy::{AuthorityCaller, Caller, CustomerCaller, CustomerCredential};
use wallet_core::text::{
    random_base32, CustomerId, HoldId, ItemId, ItemName, ItemProperties, ItemType, ProjectId, PublicId,
    ReferenceId, Text,
};
use wallet_core::{Ledger, StoreError, TransactionOutcome, V1EntryRequest, V1Item};

/// Where every fixture's clock starts (2023-11-14, in epoch milliseconds).
pub const T0: Millis = 1_700_000_000_000;

/// A ledger over one test's database.
pub struct Fixture {
    pub ledger: Ledger,
    pub clock: Arc<ManualClock>,
    references: AtomicU64,
    // Last: the database outlives the ledger's use of it.
    _db: TestDb,
}

impl Fixture {
    pub fn new(db: TestDb) -> Self {
        let clock = Arc::new(ManualClock::at(T0));
        Self {
            ledger: Ledger::with_clock(db.store(), clock.clone()),
            clock,
            references: AtomicU64::new(0),
            _db: db,
        }
    }

    /// A fixture whose backend is `db`'s behind a [`FaultyBackend`], and the
    /// handle that turns its faults on.
    pub fn with_faults(db: TestDb) -> (Self, Faults) {
        let mut faults = None;
        let db = db.wrapped(|inner| {
            let faulty = FaultyBackend::new(inner);
            faults = Some(faulty.faults());
            Arc::new(faulty)
        });
        let faults = faults.expect("the backend was wrapped");
        (Self::new(db), faults)
    }

    /// The fixture after a restart of its server: the ledger and the
    /// database closed, the database opened again (see
    /// [`TestDb::reopened`]) and a new ledger on it, at the same time.
    pub fn restarted(self) -> Self {
        let Fixture {
            ledger,
            clock,
            references,
            _db,
        } = self;
        drop(ledger);
        let db = _db.reopened();
        Self {
            ledger: Ledger::with_clock(db.store(), clock.clone()),
            clock,
            references,
            _db: db,
        }
    }

    /// Every row of `project`, as an export writes them.
    pub async fn export(&self, project: &str) -> Vec<DumpRecord> {
        let project = project.to_owned();
        self._db
            .store()
            .read(move |r| {
                let mut records = Vec::new();
                r.export_project(&project, &mut |record| {
                    records.push(record);
                    Ok(())
                })?;
                Ok::<_, StoreError>(records)
            })
            .await
            .expect("the project exports")
    }

    /// A reference id no other request of this fixture used.
    pub fn fresh_reference(&self) -> String {
        format!("fx-{}", self.references.fetch_add(1, Ordering::Relaxed))
    }

    /// Every event of the caller's project so far, oldest first (the feed
    /// read page after page, as a consumer would).
    pub async fn feed(&self, caller: &Caller) -> Vec<Event> {
        let mut events: Vec<Event> = Vec::new();
        loop {
            let after = events.last().map_or(0, |e| e.seq);
            let query = EventQuery {
                after,
                limit: EventQuery::MAX_LIMIT,
                types: Vec::new(),
            };
            let page = self.ledger.events(caller, query).await.expect("the feed reads");
            if page.events.is_empty() {
                return events;
            }
            events.extend(page.events);
        }
    }

    /// Creates a project (with its default asset).
    pub async fn project(&self, id: &str) -> Project {
        self.ledger
            .create_project(project_id(id), text("a test project"))
            .await
            .expect("the project is created")
    }

    /// A new authority of `project` (an access key: only its digest is
    /// stored), as the caller the server makes of it once authenticated.
    pub async fn authority(&self, project: &str) -> Caller {
        let digest = random_base32(32).into_bytes();
        let row = self
            .ledger
            .create_authority(
                project_id(project),
                text("a test authority"),
                PublicId::random("ak_"),
                AuthorityCredential::TokenDigest(digest),
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

    /// Creates customer `id` in the caller's project.
    pub async fn customer(&self, caller: &Caller, id: &str) -> Customer {
        let (customer, created) = self
            .ledger
            .upsert_customer(caller, customer_id(id), None, None)
            .await
            .expect("the customer is created");
        assert!(created, "customer {id} is new");
        customer
    }

    /// A customer key of `customer` (which must exist), as the caller the
    /// server makes of it once authenticated.
    pub async fn customer_key(&self, caller: &Caller, customer: &str, expires_at: Option<Millis>) -> Caller {
        self.customer_key_row(caller, customer, expires_at).await.0
    }

    /// [`Fixture::customer_key`], and the stored key (to revoke it by its
    /// public id).
    pub async fn customer_key_row(
        &self,
        caller: &Caller,
        customer: &str,
        expires_at: Option<Millis>,
    ) -> (Caller, CustomerKey) {
        let key = self
            .ledger
            .create_customer_key(
                caller,
                customer_id(customer),
                PublicId::random("ck_"),
                random_base32(32).into_bytes(),
                expires_at,
            )
            .await
            .expect("the customer key is stored");
        let caller = Caller::Customer(CustomerCaller {
            project_id: key.project_id.clone(),
            customer: key.customer,
            customer_id: key.customer_id.clone(),
            credential: CustomerCredential::Key(key.rowid),
            expires_at: key.expires_at,
        });
        (caller, key)
    }

    /// Opens a wallet of `asset`: `owner`'s, or a system wallet.
    pub async fn wallet_in(&self, caller: &Caller, owner: Option<&str>, asset: AssetId) -> WalletId {
        self.ledger
            .create_wallet(caller, owner.map(customer_id), asset, None, None)
            .await
            .expect("the wallet opens")
            .id
    }

    /// Opens a wallet of the project's default asset.
    pub async fn wallet(&self, caller: &Caller, owner: Option<&str>) -> WalletId {
        self.wallet_in(caller, owner, default_asset(caller)).await
    }

    /// Posts `operations` under a fresh reference id.
    pub async fn post(&self, caller: &Caller, operations: Vec<Operation>) -> TransactionOutcome {
        self.ledger
            .post_transaction(caller, request(&self.fresh_reference(), operations))
            .await
            .expect("the transaction is answered")
    }

    /// Issues `amount` into `wallet`; it must complete.
    pub async fn issue(&self, caller: &Caller, wallet: WalletId, amount: i64) -> Transaction {
        crate::answers::completed(self.post(caller, vec![issue(wallet, amount)]).await)
    }

    /// A wallet of the default asset (`owner`'s, or a system wallet)
    /// holding `amount`.
    pub async fn funded(&self, caller: &Caller, owner: Option<&str>, amount: i64) -> WalletId {
        let wallet = self.wallet(caller, owner).await;
        self.issue(caller, wallet, amount).await;
        wallet
    }

    pub async fn balance(&self, caller: &Caller, wallet: WalletId) -> i64 {
        self.wallet_row(caller, wallet).await.balance
    }

    /// The wallet as the ledger reads it (balance, held, credit limit).
    pub async fn wallet_row(&self, caller: &Caller, wallet: WalletId) -> Wallet {
        self.ledger
            .wallet(caller, wallet)
            .await
            .expect("the wallet reads")
    }

    /// A hold as stored now.
    pub async fn hold(&self, caller: &Caller, id: &str) -> Hold {
        self.ledger
            .hold(caller, hold_id(id))
            .await
            .expect("the hold reads")
    }

    /// A wallet's lots of one status (or all), soonest expiry first.
    pub async fn lots(&self, caller: &Caller, wallet: WalletId, status: Option<LotStatus>) -> Vec<Lot> {
        self.ledger
            .wallet_lots(caller, wallet, status, PageRequest::ALL)
            .await
            .expect("the lots read")
            .items
    }

    /// An item as stored now (read by an authority of its project).
    pub async fn item(&self, caller: &Caller, id: &str) -> Item {
        self.ledger
            .item(caller, item_id(id))
            .await
            .expect("the item reads")
    }

    /// An item's whole history, oldest step first.
    pub async fn item_history(&self, caller: &Caller, id: &str) -> Vec<ItemStep> {
        self.ledger
            .item_history(caller, item_id(id), PageRequest::ALL)
            .await
            .expect("the history reads")
            .items
    }

    /// A wallet's entries, newest first.
    pub async fn entries(&self, caller: &Caller, wallet: WalletId) -> Vec<Entry> {
        self.ledger
            .wallet_entries(caller, wallet, TimeRange::ALL, PageRequest::ALL)
            .await
            .expect("the entries read")
            .items
    }

    /// How many transactions the caller's project holds.
    pub async fn transaction_count(&self, caller: &Caller) -> i64 {
        self.ledger
            .transactions(caller, TimeRange::ALL, PageRequest { page: 0, size: 1 })
            .await
            .expect("the transactions read")
            .total
    }

    /// Runs `check` and asserts that every invariant holds.
    pub async fn assert_check(&self) -> CheckReport {
        let report = self.ledger.check().await.expect("check runs");
        assert!(report.is_ok(), "an invariant is broken: {report:#?}");
        report
    }
}

/// The default asset of an authority's project.
pub fn default_asset(caller: &Caller) -> AssetId {
    match caller {
        Caller::Authority(a) => a.default_asset,
        Caller::Operator(o) => o.default_asset,
        Caller::Customer(_) => panic!("a customer caller has no default asset here"),
    }
}

pub fn project_id(id: &str) -> ProjectId {
    ProjectId::parse(id).expect("a valid project id")
}

pub fn customer_id(id: &str) -> CustomerId {
    CustomerId::parse(id).expect("a valid customer id")
}

pub fn text(value: &str) -> Text {
    Text::parse(value, "text", 1000).expect("a valid text")
}

fn quantity(amount: i64) -> Quantity {
    Quantity::new(amount).expect("a quantity is not negative")
}

pub fn issue(destination: WalletId, amount: i64) -> Operation {
    Operation::Issue {
        destination,
        amount: quantity(amount),
        expires_at: None,
    }
}

/// An Issue whose value forms a lot that expires at `expires_at`.
pub fn issue_expiring(destination: WalletId, amount: i64, expires_at: Millis) -> Operation {
    Operation::Issue {
        destination,
        amount: quantity(amount),
        expires_at: Some(expires_at),
    }
}

pub fn redeem(source: WalletId, amount: i64) -> Operation {
    Operation::Redeem {
        source,
        amount: quantity(amount),
    }
}

pub fn transfer(source: WalletId, destination: WalletId, amount: i64) -> Operation {
    Operation::Transfer {
        source,
        destination,
        amount: quantity(amount),
    }
}

pub fn hold_id(id: &str) -> HoldId {
    HoldId::parse(id).expect("a valid hold id")
}

/// A Hold of `amount` of `source` named `id`, to `destination` if given,
/// expiring at `expires_at` if given.
pub fn hold(
    id: &str,
    source: WalletId,
    amount: i64,
    destination: Option<WalletId>,
    expires_at: Option<Millis>,
) -> Operation {
    Operation::Hold {
        source,
        amount: quantity(amount),
        destination,
        expires_at,
        hold_id: hold_id(id),
    }
}

/// A Capture of hold `id`: `amount` of it (all that remains if `None`), to
/// the hold's own destination.
pub fn capture(id: &str, amount: Option<i64>) -> Operation {
    Operation::Capture {
        hold: hold_id(id),
        amount: amount.map(quantity),
        destination: None,
    }
}

pub fn void(id: &str) -> Operation {
    Operation::Void { hold: hold_id(id) }
}

pub fn item_id(id: &str) -> ItemId {
    ItemId::parse(id).expect("a valid item id")
}

pub fn properties(json: &str) -> ItemProperties {
    ItemProperties::parse(json).expect("valid properties")
}

/// A GrantItem of a `item_type` item with id `id`, to `customer` (`None`:
/// the stock), with `properties` if given.
pub fn grant(id: &str, item_type: &str, customer: Option<&str>, json: Option<&str>) -> Operation {
    Operation::GrantItem {
        item_type: ItemType::parse(item_type).expect("a valid item type"),
        customer_id: customer.map(customer_id),
        properties: json.map(properties),
        item_id: item_id(id),
    }
}

/// A TransferItem of `id` to `to` (`None`: the stock), checking that it is
/// `from`'s now if `from` is given (`Some(None)`: the stock's).
pub fn transfer_item(id: &str, to: Option<&str>, from: Option<Option<&str>>) -> Operation {
    Operation::TransferItem {
        item: item_id(id),
        to: to.map(customer_id),
        from: from.map(|owner| owner.map(customer_id)),
    }
}

/// A ConsumeItem of `id`, checking its owner as [`transfer_item`] does.
pub fn consume(id: &str, from: Option<Option<&str>>) -> Operation {
    Operation::ConsumeItem {
        item: item_id(id),
        from: from.map(|owner| owner.map(customer_id)),
    }
}

pub fn set_properties(id: &str, json: &str) -> Operation {
    Operation::SetItemProperties {
        item: item_id(id),
        properties: properties(json),
    }
}

/// A valid API v2 request.
pub fn request(reference: &str, operations: Vec<Operation>) -> TransactionRequest {
    let reference = ReferenceId::parse(reference).expect("a valid reference id");
    TransactionRequest::new(reference, operations, None).expect("a valid transaction")
}

/// An API v1 entry of a signed `amount` for `user`.
pub fn v1(user: &str, amount: i64) -> V1EntryRequest {
    V1EntryRequest {
        user: customer_id(user),
        amount: Amount::parse(amount).expect("a valid amount"),
        reason: text("conformance"),
        item: None,
    }
}

/// An API v1 entry that carries an item named `item`.
pub fn v1_with_item(user: &str, amount: i64, item: &str) -> V1EntryRequest {
    V1EntryRequest {
        item: Some(V1Item {
            name: ItemName::parse(item).expect("a valid item name"),
            data: Some(properties(r#"{"level":1,"tags":["a","b"]}"#)),
        }),
        ..v1(user, amount)
    }
}
