//! [`FaultyTx`]: a job's real [`WriteTx`], forwarded call by call, with a
//! fault injected into any write primitive (every method of [`WriteTx`],
//! the locks included) when the shared [`Faults`] say so.

use super::Faults;
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

/// One run of one job: the real transaction, with faults in its writes.
pub(super) struct FaultyTx<'t, 'f> {
    pub(super) inner: &'t mut dyn WriteTx,
    pub(super) faults: &'f Faults,
    /// The first fault injected into this run: the job's answer if it
    /// swallows it.
    pub(super) first_injected: Option<StoreError>,
}

impl FaultyTx<'_, '_> {
    fn admit(&mut self, primitive: &str) -> Result<(), StoreError> {
        self.faults.admit(primitive).inspect_err(|e| {
            self.first_injected.get_or_insert_with(|| e.clone());
        })
    }
}

/// Read statements: always forwarded.
macro_rules! reads {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            self.inner.$name($($arg),*)
        }
    )*};
}

/// Write primitives: forwarded unless a fault is due.
macro_rules! writes {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            self.admit(stringify!($name))?;
            self.inner.$name($($arg),*)
        }
    )*};
}

impl ReadTx for FaultyTx<'_, '_> {
    reads! {
        setting(key: &str) -> Option<String>;
        admin_session(token_digest: &[u8]) -> Option<AdminSession>;
        authority(public_id: &str) -> Option<Authority>;
        authority_by_rowid(rowid: AuthorityRowId) -> Option<Authority>;
        authorities(project: Option<&str>) -> Vec<Authority>;
        customer_key(public_id: &str) -> Option<CustomerKey>;
        customer_key_by_rowid(rowid: CustomerKeyRowId) -> Option<CustomerKey>;
        customer_keys(customer: CustomerRowId, page: PageRequest) -> Page<CustomerKey>;
        project(id: &str) -> Option<Project>;
        projects() -> Vec<Project>;
        asset(project: &str, id: AssetId) -> Option<Asset>;
        asset_code_taken(project: &str, code: &str) -> bool;
        assets(project: &str, page: PageRequest) -> Page<Asset>;
        customer(project: &str, id: &str) -> Option<Customer>;
        customers(project: &str, page: PageRequest) -> Page<Customer>;
        wallet(project: &str, id: WalletId) -> Option<Wallet>;
        wallet_with_expiring(project: &str, id: WalletId) -> Option<Wallet>;
        default_wallet(customer: CustomerRowId, asset: AssetId) -> Option<Wallet>;
        customer_wallets(customer: CustomerRowId, page: PageRequest) -> Page<Wallet>;
        system_wallets(project: &str, page: PageRequest) -> Page<Wallet>;
        wallet_entries(wallet: WalletId, range: TimeRange, page: PageRequest) -> Page<Entry>;
        transaction(project: &str, id: TransactionId) -> Option<Transaction>;
        transaction_by_reference(project: &str, reference: &str) -> Option<Transaction>;
        transactions(project: &str, range: TimeRange, page: PageRequest) -> Page<Transaction>;
        authority_total(wallet: WalletId, authority: AuthorityRowId) -> Option<i128>;
        balance_at(wallet: WalletId, at: Millis) -> Option<i64>;
        hold(project: &str, id: &HoldId) -> Option<Hold>;
        wallet_holds(wallet: WalletId, status: Option<HoldStatus>, page: PageRequest) -> Page<Hold>;
        due_holds(now: Millis, limit: u32) -> Vec<(String, HoldId)>;
        next_hold_expiry() -> Option<Millis>;
        transaction_holds(project: &str, transaction: TransactionId) -> Vec<Hold>;
        wallet_lots(wallet: WalletId, status: Option<LotStatus>, page: PageRequest) -> Page<Lot>;
        expiring(wallets: &[WalletId]) -> Vec<(WalletId, Expiring)>;
        hold_earmarks(project: &str, holds: &[HoldId]) -> Vec<(HoldId, Earmark)>;
        due_lots(now: Millis, limit: u32) -> Vec<(String, WalletId, LotId)>;
        next_lot_expiry() -> Option<Millis>;
        item(project: &str, id: &ItemId) -> Option<Item>;
        item_of_v1_entry(project: &str, entry: EntryId) -> Option<Item>;
        owner_items(
            project: &str, owner: Option<CustomerRowId>, filter: &ItemFilter, page: PageRequest
        ) -> Page<Item>;
        item_history(project: &str, id: &ItemId, page: PageRequest) -> Page<ItemStep>;
        transaction_items(project: &str, transaction: TransactionId) -> Vec<Item>;
        transaction_entries(transaction: TransactionId) -> Vec<Entry>;
        lot(id: LotId) -> Option<Lot>;
        event_head(project: &str) -> EventHead;
        events(project: &str, query: &EventQuery) -> Vec<Event>;
        event_anchor(project: &str) -> Option<Anchor>;
        webhooks(project: &str) -> Vec<Webhook>;
        webhook(project: &str, id: &PublicId) -> Option<Webhook>;
        due_webhooks(now: Millis, limit: u32) -> Vec<Webhook>;
        deliveries(webhook: &PublicId, status: Option<DeliveryStatus>, page: PageRequest) -> Page<Delivery>;
        webhook_health(webhook: &PublicId) -> WebhookHealth;
        ledger_stats(project: &str, window: &OverviewWindow) -> LedgerStats;
        v1_wallet_totals(project: &str, asset: AssetId, filter: &WalletTotalsFilter) -> Vec<WalletTotal>;
        v1_inventory(project: &str, filter: &InventoryFilter) -> Vec<InventoryLine>;
        v1_entry(entry: EntryId) -> Option<V1Entry>;
        check_since(from: Option<&Checkpoint>, progress: &dyn wallet_core::progress::Progress) -> CheckReport;
        check_checkpoint() -> Option<Checkpoint>;
        export_project(
            project: &str, sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>
        ) -> DumpCounts;
    }
}

