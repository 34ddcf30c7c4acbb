//! The backend-neutral half of an import: is each record of an export file
//! valid on its own, and does it refer only to earlier rows of the same
//! project? Every backend's `Import` asks [`ImportCheck`] before it writes a
//! row, so both backends refuse exactly the same files, with the same words.
//!
//! What needs the whole result (balances equal their entries, transfers
//! cancel out, running totals) is the backend's `check` after the last row:
//! this looks at one record and the ids seen before it, and keeps a few sums:
//! per wallet what its Open holds reserve and its Open lots hold, per lot
//! what its history and its earmarks add up to, which
//! [`ImportCheck::finish`] compares with the stored numbers.

use super::{
    unhex, AssetDump, AuthorityDump, CustomerDump, CustomerKeyDump, DumpRecord, EarmarkDump, EntryDump,
    HoldDump, ItemDump, ItemRecord, ItemStepDump, LotDump, LotStepDump, ProjectDump, TransactionDump,
    V1ItemDump, WalletDump,
};
use crate::model::{
    CustomerStatus, EntryKind, HoldStatus, ItemStatus, ItemStepKind, LotStatus, LotStepKind,
    TransactionStatus, WalletStatus,
};
use crate::text::{
    AssetCode, CustomerId, HoldId, ItemId, ItemName, ItemProperties, ItemType, ProjectId, PublicId,
    ReferenceId,
};
use crate::MAX_CREDIT_LIMIT;
use std::collections::{BTreeMap, HashSet};

/// Why a record of an import cannot go in. The message names the problem
/// (the caller adds the line number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRecord(pub String);

fn invalid(message: impl Into<String>) -> InvalidRecord {
    InvalidRecord(message.into())
}

fn valid<T, E: std::fmt::Display>(parsed: Result<T, E>) -> Result<(), InvalidRecord> {
    parsed.map(drop).map_err(|e| invalid(e.to_string()))
}

/// The ids of one kind of row imported so far.
#[derive(Default)]
struct Ids(HashSet<i64>);

impl Ids {
    fn refer(&self, id: i64, what: &str) -> Result<(), InvalidRecord> {
        if self.0.contains(&id) {
            Ok(())
        } else {
            Err(invalid(format!(
                "refers to {what} {id}, which is not an earlier row of this project"
            )))
        }
    }

    /// Records a new row's id; a second row with the same id is refused
    /// (it would take another row's place, or another project's).
    fn add(&mut self, id: i64, what: &str) -> Result<(), InvalidRecord> {
        if self.0.insert(id) {
            Ok(())
        } else {
            Err(invalid(format!("a second {what} with id {id}")))
        }
    }
}

/// Checks the records of one project's export in file order. A record it
/// accepts counts as imported: references to it are valid from the next
/// record on, so a backend that then fails to write it must abandon the
/// whole import (every `Import` is all or nothing anyway).
#[derive(Default)]
pub struct ImportCheck {
    default_asset: i64,
    assets: Ids,
    authorities: Ids,
    customers: Ids,
    customer_keys: Ids,
    wallets: Ids,
    transactions: Ids,
    entries: Ids,
    /// Entries that granted an item (an entry grants at most one).
    v1_entries: Ids,
    items: Ids,
    item_ids: HashSet<String>,
    item_steps: Ids,
    /// Per wallet: what a hold must match, and what its Open holds reserve.
    wallet_holds: BTreeMap<i64, WalletHolds>,
    holds: Ids,
    hold_ids: HashSet<String>,
    /// Open holds by row id: their source, and what their earmarks take of
    /// them so far; and what remains of each.
    open_holds: BTreeMap<i64, (i64, i128)>,
    hold_remaining: BTreeMap<i64, i64>,
    /// Lots by id: their numbers and what their history and earmarks add
    /// up to so far.
    lots: BTreeMap<i64, LotFacts>,
    lot_steps: Ids,
    /// Whether the project's one system authority was seen.
    system_authority: bool,
}

/// What the check keeps of a lot.
struct LotFacts {
    wallet: i64,
    remaining: i64,
    earmarked: i64,
    /// `amount` plus the effects of its steps so far: (remaining, earmarked).
    replayed: (i128, i128),
    /// What Open holds' earmarks take of it so far.
    earmarks: i128,
}

