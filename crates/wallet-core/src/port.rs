//! The storage port: what the ledger needs of a database, and nothing more.
//!
//! A backend (SQLite, PostgreSQL) implements [`Backend`], and inside its
//! transactions [`ReadTx`] and [`WriteTx`]. The ledger composes these into
//! jobs; it never sees a connection, a statement or a backend's error code.
//!
//! The write primitives stay correct with several writers at once, so a
//! backend that has them (PostgreSQL, several server processes) needs no
//! SERIALIZABLE isolation:
//! - [`WriteTx::lock_holds`] then [`WriteTx::lock_wallets`] lock the holds
//!   and wallets a job changes or checks, each in id order, holds first (a
//!   no-op where one writer runs at a time);
//! - [`WriteTx::debit`] is guarded (`balance - held + credit_limit >= x`),
//!   [`WriteTx::credit`] adds a delta (`balance + credit_limit` stays within
//!   i64) and [`WriteTx::adjust_held`] moves `held` by a delta within `0..=
//!   balance + credit_limit`: none writes a value it read;
//! - [`WriteTx::insert_hold`] claims a hold id, [`WriteTx::update_hold`]
//!   changes only an Open hold;
//! - [`WriteTx::insert_transaction`] claims the `referenceId` before any
//!   entry is written, and answers [`Claim::Duplicate`] if it is taken;
//! - [`WriteTx::lock_items`] locks items (after holds, before customers),
//!   [`WriteTx::lock_customers`] the customers items move between (against
//!   status changes), before wallets; [`WriteTx::insert_item`] claims an
//!   item id and [`WriteTx::update_item`] changes only an Active item.
//!
//! A write job may run more than once: a backend re-runs it (from a clean
//! transaction) when it answers [`Verdict::Retry`] (a primitive reported
//! [`StoreError::Retryable`]), so jobs are `FnMut` and keep no state across
//! runs that a rerun would not rebuild.

use crate::check::{CheckReport, Checkpoint};
use crate::dump::{DumpCounts, DumpRecord};
use crate::events::{
    Anchor, Delivery, DeliveryStatus, Draft, Event, EventHead, EventQuery, NewWebhook, Run, Webhook,
    WebhookHealth, WebhookProgress,
};
use crate::ids::{
    AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId, EntryId, LotId, TransactionId, WalletId,
};
use crate::model::{
    AdminSession, Asset, Authority, AuthorityCredential, Customer, CustomerKey, CustomerStatus, Earmark,
    Entry, EntryKind, Expiring, Hold, HoldStatus, Item, ItemFilter, ItemStatus, ItemStep, ItemStepKind, Lot,
    LotStatus, LotStepKind, Millis, NewAsset, Page, PageRequest, Project, TimeRange, Transaction,
    TransactionStatus, Wallet, WalletStatus,
};
use crate::overview::{LedgerStats, OverviewWindow};
use crate::text::{CustomerId, HoldId, ItemId, ItemProperties, ItemType, PublicId};
use crate::v1::{InventoryFilter, InventoryLine, V1Entry, WalletTotal, WalletTotalsFilter};
use crate::StoreError;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so [`Backend`] stays object-safe.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Whether a write job keeps what it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the job's writes; they commit with its group.
    Keep,
    /// Roll back everything the job wrote; its neighbours are unaffected.
    Discard,
    /// Roll back, and run the job again on a fresh transaction: it met a
    /// concurrent change ([`StoreError::Retryable`]). A backend retries a
    /// bounded number of times; after that the job's last answer stands.
    Retry,
}

/// A write job: runs inside the backend's write transaction.
pub type WriteJob = Box<dyn FnMut(&mut dyn WriteTx) -> Verdict + Send>;

/// A read job: runs inside one read transaction (one consistent snapshot).
pub type ReadJob = Box<dyn FnOnce(&mut dyn ReadTx) + Send>;

