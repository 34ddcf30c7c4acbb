//! Webhooks: endpoints with their queues, and their delivery attempts.
//!
//! Several server processes deliver: an endpoint's queue is taken with a
//! lease ([`lease`], a compare-and-set `UPDATE` that succeeds only if the
//! lease is free, expired or already this owner's), and an attempt is
//! recorded only if its owner still holds the lease and the cursor is
//! still where the run started ([`record_run`]), so a replay or another
//! process that moved the queue meanwhile wins and the attempt changes
//! nothing. Both are one statement: no lock is held across a delivery.

use super::rows::{self, col};
use crate::conn::PgConn;
use crate::error::{corrupt, DbResult};
use postgres::Row;
use wallet_core::events::{
    Delivery, DeliveryStatus, EventType, NewWebhook, Run, Webhook, WebhookHealth, WebhookProgress,
};
use wallet_core::model::{Millis, Page, PageRequest};
use wallet_core::text::PublicId;

/// Webhooks: `SELECT webhook_columns!() FROM webhooks`.
macro_rules! webhook_columns {
    () => {
        "public_id, project_id, url, types, description, salt, created_at, cursor, failures,
         first_failure_at, next_attempt_at"
    };
}

fn webhook(r: &Row) -> DbResult<Webhook> {
    let id: &str = col(r, 0)?;
    let types: Option<Vec<String>> = col(r, 3)?;
    let types = types
        .map(|names| {
            names
                .iter()
                .map(|n| n.parse::<EventType>().map_err(|_| corrupt("webhooks.types")))
                .collect::<DbResult<Vec<_>>>()
        })
        .transpose()?;
    let failures: i64 = col(r, 8)?;
    Ok(Webhook {
        id: PublicId::parse(id).map_err(|_| corrupt("webhooks.public_id"))?,
        project_id: col(r, 1)?,
        url: col(r, 2)?,
        types,
        description: col(r, 4)?,
        salt: col(r, 5)?,
        created_at: col(r, 6)?,
        progress: WebhookProgress {
            cursor: col(r, 7)?,
            failures: u32::try_from(failures).map_err(|_| corrupt("webhooks.failures"))?,
            first_failure_at: col(r, 9)?,
            next_attempt_at: col(r, 10)?,
        },
    })
}

fn delivery(r: &Row) -> DbResult<Delivery> {
    let id: &str = col(r, 0)?;
    let attempt: i64 = col(r, 2)?;
    let http_status: Option<i32> = col(r, 4)?;
    Ok(Delivery {
        webhook: PublicId::parse(id).map_err(|_| corrupt("webhooks.public_id"))?,
        event_seq: col(r, 1)?,
        attempt: u32::try_from(attempt).map_err(|_| corrupt("webhook_deliveries.attempt"))?,
        status: rows::parsed(r, 3, "webhook_deliveries.status", DeliveryStatus::parse)?,
        http_status: http_status
            .map(|s| u16::try_from(s).map_err(|_| corrupt("webhook_deliveries.http_status")))
            .transpose()?,
        error: col(r, 5)?,
        at: col(r, 6)?,
        next_attempt_at: col(r, 7)?,
    })
}

pub(crate) fn webhooks(conn: &mut PgConn, project: &str) -> DbResult<Vec<Webhook>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE project_id = $1 ORDER BY id"
        ),
        &[&project],
    )?;
    rows::all(&found, webhook)
}

pub(crate) fn webhook_of(conn: &mut PgConn, project: &str, id: &PublicId) -> DbResult<Option<Webhook>> {
    conn.query_opt(
        concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE public_id = $1 AND project_id = $2"
        ),
        &[&id.as_str(), &project],
    )?
    .map(|r| webhook(&r))
    .transpose()
}

/// Endpoints of every project whose next attempt is due, soonest first
/// (a range of `webhooks_due`).
pub(crate) fn due(conn: &mut PgConn, now: Millis, limit: u32) -> DbResult<Vec<Webhook>> {
    let found = conn.query(
        concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE next_attempt_at <= $1
               AND cursor < coalesce((SELECT seq FROM event_heads h WHERE h.project_id = webhooks.project_id), 0)
             ORDER BY next_attempt_at, id LIMIT $2"
        ),
        &[&now, &i64::from(limit)],
    )?;
    rows::all(&found, webhook)
}

