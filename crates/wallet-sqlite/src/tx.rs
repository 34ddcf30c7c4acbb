//! [`SqlTx`]: the port's [`ReadTx`] and [`WriteTx`] on one SQLite connection
//! inside a transaction.
//!
//! Every method forwards to a statement of `crate::statements` and keeps
//! the run's first error. The writer reads it after a job: a job that
//! swallowed a storage error and still says [`Verdict::Keep`] is rolled back
//! all the same (after a failed statement its writes may be half done: a
//! constraint stopped one statement of several), and is answered with that
//! error, so its caller is not told it applied.
//!
//! [`Verdict::Keep`]: wallet_core::port::Verdict::Keep

use crate::error::DbResult;
use crate::statements::{
    catalog, credentials, events, holds, items, ledger, lots, overview, settings, v1, wallets, webhooks,
};
use crate::{check, export};
use rusqlite::Connection;
use wallet_core::check::{CheckReport, Checkpoint};
use wallet_core::dump::{DumpCounts, DumpRecord};
use wallet_core::events::{
    Anchor, Delivery, DeliveryStatus, Draft, Event, EventHead, EventQuery, NewWebhook, Run, Webhook,
    WebhookHealth, WebhookProgress,
};
use wallet_core::ids::{
    AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId, EntryId, LotId, TransactionId, WalletId,
};
use wallet_core::model::{
    AdminSession, Asset, Authority, AuthorityCredential, Customer, CustomerKey, CustomerStatus, Earmark,
    Entry, Expiring, Hold, HoldStatus, Item, ItemFilter, ItemStep, Lot, LotStatus, Millis, NewAsset, Page,
    PageRequest, Project, TimeRange, Transaction, Wallet, WalletStatus,
};
use wallet_core::overview::{LedgerStats, OverviewWindow};
use wallet_core::port::{
    Claim, HoldUpdate, ItemUpdate, LotUpdate, NewCustomerKey, NewEntry, NewItem, NewItemStep, NewLot,
    NewLotStep, NewTransaction, NewWallet, ReadTx, Rechecked, WriteTx,
};
use wallet_core::text::{CustomerId, HoldId, ItemId, PublicId};
use wallet_core::v1::{InventoryFilter, InventoryLine, V1Entry, WalletTotal, WalletTotalsFilter};
use wallet_core::StoreError;

/// One run of one job on a connection that is inside a transaction.
pub(crate) struct SqlTx<'c> {
    conn: &'c Connection,
    /// Whether this is the writer's transaction: a read there may settle
    /// what the rules make of the rows (see `ReadTx::default_wallet`).
    writing: bool,
    first_error: Option<StoreError>,
}

impl<'c> SqlTx<'c> {
    /// A read job's run on a read-only snapshot.
    pub(crate) fn reading(conn: &'c Connection) -> Self {
        Self {
            conn,
            writing: false,
            first_error: None,
        }
    }

    /// A write job's run inside the writer's transaction.
    pub(crate) fn writing(conn: &'c Connection) -> Self {
        Self {
            conn,
            writing: true,
            first_error: None,
        }
    }

    /// The first error a statement of this run returned, if any.
    pub(crate) fn into_first_error(self) -> Option<StoreError> {
        self.first_error
    }

    fn note<T>(&mut self, result: DbResult<T>) -> Result<T, StoreError> {
        result.map_err(|e| {
            let e = StoreError::from(e);
            self.first_error.get_or_insert_with(|| e.clone());
            e
        })
    }
}

/// Forwards port methods to statement functions through `SqlTx::note`, so
/// no method can forget to record its failure.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $statement:path;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            let result = $statement(self.conn, $($arg),*);
            self.note(result)
        }
    )*};
}