/// A database the ledger runs on.
pub trait Backend: Send + Sync + 'static {
    /// Runs `job` in a write transaction and resolves once its fate is
    /// durable: `Ok` when the transaction holding the job committed (with
    /// the job's writes if it said [`Verdict::Keep`]), `Err` when it could
    /// not commit, in which case nothing of the job applied.
    fn write(&self, job: WriteJob) -> BoxFuture<Result<(), StoreError>>;

    /// Runs `job` on a read-only snapshot.
    fn read(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>>;

    /// [`Backend::read`] for a read its caller knows is bounded: a few
    /// indexed point lookups (a credential, one wallet), never a page, an
    /// export or a scan. A backend whose reads are local and short may run
    /// it at once on the calling thread, saving the hop to a blocking pool
    /// — but only where it cannot wait: if the snapshot cannot be had at
    /// once (a lock held elsewhere), it hops as `read` does. The default
    /// hops (PostgreSQL: a round trip must not block an async worker).
    fn read_point(&self, job: ReadJob) -> BoxFuture<Result<(), StoreError>> {
        self.read(job)
    }

    /// Counters for metrics and benchmarks.
    fn stats(&self) -> BackendStats;

    /// `sqlite` or `postgres`, for logs and metrics.
    fn kind(&self) -> &'static str;

    /// Rings `bell` whenever another process commits events (PostgreSQL:
    /// LISTEN/NOTIFY), so this process's feed waits and streams wake. The
    /// ledger rings it itself after its own commits; a backend only this
    /// process writes to (SQLite) has nothing more to do.
    fn watch_events(&self, bell: crate::Bell) -> Result<(), StoreError> {
        let _ = bell;
        Ok(())
    }
}

/// Counters of a backend, for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BackendStats {
    /// Write transactions committed.
    pub commits: u64,
    /// Write jobs run (a commit may hold many).
    pub jobs: u64,
    /// Most jobs in one commit.
    pub largest_group: u64,
    /// Jobs run again after a retryable conflict.
    pub retries: u64,
    /// Connections for reads, and how many are idle now.
    pub read_connections: u32,
    pub idle_read_connections: u32,
    /// Reads that waited more than a millisecond for a connection.
    pub read_waits: u64,
    pub read_wait_micros: u64,
}

/// The outcome of claiming a transaction's `referenceId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The transaction row is written; the reference is this job's.
    Inserted(TransactionId),
    /// Another transaction of the project holds the reference.
    Duplicate,
}

/// A transaction record to write.
#[derive(Debug, Clone)]
pub struct NewTransaction<'a> {
    pub project_id: &'a str,
    /// `None` for API v1 entries (the SDK sends none).
    pub reference_id: Option<&'a str>,
    pub authority: AuthorityRowId,
    pub status: TransactionStatus,
    pub error: Option<&'a str>,
    pub description: Option<&'a str>,
    pub operations: Option<&'a str>,
    pub created_at: Millis,
}

/// A ledger line to append.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub wallet: WalletId,
    pub transaction: TransactionId,
    pub authority: AuthorityRowId,
    pub kind: EntryKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: Option<&'a str>,
    pub created_at: Millis,
}

/// A wallet to open.
#[derive(Debug, Clone)]
pub struct NewWallet<'a> {
    pub project_id: &'a str,
    pub asset: AssetId,
    /// `None` for a system wallet.
    pub owner: Option<CustomerRowId>,
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub created_at: Millis,
}

/// What a Capture, Void or expiry changed of a hold.
#[derive(Debug, Clone)]
pub struct HoldUpdate<'a> {
    pub id: &'a HoldId,
    pub captured: i64,
    pub remaining: i64,
    pub status: HoldStatus,
    pub updated_at: Millis,
}

/// An item to create.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub id: &'a ItemId,
    pub item_type: &'a ItemType,
    pub properties: Option<&'a ItemProperties>,
    /// `None`: the project's stock.
    pub owner: Option<CustomerRowId>,
    pub status: ItemStatus,
    /// The API v1 entry that granted it.
    pub v1_entry: Option<EntryId>,
    pub created_at: Millis,
}

/// An item's state after a transaction changed it.
#[derive(Debug, Clone)]
pub struct ItemUpdate<'a> {
    pub id: &'a ItemId,
    pub owner: Option<CustomerRowId>,
    pub status: ItemStatus,
    pub properties: Option<&'a ItemProperties>,
    pub updated_at: Millis,
}

