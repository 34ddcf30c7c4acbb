//! Filling a fresh database with users, funded wallets and a history of
//! transfers, through the backend's bulk loader ([`BulkLoad`]).
//!
//! Rows look like what the ledger itself writes: each user (`u<i>`) has a
//! default wallet funded by one API v1 entry that carries an inventory item,
//! then random transfers of API v2 (one transaction row, two entries, the
//! operations as JSON) fill the rest; with `--lots N`, each wallet then gets
//! one transaction of N Issues with an expiry, forming N Open lots. Balances are tracked here, so every
//! entry's `balance_after`, every wallet's balance and the authority's running
//! totals come out exactly as the writer would have left them.

use crate::target::BulkLoad;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use wallet_core::ids::{AssetId, AuthorityRowId, WalletId};
use wallet_core::model::{EntryKind, TransactionStatus};
use wallet_core::port::{NewEntry, NewTransaction};

/// What every wallet is funded with: transfers of 1..=100 never run dry.
pub(crate) const FUNDING: i64 = 1_000_000;

/// Rows per bulk transaction.
const CHUNK: usize = 50_000;

pub(crate) struct Plan<'a> {
    pub project: &'a str,
    pub asset: AssetId,
    /// Row id of the authority that posts everything.
    pub authority: AuthorityRowId,
    pub wallets: usize,
    /// Entries in total, the funding entries included.
    pub entries: u64,
    /// Open lots per wallet, written after the transfers.
    pub lots: usize,
}

/// What each preloaded lot holds: far more than the run's transfers (1 to
/// 100 each) take, so every wallet keeps its lots open.
pub(crate) const LOT_AMOUNT: i64 = 10_000;

/// A preloaded lot's expiry: the `k`th of a wallet expires an hour after
/// the one before, from 30 days after `now` on (no run reaches one).
pub(crate) fn lot_expiry(now: i64, k: usize) -> i64 {
    const HOUR: i64 = 3_600_000;
    now + 30 * 24 * HOUR + HOUR * i64::try_from(k).unwrap_or(0)
}

/// The users' names: the wallet at index i belongs to `u<i>`.
pub(crate) const USER_PREFIX: &str = "u";

/// The preloaded wallets, in creation order.
pub(crate) struct Preloaded {
    pub wallets: Vec<WalletId>,
    pub entries: u64,
}

