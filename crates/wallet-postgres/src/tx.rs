//! [`PgTx`]: the port's [`ReadTx`] and [`WriteTx`] on one connection inside
//! a transaction.
//!
//! Every method forwards to a statement of `crate::statements` and keeps
//! the run's first error. The writer reads it after a job: a job that
//! swallowed a storage error and still says [`Verdict::Keep`] is rolled back
//! all the same and answered with that error (after a failed statement
//! PostgreSQL refuses every statement until the job's savepoint is rolled
//! back, so its writes are half done at best).
//!
//! Inside a write, the reads the core's credential re-check makes (an
//! authority, a customer key, a token's customer, a setting) take a share
//! lock on what they read, so a revocation cannot commit while a write that
//! saw the credential live is still running (see `statements`).
//!
//! Inside a write, locked wallets' balances and held values and the running
//! totals move in the group's [`GroupCache`]; every statement that could
//! read or change them flushes it first (`forward!`), the few that cannot
//! do not (`forward_plain!`: holds, lots, items, entries, credentials,
//! settings). Lots are never cached: `lots_of` reads them after the
//! wallets' locks, whether those were taken by this job or (a cached
//! wallet) by an earlier job of the group (see `statements::lots`).
//!
//! [`Verdict::Keep`]: wallet_core::port::Verdict::Keep

use crate::cache::GroupCache;
use crate::cache::Staged;
use crate::conn::PgConn;
use crate::error::{DbError, DbResult};
use crate::statements::{
    catalog, credentials, events, holds, items, ledger, lots, overview, settings, v1, wallets, webhooks,
};
use crate::{check, export};
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
pub(crate) struct PgTx<'c> {
    conn: &'c mut PgConn,
    /// Whether this is a writer's transaction: reads there lock what the
    /// re-check reads, and may settle what the rules make of the rows.
    writing: bool,
    /// A writer's group cache (none for reads).
    cache: Option<&'c mut GroupCache>,
    first_error: Option<StoreError>,
}

impl<'c> PgTx<'c> {
    /// A read job's run on a read-only snapshot.
    pub(crate) fn reading(conn: &'c mut PgConn) -> Self {
        Self {
            conn,
            writing: false,
            cache: None,
            first_error: None,
        }
    }

    /// A write job's run inside a writer's transaction, on its group's cache.
    pub(crate) fn writing(conn: &'c mut PgConn, cache: &'c mut GroupCache) -> Self {
        Self {
            conn,
            writing: true,
            cache: Some(cache),
            first_error: None,
        }
    }

    /// Writes what the group's cache holds, so the next statement reads
    /// the rows as the transaction has them.
    fn flushed(&mut self) -> Result<(), StoreError> {
        let result = match self.cache.as_deref_mut() {
            Some(cache) => cache.flush(self.conn),
            None => Ok(()),
        };
        self.note(result)
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

/// Forwards port methods to statement functions through `PgTx::note`, so
/// no method can forget to record its failure, after flushing the group's
/// cache (the statement may read or change a balance or a total).
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $statement:path;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            self.flushed()?;
            let result = $statement(self.conn, $($arg),*);
            self.note(result)
        }
    )*};
}

/// [`forward!`] for statements that neither read nor change a wallet's
/// balance, status or labels or a running total: no flush.
macro_rules! forward_plain {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $statement:path;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            let result = $statement(self.conn, $($arg),*);
            self.note(result)
        }
    )*};
}

/// Forwards to the first statement in a read job and to the second inside
/// a write; no flush (these read credentials and settings only).
macro_rules! forward_by_role {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $read:path, $write:path;)*) => {$(
        fn $name(&mut self, $($arg: $ty),*) -> Result<$ret, StoreError> {
            let result = if self.writing {
                $write(self.conn, $($arg),*)
            } else {
                $read(self.conn, $($arg),*)
            };
            self.note(result)
        }
    )*};
}