impl ReadTx for SqlTx<'_> {
    forward! {
        setting(key: &str) -> Option<String> = settings::get;
        admin_session(token_digest: &[u8]) -> Option<AdminSession> = settings::admin_session;
        authority(public_id: &str) -> Option<Authority> = credentials::authority;
        authority_by_rowid(rowid: AuthorityRowId) -> Option<Authority> = credentials::authority_by_rowid;
        authorities(project: Option<&str>) -> Vec<Authority> = credentials::authorities;
        customer_key(public_id: &str) -> Option<CustomerKey> = credentials::customer_key;
        customer_key_by_rowid(rowid: CustomerKeyRowId) -> Option<CustomerKey> =
            credentials::customer_key_by_rowid;
        customer_keys(customer: CustomerRowId, page: PageRequest) -> Page<CustomerKey> =
            credentials::customer_keys;

        project(id: &str) -> Option<Project> = catalog::project;
        projects() -> Vec<Project> = catalog::projects;
        asset(project: &str, id: AssetId) -> Option<Asset> = catalog::asset;
        asset_code_taken(project: &str, code: &str) -> bool = catalog::asset_code_taken;
        assets(project: &str, page: PageRequest) -> Page<Asset> = catalog::assets;
        customer(project: &str, id: &str) -> Option<Customer> = catalog::customer;
        customers(project: &str, page: PageRequest) -> Page<Customer> = catalog::customers;
        wallet(project: &str, id: WalletId) -> Option<Wallet> = wallets::wallet;
        wallet_with_expiring(project: &str, id: WalletId) -> Option<Wallet> = wallets::wallet_with_expiring;
        customer_wallets(customer: CustomerRowId, page: PageRequest) -> Page<Wallet> =
            wallets::customer_wallets;
        system_wallets(project: &str, page: PageRequest) -> Page<Wallet> = wallets::system_wallets;

        wallet_entries(wallet: WalletId, range: TimeRange, page: PageRequest) -> Page<Entry> =
            ledger::wallet_entries;
        transaction(project: &str, id: TransactionId) -> Option<Transaction> = ledger::transaction;
        transaction_by_reference(project: &str, reference: &str) -> Option<Transaction> =
            ledger::transaction_by_reference;
        transactions(project: &str, range: TimeRange, page: PageRequest) -> Page<Transaction> =
            ledger::transactions;
        authority_total(wallet: WalletId, authority: AuthorityRowId) -> Option<i128> =
            ledger::authority_total;
        balance_at(wallet: WalletId, at: Millis) -> Option<i64> = holds::balance_at;

        hold(project: &str, id: &HoldId) -> Option<Hold> = holds::hold;
        wallet_holds(wallet: WalletId, status: Option<HoldStatus>, page: PageRequest) -> Page<Hold> =
            holds::wallet_holds;
        due_holds(now: Millis, limit: u32) -> Vec<(String, HoldId)> = holds::due_holds;
        next_hold_expiry() -> Option<Millis> = holds::next_hold_expiry;
        transaction_holds(project: &str, transaction: TransactionId) -> Vec<Hold> = holds::transaction_holds;

        wallet_lots(wallet: WalletId, status: Option<LotStatus>, page: PageRequest) -> Page<Lot> =
            lots::wallet_lots;
        expiring(wallets: &[WalletId]) -> Vec<(WalletId, Expiring)> = lots::expiring;
        hold_earmarks(project: &str, holds: &[HoldId]) -> Vec<(HoldId, Earmark)> = lots::hold_earmarks;
        due_lots(now: Millis, limit: u32) -> Vec<(String, WalletId, LotId)> = lots::due_lots;
        next_lot_expiry() -> Option<Millis> = lots::next_lot_expiry;

        item(project: &str, id: &ItemId) -> Option<Item> = items::item;
        item_of_v1_entry(project: &str, entry: EntryId) -> Option<Item> = items::item_of_v1_entry;
        owner_items(
            project: &str, owner: Option<CustomerRowId>, filter: &ItemFilter, page: PageRequest
        ) -> Page<Item> = items::owner_items;
        item_history(project: &str, id: &ItemId, page: PageRequest) -> Page<ItemStep> = items::item_history;
        transaction_items(project: &str, transaction: TransactionId) -> Vec<Item> = items::transaction_items;
        transaction_entries(transaction: TransactionId) -> Vec<Entry> = events::transaction_entries;
        lot(id: LotId) -> Option<Lot> = events::lot;

        event_head(project: &str) -> EventHead = events::event_head;
        events(project: &str, query: &EventQuery) -> Vec<Event> = events::events;
        event_anchor(project: &str) -> Option<Anchor> = events::event_anchor;

        webhooks(project: &str) -> Vec<Webhook> = webhooks::webhooks;
        webhook(project: &str, id: &PublicId) -> Option<Webhook> = webhooks::webhook;
        due_webhooks(now: Millis, limit: u32) -> Vec<Webhook> = webhooks::due_webhooks;
        deliveries(webhook: &PublicId, status: Option<DeliveryStatus>, page: PageRequest) -> Page<Delivery> =
            webhooks::deliveries;
        webhook_health(webhook: &PublicId) -> WebhookHealth = webhooks::webhook_health;
        ledger_stats(project: &str, window: &OverviewWindow) -> LedgerStats = overview::ledger_stats;

        v1_wallet_totals(project: &str, asset: AssetId, filter: &WalletTotalsFilter) -> Vec<WalletTotal> =
            v1::wallet_totals;
        v1_inventory(project: &str, filter: &InventoryFilter) -> Vec<InventoryLine> = v1::inventory;
        v1_entry(entry: EntryId) -> Option<V1Entry> = v1::entry;

        check_since(from: Option<&Checkpoint>, progress: &dyn wallet_core::progress::Progress) -> CheckReport = check::run_since;
        check_checkpoint() -> Option<Checkpoint> = check::load_checkpoint;
        export_project(
            project: &str, sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>
        ) -> DumpCounts =
            export::project;
    }

    /// Inside a write, a customer whose wallets of the asset have none marked
    /// default gets the oldest marked (as `main`'s `ensure_default_wallet`):
    /// API v1 then posts to it and its totals count it. A read answers the
    /// same wallet without marking it.
    fn default_wallet(
        &mut self,
        customer: CustomerRowId,
        asset: AssetId,
    ) -> Result<Option<Wallet>, StoreError> {
        let result = if self.writing {
            wallets::adopt_default_wallet(self.conn, customer, asset)
        } else {
            wallets::default_wallet(self.conn, customer, asset)
        };
        self.note(result)
    }
}