/// One step of an item's history to append.
#[derive(Debug, Clone)]
pub struct NewItemStep<'a> {
    pub item: &'a ItemId,
    pub transaction: TransactionId,
    pub kind: ItemStepKind,
    pub from: Option<CustomerRowId>,
    pub to: Option<CustomerRowId>,
    /// The properties after the step.
    pub properties: Option<&'a ItemProperties>,
    pub created_at: Millis,
}

/// A lot a transaction formed, at its state after the transaction.
#[derive(Debug, Clone)]
pub struct NewLot {
    pub wallet: WalletId,
    pub amount: i64,
    pub remaining: i64,
    pub earmarked: i64,
    pub expires_at: Millis,
    pub status: LotStatus,
    pub transaction: TransactionId,
    pub created_at: Millis,
}

/// A lot's state after a transaction changed it.
#[derive(Debug, Clone)]
pub struct LotUpdate {
    pub id: LotId,
    pub remaining: i64,
    pub earmarked: i64,
    pub status: LotStatus,
    pub updated_at: Millis,
}

/// One step of a lot's history to append.
#[derive(Debug, Clone)]
pub struct NewLotStep {
    pub lot: LotId,
    pub transaction: TransactionId,
    pub kind: LotStepKind,
    pub amount: i64,
    pub created_at: Millis,
}

/// A customer key to store (only the digest of its secret).
#[derive(Debug, Clone)]
pub struct NewCustomerKey<'a> {
    pub public_id: &'a str,
    pub customer: CustomerRowId,
    pub token_digest: &'a [u8],
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

/// What a write re-checks inside its transaction before it writes (see
/// [`WriteTx::hold_rechecks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rechecked {
    /// The authority (or access key) a request was authenticated with.
    Authorities,
    /// The customer key a request was authenticated with.
    CustomerKeys,
    /// The customer behind a customer credential, or an API v1 user.
    Customers,
    /// The maintenance switch.
    Maintenance,
}

/// Statements available on a read snapshot (and inside a write, where they
/// see the write's own changes).
pub trait ReadTx {
    // ---- settings and credentials ----
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// The live admin session with this token digest, expired or not (the
    /// caller compares times).
    fn admin_session(&mut self, token_digest: &[u8]) -> Result<Option<AdminSession>, StoreError>;
    fn authority(&mut self, public_id: &str) -> Result<Option<Authority>, StoreError>;
    fn authority_by_rowid(&mut self, rowid: AuthorityRowId) -> Result<Option<Authority>, StoreError>;
    /// Every authority, or those of one project, oldest first.
    fn authorities(&mut self, project: Option<&str>) -> Result<Vec<Authority>, StoreError>;
    fn customer_key(&mut self, public_id: &str) -> Result<Option<CustomerKey>, StoreError>;
    fn customer_key_by_rowid(&mut self, rowid: CustomerKeyRowId) -> Result<Option<CustomerKey>, StoreError>;
    fn customer_keys(
        &mut self,
        customer: CustomerRowId,
        page: PageRequest,
    ) -> Result<Page<CustomerKey>, StoreError>;

    // ---- catalog ----
    fn project(&mut self, id: &str) -> Result<Option<Project>, StoreError>;
    fn projects(&mut self) -> Result<Vec<Project>, StoreError>;
    fn asset(&mut self, project: &str, id: AssetId) -> Result<Option<Asset>, StoreError>;
    fn asset_code_taken(&mut self, project: &str, code: &str) -> Result<bool, StoreError>;
    /// A project's assets, oldest first.
    fn assets(&mut self, project: &str, page: PageRequest) -> Result<Page<Asset>, StoreError>;
    fn customer(&mut self, project: &str, id: &str) -> Result<Option<Customer>, StoreError>;
    fn customers(&mut self, project: &str, page: PageRequest) -> Result<Page<Customer>, StoreError>;
    fn wallet(&mut self, project: &str, id: WalletId) -> Result<Option<Wallet>, StoreError>;
    /// [`ReadTx::wallet`] with its `expiring` filled, as
    /// [`ReadTx::expiring`] answers it, in one statement: what a wallet
    /// read answers clients with.
    fn wallet_with_expiring(&mut self, project: &str, id: WalletId) -> Result<Option<Wallet>, StoreError>;
    /// The customer's default wallet of `asset` (API v1's wallet), if opened:
    /// the one marked default or, where none of the customer's wallets of
    /// `asset` is marked (rows from before the one-default rule), the oldest,
    /// which a write transaction marks as it answers.
    fn default_wallet(
        &mut self,
        customer: CustomerRowId,
        asset: AssetId,
    ) -> Result<Option<Wallet>, StoreError>;
    /// A customer's wallets, oldest first.
    fn customer_wallets(
        &mut self,
        customer: CustomerRowId,
        page: PageRequest,
    ) -> Result<Page<Wallet>, StoreError>;
    fn system_wallets(&mut self, project: &str, page: PageRequest) -> Result<Page<Wallet>, StoreError>;

