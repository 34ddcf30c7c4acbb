//! Webhooks: endpoints, their queues (cursor, failures, next attempt, the
//! lease of the process delivering them) and their delivery attempts.
//!
//! The queue's writes are compare-and-set UPDATEs (`lease_webhook`,
//! `record_run`), as the port asks, although one writer runs here:
//! the conditions are what make an attempt recorded by a stale worker, or
//! after a replay, record nothing.

use super::rows::{self, parsed};
use crate::error::{unknown_value, DbResult};
use rusqlite::{params, Connection, OptionalExtension, Row};
use wallet_core::events::{
    Delivery, DeliveryStatus, EventType, NewWebhook, Run, Webhook, WebhookHealth, WebhookProgress,
};
use wallet_core::model::{Millis, Page, PageRequest};
use wallet_core::text::PublicId;

const WEBHOOK_COLUMNS: &str = "public_id, project_id, url, types, description, salt, created_at,
     cursor, failures, first_failure_at, next_attempt_at";

fn public_id(r: &Row<'_>, index: usize, column: &'static str) -> rusqlite::Result<PublicId> {
    let text: String = r.get(index)?;
    PublicId::parse(&text).map_err(|_| unknown_value(index, column))
}

fn webhook_row(r: &Row<'_>) -> rusqlite::Result<Webhook> {
    let types = match r.get::<_, Option<String>>(3)? {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<Vec<EventType>>(&text).map_err(|_| unknown_value(3, "webhooks.types"))?,
        ),
    };
    Ok(Webhook {
        id: public_id(r, 0, "webhooks.public_id")?,
        project_id: r.get(1)?,
        url: r.get(2)?,
        types,
        description: r.get(4)?,
        salt: r.get(5)?,
        created_at: r.get(6)?,
        progress: WebhookProgress {
            cursor: r.get(7)?,
            failures: r.get(8)?,
            first_failure_at: r.get(9)?,
            next_attempt_at: r.get(10)?,
        },
    })
}

/// A project's webhooks, oldest first (`webhooks_by_project`).
pub(crate) fn webhooks(conn: &Connection, project: &str) -> DbResult<Vec<Webhook>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE project_id = ?1 ORDER BY id"
        ))?
        .query_map([project], webhook_row)?
        .collect::<Result<_, _>>()?)
}

pub(crate) fn webhook(conn: &Connection, project: &str, id: &PublicId) -> DbResult<Option<Webhook>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE project_id = ?1 AND public_id = ?2"
        ))?
        .query_row(params![project, id.as_str()], webhook_row)
        .optional()?)
}

/// The statement of [`due_webhooks`], for the query-plan tests: a range of
/// `webhooks_due`, in its order.
pub(crate) const DUE_WEBHOOKS_SQL: &str = "
    SELECT public_id, project_id, url, types, description, salt, created_at,
           cursor, failures, first_failure_at, next_attempt_at
    FROM webhooks WHERE next_attempt_at <= ?1
      AND cursor < coalesce((SELECT seq FROM event_heads h WHERE h.project_id = webhooks.project_id), 0)
    ORDER BY next_attempt_at LIMIT ?2";

/// Webhooks of every project whose next attempt is due, soonest first; only
/// those with events after their cursor (an idle endpoint is never due, so
/// the limit cannot fill with idle ones and starve the others).
pub(crate) fn due_webhooks(conn: &Connection, now: Millis, limit: u32) -> DbResult<Vec<Webhook>> {
    Ok(conn
        .prepare_cached(DUE_WEBHOOKS_SQL)?
        .query_map(params![now, limit], webhook_row)?
        .collect::<Result<_, _>>()?)
}

const DELIVERY_COLUMNS: &str = "w.public_id, d.event_seq, d.attempt, d.status, d.http_status, d.error,
     d.at, d.next_attempt_at";

fn delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    let http_status = match r.get::<_, Option<i64>>(4)? {
        None => None,
        Some(code) => {
            Some(u16::try_from(code).map_err(|_| unknown_value(4, "webhook_deliveries.http_status"))?)
        }
    };
    Ok(Delivery {
        webhook: public_id(r, 0, "webhooks.public_id")?,
        event_seq: r.get(1)?,
        attempt: r.get(2)?,
        status: parsed(r, 3, "webhook_deliveries.status", DeliveryStatus::parse)?,
        http_status,
        error: r.get(5)?,
        at: r.get(6)?,
        next_attempt_at: r.get(7)?,
    })
}

/// A webhook's stored attempts, newest first, of one status or all: a
/// range of `webhook_deliveries_by_webhook` or `…_by_status`, backwards.
/// `Pending` is never stored: that page is empty.
pub(crate) fn deliveries(
    conn: &Connection,
    webhook: &PublicId,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> DbResult<Page<Delivery>> {
    match status {
        None => rows::page(
            conn,
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
                 WHERE w.public_id = ?1 ORDER BY d.id DESC LIMIT ?2 OFFSET ?3"
            ),
            params![webhook.as_str(), page.size, page.offset()],
            "SELECT count(*) FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
             WHERE w.public_id = ?1",
            [webhook.as_str()],
            delivery,
        ),
        Some(status) => rows::page(
            conn,
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
                 WHERE w.public_id = ?1 AND d.status = ?2 ORDER BY d.id DESC LIMIT ?3 OFFSET ?4"
            ),
            params![webhook.as_str(), status.as_str(), page.size, page.offset()],
            "SELECT count(*) FROM webhooks w JOIN webhook_deliveries d ON d.webhook_id = w.id
             WHERE w.public_id = ?1 AND d.status = ?2",
            params![webhook.as_str(), status.as_str()],
            delivery,
        ),
    }
}

