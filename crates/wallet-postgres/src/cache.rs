//! The group's cache of locked rows: wallets' balances and held values
//! moved in memory and written once per group, and the rows the credential
//! re-check read.
//!
//! Within one group transaction a wallet stays locked from its first
//! `lock_wallets` to the COMMIT, so nothing but this transaction can change
//! it: its balance and held value can be kept here and moved by `debit`,
//! `credit` and `adjust_held` without a round trip each, and written once
//! before the COMMIT (one
//! `UPDATE ... FROM unnest(...)` for every dirty wallet, one upsert for
//! every running total). A fee wallet credited by every job of a group
//! then costs no statement per job, and neither does any other wallet's
//! balance or total: a two-transfer job with a fee goes from 16 round trips
//! to 9. Measured with `examples/writer_bench.rs` (release, 64 clients, this
//! repository's 2-core CI size): with a hot fee wallet 280-330 → 520-550
//! jobs/s on one writer and 220-260 → 365-420 on four; without one
//! 490-500 → 600-670 and 376-521 → 594-657.
//!
//! The cached moves keep the statements' guards exactly (`wallets::debit`,
//! `credit`, `adjust_held`): a debit needs `balance - held + credit_limit`,
//! a credit keeps `balance + credit_limit` within i64, a held value stays
//! in `0..=balance + credit_limit`, computed in i128. The credit limit is
//! the row's, as read under the lock: `set_credit_limit` is a statement,
//! and like every statement that changes a wallet it flushes the cache
//! first, so the wallet is read again, with its new limit, when it is next
//! locked.
//!
//! Every other statement sees the database as the cache would leave it:
//! `PgTx` flushes the cache (writes what is dirty, forgets every row, which
//! stays locked) before any statement that is not one of the few that
//! cannot read or change a balance. A job's changes to the cache are
//! journaled; a job rolled back to its savepoint (discarded, retried, or
//! failed) has them undone, so the cache always matches what the
//! transaction keeps.
//!
//! Lots are not kept here. A job that takes a wallet from the cache does
//! not lock it again, but the lock is the transaction's (an earlier job of
//! the group took it; had that job been rolled back, the wallet would have
//! left the cache with its lock), so `lots_of`, a statement of this
//! transaction run after it, sees every lot as the group's earlier jobs
//! and every committed writer left it (see `statements::lots`).
//!
//! The re-check at the start of every write (`wallet_core`'s `recheck`)
//! reads the maintenance setting and the caller's authority `FOR SHARE`,
//! two round trips per job. Their share locks are the group's until the
//! COMMIT (a savepoint that is released hands its locks to the
//! transaction), so no other transaction can change those rows meanwhile:
//! the group's later jobs are answered from here. Only rows that exist are
//! kept (nothing locks a row that is not there: an absent one is read
//! again); a job rolled back to its savepoint takes the rows it read with
//! it (its locks went with the savepoint); and the group's own writes of
//! a setting or an authority forget what is kept, so the next read sees
//! them. A revocation by another process still waits for the group's
//! COMMIT, as it waits for one job's today: nothing by a revoked
//! credential commits after the revocation does.

use crate::conn::PgConn;
use crate::error::DbResult;
use std::collections::HashMap;
use wallet_core::events::Draft;
use wallet_core::ids::{AuthorityRowId, WalletId};
use wallet_core::model::{Authority, Millis, Wallet, WalletStatus};
use wallet_core::StoreError;

/// A locked wallet as this transaction has it; `dirty` if its balance or
/// held value here is newer than the row's.
#[derive(Debug, Clone)]
struct Locked {
    wallet: Wallet,
    dirty: bool,
}

type TotalKey = (WalletId, AuthorityRowId);

/// Events a job staged, appended when the group's last job has run.
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub project: String,
    pub created_at: Millis,
    pub drafts: Vec<Draft>,
}

/// One group transaction's locked wallets and pending running totals.
#[derive(Debug, Default)]
pub(crate) struct GroupCache {
    /// Events the group's kept jobs staged, in job order, and how many of
    /// them were there before the running job (its own are after).
    staged: Vec<Staged>,
    staged_before_job: usize,
    wallets: HashMap<WalletId, Locked>,
    /// Deltas to add to running totals, not yet written.
    totals: HashMap<TotalKey, i128>,
    /// What the running job changed: each entry's value before its first
    /// change (`None`: it was not there).
    wallet_journal: HashMap<WalletId, Option<Locked>>,
    total_journal: HashMap<TotalKey, Option<i128>>,
    /// Settings read `FOR SHARE` in this group, as read (or written) here.
    settings: HashMap<String, String>,
    /// Authorities read `FOR SHARE` in this group.
    authorities: HashMap<AuthorityRowId, Authority>,
    /// What the running job added to `settings` and `authorities`.
    shared_journal: Vec<SharedKey>,
}

