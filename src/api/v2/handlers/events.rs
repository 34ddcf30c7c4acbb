//! The events feed (`GET /events`, with long-poll) and the live stream
//! (`GET /events/stream`, Server-Sent Events).
//!
//! Both wait on the events bell: they subscribe to it before they read,
//! so an event committed between the read and the wait rings it and is
//! read next. Both end when the server stops ([`Stopping`]), so a graceful
//! shutdown never waits on them.

use crate::api::v2::auth::Auth;
use crate::api::v2::error::{ErrorBody, V2Error};
use crate::api::v2::event_types::{EventPage, FeedQuery, StreamMessage, StreamQuery};
use crate::webhooks::Stopping;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use wallet_core::events::{Event, EventQuery, EventType};
use wallet_core::policy::{Action, Caller};
use wallet_core::Ledger;

/// `limit`'s default.
pub const DEFAULT_LIMIT: u32 = 100;
/// The longest `wait`, in seconds.
pub const MAX_WAIT_SECONDS: u32 = 30;
/// How often an idle stream sends a comment line.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How many events a stream reads at a time.
const STREAM_PAGE: u32 = 1000;

fn types(list: Option<&str>) -> Result<Vec<EventType>, V2Error> {
    list.map_or(Ok(Vec::new()), EventType::parse_list)
        .map_err(|e| V2Error::invalid(format!("types: {e}")))
}

fn after(after: Option<i64>) -> Result<i64, V2Error> {
    match after {
        Some(a) if a < 0 => Err(V2Error::invalid("after must be 0 or more")),
        a => Ok(a.unwrap_or(0)),
    }
}

/// The project's events after `after`, oldest first. With `wait`, an empty
/// answer is held until an event arrives or `wait` seconds pass. Access keys
/// only (a customer key: 403; it may stream its own events).
#[utoipa::path(get, path = "/api/v2/events", tag = "events", params(FeedQuery),
    responses((status = 200, body = EventPage), (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn feed(
    auth: Auth,
    ledger: web::Data<Ledger>,
    stopping: web::Data<Stopping>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::ReadEvents)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=EventQuery::MAX_LIMIT).contains(&limit) {
        return Err(V2Error::invalid("limit must be from 1 to 1000"));
    }
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(V2Error::invalid("wait must be from 0 to 30 seconds"));
    }
    let request = EventQuery {
        after: after(query.after)?,
        limit,
        types: types(query.types.as_deref())?,
    };
    let page = long_poll(&ledger, caller, request, wait, stopping.get_ref()).await?;
    Ok(reply(page))
}

/// A page of the feed; when it is empty, waits up to `wait` seconds for an
/// event (or the server's stop) and reads again. The admin page's feed
/// waits the same way.
pub async fn long_poll(
    ledger: &Ledger,
    caller: &Caller,
    request: EventQuery,
    wait: u32,
    stopping: &Stopping,
) -> Result<wallet_core::events::EventPage, wallet_core::LedgerError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
    let mut stopping = stopping.clone();
    let mut rings = ledger.event_bell().subscribe();
    loop {
        let page = ledger.events(caller, request.clone()).await?;
        if !page.events.is_empty() || wait == 0 {
            return Ok(page);
        }
        tokio::select! {
            changed = rings.changed() => {
                if changed.is_err() {
                    return Ok(page);
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(page),
            () = stopping.wait() => return Ok(page),
        }
    }
}

fn reply(page: wallet_core::events::EventPage) -> HttpResponse {
    HttpResponse::Ok().json(EventPage {
        events: page.events,
        next: page.next,
    })
}

/// The `Last-Event-ID` header of a stream's reconnect: absent, or a seq
/// (0 or more); anything else is refused with the message given.
pub fn last_event_id(request: &HttpRequest) -> Result<Option<i64>, &'static str> {
    match request.headers().get("last-event-id") {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or("Last-Event-ID must be a seq (0 or more)"),
    }
}