impl ReadTx for PgTx<'_> {
    forward_plain! {
        admin_session(token_digest: &[u8]) -> Option<AdminSession> = settings::admin_session;
        authority(public_id: &str) -> Option<Authority> = credentials::authority;
        authorities(project: Option<&str>) -> Vec<Authority> = credentials::authorities;
        customer_key(public_id: &str) -> Option<CustomerKey> = credentials::customer_key;
        customer_keys(customer: CustomerRowId, page: PageRequest) -> Page<CustomerKey> =
            credentials::customer_keys;

        project(id: &str) -> Option<Project> = catalog::project;
        projects() -> Vec<Project> = catalog::projects;
        asset(project: &str, id: AssetId) -> Option<Asset> = catalog::asset;
        asset_code_taken(project: &str, code: &str) -> bool = catalog::asset_code_taken;
        assets(project: &str, page: PageRequest) -> Page<Asset> = catalog::assets;
        customers(project: &str, page: PageRequest) -> Page<Customer> = catalog::customers;
        transaction(project: &str, id: TransactionId) -> Option<Transaction> = ledger::transaction;
        transaction_by_reference(project: &str, reference: &str) -> Option<Transaction> =
            ledger::transaction_by_reference;
        transactions(project: &str, range: TimeRange, page: PageRequest) -> Page<Transaction> =
            ledger::transactions;
        v1_entry(entry: EntryId) -> Option<V1Entry> = v1::entry;
        v1_inventory(project: &str, filter: &InventoryFilter) -> Vec<InventoryLine> = v1::inventory;

        // Holds and entries are never cached: only wallets' numbers are.
        balance_at(wallet: WalletId, at: Millis) -> Option<i64> = holds::balance_at;
        hold(project: &str, id: &HoldId) -> Option<Hold> = holds::hold;
        wallet_holds(wallet: WalletId, status: Option<HoldStatus>, page: PageRequest) -> Page<Hold> =
            holds::wallet_holds;
        due_holds(now: Millis, limit: u32) -> Vec<(String, HoldId)> = holds::due_holds;
        next_hold_expiry() -> Option<Millis> = holds::next_hold_expiry;
        transaction_holds(project: &str, transaction: TransactionId) -> Vec<Hold> =
            holds::transaction_holds;

        // Lots and earmarks are never cached either (see `statements::lots`).
        wallet_lots(wallet: WalletId, status: Option<LotStatus>, page: PageRequest) -> Page<Lot> =
            lots::wallet_lots;
        expiring(wallets: &[WalletId]) -> Vec<(WalletId, Expiring)> = lots::expiring;
        hold_earmarks(project: &str, holds: &[HoldId]) -> Vec<(HoldId, Earmark)> = lots::hold_earmarks;
        due_lots(now: Millis, limit: u32) -> Vec<(String, WalletId, LotId)> = lots::due_lots;
        next_lot_expiry() -> Option<Millis> = lots::next_lot_expiry;
        lot(id: LotId) -> Option<Lot> = lots::lot_by_id;

        // Items are never cached either, and touch no wallet.
        item(project: &str, id: &ItemId) -> Option<Item> = items::item;
        item_of_v1_entry(project: &str, entry: EntryId) -> Option<Item> = items::item_of_v1_entry;
        owner_items(
            project: &str, owner: Option<CustomerRowId>, filter: &ItemFilter, page: PageRequest
        ) -> Page<Item> = items::owner_items;
        item_history(project: &str, id: &ItemId, page: PageRequest) -> Page<ItemStep> = items::item_history;
        transaction_items(project: &str, transaction: TransactionId) -> Vec<Item> = items::transaction_items;

        // Entries are never cached; events and webhooks touch no wallet.
        transaction_entries(transaction: TransactionId) -> Vec<Entry> = ledger::transaction_entries;
        event_head(project: &str) -> EventHead = events::event_head;
        events(project: &str, query: &EventQuery) -> Vec<Event> = events::events;
        event_anchor(project: &str) -> Option<Anchor> = events::anchor;
        webhooks(project: &str) -> Vec<Webhook> = webhooks::webhooks;
        webhook(project: &str, id: &PublicId) -> Option<Webhook> = webhooks::webhook_of;
        due_webhooks(now: Millis, limit: u32) -> Vec<Webhook> = webhooks::due;
        deliveries(webhook: &PublicId, status: Option<DeliveryStatus>, page: PageRequest) -> Page<Delivery> =
            webhooks::deliveries;
        webhook_health(webhook: &PublicId) -> WebhookHealth = webhooks::health;
    }

    forward! {
        ledger_stats(project: &str, window: &OverviewWindow) -> LedgerStats = overview::ledger_stats;
        wallet(project: &str, id: WalletId) -> Option<Wallet> = wallets::wallet;
        wallet_with_expiring(project: &str, id: WalletId) -> Option<Wallet> = wallets::wallet_with_expiring;
        customer_wallets(customer: CustomerRowId, page: PageRequest) -> Page<Wallet> =
            wallets::customer_wallets;
        system_wallets(project: &str, page: PageRequest) -> Page<Wallet> = wallets::system_wallets;

        wallet_entries(wallet: WalletId, range: TimeRange, page: PageRequest) -> Page<Entry> =
            ledger::wallet_entries;
        authority_total(wallet: WalletId, authority: AuthorityRowId) -> Option<i128> =
            ledger::authority_total;

        v1_wallet_totals(project: &str, asset: AssetId, filter: &WalletTotalsFilter) -> Vec<WalletTotal> =
            v1::wallet_totals;

        check_since(from: Option<&Checkpoint>, progress: &dyn wallet_core::progress::Progress) -> CheckReport =
            check::run_since;
        check_checkpoint() -> Option<Checkpoint> = check::load_checkpoint;
        export_project(
            project: &str, sink: &mut dyn FnMut(DumpRecord) -> Result<(), StoreError>
        ) -> DumpCounts =
            export::project;
    }

    /// Inside a write, read `FOR SHARE` once per group (see `cache`).
    fn setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        if !self.writing {
            let result = settings::get(self.conn, key);
            return self.note(result);
        }
        if let Some(value) = self.cache.as_deref().and_then(|c| c.shared_setting(key)) {
            return Ok(Some(value.to_owned()));
        }
        let result = settings::get_for_write(self.conn, key);
        let value = self.note(result)?;
        if let (Some(value), Some(cache)) = (&value, self.cache.as_deref_mut()) {
            cache.share_setting(key, value);
        }
        Ok(value)
    }

    /// Inside a write, read `FOR SHARE` once per group (see `cache`).
    fn authority_by_rowid(&mut self, rowid: AuthorityRowId) -> Result<Option<Authority>, StoreError> {
        if !self.writing {
            let result = credentials::authority_by_rowid(self.conn, rowid);
            return self.note(result);
        }
        if let Some(authority) = self.cache.as_deref().and_then(|c| c.shared_authority(rowid)) {
            return Ok(Some(authority.clone()));
        }
        let result = credentials::authority_by_rowid_for_write(self.conn, rowid);
        let authority = self.note(result)?;
        if let (Some(authority), Some(cache)) = (&authority, self.cache.as_deref_mut()) {
            cache.share_authority(authority);
        }
        Ok(authority)
    }

    forward_by_role! {
        customer_key_by_rowid(rowid: CustomerKeyRowId) -> Option<CustomerKey> =
            credentials::customer_key_by_rowid, credentials::customer_key_by_rowid_for_write;
        customer(project: &str, id: &str) -> Option<Customer> =
            catalog::customer, catalog::customer_for_write;
    }

    /// Inside a write, a customer whose wallets of the asset have none
    /// marked default gets the oldest marked; a read answers the same
    /// wallet without marking it.
    fn default_wallet(
        &mut self,
        customer: CustomerRowId,
        asset: AssetId,
    ) -> Result<Option<Wallet>, StoreError> {
        self.flushed()?;
        let result = if self.writing {
            wallets::adopt_default_wallet(self.conn, customer, asset)
        } else {
            wallets::default_wallet(self.conn, customer, asset)
        };
        self.note(result)
    }
}