/// An endpoint's attempts, newest first, of one status or all.
pub(crate) fn deliveries(
    conn: &mut PgConn,
    id: &PublicId,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> DbResult<Page<Delivery>> {
    let (limit, offset) = rows::limits(page);
    match status {
        None => rows::page(
            conn,
            "SELECT w.public_id, d.event_seq, d.attempt, d.status, d.http_status, d.error, d.at,
                    d.next_attempt_at
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.public_id = $1 ORDER BY d.id DESC LIMIT $2 OFFSET $3",
            &[&id.as_str(), &limit, &offset],
            "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.public_id = $1",
            &[&id.as_str()],
            delivery,
        ),
        Some(status) => rows::page(
            conn,
            "SELECT w.public_id, d.event_seq, d.attempt, d.status, d.http_status, d.error, d.at,
                    d.next_attempt_at
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.public_id = $1 AND d.status = $2 ORDER BY d.id DESC LIMIT $3 OFFSET $4",
            &[&id.as_str(), &status.as_str(), &limit, &offset],
            "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.public_id = $1 AND d.status = $2",
            &[&id.as_str(), &status.as_str()],
            delivery,
        ),
    }
}

/// What an endpoint's attempts say of it; `failing` is its queue's
/// failures at the event it tries now.
pub(crate) fn health(conn: &mut PgConn, id: &PublicId) -> DbResult<WebhookHealth> {
    let Some(r) = conn.query_opt(
        "SELECT (SELECT max(d.at) FROM webhook_deliveries d
                 WHERE d.webhook_id = w.id AND d.status = 'Delivered'),
                (SELECT max(d.at) FROM webhook_deliveries d WHERE d.webhook_id = w.id),
                w.failures,
                (SELECT count(*) FROM webhook_deliveries d
                 WHERE d.webhook_id = w.id AND d.status = 'Dead')
         FROM webhooks w WHERE w.public_id = $1",
        &[&id.as_str()],
    )?
    else {
        return Ok(WebhookHealth::default());
    };
    let failing: i64 = col(&r, 2)?;
    let dead: i64 = col(&r, 3)?;
    Ok(WebhookHealth {
        last_delivered_at: col(&r, 0)?,
        last_attempt_at: col(&r, 1)?,
        failing: u32::try_from(failing).map_err(|_| corrupt("webhooks.failures"))?,
        dead: u64::try_from(dead).map_err(|_| corrupt("webhook_deliveries"))?,
    })
}

pub(crate) fn insert(conn: &mut PgConn, webhook: &NewWebhook, progress: &WebhookProgress) -> DbResult<()> {
    let types: Option<Vec<&str>> = webhook
        .types
        .as_ref()
        .map(|types| types.iter().map(|t| t.as_str()).collect());
    conn.execute(
        "INSERT INTO webhooks (public_id, project_id, url, types, description, salt, created_at, cursor,
                               failures, first_failure_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &webhook.id.as_str(),
            &webhook.project_id,
            &webhook.url,
            &types,
            &webhook.description,
            &webhook.salt,
            &webhook.created_at,
            &progress.cursor,
            &i64::from(progress.failures),
            &progress.first_failure_at,
            &progress.next_attempt_at,
        ],
    )?;
    Ok(())
}

/// Deletes an endpoint and its attempts.
pub(crate) fn delete(conn: &mut PgConn, project: &str, id: &PublicId) -> DbResult<bool> {
    conn.execute(
        "DELETE FROM webhook_deliveries
         WHERE webhook_id IN (SELECT id FROM webhooks WHERE public_id = $1 AND project_id = $2)",
        &[&id.as_str(), &project],
    )?;
    let deleted = conn.execute(
        "DELETE FROM webhooks WHERE public_id = $1 AND project_id = $2",
        &[&id.as_str(), &project],
    )?;
    Ok(deleted == 1)
}