/// What the check keeps of a wallet for its holds and lots.
struct WalletHolds {
    asset: i64,
    held: i64,
    balance: i64,
    /// The sum of `remaining` of the wallet's Open lots so far.
    lots: i128,
    /// The sum of `remaining` of the wallet's Open holds so far.
    open: i128,
}

impl std::fmt::Debug for ImportCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportCheck")
            .field("default_asset", &self.default_asset)
            .field("entries", &self.entries.0.len())
            .finish_non_exhaustive()
    }
}

impl ImportCheck {
    /// Starts with the project's own row (the first record of a file).
    pub fn begin(project: &ProjectDump) -> Result<Self, InvalidRecord> {
        valid(ProjectId::parse(&project.id))?;
        Ok(Self {
            default_asset: project.default_asset,
            ..Self::default()
        })
    }

    /// Whether `record`, the next one of the file, may be written.
    pub fn check(&mut self, record: &DumpRecord) -> Result<(), InvalidRecord> {
        match record {
            DumpRecord::Project(_) => Err(invalid("a second project row")),
            DumpRecord::Asset(a) => self.asset(a),
            DumpRecord::Authority(a) => self.authority(a),
            DumpRecord::Customer(c) => self.customer(c),
            DumpRecord::CustomerKey(k) => self.customer_key(k),
            DumpRecord::Wallet(w) => self.wallet(w),
            DumpRecord::Transaction(t) => self.transaction(t),
            DumpRecord::Entry(e) => self.entry(e),
            DumpRecord::Item(ItemRecord::Item(i)) => self.item(i),
            DumpRecord::Item(ItemRecord::V1(i)) => self.v1_item(i),
            DumpRecord::ItemStep(step) => self.item_step(step),
            DumpRecord::Hold(h) => self.hold(h),
            DumpRecord::Lot(lot) => self.lot(lot),
            DumpRecord::LotStep(step) => self.lot_step(step),
            DumpRecord::Earmark(earmark) => self.earmark(earmark),
        }
    }

    /// After the last record: what the project row refers to was imported,
    /// and each wallet's `held` is what its Open holds reserve.
    pub fn finish(&self) -> Result<(), InvalidRecord> {
        self.assets.refer(self.default_asset, "default asset")?;
        for (wallet, facts) in &self.wallet_holds {
            if i128::from(facts.held) != facts.open {
                return Err(invalid(format!(
                    "wallet {wallet}: held {} but its Open holds reserve {}",
                    facts.held, facts.open
                )));
            }
            if facts.lots > i128::from(facts.balance.max(0)) {
                return Err(invalid(format!(
                    "wallet {wallet}: its Open lots hold {} of a balance of {}",
                    facts.lots, facts.balance
                )));
            }
        }
        for (id, lot) in &self.lots {
            let stored = (i128::from(lot.remaining), i128::from(lot.earmarked));
            if lot.replayed != stored || lot.earmarks != stored.1 {
                return Err(invalid(format!(
                    "lot {id}: remaining {} and earmarked {}, but its history makes {:?} and holds \
                     earmark {}",
                    lot.remaining, lot.earmarked, lot.replayed, lot.earmarks
                )));
            }
        }
        Ok(())
    }

    fn asset(&mut self, a: &AssetDump) -> Result<(), InvalidRecord> {
        valid(AssetCode::parse(&a.code))?;
        if a.fractions < 1 {
            return Err(invalid(format!(
                "asset {}: fractions must be at least 1, not {}",
                a.id, a.fractions
            )));
        }
        self.assets.add(a.id, "asset")
    }

    fn authority(&mut self, a: &AuthorityDump) -> Result<(), InvalidRecord> {
        valid(PublicId::parse(&a.id))?;
        let digest = a.token_digest_bytes()?;
        if a.system && (a.public_key_pem.is_some() || digest.is_some()) {
            return Err(invalid(format!(
                "authority {}: a system authority has no publicKeyPem or tokenDigest",
                a.id
            )));
        }
        if a.system && self.system_authority {
            return Err(invalid(format!("authority {}: a second system authority", a.id)));
        }
        if !a.system && a.public_key_pem.is_some() == digest.is_some() {
            return Err(invalid(format!(
                "authority {}: exactly one of publicKeyPem and tokenDigest must be set",
                a.id
            )));
        }
        self.authorities.add(a.rowid, "authority")?;
        self.system_authority |= a.system;
        Ok(())
    }