/// A row the re-check read and the cache keeps.
#[derive(Debug)]
enum SharedKey {
    Setting(String),
    Authority(AuthorityRowId),
}

impl GroupCache {
    fn remember_wallet(&mut self, id: WalletId) {
        if !self.wallet_journal.contains_key(&id) {
            self.wallet_journal.insert(id, self.wallets.get(&id).cloned());
        }
    }

    fn remember_total(&mut self, key: TotalKey) {
        if !self.total_journal.contains_key(&key) {
            self.total_journal.insert(key, self.totals.get(&key).copied());
        }
    }

    /// The running job's changes stay (its savepoint was released).
    pub(crate) fn keep_job(&mut self) {
        self.staged_before_job = self.staged.len();
        self.wallet_journal.clear();
        self.total_journal.clear();
        self.shared_journal.clear();
    }

    /// The running job's changes go (its savepoint was rolled back).
    pub(crate) fn undo_job(&mut self) {
        self.staged.truncate(self.staged_before_job);
        for (id, before) in self.wallet_journal.drain() {
            match before {
                Some(locked) => self.wallets.insert(id, locked),
                None => self.wallets.remove(&id),
            };
        }
        for (key, before) in self.total_journal.drain() {
            match before {
                Some(delta) => self.totals.insert(key, delta),
                None => self.totals.remove(&key),
            };
        }
        for key in self.shared_journal.drain(..) {
            match key {
                SharedKey::Setting(key) => {
                    self.settings.remove(&key);
                }
                SharedKey::Authority(rowid) => {
                    self.authorities.remove(&rowid);
                }
            }
        }
    }

    /// A setting this group read `FOR SHARE`, if it is kept.
    pub(crate) fn shared_setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    /// A setting just read `FOR SHARE` (it exists: it is locked now).
    pub(crate) fn share_setting(&mut self, key: &str, value: &str) {
        if self.settings.insert(key.to_owned(), value.to_owned()).is_none() {
            self.shared_journal.push(SharedKey::Setting(key.to_owned()));
        }
    }

    /// The group writes `key`: read it again next time.
    pub(crate) fn forget_setting(&mut self, key: &str) {
        self.settings.remove(key);
    }

    /// An authority this group read `FOR SHARE`, if it is kept.
    pub(crate) fn shared_authority(&self, rowid: AuthorityRowId) -> Option<&Authority> {
        self.authorities.get(&rowid)
    }

    /// An authority just read `FOR SHARE` (it exists: it is locked now).
    pub(crate) fn share_authority(&mut self, authority: &Authority) {
        if self
            .authorities
            .insert(authority.rowid, authority.clone())
            .is_none()
        {
            self.shared_journal.push(SharedKey::Authority(authority.rowid));
        }
    }

    /// The group writes an authority: read them again next time.
    pub(crate) fn forget_authorities(&mut self) {
        self.authorities.clear();
    }

    /// The locked wallet `id` of `project`, if cached.
    pub(crate) fn wallet(&self, project: &str, id: WalletId) -> Option<&Wallet> {
        self.wallets
            .get(&id)
            .map(|l| &l.wallet)
            .filter(|w| w.project_id == project)
    }

    /// A wallet just locked (read from its row, under the lock).
    pub(crate) fn locked(&mut self, wallet: Wallet) {
        self.remember_wallet(wallet.id);
        self.wallets.insert(wallet.id, Locked { wallet, dirty: false });
    }

    /// `debit` on a cached wallet, with the statement's guard (`available
    /// >= amount`); `None` if the wallet is not cached.
    pub(crate) fn debit(&mut self, id: WalletId, amount: i64) -> Option<Result<i64, StoreError>> {
        let w = &self.wallets.get(&id)?.wallet;
        let available = i128::from(w.balance) - i128::from(w.held) + i128::from(w.credit_limit);
        if w.status != WalletStatus::Open || available < i128::from(amount) {
            return Some(Err(StoreError::Retryable(format!(
                "wallet {id} is not Open or has less available than planned"
            ))));
        }
        let after = i128::from(w.balance) - i128::from(amount);
        Some(self.set(id, after, |w| &mut w.balance))
    }