    // ---- ledger ----
    /// A wallet's entries in `range`, newest first.
    fn wallet_entries(
        &mut self,
        wallet: WalletId,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Page<Entry>, StoreError>;
    fn transaction(&mut self, project: &str, id: TransactionId) -> Result<Option<Transaction>, StoreError>;
    fn transaction_by_reference(
        &mut self,
        project: &str,
        reference: &str,
    ) -> Result<Option<Transaction>, StoreError>;
    /// A project's transactions in `range`, newest first.
    fn transactions(
        &mut self,
        project: &str,
        range: TimeRange,
        page: PageRequest,
    ) -> Result<Page<Transaction>, StoreError>;
    /// The running total of `authority`'s entries in `wallet`, if it has any.
    fn authority_total(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
    ) -> Result<Option<i128>, StoreError>;
    /// The wallet's posted balance after every entry with `created_at <= at`
    /// (`None` before its first entry): one index seek.
    fn balance_at(&mut self, wallet: WalletId, at: Millis) -> Result<Option<i64>, StoreError>;

    // ---- holds ----
    fn hold(&mut self, project: &str, id: &HoldId) -> Result<Option<Hold>, StoreError>;
    /// A wallet's holds (as source), newest first, of one status or all.
    fn wallet_holds(
        &mut self,
        wallet: WalletId,
        status: Option<HoldStatus>,
        page: PageRequest,
    ) -> Result<Page<Hold>, StoreError>;
    /// Open holds whose `expires_at <= now`, soonest first, at most `limit`.
    fn due_holds(&mut self, now: Millis, limit: u32) -> Result<Vec<(String, HoldId)>, StoreError>;
    /// The soonest `expires_at` of any Open hold.
    fn next_hold_expiry(&mut self) -> Result<Option<Millis>, StoreError>;
    /// The holds a transaction placed.
    fn transaction_holds(
        &mut self,
        project: &str,
        transaction: TransactionId,
    ) -> Result<Vec<Hold>, StoreError>;

    // ---- lots ----
    /// A wallet's lots, of one status or all, soonest `expires_at` first
    /// (ties: the lot formed first).
    fn wallet_lots(
        &mut self,
        wallet: WalletId,
        status: Option<LotStatus>,
        page: PageRequest,
    ) -> Result<Page<Lot>, StoreError>;
    /// The wallets' expiring value: for each, its Open lots' `remaining`
    /// summed per `expires_at`, soonest first, at most
    /// [`Expiring::MAX_ROWS`] rows per wallet.
    fn expiring(&mut self, wallets: &[WalletId]) -> Result<Vec<(WalletId, Expiring)>, StoreError>;
    /// What Open holds reserve of lots, for the holds of `project` with
    /// these ids (a write reads it after locking them).
    fn hold_earmarks(
        &mut self,
        project: &str,
        holds: &[HoldId],
    ) -> Result<Vec<(HoldId, Earmark)>, StoreError>;
    /// Open lots with something not earmarked whose `expires_at <= now`,
    /// soonest first, at most `limit`: (project, wallet, lot).
    fn due_lots(&mut self, now: Millis, limit: u32) -> Result<Vec<(String, WalletId, LotId)>, StoreError>;
    /// The soonest `expires_at` of an Open lot with something not earmarked.
    fn next_lot_expiry(&mut self) -> Result<Option<Millis>, StoreError>;
    /// One lot, by id (a write reads the lots it expired, for their events).
    fn lot(&mut self, id: LotId) -> Result<Option<Lot>, StoreError>;

    // ---- items ----
    fn item(&mut self, project: &str, id: &ItemId) -> Result<Option<Item>, StoreError>;
    /// The item an API v1 entry of `project` granted.
    fn item_of_v1_entry(&mut self, project: &str, entry: EntryId) -> Result<Option<Item>, StoreError>;
    /// The items of one owner (`None`: the project's stock), oldest first.
    fn owner_items(
        &mut self,
        project: &str,
        owner: Option<CustomerRowId>,
        filter: &ItemFilter,
        page: PageRequest,
    ) -> Result<Page<Item>, StoreError>;
    /// An item's history, oldest step first.
    fn item_history(
        &mut self,
        project: &str,
        id: &ItemId,
        page: PageRequest,
    ) -> Result<Page<ItemStep>, StoreError>;
    /// The items a transaction granted or changed, as they are now, in the
    /// order it first touched them (as its reply listed them).
    fn transaction_items(
        &mut self,
        project: &str,
        transaction: TransactionId,
    ) -> Result<Vec<Item>, StoreError>;

    /// A transaction's entries, in the order they were written.
    fn transaction_entries(&mut self, transaction: TransactionId) -> Result<Vec<Entry>, StoreError>;

    // ---- events ----
    /// The project's last event (`seq` 0 and the genesis hash before the
    /// first; a pruned project's anchor when every event was pruned).
    fn event_head(&mut self, project: &str) -> Result<EventHead, StoreError>;
    /// Events of `project` with `seq > query.after` and of `query.types`
    /// (all when empty), oldest first, at most `query.limit`.
    fn events(&mut self, project: &str, query: &EventQuery) -> Result<Vec<Event>, StoreError>;
    /// The anchor of the project's pruned events, if any were pruned.
    fn event_anchor(&mut self, project: &str) -> Result<Option<Anchor>, StoreError>;

    // ---- webhooks ----
    /// A project's webhooks, oldest first.
    fn webhooks(&mut self, project: &str) -> Result<Vec<Webhook>, StoreError>;
    fn webhook(&mut self, project: &str, id: &PublicId) -> Result<Option<Webhook>, StoreError>;
    /// Webhooks of every project whose `next_attempt_at <= now`, soonest
    /// first, at most `limit`.
    fn due_webhooks(&mut self, now: Millis, limit: u32) -> Result<Vec<Webhook>, StoreError>;
    /// A webhook's delivery attempts, of one status or all, newest first.
    fn deliveries(
        &mut self,
        webhook: &PublicId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;
    fn webhook_health(&mut self, webhook: &PublicId) -> Result<WebhookHealth, StoreError>;

    // ---- the dashboard ----
    /// The admin overview's ledger numbers of `project` for `window`
    /// (sparse: see [`LedgerStats`]): per asset its wallets' balances and
    /// held values summed and its Open holds counted; per asset and UTC day
    /// (`created_at` of the transaction, from `window.days_from`) the
    /// `Issue`, `Redeem` and `Expire` entries summed; per minute (from
    /// `window.minutes_from`) the Completed transactions counted. Sums are
    /// exact (they may pass i64). The days and minutes come from the
    /// project's transactions in the window (an index range) and their
    /// entries (by transaction), never from a scan of all entries.
    fn ledger_stats(&mut self, project: &str, window: &OverviewWindow) -> Result<LedgerStats, StoreError>;

    // ---- API v1 ----
    fn v1_wallet_totals(
        &mut self,
        project: &str,
        asset: AssetId,
        filter: &WalletTotalsFilter,
    ) -> Result<Vec<WalletTotal>, StoreError>;
    fn v1_inventory(
        &mut self,
        project: &str,
        filter: &InventoryFilter,
    ) -> Result<Vec<InventoryLine>, StoreError>;
    fn v1_entry(&mut self, entry: EntryId) -> Result<Option<V1Entry>, StoreError>;

    // ---- whole-store ----
    /// Verifies every invariant on the whole store.
    fn check(&mut self) -> Result<CheckReport, StoreError> {
        self.check_since(None, &crate::progress::Quiet)
    }
    /// Verifies every invariant on the whole store (`from` None), or on what
    /// came after the checkpoint `from`; reports each phase's start to
    /// `progress`.
    fn check_since(
        &mut self,
        from: Option<&Checkpoint>,
        progress: &dyn crate::progress::Progress,
    ) -> Result<CheckReport, StoreError>;
    /// The last recorded checkpoint of `check`, if any.
    fn check_checkpoint(&mut self) -> Result<Option<Checkpoint>, StoreError>;
    /// Every row of a project, each after the rows it refers to.
    fn export_project(
        &mut self,
        project: &str,
        sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>,
    ) -> Result<DumpCounts, StoreError>;
}

/// Statements available inside a write job. Every `Err` leaves the write
/// transaction unusable for the rest of the job: return it.
pub trait WriteTx: ReadTx {
    // ---- settings and credentials ----
    /// Waits until no other write that re-checked `what` (in
    /// `ledger::access::recheck`) is in flight, and holds back every new one
    /// until this write ends. A write that changes what the others re-check
    /// (a revocation, a customer's suspension or deletion, the maintenance
    /// switch) calls it first, before its own re-check and before it reads
    /// the clock: so a steady stream of writes, each holding the row it
    /// re-checked for a moment, cannot put it off for as long as the stream
    /// lasts, and a time read after it is later than that of every write it
    /// let through. A backend with one writer has no other write in flight.
    fn hold_rechecks(&mut self, what: Rechecked) -> Result<(), StoreError>;
    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Records `checkpoint` as the one the next incremental check starts
    /// from; false (nothing recorded) if a row at or below its ids
    /// committed after the check's snapshot.
    fn record_check_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<bool, StoreError>;
    /// Sets `key` unless it is set; returns whether it was set now.
    fn set_setting_if_absent(&mut self, key: &str, value: &str) -> Result<bool, StoreError>;
    fn insert_admin_session(&mut self, session: &AdminSession) -> Result<(), StoreError>;
    fn delete_admin_session(&mut self, token_digest: &[u8]) -> Result<(), StoreError>;
    /// Ends every session that expired by `now` or was opened under another
    /// password than `password_stamp`; returns how many ended.
    fn prune_admin_sessions(&mut self, password_stamp: &[u8], now: Millis) -> Result<u64, StoreError>;
    fn insert_authority(
        &mut self,
        public_id: &str,
        project: &str,
        name: &str,
        credential: &AuthorityCredential,
        now: Millis,
    ) -> Result<AuthorityRowId, StoreError>;
    /// Marks an authority revoked (the first time stays). `false` if there
    /// is no such authority.
    fn revoke_authority(&mut self, public_id: &str, now: Millis) -> Result<bool, StoreError>;
    fn insert_customer_key(&mut self, key: &NewCustomerKey<'_>) -> Result<CustomerKeyRowId, StoreError>;
    /// Revokes a key of `customer`; `false` if it has no such key.
    fn revoke_customer_key(
        &mut self,
        customer: CustomerRowId,
        public_id: &str,
        now: Millis,
    ) -> Result<bool, StoreError>;

    // ---- catalog ----
    /// Creates a project and its default asset; `false` if the id is taken.
    fn create_project(
        &mut self,
        id: &str,
        name: &str,
        default_asset: &NewAsset,
        now: Millis,
    ) -> Result<bool, StoreError>;
    fn insert_asset(&mut self, project: &str, asset: &NewAsset, now: Millis) -> Result<AssetId, StoreError>;
    fn rename_asset(&mut self, id: AssetId, name: &str) -> Result<(), StoreError>;
    /// Deletes an asset no wallet ever used; `false` if it is used.
    fn delete_unused_asset(&mut self, id: AssetId) -> Result<bool, StoreError>;
    /// Creates an Active customer; `None` if the project has that id already.
    fn insert_customer(
        &mut self,
        project: &str,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
        now: Millis,
    ) -> Result<Option<CustomerRowId>, StoreError>;
    /// Reads a customer and locks it against concurrent status changes.
    fn lock_customer(&mut self, project: &str, id: &str) -> Result<Option<Customer>, StoreError>;
    /// Sets the given fields; `None` leaves a field as it is.
    fn update_customer(
        &mut self,
        rowid: CustomerRowId,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<(), StoreError>;
    fn set_customer_status(&mut self, rowid: CustomerRowId, status: CustomerStatus)
        -> Result<(), StoreError>;
    /// Suspends every Open wallet of a customer; returns the ones it
    /// suspended (each gets its `wallet.status_changed`).
    fn suspend_open_wallets(&mut self, customer: CustomerRowId) -> Result<Vec<WalletId>, StoreError>;
    /// Opens a wallet and marks its asset used. The first wallet of an asset
    /// opened for a customer becomes its default wallet of that asset.
    fn insert_wallet(&mut self, wallet: &NewWallet<'_>) -> Result<WalletId, StoreError>;
    fn set_wallet_status(&mut self, id: WalletId, status: WalletStatus) -> Result<(), StoreError>;
    fn set_wallet_name(&mut self, id: WalletId, name: &str) -> Result<(), StoreError>;
    fn set_wallet_description(&mut self, id: WalletId, description: &str) -> Result<(), StoreError>;

    // ---- ledger ----
    /// Reads the wallets of `project` with these ids and locks them until
    /// the write ends, in id order. Missing ids are left out.
    fn lock_wallets(&mut self, project: &str, ids: &[WalletId]) -> Result<Vec<Wallet>, StoreError>;
    /// Reads the holds of `project` with these ids and locks them until the
    /// write ends, in id order. Missing ids are left out. A job locks holds
    /// before wallets.
    fn lock_holds(&mut self, project: &str, ids: &[HoldId]) -> Result<Vec<Hold>, StoreError>;
    /// Writes a new hold; a taken id is [`StoreError::Retryable`] (the
    /// planner saw it free: another writer just took it).
    fn insert_hold(&mut self, project: &str, hold: &Hold) -> Result<(), StoreError>;
    /// Writes what a transaction changed of a hold.
    fn update_hold(&mut self, project: &str, change: &HoldUpdate<'_>) -> Result<(), StoreError>;
    /// Moves `amount` into (positive) or out of (negative) a wallet's held
    /// value, keeping `0 <= held <= balance + credit_limit`; returns the held
    /// value after. A wallet that changed since it was planned on is
    /// [`StoreError::Retryable`].
    fn adjust_held(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError>;
    /// Sets a wallet's credit limit unless it is below what the wallet uses
    /// (`-(balance - held)`) or `balance + limit` would pass `i64::MAX`;
    /// returns whether it was set.
    fn set_credit_limit(&mut self, wallet: WalletId, limit: i64) -> Result<bool, StoreError>;
    /// The project's own authority, which posts what the server does by
    /// itself (expiries) and what the operator does: it has no credential
    /// and never authenticates. Created on first use.
    fn system_authority(&mut self, project: &str, now: Millis) -> Result<AuthorityRowId, StoreError>;
    /// Writes the transaction row, claiming its reference id.
    fn insert_transaction(&mut self, transaction: &NewTransaction<'_>) -> Result<Claim, StoreError>;
    /// Takes `amount` from a wallet unless it has less available
    /// (`balance - held + credit_limit`); returns the balance after. A wallet
    /// that changed since it was planned on is [`StoreError::Retryable`].
    fn debit(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError>;
    /// Adds `amount` to a wallet unless `balance + credit_limit` would pass
    /// `i64::MAX`; returns the balance after. A guard that fails is
    /// [`StoreError::Retryable`]: the rerun plans on the new state.
    fn credit(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError>;
    /// Appends an entry; balances move with `debit` and `credit`.
    fn append_entry(&mut self, entry: &NewEntry<'_>) -> Result<EntryId, StoreError>;
    /// Adds `delta` to the running total of `authority`'s entries in `wallet`.
    fn add_authority_total(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
        delta: i64,
    ) -> Result<(), StoreError>;

    // ---- items ----
    /// Reads the items of `project` with these ids and locks them until the
    /// write ends, in id order. Missing ids are left out. A job locks items
    /// after holds and before customers and wallets.
    fn lock_items(&mut self, project: &str, ids: &[ItemId]) -> Result<Vec<Item>, StoreError>;
    /// Reads the customers of `project` with these ids and locks them
    /// against status changes until the write ends, in id order (readers
    /// may share the lock). Missing ids are left out.
    fn lock_customers(&mut self, project: &str, ids: &[CustomerId]) -> Result<Vec<Customer>, StoreError>;
    /// Writes a new item; a taken id is [`StoreError::Retryable`] (the
    /// planner saw it free: another writer just took it).
    fn insert_item(&mut self, project: &str, item: &NewItem<'_>) -> Result<(), StoreError>;
    /// Writes an item's new state, if it is still Active; else
    /// [`StoreError::Retryable`].
    fn update_item(&mut self, project: &str, change: &ItemUpdate<'_>) -> Result<(), StoreError>;
    /// Appends a step to an item's history.
    fn append_item_step(&mut self, project: &str, step: &NewItemStep<'_>) -> Result<(), StoreError>;

    // ---- lots ----
    /// The Open lots of these wallets (which the write has locked), in
    /// (`expires_at`, id) order. Every write that changes a wallet's lots
    /// locks the wallet first, so the wallet locks guard its lots too.
    fn lots_of(&mut self, wallets: &[WalletId]) -> Result<Vec<Lot>, StoreError>;
    /// Writes a lot a transaction formed; returns its id.
    fn insert_lot(&mut self, lot: &NewLot) -> Result<LotId, StoreError>;
    /// Writes what a transaction changed of a lot.
    fn update_lot(&mut self, change: &LotUpdate) -> Result<(), StoreError>;
    /// Appends a step to a lot's history.
    fn append_lot_step(&mut self, step: &NewLotStep) -> Result<(), StoreError>;
    /// Replaces what a hold of `project` reserves of lots (none: it reserves
    /// only plain value, or is no longer Open).
    fn set_earmarks(&mut self, project: &str, hold: &HoldId, earmarks: &[Earmark]) -> Result<(), StoreError>;

    // ---- events ----
    /// Appends a job's events to the project's log, dated `created_at`:
    /// numbered right after the project's head as it stands when they are
    /// appended and hash-chained ([`crate::events::chain`]). A backend with
    /// one writer (SQLite) may append them at once; one with several writers
    /// (PostgreSQL, several processes) appends them after the transaction's
    /// last job has run, just before it commits, locking each head then (in
    /// project order): the head is the last row a transaction locks and is
    /// held only until its commit, so `seq` follows commit order with no
    /// gaps, and no transaction waits for a head while holding what the
    /// head's holder needs. A job rolled back (discarded, retried) takes its
    /// events with it. PostgreSQL also notifies the other processes at
    /// commit.
    fn stage_events(&mut self, project: &str, created_at: Millis, drafts: &[Draft])
        -> Result<(), StoreError>;
    /// Drops the project's events with `seq <= anchor.seq` (the caller
    /// checked they all are older than the cutoff) and keeps `anchor`.
    /// Returns how many were dropped.
    fn prune_events(&mut self, project: &str, anchor: &Anchor) -> Result<u64, StoreError>;

    // ---- webhooks ----
    /// Registers an endpoint with its queue at `progress` (its cursor: the
    /// project's head when it registered).
    fn insert_webhook(&mut self, webhook: &NewWebhook, progress: &WebhookProgress) -> Result<(), StoreError>;
    /// Deletes an endpoint and its deliveries; `false` if there is none.
    fn delete_webhook(&mut self, project: &str, id: &PublicId) -> Result<bool, StoreError>;
    /// Takes an endpoint's queue for `owner` until `until` unless another
    /// owner holds it past `now` (several server processes deliver each
    /// endpoint's events from one of them at a time); returns whether it
    /// is this owner's now.
    fn lease_webhook(
        &mut self,
        id: &PublicId,
        owner: &str,
        now: Millis,
        until: Millis,
    ) -> Result<bool, StoreError>;
    /// Records a run of attempts (their rows, in order) and moves the
    /// endpoint's queue to `run.progress`, if `owner` still holds its lease
    /// and its cursor is still `run.from_cursor` (a replay or another
    /// process may have moved it); with `lease_until`, renews the lease to
    /// it. Returns whether it did; when not, nothing is written.
    fn record_run(&mut self, owner: &str, run: &Run, lease_until: Option<Millis>)
        -> Result<bool, StoreError>;
    /// Moves an endpoint's cursor back to `after` (never forward) and makes
    /// it ready now, so every matching event after `after` is sent again.
    /// `false` if there is no such endpoint.
    fn replay_webhook(
        &mut self,
        project: &str,
        id: &PublicId,
        after: i64,
        now: Millis,
    ) -> Result<bool, StoreError>;
}