/// Takes the lease unless another owner holds it past `now`.
pub(crate) fn lease(
    conn: &mut PgConn,
    id: &PublicId,
    owner: &str,
    now: Millis,
    until: Millis,
) -> DbResult<bool> {
    let taken = conn.execute(
        "UPDATE webhooks SET lease_owner = $2, lease_until = $4
         WHERE public_id = $1
           AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until IS NULL OR lease_until <= $3)",
        &[&id.as_str(), &owner, &now, &until],
    )?;
    Ok(taken == 1)
}

/// Records a run's attempts and moves the queue, if `owner` holds the
/// lease and the cursor is `run.from_cursor`: one statement, whose guarded
/// `UPDATE` decides and whose `INSERT … SELECT … unnest` writes every
/// attempt's row, in order, only if it moved the queue.
pub(crate) fn record_run(
    conn: &mut PgConn,
    owner: &str,
    run: &Run,
    lease_until: Option<Millis>,
) -> DbResult<bool> {
    let d = &run.deliveries;
    let seqs: Vec<i64> = d.iter().map(|d| d.event_seq).collect();
    let attempts: Vec<i64> = d.iter().map(|d| i64::from(d.attempt)).collect();
    let statuses: Vec<&str> = d.iter().map(|d| d.status.as_str()).collect();
    let http: Vec<Option<i32>> = d.iter().map(|d| d.http_status.map(i32::from)).collect();
    let errors: Vec<Option<&str>> = d.iter().map(|d| d.error.as_deref()).collect();
    let ats: Vec<i64> = d.iter().map(|d| d.at).collect();
    let next: Vec<Option<i64>> = d.iter().map(|d| d.next_attempt_at).collect();
    let row = conn.query_one(
        "WITH moved AS (
             UPDATE webhooks SET cursor = $4, failures = $5, first_failure_at = $6, next_attempt_at = $7,
                                 lease_until = coalesce($8, lease_until)
             WHERE public_id = $1 AND lease_owner = $2 AND cursor = $3
             RETURNING id),
         written AS (
             INSERT INTO webhook_deliveries (webhook_id, event_seq, attempt, status, http_status, error,
                                             at, next_attempt_at)
             SELECT moved.id, a.seq, a.attempt, a.status, a.http_status, a.error, a.at, a.next_attempt_at
             FROM moved,
                  unnest($9::bigint[], $10::bigint[], $11::text[], $12::integer[], $13::text[],
                         $14::bigint[], $15::bigint[]) WITH ORDINALITY
                      AS a(seq, attempt, status, http_status, error, at, next_attempt_at, n)
             ORDER BY a.n
             RETURNING 1)
         SELECT count(*) FROM moved",
        &[
            &run.webhook.as_str(),
            &owner,
            &run.from_cursor,
            &run.progress.cursor,
            &i64::from(run.progress.failures),
            &run.progress.first_failure_at,
            &run.progress.next_attempt_at,
            &lease_until,
            &seqs,
            &attempts,
            &statuses,
            &http,
            &errors,
            &ats,
            &next,
        ],
    )?;
    let moved: i64 = col(&row, 0)?;
    Ok(moved == 1)
}

/// Moves the cursor back to `after` (never forward) and makes the queue
/// ready now; a cursor that moves starts its new event with no failures.
pub(crate) fn replay(
    conn: &mut PgConn,
    project: &str,
    id: &PublicId,
    after: i64,
    now: Millis,
) -> DbResult<bool> {
    let moved = conn.execute(
        "UPDATE webhooks
         SET failures = CASE WHEN $3 < cursor THEN 0 ELSE failures END,
             first_failure_at = CASE WHEN $3 < cursor THEN NULL ELSE first_failure_at END,
             cursor = least(cursor, $3),
             next_attempt_at = $4
         WHERE public_id = $1 AND project_id = $2",
        &[&id.as_str(), &project, &after, &now],
    )?;
    Ok(moved == 1)
}
