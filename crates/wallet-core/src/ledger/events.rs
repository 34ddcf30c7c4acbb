//! The outbox and what reads it: every write job that changes something
//! records its events in an [`Outbox`], which is flushed at the end of the
//! job, in its transaction ([`Ledger::write_events`]); the feed, the
//! stream, webhooks, `verify` and `events prune` read or trim what it wrote.

use super::access::authorize;
use super::Ledger;
use crate::events::{
    self, Anchor, Delivery, DeliveryStatus, Draft, Event, EventHead, EventPage, EventQuery, EventType,
    Mismatch, NewWebhook, ProjectVerification, Run, Webhook, WebhookHealth, WebhookPage, WebhookProgress,
};
use crate::ids::{CustomerRowId, TransactionId, WalletId};
use crate::model::{Millis, Page, PageRequest};
use crate::policy::{Action, Caller};
use crate::port::{ReadTx, WriteTx};
use crate::text::PublicId;
use crate::{wire, LedgerError, Missing, StoreError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The events a write job records, in the order it records them.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    drafts: Vec<Draft>,
}

impl Outbox {
    /// Records an event of `kind` with `data` (one of the API's objects),
    /// touching `customers`.
    pub(crate) fn push(
        &mut self,
        kind: EventType,
        data: &impl serde::Serialize,
        customers: impl IntoIterator<Item = CustomerRowId>,
    ) -> Result<(), StoreError> {
        let draft = Draft::new(kind, data, customers.into_iter().collect())
            .map_err(|e| StoreError::Internal(format!("event {kind}: {e}")))?;
        self.drafts.push(draft);
        Ok(())
    }

    /// Hands what was recorded to the backend, dated `now`, to append in
    /// this transaction ([`WriteTx::stage_events`]); returns whether there
    /// was anything.
    fn flush(self, tx: &mut dyn WriteTx, project: &str, now: Millis) -> Result<bool, StoreError> {
        if self.drafts.is_empty() {
            return Ok(false);
        }
        tx.stage_events(project, now, &self.drafts)?;
        Ok(true)
    }
}

/// How many events one `events prune` write drops at most.
const PRUNE_CHUNK: u32 = 10_000;

/// How many events `verify` reads at a time.
const VERIFY_PAGE: u32 = 1_000;

/// Signs an anchor's text with the server's key (hex HMAC-SHA256).
pub type AnchorSigner = Arc<dyn Fn(&str) -> String + Send + Sync>;