    /// `credit` on a cached wallet, with the statement's guard (`balance +
    /// credit_limit` stays within i64).
    pub(crate) fn credit(&mut self, id: WalletId, amount: i64) -> Option<Result<i64, StoreError>> {
        let w = &self.wallets.get(&id)?.wallet;
        let after = i128::from(w.balance) + i128::from(amount);
        if w.status != WalletStatus::Open || after + i128::from(w.credit_limit) > i128::from(i64::MAX) {
            return Some(Err(StoreError::Retryable(format!(
                "wallet {id} is not Open or its balance would pass the largest amount"
            ))));
        }
        Some(self.set(id, after, |w| &mut w.balance))
    }

    /// `adjust_held` on a cached wallet, with the statement's guard (`0 <=
    /// held <= balance + credit_limit` after), any status.
    pub(crate) fn adjust_held(&mut self, id: WalletId, amount: i64) -> Option<Result<i64, StoreError>> {
        let w = &self.wallets.get(&id)?.wallet;
        let after = i128::from(w.held) + i128::from(amount);
        if after < 0 || after > i128::from(w.balance) + i128::from(w.credit_limit) {
            return Some(Err(StoreError::Retryable(format!(
                "wallet {id} holds other reservations or funds than planned"
            ))));
        }
        Some(self.set(id, after, |w| &mut w.held))
    }

    /// Sets one number of a cached wallet (its balance or its held value),
    /// journaled, and marks the wallet dirty.
    fn set(
        &mut self,
        id: WalletId,
        value: i128,
        field: fn(&mut Wallet) -> &mut i64,
    ) -> Result<i64, StoreError> {
        let value = i64::try_from(value)
            .map_err(|_| StoreError::Internal(format!("wallet {id}: a value out of range")))?;
        self.remember_wallet(id);
        if let Some(locked) = self.wallets.get_mut(&id) {
            *field(&mut locked.wallet) = value;
            locked.dirty = true;
        }
        Ok(value)
    }

    /// Adds to a running total, written at the next flush.
    pub(crate) fn add_total(&mut self, wallet: WalletId, authority: AuthorityRowId, delta: i64) {
        let key = (wallet, authority);
        self.remember_total(key);
        *self.totals.entry(key).or_default() += i128::from(delta);
    }

    /// Writes every dirty balance and pending total, and forgets every
    /// cached row (they stay locked): what follows reads the rows.
    pub(crate) fn flush(&mut self, conn: &mut PgConn) -> DbResult<()> {
        let dirty = self.wallets.values().filter(|l| l.dirty);
        let (mut ids, mut balances, mut held) = (Vec::new(), Vec::new(), Vec::new());
        for locked in dirty {
            ids.push(locked.wallet.id.get());
            balances.push(locked.wallet.balance);
            held.push(locked.wallet.held);
        }
        if !ids.is_empty() {
            // Both numbers in one statement: the schema's CHECKs (balance and
            // held against the credit limit) see the row as the cache has it.
            conn.execute(
                "UPDATE wallets AS w SET balance = v.balance, held = v.held
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, balance, held)
                 WHERE w.id = v.id",
                &[&ids, &balances, &held],
            )?;
        }
        if !self.totals.is_empty() {
            let mut wallets = Vec::with_capacity(self.totals.len());
            let mut authorities = Vec::with_capacity(self.totals.len());
            let mut deltas = Vec::with_capacity(self.totals.len());
            for ((wallet, authority), delta) in &self.totals {
                wallets.push(wallet.get());
                authorities.push(authority.get());
                deltas.push(delta.to_string());
            }
            conn.execute(
                "INSERT INTO authority_totals (wallet_id, authority_id, total)
                 SELECT v.wallet_id, v.authority_id, v.delta::numeric
                 FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(wallet_id, authority_id, delta)
                 ON CONFLICT (wallet_id, authority_id)
                 DO UPDATE SET total = authority_totals.total + excluded.total",
                &[&wallets, &authorities, &deltas],
            )?;
        }
        let ids: Vec<WalletId> = self.wallets.keys().copied().collect();
        for id in ids {
            self.remember_wallet(id);
        }
        let keys: Vec<TotalKey> = self.totals.keys().copied().collect();
        for key in keys {
            self.remember_total(key);
        }
        self.wallets.clear();
        self.totals.clear();
        Ok(())
    }

    /// Whether anything waits to be written.
    /// Keeps a job's events until the group's last job has run
    /// (`WriteTx::stage_events`).
    pub(crate) fn stage(&mut self, staged: Staged) {
        self.staged.push(staged);
    }

    /// The events the group's kept jobs staged, in job order.
    pub(crate) fn take_staged(&mut self) -> Vec<Staged> {
        self.staged_before_job = 0;
        std::mem::take(&mut self.staged)
    }

    pub(crate) fn is_clean(&self) -> bool {
        self.totals.is_empty() && self.wallets.values().all(|l| !l.dirty)
    }
}
