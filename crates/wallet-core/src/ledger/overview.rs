//! The admin dashboard's reads: a project's overview and the search by
//! referenceId, transaction id, customer id and item id. Each is one read
//! job, so everything it answers comes from one snapshot.

use super::access::{authorize, readable_customer, readable_item};
use super::Ledger;
use crate::events::DeliveryStatus;
use crate::ids::TransactionId;
use crate::model::PageRequest;
use crate::overview::{Overview, OverviewWindow, SearchHits, WebhookOverview};
use crate::policy::{Action, Caller};
use crate::port::ReadTx;
use crate::text::{CustomerId, ItemId, ReferenceId};
use crate::LedgerError;

impl Ledger {
    /// The project's overview now: supply, open holds and the daily series
    /// per asset, transactions per minute over the last hour, and each
    /// webhook's health and backlog.
    pub async fn overview(&self, caller: &Caller) -> Result<Overview, LedgerError> {
        authorize(caller, Action::ReadTransactions)?;
        authorize(caller, Action::ManageWebhooks)?;
        let project = caller.project_id().to_owned();
        let window = OverviewWindow::at(self.clock.now());
        self.store
            .read(move |r| {
                let assets = r.assets(&project, PageRequest::ALL)?.items;
                let stats = r.ledger_stats(&project, &window)?;
                let head = r.event_head(&project)?.seq;
                let webhooks = webhooks(r, &project, head)?;
                Ok(Overview::assemble(window, assets, &stats, webhooks, head))
            })
            .await
    }

    /// What `text` names in the project: a transaction by `referenceId` or
    /// by id, a customer, an item. A text that cannot be one of them (too
    /// long, not a number) simply finds none of that kind.
    pub async fn search(&self, caller: &Caller, text: String) -> Result<SearchHits, LedgerError> {
        authorize(caller, Action::ReadTransactions)?;
        let caller = caller.clone();
        self.store
            .read(move |r| {
                let project = caller.project_id();
                let by_reference = match ReferenceId::parse(&text) {
                    Ok(reference) => r.transaction_by_reference(project, reference.as_str())?,
                    Err(_) => None,
                };
                let transaction = match TransactionId::parse(&text) {
                    Some(id) => r.transaction(project, id)?,
                    None => None,
                };
                let customer = match CustomerId::parse(&text) {
                    Ok(id) => found(readable_customer(r, &caller, id.as_str()))?,
                    Err(_) => None,
                };
                let item = match ItemId::parse(&text) {
                    Ok(id) => found(readable_item(r, &caller, &id))?,
                    Err(_) => None,
                };
                Ok(SearchHits {
                    by_reference,
                    transaction,
                    customer,
                    item,
                })
            })
            .await
    }
}

/// Each webhook of `project` with its health, newest attempt and backlog.
fn webhooks(r: &mut dyn ReadTx, project: &str, head: i64) -> Result<Vec<WebhookOverview>, LedgerError> {
    let newest = PageRequest { page: 0, size: 1 };
    let mut all = Vec::new();
    for webhook in r.webhooks(project)? {
        let health = r.webhook_health(&webhook.id)?;
        let last_delivery = r
            .deliveries(&webhook.id, None::<DeliveryStatus>, newest)?
            .items
            .into_iter()
            .next();
        all.push(WebhookOverview {
            backlog: (head - webhook.progress.cursor).max(0),
            webhook,
            health,
            last_delivery,
        });
    }
    Ok(all)
}

/// A read that may find nothing: not found is `None`, any other error stands.
fn found<T>(result: Result<T, LedgerError>) -> Result<Option<T>, LedgerError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(LedgerError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