impl WriteTx for SqlTx<'_> {
    /// The one writer: no other write is ever in flight.
    fn hold_rechecks(&mut self, _what: Rechecked) -> Result<(), StoreError> {
        Ok(())
    }

    forward! {
        set_setting(key: &str, value: &str) -> () = settings::set;
        record_check_checkpoint(checkpoint: &Checkpoint) -> bool = check::record_checkpoint;
        set_setting_if_absent(key: &str, value: &str) -> bool = settings::set_if_absent;
        insert_admin_session(session: &AdminSession) -> () = settings::insert_admin_session;
        delete_admin_session(token_digest: &[u8]) -> () = settings::delete_admin_session;
        prune_admin_sessions(password_stamp: &[u8], now: Millis) -> u64 = settings::prune_admin_sessions;
        insert_authority(
            public_id: &str, project: &str, name: &str, credential: &AuthorityCredential, now: Millis
        ) -> AuthorityRowId = credentials::insert_authority;
        revoke_authority(public_id: &str, now: Millis) -> bool = credentials::revoke_authority;
        insert_customer_key(key: &NewCustomerKey<'_>) -> CustomerKeyRowId = credentials::insert_customer_key;
        revoke_customer_key(customer: CustomerRowId, public_id: &str, now: Millis) -> bool =
            credentials::revoke_customer_key;

        create_project(id: &str, name: &str, default_asset: &NewAsset, now: Millis) -> bool =
            catalog::create_project;
        insert_asset(project: &str, asset: &NewAsset, now: Millis) -> AssetId = catalog::insert_asset;
        rename_asset(id: AssetId, name: &str) -> () = catalog::rename_asset;
        delete_unused_asset(id: AssetId) -> bool = catalog::delete_unused_asset;
        insert_customer(
            project: &str, id: &str, name: Option<&str>, description: Option<&str>, now: Millis
        ) -> Option<CustomerRowId> = catalog::insert_customer;
        // One writer: reading the customer inside the job is locking it.
        lock_customer(project: &str, id: &str) -> Option<Customer> = catalog::customer;
        update_customer(rowid: CustomerRowId, name: Option<&str>, description: Option<&str>) -> () =
            catalog::update_customer;
        set_customer_status(rowid: CustomerRowId, status: CustomerStatus) -> () =
            catalog::set_customer_status;
        suspend_open_wallets(customer: CustomerRowId) -> Vec<WalletId> = wallets::suspend_open_wallets;
        insert_wallet(wallet: &NewWallet<'_>) -> WalletId = wallets::insert_wallet;
        set_wallet_status(id: WalletId, status: WalletStatus) -> () = wallets::set_wallet_status;
        set_wallet_name(id: WalletId, name: &str) -> () = wallets::set_wallet_name;
        set_wallet_description(id: WalletId, description: &str) -> () = wallets::set_wallet_description;

        lock_wallets(project: &str, ids: &[WalletId]) -> Vec<Wallet> = wallets::lock_wallets;
        lock_holds(project: &str, ids: &[HoldId]) -> Vec<Hold> = holds::lock_holds;
        insert_hold(project: &str, hold: &Hold) -> () = holds::insert_hold;
        update_hold(project: &str, change: &HoldUpdate<'_>) -> () = holds::update_hold;
        adjust_held(wallet: WalletId, amount: i64) -> i64 = wallets::adjust_held;
        set_credit_limit(wallet: WalletId, limit: i64) -> bool = wallets::set_credit_limit;
        system_authority(project: &str, now: Millis) -> AuthorityRowId = credentials::system_authority;
        insert_transaction(transaction: &NewTransaction<'_>) -> Claim = ledger::insert_transaction;
        debit(wallet: WalletId, amount: i64) -> i64 = wallets::debit;
        credit(wallet: WalletId, amount: i64) -> i64 = wallets::credit;
        append_entry(entry: &NewEntry<'_>) -> EntryId = ledger::append_entry;
        add_authority_total(wallet: WalletId, authority: AuthorityRowId, delta: i64) -> () =
            ledger::add_authority_total;

        lock_items(project: &str, ids: &[ItemId]) -> Vec<Item> = items::lock_items;
        // One writer: reading the customers inside the job is locking them.
        lock_customers(project: &str, ids: &[CustomerId]) -> Vec<Customer> = items::lock_customers;
        insert_item(project: &str, item: &NewItem<'_>) -> () = items::insert_item;
        update_item(project: &str, change: &ItemUpdate<'_>) -> () = items::update_item;
        append_item_step(project: &str, step: &NewItemStep<'_>) -> () = items::append_item_step;

        // One writer: reading the lots of wallets the job read is locking them.
        lots_of(wallets: &[WalletId]) -> Vec<Lot> = lots::lots_of;
        insert_lot(lot: &NewLot) -> LotId = lots::insert_lot;
        update_lot(change: &LotUpdate) -> () = lots::update_lot;
        append_lot_step(step: &NewLotStep) -> () = lots::append_lot_step;
        set_earmarks(project: &str, hold: &HoldId, earmarks: &[Earmark]) -> () = lots::set_earmarks;

        // One writer: the job appends its events at once, after the head it
        // reads (no other writer can move it before the commit).
        stage_events(project: &str, created_at: Millis, drafts: &[Draft]) -> () = events::stage_events;
        prune_events(project: &str, anchor: &Anchor) -> u64 = events::prune_events;

        insert_webhook(webhook: &NewWebhook, progress: &WebhookProgress) -> () = webhooks::insert_webhook;
        delete_webhook(project: &str, id: &PublicId) -> bool = webhooks::delete_webhook;
        lease_webhook(id: &PublicId, owner: &str, now: Millis, until: Millis) -> bool =
            webhooks::lease_webhook;
        record_run(owner: &str, run: &Run, lease_until: Option<Millis>) -> bool = webhooks::record_run;
        replay_webhook(project: &str, id: &PublicId, after: i64, now: Millis) -> bool =
            webhooks::replay_webhook;
    }
}