    fn customer(&mut self, c: &CustomerDump) -> Result<(), InvalidRecord> {
        valid(CustomerId::parse(&c.id))?;
        known(CustomerStatus::parse(&c.status), "customer", &c.status)?;
        self.customers.add(c.rowid, "customer")
    }

    fn customer_key(&mut self, k: &CustomerKeyDump) -> Result<(), InvalidRecord> {
        valid(PublicId::parse(&k.id))?;
        self.customers.refer(k.customer, "customer")?;
        k.token_digest_bytes()?;
        self.customer_keys.add(k.rowid, "customer key")
    }

    fn wallet(&mut self, w: &WalletDump) -> Result<(), InvalidRecord> {
        self.assets.refer(w.asset, "asset")?;
        if let Some(customer) = w.customer {
            self.customers.refer(customer, "customer")?;
        }
        known(WalletStatus::parse(&w.status), "wallet", &w.status)?;
        if !(0..=MAX_CREDIT_LIMIT).contains(&w.credit_limit) {
            return Err(invalid(format!(
                "wallet {}: a credit limit of {} cannot be (0 to {MAX_CREDIT_LIMIT})",
                w.id, w.credit_limit
            )));
        }
        // The credit-limit invariant, exactly (i128: nothing here overflows).
        let (balance, held, limit) = (
            i128::from(w.balance),
            i128::from(w.held),
            i128::from(w.credit_limit),
        );
        if held < 0 || balance < -limit || balance - held < -limit || balance + limit > i128::from(i64::MAX) {
            return Err(invalid(format!(
                "wallet {}: a balance of {} with {} held cannot be under a credit limit of {}",
                w.id, w.balance, w.held, w.credit_limit
            )));
        }
        self.wallets.add(w.id, "wallet")?;
        self.wallet_holds.insert(
            w.id,
            WalletHolds {
                asset: w.asset,
                held: w.held,
                balance: w.balance,
                lots: 0,
                open: 0,
            },
        );
        Ok(())
    }

    fn transaction(&mut self, t: &TransactionDump) -> Result<(), InvalidRecord> {
        if let Some(reference) = &t.reference_id {
            valid(ReferenceId::parse(reference))?;
        }
        self.authorities.refer(t.authority, "authority")?;
        known(TransactionStatus::parse(&t.status), "transaction", &t.status)?;
        self.transactions.add(t.id, "transaction")
    }

    fn entry(&mut self, e: &EntryDump) -> Result<(), InvalidRecord> {
        self.wallets.refer(e.wallet, "wallet")?;
        self.transactions.refer(e.transaction, "transaction")?;
        self.authorities.refer(e.authority, "authority")?;
        let kind = EntryKind::parse(&e.kind)
            .ok_or_else(|| invalid(format!("entry {}: unknown kind {:?}", e.id, e.kind)))?;
        let sign_ok = match kind {
            // 0 is an API v1 entry that only carries an item.
            EntryKind::Issue => e.amount >= 0,
            EntryKind::Redeem | EntryKind::Expire => e.amount < 0,
            EntryKind::Transfer | EntryKind::Capture => e.amount != 0,
        };
        if !sign_ok {
            return Err(invalid(format!(
                "entry {}: a {} of {} cannot be",
                e.id, e.kind, e.amount
            )));
        }
        if e.balance_after < -MAX_CREDIT_LIMIT {
            return Err(invalid(format!(
                "entry {}: a balance after of {} cannot be",
                e.id, e.balance_after
            )));
        }
        self.entries.add(e.id, "entry")
    }