impl Ledger {
    /// Runs `work` in a write transaction of `project` with an outbox, and
    /// appends the events it recorded in the same transaction: no event
    /// without its change, no change without its event. Rings the events
    /// bell once the commit is durable.
    pub(super) async fn write_events<T, F>(&self, project: String, mut work: F) -> Result<T, LedgerError>
    where
        F: FnMut(&mut dyn WriteTx, &mut Outbox) -> Result<T, LedgerError> + Send + 'static,
        T: Send + 'static,
    {
        let clock = self.clock.clone();
        let recorded = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&recorded);
        let result = self
            .store
            .write(move |tx| {
                let mut outbox = Outbox::default();
                let value = work(tx, &mut outbox)?;
                let any = outbox.flush(tx, &project, clock.now())?;
                flag.store(any, Ordering::Relaxed);
                Ok(value)
            })
            .await;
        if result.is_ok() && recorded.load(Ordering::Relaxed) {
            self.store.bell().ring();
        }
        result
    }

    /// The bell rung when events commit (here, or in another process when
    /// the backend watches for them): feed waits and streams wait on it.
    pub fn event_bell(&self) -> crate::Bell {
        self.store.bell().clone()
    }

    /// Has the backend ring the bell for other processes' events
    /// (PostgreSQL's LISTEN/NOTIFY); call once at start.
    pub fn watch_events(&self) -> Result<(), LedgerError> {
        Ok(self.store.watch_events()?)
    }

    /// A page of the project's feed (`GET /events`): events after
    /// `query.after`, oldest first. An access key's (or the operator's)
    /// only; `next` is the last `seq` returned, or `query.after` when none.
    pub async fn events(&self, caller: &Caller, query: EventQuery) -> Result<EventPage, LedgerError> {
        authorize(caller, Action::ReadEvents)?;
        check_query(&query)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                let events = r.events(&project, &query)?;
                let next = events.last().map_or(query.after, |e| e.seq);
                Ok(EventPage { events, next })
            })
            .await
    }

    /// A page of what a caller's stream carries (`GET /events/stream`): for
    /// an access key the feed; for a customer key only the events that reach
    /// its customer ([`Event::reaches`]), with `next` the last `seq` looked
    /// at (so a stream moves past what it may not see).
    pub async fn stream_events(&self, caller: &Caller, query: EventQuery) -> Result<EventPage, LedgerError> {
        authorize(caller, Action::StreamEvents)?;
        check_query(&query)?;
        let project = caller.project_id().to_owned();
        let customer = caller.customer();
        self.store
            .read(move |r| {
                let events = r.events(&project, &query)?;
                let next = events.last().map_or(query.after, |e| e.seq);
                let events = match customer {
                    None => events,
                    Some(c) => events.into_iter().filter(|e| e.reaches(c)).collect(),
                };
                Ok(EventPage { events, next })
            })
            .await
    }

    /// The `seq` of the project's last event (0 before the first): where a
    /// stream without `after` starts.
    pub async fn event_head(&self, caller: &Caller) -> Result<i64, LedgerError> {
        authorize(caller, Action::StreamEvents)?;
        let project = caller.project_id().to_owned();
        self.store.read(move |r| Ok(r.event_head(&project)?.seq)).await
    }

    // ---- webhooks ----

    /// Registers an endpoint; it receives the events committed after it.
    /// `url` was checked by the caller (scheme, address).
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        url: String,
        types: Option<Vec<EventType>>,
        description: Option<crate::text::Text>,
    ) -> Result<Webhook, LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        let id = PublicId::random("wh_");
        let salt = crate::text::random_base32(32);
        self.store
            .write(move |tx| {
                let now = clock.now();
                super::access::recheck(tx, &caller, now)?;
                let project = caller.project_id();
                // Events that commit between this read and the commit are
                // delivered to it too: at least once, never fewer.
                let head = tx.event_head(project)?;
                let webhook = NewWebhook {
                    id: id.clone(),
                    project_id: project.to_owned(),
                    url: url.clone(),
                    types: types.clone(),
                    description: description.as_ref().map(|d| d.as_str().to_owned()),
                    salt: salt.clone(),
                    created_at: now,
                };
                let progress = WebhookProgress::at(head.seq, now);
                tx.insert_webhook(&webhook, &progress)?;
                tx.webhook(project, &id)?
                    .ok_or_else(|| StoreError::Internal(format!("webhook {id} was just written")).into())
            })
            .await
    }

    pub async fn webhooks(&self, caller: &Caller) -> Result<Vec<Webhook>, LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let project = caller.project_id().to_owned();
        self.store.read(move |r| Ok(r.webhooks(&project)?)).await
    }

    pub async fn webhook(&self, caller: &Caller, id: PublicId) -> Result<Webhook, LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                r.webhook(&project, &id)?
                    .ok_or(LedgerError::NotFound(Missing::Webhook))
            })
            .await
    }

    /// What an endpoint's deliveries say of it (the admin page's health).
    pub async fn webhook_health(&self, caller: &Caller, id: PublicId) -> Result<WebhookHealth, LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                r.webhook(&project, &id)?
                    .ok_or(LedgerError::NotFound(Missing::Webhook))?;
                Ok(r.webhook_health(&id)?)
            })
            .await
    }

    pub async fn delete_webhook(&self, caller: &Caller, id: PublicId) -> Result<(), LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                super::access::recheck(tx, &caller, clock.now())?;
                if tx.delete_webhook(caller.project_id(), &id)? {
                    Ok(())
                } else {
                    Err(LedgerError::NotFound(Missing::Webhook))
                }
            })
            .await
    }

    /// An endpoint's attempts, newest first, of one status or all. The
    /// first page starts with the attempt due next, as `Pending`, when an
    /// event waits for it (it is not stored: the queue's state is).
    pub async fn deliveries(
        &self,
        caller: &Caller,
        id: PublicId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        let project = caller.project_id().to_owned();
        self.store
            .read(move |r| {
                let webhook = r
                    .webhook(&project, &id)?
                    .ok_or(LedgerError::NotFound(Missing::Webhook))?;
                let pending = match status {
                    None | Some(DeliveryStatus::Pending) => pending_delivery(r, &webhook)?,
                    Some(_) => None,
                };
                let mut stored = match status {
                    Some(DeliveryStatus::Pending) => Page {
                        items: Vec::new(),
                        total: 0,
                    },
                    _ => r.deliveries(&id, status, page)?,
                };
                if let Some(pending) = pending {
                    stored.total += 1;
                    if page.page == 0 {
                        stored.items.insert(0, pending);
                        stored
                            .items
                            .truncate(usize::try_from(page.size).unwrap_or(usize::MAX));
                    }
                }
                Ok(stored)
            })
            .await
    }

    /// Sends every matching event after `after` again (the endpoint's queue
    /// moves back to it; never forward).
    pub async fn replay_webhook(&self, caller: &Caller, id: PublicId, after: i64) -> Result<(), LedgerError> {
        authorize(caller, Action::ManageWebhooks)?;
        if after < 0 {
            return Err(LedgerError::Invalid("after must be 0 or more".to_owned()));
        }
        let (caller, clock) = (caller.clone(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                super::access::recheck(tx, &caller, now)?;
                if tx.replay_webhook(caller.project_id(), &id, after, now)? {
                    Ok(())
                } else {
                    Err(LedgerError::NotFound(Missing::Webhook))
                }
            })
            .await
    }

    // ---- the delivery worker's side (the server's own, no caller) ----

    /// Endpoints of every project whose next attempt is due.
    pub async fn due_webhooks(&self, limit: u32) -> Result<Vec<Webhook>, LedgerError> {
        let now = self.now();
        self.store.read(move |r| Ok(r.due_webhooks(now, limit)?)).await
    }

    /// The next event an endpoint's queue holds (the first matching one
    /// after its cursor), if any.
    pub async fn next_webhook_event(&self, webhook: &Webhook) -> Result<Option<Event>, LedgerError> {
        let webhook = webhook.clone();
        self.store.read(move |r| Ok(next_event(r, &webhook)?)).await
    }

    /// An endpoint as it stands now, of any project (the worker reads it
    /// again once it holds the endpoint's lease: another process may have
    /// moved its queue since `due_webhooks`).
    pub async fn webhook_state(&self, project: &str, id: &PublicId) -> Result<Option<Webhook>, LedgerError> {
        let (project, id) = (project.to_owned(), id.clone());
        self.store.read(move |r| Ok(r.webhook(&project, &id)?)).await
    }

    /// Takes an endpoint's queue for `owner` for `lease_ms`.
    pub async fn lease_webhook(
        &self,
        id: &PublicId,
        owner: &str,
        lease_ms: Millis,
    ) -> Result<bool, LedgerError> {
        let (id, owner, clock) = (id.clone(), owner.to_owned(), self.clock.clone());
        self.store
            .write(move |tx| {
                let now = clock.now();
                Ok(tx.lease_webhook(&id, &owner, now, now.saturating_add(lease_ms))?)
            })
            .await
    }

    /// Records an attempt and the queue's state after it ([`events::settle`]);
    /// `false` when a replay or another owner moved the queue meanwhile
    /// (nothing is recorded). The lease is left as it is.
    pub async fn record_delivery(
        &self,
        owner: &str,
        expected_cursor: i64,
        settled: events::Settled,
    ) -> Result<bool, LedgerError> {
        let owner = owner.to_owned();
        let run = Run::single(expected_cursor, settled);
        self.store
            .write(move |tx| Ok(tx.record_run(&owner, &run, None)?))
            .await
    }

    /// Whether an endpoint has work: an event it takes after its cursor,
    /// or at least `pass_over` events it does not take (a run then moves
    /// its cursor past them, so the next look starts after them).
    pub async fn webhook_has_work(&self, webhook: &Webhook, pass_over: i64) -> Result<bool, LedgerError> {
        let webhook = webhook.clone();
        self.store
            .read(move |r| {
                let head = r.event_head(&webhook.project_id)?.seq;
                if head.saturating_sub(webhook.progress.cursor) >= pass_over {
                    return Ok(head > webhook.progress.cursor);
                }
                Ok(next_event(r, &webhook)?.is_some())
            })
            .await
    }

    /// The next `limit` events an endpoint takes after its cursor, with the
    /// head read before them ([`WebhookPage`]): one read for a run.
    pub async fn webhook_page(&self, webhook: &Webhook, limit: u32) -> Result<WebhookPage, LedgerError> {
        let webhook = webhook.clone();
        self.store
            .read(move |r| {
                // The head first: every event up to it is committed, so
                // visible to the read of the events after it.
                let head = r.event_head(&webhook.project_id)?.seq;
                let query = EventQuery {
                    after: webhook.progress.cursor,
                    limit,
                    types: webhook.types.clone().unwrap_or_default(),
                };
                let events = r.events(&webhook.project_id, &query)?;
                let full = events.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
                Ok(WebhookPage { head, events, full })
            })
            .await
    }

    /// Records a run of attempts and the queue after it in one write
    /// ([`Run`]), renewing `owner`'s lease for `lease_ms`; `false` when a
    /// replay or another owner moved the queue meanwhile (nothing is
    /// recorded).
    pub async fn record_run(&self, owner: &str, run: Run, lease_ms: Millis) -> Result<bool, LedgerError> {
        let (owner, clock) = (owner.to_owned(), self.clock.clone());
        self.store
            .write(move |tx| {
                let until = clock.now().saturating_add(lease_ms);
                Ok(tx.record_run(&owner, &run, Some(until))?)
            })
            .await
    }

    // ---- audit ----

    /// Recomputes every chain (or one project's) and the ledger from it:
    /// `seq` 1, 2, 3, … from the anchor with no gap, each `hash` from the
    /// one before; every `transaction.*` event's data is the transaction as
    /// stored; every `wallet.balance_changed` agrees with the entries its
    /// transaction wrote in that wallet (their last `balanceAfter`, and
    /// their sum against the wallet's previous event), and each wallet's last
    /// event with its balance and held value now. Each project is read on
    /// one snapshot, so it is safe while the server runs. With `signer`, a
    /// pruned project's anchor must carry its signature.
    pub async fn verify(
        &self,
        project: Option<String>,
        signer: Option<AnchorSigner>,
    ) -> Result<Vec<ProjectVerification>, LedgerError> {
        let projects = match project {
            Some(p) => {
                let known = self
                    .store
                    .read({
                        let p = p.clone();
                        move |r| Ok::<_, LedgerError>(r.project(&p)?.is_some())
                    })
                    .await?;
                if !known {
                    return Err(LedgerError::NotFound(Missing::Project));
                }
                vec![p]
            }
            None => self.projects().await?.into_iter().map(|p| p.id).collect(),
        };
        let mut reports = Vec::with_capacity(projects.len());
        for project in projects {
            let signer = signer.clone();
            let report = self
                .store
                .read(move |r| verify_project(r, &project, signer.as_ref()))
                .await?;
            reports.push(report);
        }
        Ok(reports)
    }

    /// Drops a project's events created before `before` (all of them older
    /// than it, from the oldest on), keeping a signed anchor (the last
    /// dropped `seq` and `hash`) so the chain still verifies. Returns how
    /// many were dropped. Runs in writes of at most 10,000 events.
    pub async fn prune_events(
        &self,
        project: String,
        before: Millis,
        signer: AnchorSigner,
    ) -> Result<u64, LedgerError> {
        let mut dropped = 0;
        loop {
            let (project, signer, clock) = (project.clone(), signer.clone(), self.clock.clone());
            let n = self
                .store
                .write(move |tx| {
                    let anchor = tx.event_anchor(&project)?;
                    let after = anchor.as_ref().map_or(0, |a| a.seq);
                    let events = tx.events(
                        &project,
                        &EventQuery {
                            after,
                            limit: PRUNE_CHUNK,
                            types: Vec::new(),
                        },
                    )?;
                    let Some(last) = events.iter().take_while(|e| e.created_at < before).last() else {
                        return Ok::<_, LedgerError>(0);
                    };
                    let text = Anchor::signed_text(&project, last.seq, &last.hash);
                    let anchor = Anchor {
                        seq: last.seq,
                        hash: last.hash.clone(),
                        pruned_at: clock.now(),
                        signature: signer(&text),
                    };
                    Ok(tx.prune_events(&project, &anchor)?)
                })
                .await?;
            if n == 0 {
                return Ok(dropped);
            }
            dropped += n;
        }
    }
}

