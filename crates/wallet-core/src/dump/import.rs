//! The backend-neutral half of an import: is each record of an export file
//! valid on its own, and does it refer only to earlier rows of the same
//! project? Every backend's `Import` asks [`ImportCheck`] before it writes a
//! row, so both backends refuse exactly the same files, with the same words.
//!
//! What needs the whole result (balances equal their entries, transfers
//! cancel out, running totals) is the backend's `check` after the last row:
//! this only looks at one record and the ids seen before it.

use super::{
    unhex, AssetDump, AuthorityDump, CustomerDump, CustomerKeyDump, DumpRecord, EntryDump, ItemDump,
    ProjectDump, TransactionDump, WalletDump,
};
use crate::model::{CustomerStatus, EntryKind, TransactionStatus, WalletStatus};
use crate::text::{AssetCode, CustomerId, ProjectId, PublicId, ReferenceId};
use std::collections::HashSet;

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
    /// Entries that carry an item (an entry has at most one).
    items: Ids,
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
            DumpRecord::Item(i) => self.item(i),
        }
    }

    /// After the last record: what the project row refers to was imported.
    pub fn finish(&self) -> Result<(), InvalidRecord> {
        self.assets.refer(self.default_asset, "default asset")
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
        if a.public_key_pem.is_some() == digest.is_some() {
            return Err(invalid(format!(
                "authority {}: exactly one of publicKeyPem and tokenDigest must be set",
                a.id
            )));
        }
        self.authorities.add(a.rowid, "authority")
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
        if w.balance < 0 {
            return Err(invalid(format!(
                "wallet {}: a balance of {} cannot be",
                w.id, w.balance
            )));
        }
        self.wallets.add(w.id, "wallet")
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
            EntryKind::Redeem => e.amount < 0,
            EntryKind::Transfer | EntryKind::Capture => e.amount != 0,
        };
        if !sign_ok {
            return Err(invalid(format!(
                "entry {}: a {} of {} cannot be",
                e.id, e.kind, e.amount
            )));
        }
        if e.balance_after < 0 {
            return Err(invalid(format!(
                "entry {}: a balance after of {} cannot be",
                e.id, e.balance_after
            )));
        }
        self.entries.add(e.id, "entry")
    }

    fn item(&mut self, i: &ItemDump) -> Result<(), InvalidRecord> {
        self.entries.refer(i.entry, "entry")?;
        self.items.add(i.entry, "item of entry")
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