impl WriteTx for PgTx<'_> {
    /// Kept in the group's cache and appended after the group's last job,
    /// just before its COMMIT (`statements::events::append_staged`): the
    /// heads are the last rows a group locks.
    fn stage_events(
        &mut self,
        project: &str,
        created_at: Millis,
        drafts: &[Draft],
    ) -> Result<(), StoreError> {
        match self.cache.as_deref_mut() {
            Some(cache) => {
                cache.stage(Staged {
                    project: project.to_owned(),
                    created_at,
                    drafts: drafts.to_vec(),
                });
                Ok(())
            }
            None => self.note(Err(crate::error::DbError(StoreError::Internal(
                "events staged outside a write".to_owned(),
            )))),
        }
    }

    fn record_check_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<bool, StoreError> {
        let result = check::record_checkpoint(self.conn, checkpoint);
        self.note(result)
    }

    /// Forgets the group's copy of the setting (see `cache`).
    fn set_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        if let Some(cache) = self.cache.as_deref_mut() {
            cache.forget_setting(key);
        }
        let result = settings::set(self.conn, key, value);
        self.note(result)
    }

    /// Forgets the group's copy of the setting (see `cache`).
    fn set_setting_if_absent(&mut self, key: &str, value: &str) -> Result<bool, StoreError> {
        if let Some(cache) = self.cache.as_deref_mut() {
            cache.forget_setting(key);
        }
        let result = settings::set_if_absent(self.conn, key, value);
        self.note(result)
    }

    /// Forgets the group's copies of authorities (see `cache`).
    fn revoke_authority(&mut self, public_id: &str, now: Millis) -> Result<bool, StoreError> {
        if let Some(cache) = self.cache.as_deref_mut() {
            cache.forget_authorities();
        }
        let result = credentials::revoke_authority(self.conn, public_id, now);
        self.note(result)
    }

    forward_plain! {
        hold_rechecks(what: Rechecked) -> () = credentials::hold_rechecks;
        insert_admin_session(session: &AdminSession) -> () = settings::insert_admin_session;
        delete_admin_session(token_digest: &[u8]) -> () = settings::delete_admin_session;
        prune_admin_sessions(password_stamp: &[u8], now: Millis) -> u64 = settings::prune_admin_sessions;
        insert_authority(
            public_id: &str, project: &str, name: &str, credential: &AuthorityCredential, now: Millis
        ) -> AuthorityRowId = credentials::insert_authority;
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
        lock_customer(project: &str, id: &str) -> Option<Customer> = catalog::lock_customer;
        update_customer(rowid: CustomerRowId, name: Option<&str>, description: Option<&str>) -> () =
            catalog::update_customer;
        insert_transaction(transaction: &NewTransaction<'_>) -> Claim = ledger::insert_transaction;
        append_entry(entry: &NewEntry<'_>) -> EntryId = ledger::append_entry;

        lock_holds(project: &str, ids: &[HoldId]) -> Vec<Hold> = holds::lock_holds;
        insert_hold(project: &str, hold: &Hold) -> () = holds::insert_hold;
        update_hold(project: &str, change: &HoldUpdate<'_>) -> () = holds::update_hold;
        system_authority(project: &str, now: Millis) -> AuthorityRowId = credentials::system_authority;

        // A customer's status is in the cached wallets' owners, but only
        // `set_customer_status` changes it (and flushes); locking the row
        // changes nothing.
        lock_items(project: &str, ids: &[ItemId]) -> Vec<Item> = items::lock_items;
        lock_customers(project: &str, ids: &[CustomerId]) -> Vec<Customer> = items::lock_customers;
        insert_item(project: &str, item: &NewItem<'_>) -> () = items::insert_item;
        update_item(project: &str, change: &ItemUpdate<'_>) -> () = items::update_item;
        append_item_step(project: &str, step: &NewItemStep<'_>) -> () = items::append_item_step;

        // A lot's numbers are not a wallet's: its balance moves apart, by
        // `debit` and `credit`. `lots_of` runs after `lock_wallets`.
        lots_of(wallets: &[WalletId]) -> Vec<Lot> = lots::lots_of;
        insert_lot(lot: &NewLot) -> LotId = lots::insert_lot;
        update_lot(change: &LotUpdate) -> () = lots::update_lot;
        append_lot_step(step: &NewLotStep) -> () = lots::append_lot_step;
        set_earmarks(project: &str, hold: &HoldId, earmarks: &[Earmark]) -> () = lots::set_earmarks;

        prune_events(project: &str, anchor: &Anchor) -> u64 = events::prune;
        insert_webhook(webhook: &NewWebhook, progress: &WebhookProgress) -> () = webhooks::insert;
        delete_webhook(project: &str, id: &PublicId) -> bool = webhooks::delete;
        lease_webhook(id: &PublicId, owner: &str, now: Millis, until: Millis) -> bool = webhooks::lease;
        record_run(owner: &str, run: &Run, lease_until: Option<Millis>) -> bool = webhooks::record_run;
        replay_webhook(project: &str, id: &PublicId, after: i64, now: Millis) -> bool = webhooks::replay;
    }

    forward! {
        set_customer_status(rowid: CustomerRowId, status: CustomerStatus) -> () =
            catalog::set_customer_status;
        suspend_open_wallets(customer: CustomerRowId) -> Vec<WalletId> = wallets::suspend_open_wallets;
        insert_wallet(wallet: &NewWallet<'_>) -> WalletId = wallets::insert_wallet;
        set_wallet_status(id: WalletId, status: WalletStatus) -> () = wallets::set_wallet_status;
        set_wallet_name(id: WalletId, name: &str) -> () = wallets::set_wallet_name;
        set_wallet_description(id: WalletId, description: &str) -> () = wallets::set_wallet_description;
        // The limit is read with the wallet when it is locked: the flush
        // makes the cache forget the row, so the next lock reads the new one.
        set_credit_limit(wallet: WalletId, limit: i64) -> bool = wallets::set_credit_limit;
    }

    /// Cached wallets answer from the cache; the others are locked and
    /// read now, and cached.
    fn lock_wallets(&mut self, project: &str, ids: &[WalletId]) -> Result<Vec<Wallet>, StoreError> {
        let Some(cache) = self.cache.as_deref_mut() else {
            let result = wallets::lock_wallets(self.conn, project, ids);
            return self.note(result);
        };
        let mut found: Vec<Wallet> = Vec::with_capacity(ids.len());
        let mut missing: Vec<WalletId> = Vec::new();
        for id in ids {
            match cache.wallet(project, *id) {
                Some(wallet) => found.push(wallet.clone()),
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            let result = wallets::lock_wallets(self.conn, project, &missing);
            for wallet in self.note(result)? {
                if let Some(cache) = self.cache.as_deref_mut() {
                    cache.locked(wallet.clone());
                }
                found.push(wallet);
            }
        }
        found.sort_by_key(|w| w.id);
        found.dedup_by_key(|w| w.id);
        Ok(found)
    }

    fn debit(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
        let cached = match self.cache.as_deref_mut() {
            Some(cache) if amount >= 0 => cache.debit(wallet, amount),
            _ => None,
        };
        let result = match cached {
            Some(result) => result.map_err(DbError),
            None => wallets::debit(self.conn, wallet, amount),
        };
        self.note(result)
    }

    fn credit(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
        let cached = match self.cache.as_deref_mut() {
            Some(cache) if amount >= 0 => cache.credit(wallet, amount),
            _ => None,
        };
        let result = match cached {
            Some(result) => result.map_err(DbError),
            None => wallets::credit(self.conn, wallet, amount),
        };
        self.note(result)
    }

    /// A cached wallet's held value moves in the cache, like its balance;
    /// `i64::MIN` (no hold's amount) goes to the statement, which refuses it.
    fn adjust_held(&mut self, wallet: WalletId, amount: i64) -> Result<i64, StoreError> {
        let cached = match self.cache.as_deref_mut() {
            Some(cache) if amount != i64::MIN => cache.adjust_held(wallet, amount),
            _ => None,
        };
        let result = match cached {
            Some(result) => result.map_err(DbError),
            None => wallets::adjust_held(self.conn, wallet, amount),
        };
        self.note(result)
    }

    /// Inside a write, added up in the group's cache and written once.
    fn add_authority_total(
        &mut self,
        wallet: WalletId,
        authority: AuthorityRowId,
        delta: i64,
    ) -> Result<(), StoreError> {
        if let Some(cache) = self.cache.as_deref_mut() {
            cache.add_total(wallet, authority, delta);
            return Ok(());
        }
        let result = ledger::add_authority_total(self.conn, wallet, authority, delta);
        self.note(result)
    }
}