/// Server-Sent Events: `id: <seq>`, `event: <type>`, `data: <event JSON>`
/// per event, a `: keep-alive` comment every 15 s. Resumes after the
/// `Last-Event-ID` header's `seq` (which wins over `after`); with neither,
/// starts with the next new event. A customer key receives only its
/// customer's events (its wallets, items and holds, itself) and the
/// project's `asset.*` events.
#[utoipa::path(get, path = "/api/v2/events/stream", tag = "events", params(StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, nullable = false, minimum = 0, description = "The last seq received: resume after it")),
    responses(
        (status = 200, description = "A stream of events, as Server-Sent Events",
            content_type = "text/event-stream", body = StreamMessage,
            example = "id: 42\nevent: transaction.completed\ndata: {\"createdAt\":1700000000000,...}\n\n"),
        (status = "4XX", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn stream(
    auth: Auth,
    ledger: web::Data<Ledger>,
    stopping: web::Data<Stopping>,
    query: web::Query<StreamQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, V2Error> {
    let caller = auth.may(Action::StreamEvents)?.clone();
    let types = types(query.types.as_deref())?;
    let last_event_id = last_event_id(&request).map_err(V2Error::invalid)?;
    let start = match last_event_id.or(query.after) {
        Some(a) => after(Some(a))?,
        None => ledger.event_head(&caller).await?,
    };
    Ok(sse(
        ledger.get_ref().clone(),
        caller,
        start,
        types,
        stopping.get_ref().clone(),
        None,
    ))
}

/// Asked before every batch a stream sends and at every keep-alive: the
/// stream ends when it answers `false` (the admin session that opened it
/// ended).
pub type StillAllowed = Box<dyn Fn() -> Pin<Box<dyn std::future::Future<Output = bool>>>>;

/// The Server-Sent Events response of `caller`'s events after `start`
/// (of `types`; all when empty), as [`stream`] sends them: the admin
/// page's live feed is the same stream for the operator, with
/// `still_allowed` re-checking its session.
pub fn sse(
    ledger: Ledger,
    caller: Caller,
    start: i64,
    types: Vec<EventType>,
    stopping: Stopping,
    still_allowed: Option<StillAllowed>,
) -> HttpResponse {
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    actix_web::rt::spawn(async move {
        let stream = Stream {
            ledger: &ledger,
            caller: &caller,
            types,
            still_allowed,
        };
        if let Err(e) = stream.pump(start, &sender, stopping).await {
            log::warn!("an event stream ended: {e}");
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Proxies (nginx) must not buffer it.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(Frames(receiver))
}

/// One event as an SSE frame.
fn frame(event: &Event) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.seq,
        event.kind,
        event.to_json()
    ))
}

/// What one open stream sends, and to whom.
struct Stream<'a> {
    ledger: &'a Ledger,
    caller: &'a Caller,
    types: Vec<EventType>,
    still_allowed: Option<StillAllowed>,
}

impl Stream<'_> {
    async fn allowed(&self) -> bool {
        match &self.still_allowed {
            Some(check) => check().await,
            None => true,
        }
    }

    /// Sends the caller's events after `after` into `sender` as they
    /// commit, until the client goes (the receiver is dropped), the server
    /// stops, or `still_allowed` says no.
    async fn pump(
        &self,
        mut after: i64,
        sender: &mpsc::Sender<Bytes>,
        mut stopping: Stopping,
    ) -> Result<(), wallet_core::LedgerError> {
        let (ledger, caller, types) = (self.ledger, self.caller, &self.types);
        // A first comment: the client sees the stream open at once.
        if sender.send(Bytes::from_static(b": connected\n\n")).await.is_err() {
            return Ok(());
        }
        let bell = ledger.event_bell();
        loop {
            // Subscribed before the read: what commits after it rings.
            let mut rings = bell.subscribe();
            if !self.allowed().await {
                return Ok(());
            }
            loop {
                let query = EventQuery {
                    after,
                    limit: STREAM_PAGE,
                    types: types.clone(),
                };
                let page = ledger.stream_events(caller, query).await?;
                for event in &page.events {
                    if sender.send(frame(event)).await.is_err() {
                        return Ok(());
                    }
                }
                if page.next == after {
                    break;
                }
                after = page.next;
            }
            let keep_alive = tokio::time::sleep(KEEP_ALIVE);
            tokio::select! {
                changed = rings.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                }
                () = keep_alive => {
                    if !self.allowed().await
                        || sender.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err()
                    {
                        return Ok(());
                    }
                }
                () = sender.closed() => return Ok(()),
                () = stopping.wait() => return Ok(()),
            }
        }
    }
}

/// The response body: the frames `pump` sends; it ends when `pump` does.
struct Frames(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Frames {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|frame| frame.map(Ok))
    }
}