    fn item(&mut self, i: &ItemDump) -> Result<(), InvalidRecord> {
        valid(ItemId::parse(&i.id))?;
        // Through API v2 a type has at most 64 characters; an item of an
        // API v1 entry keeps its name, of up to 200.
        if i.v1_entry.is_some() {
            valid(ItemName::parse(&i.item_type))?;
        } else {
            valid(ItemType::parse(&i.item_type))?;
        }
        if let Some(properties) = &i.properties {
            valid(ItemProperties::parse_unbounded(properties))?;
        }
        if let Some(customer) = i.customer {
            self.customers.refer(customer, "customer")?;
        }
        known(ItemStatus::parse(&i.status), "item", &i.status)?;
        if let Some(entry) = i.v1_entry {
            self.entries.refer(entry, "entry")?;
            self.v1_entries.add(entry, "item of entry")?;
        }
        if !self.item_ids.insert(i.id.clone()) {
            return Err(invalid(format!("a second item with id {}", i.id)));
        }
        self.items.add(i.rowid, "item")
    }

    fn v1_item(&mut self, i: &V1ItemDump) -> Result<(), InvalidRecord> {
        valid(ItemName::parse(&i.name))?;
        if let Some(data) = &i.data {
            valid(ItemProperties::parse_unbounded(data))?;
        }
        self.entries.refer(i.entry, "entry")?;
        self.v1_entries.add(i.entry, "item of entry")?;
        if !self.item_ids.insert(i.item_id()) {
            return Err(invalid(format!("a second item with id {}", i.item_id())));
        }
        Ok(())
    }

    fn item_step(&mut self, step: &ItemStepDump) -> Result<(), InvalidRecord> {
        self.items.refer(step.item, "item")?;
        if let Some(transaction) = step.transaction {
            self.transactions.refer(transaction, "transaction")?;
        }
        known(ItemStepKind::parse(&step.kind), "item step", &step.kind)?;
        for owner in [step.from, step.to].into_iter().flatten() {
            self.customers.refer(owner, "customer")?;
        }
        if let Some(properties) = &step.properties {
            valid(ItemProperties::parse_unbounded(properties))?;
        }
        self.item_steps.add(step.rowid, "item step")
    }

    fn hold(&mut self, h: &HoldDump) -> Result<(), InvalidRecord> {
        valid(HoldId::parse(&h.id))?;
        self.wallets.refer(h.source, "wallet")?;
        if let Some(destination) = h.destination {
            self.wallets.refer(destination, "wallet")?;
            if destination == h.source {
                return Err(invalid(format!("hold {}: its destination is its source", h.id)));
            }
        }
        self.transactions.refer(h.transaction, "transaction")?;
        let status = HoldStatus::parse(&h.status)
            .ok_or_else(|| invalid(format!("hold {}: unknown status {:?}", h.id, h.status)))?;
        let wallet_assets = std::iter::once(h.source)
            .chain(h.destination)
            .map(|w| self.wallet_holds.get(&w).map(|f| f.asset));
        for asset in wallet_assets {
            if asset != Some(h.asset) {
                return Err(invalid(format!(
                    "hold {}: of asset {}, but its wallets are of another",
                    h.id, h.asset
                )));
            }
        }
        let (amount, captured, remaining) = (
            i128::from(h.amount),
            i128::from(h.captured),
            i128::from(h.remaining),
        );
        let adds_up = amount > 0
            && captured >= 0
            && remaining >= 0
            && captured + remaining <= amount
            && match status {
                HoldStatus::Open => remaining > 0 && captured + remaining == amount,
                HoldStatus::Captured => remaining == 0 && captured == amount,
                HoldStatus::Voided | HoldStatus::Expired => remaining == 0,
            };
        if !adds_up {
            return Err(invalid(format!(
                "hold {}: an {} hold of {} with {} captured and {} remaining cannot be",
                h.id, h.status, h.amount, h.captured, h.remaining
            )));
        }
        if self.hold_ids.contains(&h.id) {
            return Err(invalid(format!("a second hold with id {}", h.id)));
        }
        self.holds.add(h.rowid, "hold")?;
        self.hold_ids.insert(h.id.clone());
        if status == HoldStatus::Open {
            if let Some(source) = self.wallet_holds.get_mut(&h.source) {
                source.open += remaining;
            }
            self.open_holds.insert(h.rowid, (h.source, 0));
            self.hold_remaining.insert(h.rowid, h.remaining);
        }
        Ok(())
    }