fn check_query(query: &EventQuery) -> Result<(), LedgerError> {
    if !(1..=EventQuery::MAX_LIMIT).contains(&query.limit) {
        return Err(LedgerError::Invalid("limit must be from 1 to 1000".to_owned()));
    }
    if query.after < 0 {
        return Err(LedgerError::Invalid("after must be 0 or more".to_owned()));
    }
    Ok(())
}

/// The first event after an endpoint's cursor that it wants.
fn next_event(r: &mut dyn ReadTx, webhook: &Webhook) -> Result<Option<Event>, StoreError> {
    let query = EventQuery {
        after: webhook.progress.cursor,
        limit: 1,
        types: webhook.types.clone().unwrap_or_default(),
    };
    Ok(r.events(&webhook.project_id, &query)?.into_iter().next())
}

/// The attempt due next at an endpoint, shown as `Pending`.
fn pending_delivery(r: &mut dyn ReadTx, webhook: &Webhook) -> Result<Option<Delivery>, StoreError> {
    Ok(next_event(r, webhook)?.map(|event| Delivery {
        webhook: webhook.id.clone(),
        event_seq: event.seq,
        attempt: webhook.progress.failures.saturating_add(1),
        status: DeliveryStatus::Pending,
        http_status: None,
        error: None,
        at: webhook.progress.next_attempt_at,
        next_attempt_at: Some(webhook.progress.next_attempt_at),
    }))
}