pub(crate) fn run(mut loader: impl BulkLoad, plan: &Plan<'_>) -> anyhow::Result<Preloaded> {
    let started = Instant::now();
    let transfers = plan.entries.saturating_sub(plan.wallets as u64) / 2;
    // Timestamps: one millisecond apart, ending now, so entry pages have a
    // realistic spread and nothing lies in the future.
    let span =
        i64::try_from(plan.wallets as u64 + transfers).map_err(|_| anyhow::anyhow!("too large a preload"))?;
    let mut clock = wallet_core::clock::system_now() - span;
    let mut wallets = Vec::with_capacity(plan.wallets);
    loader.chunk(|tx| tx.mark_asset_used(plan.asset))?;
    loader.progress().phase("wallets", Some(plan.wallets as u64));
    while wallets.len() < plan.wallets {
        let first = wallets.len();
        let last = (first + CHUNK).min(plan.wallets);
        let ids = loader.chunk(|tx| {
            let mut ids = Vec::with_capacity(last - first);
            for i in first..last {
                clock += 1;
                let user = format!("{USER_PREFIX}{i}");
                let wallet = tx.customer_wallet(plan.project, plan.asset, &user, clock)?;
                let operations =
                    format!(r#"[{{"type":"Issue","destination":"{wallet}","amount":{FUNDING}}}]"#);
                let transaction = tx.transaction(&NewTransaction {
                    project_id: plan.project,
                    reference_id: None,
                    authority: plan.authority,
                    status: TransactionStatus::Completed,
                    error: None,
                    description: Some("welcome bonus"),
                    operations: Some(&operations),
                    created_at: clock,
                })?;
                let entry = tx.entry(&NewEntry {
                    wallet,
                    transaction,
                    authority: plan.authority,
                    kind: EntryKind::Issue,
                    amount: FUNDING,
                    balance_after: FUNDING,
                    reason: Some("welcome bonus"),
                    created_at: clock,
                })?;
                tx.item(entry, "Starter pack", Some(r#"{"level":1}"#))?;
                ids.push(wallet);
            }
            Ok(ids)
        })?;
        wallets.extend(ids);
        loader.progress().done(wallets.len() as u64);
    }
    let mut balances = vec![FUNDING; wallets.len()];
    let mut rng = SmallRng::seed_from_u64(7);
    let (mut done, mut made) = (0u64, 0u64);
    if transfers > 0 && wallets.len() >= 2 {
        loader.progress().phase("transfers", Some(transfers));
    }
    while done < transfers && wallets.len() >= 2 {
        let batch = (transfers - done).min(CHUNK as u64);
        made += loader.chunk(|tx| {
            let mut made = 0;
            for n in done..done + batch {
                let source = rng.random_range(0..wallets.len());
                let destination = (source + rng.random_range(1..wallets.len())) % wallets.len();
                let amount = rng.random_range(1..=100);
                if balances[source] < amount {
                    continue;
                }
                made += 1;
                let (from, to) = (wallets[source], wallets[destination]);
                clock += 1;
                let reference = format!("pl-{n}");
                let operations = format!(
                    r#"[{{"type":"Transfer","source":"{from}","destination":"{to}","amount":{amount}}}]"#
                );
                let transaction = tx.transaction(&NewTransaction {
                    project_id: plan.project,
                    reference_id: Some(&reference),
                    authority: plan.authority,
                    status: TransactionStatus::Completed,
                    error: None,
                    description: None,
                    operations: Some(&operations),
                    created_at: clock,
                })?;
                balances[source] -= amount;
                balances[destination] += amount;
                for (wallet, amount, balance_after) in [
                    (from, -amount, balances[source]),
                    (to, amount, balances[destination]),
                ] {
                    tx.entry(&NewEntry {
                        wallet,
                        transaction,
                        authority: plan.authority,
                        kind: EntryKind::Transfer,
                        amount,
                        balance_after,
                        reason: None,
                        created_at: clock,
                    })?;
                }
            }
            Ok(made)
        })?;
        done += batch;
        loader.progress().done(done);
    }
    // Wallets per chunk, so a chunk writes about CHUNK lots (none: no lots).
    if let Some(per_chunk) = CHUNK.checked_div(plan.lots).map(|n| n.max(1)) {
        let now = wallet_core::clock::system_now();
        loader
            .progress()
            .phase("lots", Some((wallets.len() * plan.lots) as u64));
        for (n, chunk) in wallets.chunks(per_chunk).enumerate() {
            let first = n * per_chunk;
            loader.chunk(|tx| {
                for (i, &wallet) in chunk.iter().enumerate() {
                    let balance = &mut balances[first + i];
                    clock += 1;
                    let operations: Vec<String> = (0..plan.lots)
                        .map(|k| {
                            format!(
                                r#"{{"type":"Issue","destination":"{wallet}","amount":{LOT_AMOUNT},"expiresAt":{}}}"#,
                                lot_expiry(now, k)
                            )
                        })
                        .collect();
                    let operations = format!("[{}]", operations.join(","));
                    let transaction = tx.transaction(&NewTransaction {
                        project_id: plan.project,
                        reference_id: None,
                        authority: plan.authority,
                        status: TransactionStatus::Completed,
                        error: None,
                        description: Some("season credit"),
                        operations: Some(&operations),
                        created_at: clock,
                    })?;
                    for k in 0..plan.lots {
                        *balance += LOT_AMOUNT;
                        tx.lot(
                            &NewEntry {
                                wallet,
                                transaction,
                                authority: plan.authority,
                                kind: EntryKind::Issue,
                                amount: LOT_AMOUNT,
                                balance_after: *balance,
                                reason: Some("season credit"),
                                created_at: clock,
                            },
                            lot_expiry(now, k),
                        )?;
                    }
                }
                Ok(())
            })?;
            loader.progress().done(((first + chunk.len()) * plan.lots) as u64);
        }
    }
    let pairs: Vec<(WalletId, i64)> = wallets.iter().copied().zip(balances.iter().copied()).collect();
    for chunk in pairs.chunks(CHUNK) {
        loader.chunk(|tx| {
            for &(wallet, balance) in chunk {
                tx.set_balance(wallet, plan.authority, balance)?;
            }
            Ok(())
        })?;
    }
    loader.finish()?;
    let entries = wallets.len() as u64 * (1 + plan.lots as u64) + 2 * made;
    eprintln!(
        "preload: {} wallets, {entries} entries in {:.1} s",
        wallets.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Preloaded { wallets, entries })
}