impl WriteTx for FaultyTx<'_, '_> {
    writes! {
        hold_rechecks(what: Rechecked) -> ();
        set_setting(key: &str, value: &str) -> ();
        record_check_checkpoint(checkpoint: &Checkpoint) -> bool;
        set_setting_if_absent(key: &str, value: &str) -> bool;
        insert_admin_session(session: &AdminSession) -> ();
        delete_admin_session(token_digest: &[u8]) -> ();
        prune_admin_sessions(password_stamp: &[u8], now: Millis) -> u64;
        insert_authority(
            public_id: &str, project: &str, name: &str, credential: &AuthorityCredential, now: Millis
        ) -> AuthorityRowId;
        revoke_authority(public_id: &str, now: Millis) -> bool;
        insert_customer_key(key: &NewCustomerKey<'_>) -> CustomerKeyRowId;
        revoke_customer_key(customer: CustomerRowId, public_id: &str, now: Millis) -> bool;
        create_project(id: &str, name: &str, default_asset: &NewAsset, now: Millis) -> bool;
        insert_asset(project: &str, asset: &NewAsset, now: Millis) -> AssetId;
        rename_asset(id: AssetId, name: &str) -> ();
        delete_unused_asset(id: AssetId) -> bool;
        insert_customer(
            project: &str, id: &str, name: Option<&str>, description: Option<&str>, now: Millis
        ) -> Option<CustomerRowId>;
        lock_customer(project: &str, id: &str) -> Option<Customer>;
        update_customer(rowid: CustomerRowId, name: Option<&str>, description: Option<&str>) -> ();
        set_customer_status(rowid: CustomerRowId, status: CustomerStatus) -> ();
        suspend_open_wallets(customer: CustomerRowId) -> Vec<WalletId>;
        insert_wallet(wallet: &NewWallet<'_>) -> WalletId;
        set_wallet_status(id: WalletId, status: WalletStatus) -> ();
        set_wallet_name(id: WalletId, name: &str) -> ();
        set_wallet_description(id: WalletId, description: &str) -> ();
        lock_wallets(project: &str, ids: &[WalletId]) -> Vec<Wallet>;
        lock_holds(project: &str, ids: &[HoldId]) -> Vec<Hold>;
        insert_hold(project: &str, hold: &Hold) -> ();
        update_hold(project: &str, change: &HoldUpdate<'_>) -> ();
        adjust_held(wallet: WalletId, amount: i64) -> i64;
        set_credit_limit(wallet: WalletId, limit: i64) -> bool;
        system_authority(project: &str, now: Millis) -> AuthorityRowId;
        insert_transaction(transaction: &NewTransaction<'_>) -> Claim;
        debit(wallet: WalletId, amount: i64) -> i64;
        credit(wallet: WalletId, amount: i64) -> i64;
        append_entry(entry: &NewEntry<'_>) -> EntryId;
        add_authority_total(wallet: WalletId, authority: AuthorityRowId, delta: i64) -> ();
        lock_items(project: &str, ids: &[ItemId]) -> Vec<Item>;
        lock_customers(project: &str, ids: &[CustomerId]) -> Vec<Customer>;
        insert_item(project: &str, item: &NewItem<'_>) -> ();
        update_item(project: &str, change: &ItemUpdate<'_>) -> ();
        append_item_step(project: &str, step: &NewItemStep<'_>) -> ();
        lots_of(wallets: &[WalletId]) -> Vec<Lot>;
        insert_lot(lot: &NewLot) -> LotId;
        update_lot(change: &LotUpdate) -> ();
        append_lot_step(step: &NewLotStep) -> ();
        set_earmarks(project: &str, hold: &HoldId, earmarks: &[Earmark]) -> ();
        stage_events(project: &str, created_at: Millis, drafts: &[Draft]) -> ();
        prune_events(project: &str, anchor: &Anchor) -> u64;
        insert_webhook(webhook: &NewWebhook, progress: &WebhookProgress) -> ();
        delete_webhook(project: &str, id: &PublicId) -> bool;
        lease_webhook(id: &PublicId, owner: &str, now: Millis, until: Millis) -> bool;
        record_run(owner: &str, run: &Run, lease_until: Option<Millis>) -> bool;
        replay_webhook(project: &str, id: &PublicId, after: i64, now: Millis) -> bool;
    }
}