/// What one wallet's last `wallet.balance_changed` said.
#[derive(Debug, Clone, Copy)]
struct Seen {
    balance: i64,
    held: i64,
    seq: i64,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct BalanceData {
    wallet_id: String,
    balance: i64,
    held: i64,
    transaction_id: String,
}

fn verify_project(
    r: &mut dyn ReadTx,
    project: &str,
    signer: Option<&AnchorSigner>,
) -> Result<ProjectVerification, LedgerError> {
    let anchor = r.event_anchor(project)?;
    let start = anchor.as_ref().map_or_else(EventHead::genesis, |a| EventHead {
        seq: a.seq,
        hash: a.hash.clone(),
    });
    let mut report = ProjectVerification {
        project: project.to_owned(),
        events: 0,
        from_seq: start.seq,
        mismatch: None,
    };
    if let (Some(anchor), Some(signer)) = (&anchor, signer) {
        if signer(&Anchor::signed_text(project, anchor.seq, &anchor.hash)) != anchor.signature {
            report.mismatch = Some(Mismatch {
                seq: anchor.seq,
                reason: "the anchor of the pruned events is not signed with this server's key".to_owned(),
            });
            return Ok(report);
        }
    }
    let mut previous = start;
    let mut wallets: BTreeMap<WalletId, Seen> = BTreeMap::new();
    loop {
        let events = r.events(
            project,
            &EventQuery {
                after: previous.seq,
                limit: VERIFY_PAGE,
                types: Vec::new(),
            },
        )?;
        if events.is_empty() {
            break;
        }
        for event in &events {
            report.events += 1;
            if let Some(reason) = check_event(r, event, &previous, &mut wallets)? {
                report.mismatch = Some(Mismatch {
                    seq: event.seq,
                    reason,
                });
                return Ok(report);
            }
            previous = EventHead {
                seq: event.seq,
                hash: event.hash.clone(),
            };
        }
    }
    let head = r.event_head(project)?;
    if head != previous {
        report.mismatch = Some(Mismatch {
            seq: previous.seq + 1,
            reason: format!(
                "the project's head is at seq {} but its events end at seq {}",
                head.seq, previous.seq
            ),
        });
        return Ok(report);
    }
    for (id, seen) in wallets {
        let wallet = r.wallet(project, id)?;
        let (balance, held) = wallet.map_or((None, None), |w| (Some(w.balance), Some(w.held)));
        if balance != Some(seen.balance) || held != Some(seen.held) {
            report.mismatch = Some(Mismatch {
                seq: seen.seq,
                reason: format!(
                    "wallet {id} holds balance {balance:?}, held {held:?}; its last event says {}, {}",
                    seen.balance, seen.held
                ),
            });
            return Ok(report);
        }
    }
    Ok(report)
}

/// Why `event` does not follow `previous` or disagrees with the ledger, if
/// it does not.
fn check_event(
    r: &mut dyn ReadTx,
    event: &Event,
    previous: &EventHead,
    wallets: &mut BTreeMap<WalletId, Seen>,
) -> Result<Option<String>, LedgerError> {
    if event.seq != previous.seq + 1 {
        return Ok(Some(format!("seq {} follows {}: a gap", event.seq, previous.seq)));
    }
    if event.expected_hash(&previous.hash) != event.hash {
        return Ok(Some(
            "its hash does not match its content and the previous hash".to_owned(),
        ));
    }
    match event.kind {
        EventType::TransactionCompleted | EventType::TransactionFailed => {
            let Some(id) = data_field(event, "id").as_deref().and_then(TransactionId::parse) else {
                return Ok(Some("its data names no transaction".to_owned()));
            };
            let Some(stored) = r.transaction(&event.project_id, id)? else {
                return Ok(Some(format!("transaction {id} is not in the ledger")));
            };
            let now = events::canonical::canonical(
                &serde_json::to_string(&wire::Transaction::from(stored)).unwrap_or_default(),
            )
            .unwrap_or_default();
            if now != event.data.get() {
                return Ok(Some(format!("transaction {id} differs from its event")));
            }
        }
        EventType::WalletBalanceChanged => {
            let Ok(data) = serde_json::from_str::<BalanceData>(event.data.get()) else {
                return Ok(Some("its data is not a balance change".to_owned()));
            };
            let (Some(wallet), Some(transaction)) = (
                WalletId::parse(&data.wallet_id),
                TransactionId::parse(&data.transaction_id),
            ) else {
                return Ok(Some("its data names no wallet or transaction".to_owned()));
            };
            let entries: Vec<_> = r
                .transaction_entries(transaction)?
                .into_iter()
                .filter(|e| e.wallet_id == wallet)
                .collect();
            if let Some(w) = entries.windows(2).find(|w| {
                i128::from(w[0].balance_after) + i128::from(w[1].amount) != i128::from(w[1].balance_after)
            }) {
                return Ok(Some(format!(
                    "wallet {wallet}'s entry {} in transaction {transaction} does not follow the one before it",
                    w[1].id
                )));
            }
            let seen = wallets.get(&wallet).copied();
            if let Some(last) = entries.last() {
                if last.balance_after != data.balance {
                    return Ok(Some(format!(
                        "wallet {wallet}'s last entry in transaction {transaction} leaves {}, the event says {}",
                        last.balance_after, data.balance
                    )));
                }
            }
            if let Some(seen) = seen {
                let sum: i128 = entries.iter().map(|e| i128::from(e.amount)).sum();
                if i128::from(seen.balance) + sum != i128::from(data.balance) {
                    return Ok(Some(format!(
                        "wallet {wallet}'s entries in transaction {transaction} add {sum} to {}, the event says {}",
                        seen.balance, data.balance
                    )));
                }
            }
            wallets.insert(
                wallet,
                Seen {
                    balance: data.balance,
                    held: data.held,
                    seq: event.seq,
                },
            );
        }
        _ => {}
    }
    Ok(None)
}

/// A string field of an event's data.
fn data_field(event: &Event, field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(event.data.get()).ok()?;
    value.get(field)?.as_str().map(str::to_owned)
}