    fn lot(&mut self, lot: &LotDump) -> Result<(), InvalidRecord> {
        self.wallets.refer(lot.wallet, "wallet")?;
        self.transactions.refer(lot.transaction, "transaction")?;
        let status = LotStatus::parse(&lot.status)
            .ok_or_else(|| invalid(format!("lot {}: unknown status {:?}", lot.id, lot.status)))?;
        let adds_up = lot.amount > 0
            && 0 <= lot.earmarked
            && lot.earmarked <= lot.remaining
            && lot.remaining <= lot.amount
            && (status == LotStatus::Open) == (lot.remaining > 0);
        if !adds_up {
            return Err(invalid(format!(
                "lot {}: an {} lot of {} with {} remaining, {} earmarked cannot be",
                lot.id, lot.status, lot.amount, lot.remaining, lot.earmarked
            )));
        }
        if self.lots.contains_key(&lot.id) {
            return Err(invalid(format!("a second lot with id {}", lot.id)));
        }
        if let Some(wallet) = self.wallet_holds.get_mut(&lot.wallet) {
            wallet.lots += i128::from(lot.remaining);
        }
        self.lots.insert(
            lot.id,
            LotFacts {
                wallet: lot.wallet,
                remaining: lot.remaining,
                earmarked: lot.earmarked,
                replayed: (i128::from(lot.amount), 0),
                earmarks: 0,
            },
        );
        Ok(())
    }

    fn lot_step(&mut self, step: &LotStepDump) -> Result<(), InvalidRecord> {
        self.transactions.refer(step.transaction, "transaction")?;
        let kind = LotStepKind::parse(&step.kind)
            .ok_or_else(|| invalid(format!("lot step {}: unknown kind {:?}", step.rowid, step.kind)))?;
        if step.amount <= 0 {
            return Err(invalid(format!(
                "lot step {}: an amount of {}",
                step.rowid, step.amount
            )));
        }
        let lot = self
            .lots
            .get_mut(&step.lot)
            .ok_or_else(|| invalid(format!("lot step {}: no lot {}", step.rowid, step.lot)))?;
        let (remaining, earmarked) = kind.effect(step.amount);
        lot.replayed.0 += i128::from(remaining);
        lot.replayed.1 += i128::from(earmarked);
        self.lot_steps.add(step.rowid, "lot step")
    }

    fn earmark(&mut self, earmark: &EarmarkDump) -> Result<(), InvalidRecord> {
        let (source, taken) = self.open_holds.get_mut(&earmark.hold).ok_or_else(|| {
            invalid(format!(
                "an earmark of hold {}, which is not an Open hold",
                earmark.hold
            ))
        })?;
        let lot = self
            .lots
            .get_mut(&earmark.lot)
            .ok_or_else(|| invalid(format!("an earmark of lot {}, which is no lot", earmark.lot)))?;
        let remaining = self.hold_remaining.get(&earmark.hold).copied().unwrap_or(0);
        *taken += i128::from(earmark.amount);
        lot.earmarks += i128::from(earmark.amount);
        if earmark.amount <= 0 || lot.wallet != *source || *taken > i128::from(remaining) {
            return Err(invalid(format!(
                "an earmark of {} of lot {} for hold {}: not a part of the hold's source it can reserve",
                earmark.amount, earmark.lot, earmark.hold
            )));
        }
        Ok(())
    }
}

fn known<T>(parsed: Option<T>, what: &str, status: &str) -> Result<(), InvalidRecord> {
    parsed
        .map(drop)
        .ok_or_else(|| invalid(format!("{what}: unknown status {status:?}")))
}

impl AuthorityDump {
    /// The access key's digest as bytes, for an access-key authority.
    pub fn token_digest_bytes(&self) -> Result<Option<Vec<u8>>, InvalidRecord> {
        self.token_digest.as_deref().map(digest).transpose()
    }
}

impl CustomerKeyDump {
    /// The key's digest as bytes.
    pub fn token_digest_bytes(&self) -> Result<Vec<u8>, InvalidRecord> {
        digest(&self.token_digest)
    }
}

fn digest(text: &str) -> Result<Vec<u8>, InvalidRecord> {
    unhex(text).ok_or_else(|| invalid("tokenDigest is not hex"))
}

#[cfg(test)]
mod tests;