/// The last Delivered attempt, the last attempt, the failures at the event
/// being tried now, and how many events went Dead. An unknown webhook has
/// the empty health.
pub(crate) fn webhook_health(conn: &Connection, webhook: &PublicId) -> DbResult<WebhookHealth> {
    Ok(conn
        .prepare_cached(
            "SELECT w.failures,
                    (SELECT max(at) FROM webhook_deliveries WHERE webhook_id = w.id AND status = 'Delivered'),
                    (SELECT max(at) FROM webhook_deliveries WHERE webhook_id = w.id),
                    (SELECT count(*) FROM webhook_deliveries WHERE webhook_id = w.id AND status = 'Dead')
             FROM webhooks w WHERE w.public_id = ?1",
        )?
        .query_row([webhook.as_str()], |r| {
            Ok(WebhookHealth {
                failing: r.get(0)?,
                last_delivered_at: r.get(1)?,
                last_attempt_at: r.get(2)?,
                dead: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })
        .optional()?
        .unwrap_or_default())
}

pub(crate) fn insert_webhook(
    conn: &Connection,
    webhook: &NewWebhook,
    progress: &WebhookProgress,
) -> DbResult<()> {
    let types = webhook.types.as_ref().map(|t| rows::json_list(t));
    conn.prepare_cached(
        "INSERT INTO webhooks (public_id, project_id, url, types, description, salt, created_at,
                               cursor, failures, first_failure_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        webhook.id.as_str(),
        webhook.project_id,
        webhook.url,
        types,
        webhook.description,
        webhook.salt,
        webhook.created_at,
        progress.cursor,
        progress.failures,
        progress.first_failure_at,
        progress.next_attempt_at
    ])?;
    Ok(())
}

/// Deletes an endpoint of `project` and its deliveries.
pub(crate) fn delete_webhook(conn: &Connection, project: &str, id: &PublicId) -> DbResult<bool> {
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT id FROM webhooks WHERE project_id = ?1 AND public_id = ?2")?
        .query_row(params![project, id.as_str()], |r| r.get(0))
        .optional()?;
    let Some(rowid) = rowid else {
        return Ok(false);
    };
    conn.prepare_cached("DELETE FROM webhook_deliveries WHERE webhook_id = ?1")?
        .execute([rowid])?;
    conn.prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
        .execute([rowid])?;
    Ok(true)
}

/// Takes the queue for `owner` until `until` unless another owner holds it
/// past `now`.
pub(crate) fn lease_webhook(
    conn: &Connection,
    id: &PublicId,
    owner: &str,
    now: Millis,
    until: Millis,
) -> DbResult<bool> {
    let taken = conn
        .prepare_cached(
            "UPDATE webhooks SET lease_owner = ?2, lease_until = ?4
             WHERE public_id = ?1 AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_until <= ?3)",
        )?
        .execute(params![id.as_str(), owner, now, until])?;
    Ok(taken == 1)
}

/// Moves the queue and records the run's attempts, only while `owner`
/// holds the lease and the cursor is still `run.from_cursor`: the guarded
/// `UPDATE` decides, and one `INSERT … SELECT` over a JSON array writes
/// every attempt's row, in order.
pub(crate) fn record_run(
    conn: &Connection,
    owner: &str,
    run: &Run,
    lease_until: Option<Millis>,
) -> DbResult<bool> {
    let rowid: Option<i64> = conn
        .prepare_cached(
            "UPDATE webhooks SET cursor = ?4, failures = ?5, first_failure_at = ?6, next_attempt_at = ?7,
                                 lease_until = coalesce(?8, lease_until)
             WHERE public_id = ?1 AND lease_owner = ?2 AND cursor = ?3
             RETURNING id",
        )?
        .query_row(
            params![
                run.webhook.as_str(),
                owner,
                run.from_cursor,
                run.progress.cursor,
                run.progress.failures,
                run.progress.first_failure_at,
                run.progress.next_attempt_at,
                lease_until
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(rowid) = rowid else {
        return Ok(false);
    };
    if run.deliveries.is_empty() {
        return Ok(true);
    }
    let rows: Vec<serde_json::Value> = run
        .deliveries
        .iter()
        .map(|d| {
            serde_json::json!([
                d.event_seq,
                d.attempt,
                d.status.as_str(),
                d.http_status,
                d.error,
                d.at,
                d.next_attempt_at
            ])
        })
        .collect();
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, http_status, error, at,
                                         next_attempt_at)
         SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
         FROM json_each(?2) ORDER BY key",
    )?
    .execute(params![rowid, serde_json::Value::Array(rows).to_string()])?;
    Ok(true)
}

/// Moves the cursor back to `after` (never forward), forgets the failures
/// and makes the queue ready now.
pub(crate) fn replay_webhook(
    conn: &Connection,
    project: &str,
    id: &PublicId,
    after: i64,
    now: Millis,
) -> DbResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE webhooks SET cursor = min(cursor, ?3), failures = 0, first_failure_at = NULL,
                                 next_attempt_at = ?4
             WHERE project_id = ?1 AND public_id = ?2",
        )?
        .execute(params![project, id.as_str(), after, now])?;
    Ok(changed == 1)
}
