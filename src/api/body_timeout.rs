//! A deadline on reading a request's body.
//!
//! actix-web bounds the wait for a request's head (`client_request_timeout`,
//! 5 s by default) and for an idle keep-alive connection, but nothing bounds
//! the wait for the body: a client that sends a head and then trickles the
//! body, or stops, would hold its connection forever — and the unauthenticated
//! `/admin/api/login` is enough to do that. actix offers no payload timeout,
//! so every API scope wraps the request's payload in a stream with a deadline
//! (`body_timeout_seconds` after the head was read, for the whole body).
//! Every body extractor (`web::Json`, `web::Bytes`, our `json::Object`) reads
//! through it; when the deadline passes, the read fails, and the request is
//! answered 408 with the API's error body and `Connection: close`.
//!
//! The deadline is for the whole body, not between chunks: a client sending
//! one byte a second would pass any idle timeout. Data already received is
//! always handed over first, so a body that arrived in time is never refused
//! because the handler read it late.

use super::v2::ErrorStatus;
use super::Api;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use futures_core::Stream;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// The request's payload, failing once the deadline has passed.
struct Deadline {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    /// Set when the deadline cut the body short; read by the middleware.
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.set(true);
                let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timed out");
                Poll::Ready(Some(Err(PayloadError::Io(late))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Middleware of each API's scope: gives the request's body `timeout` to
/// arrive; past it, 408 in `api`'s error shape and the connection is closed
/// (what is left of the body is never read).
pub async fn limit<B: MessageBody + 'static>(
    api: Api,
    timeout: Duration,
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let expired = Rc::new(Cell::new(false));
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: payload,
        deadline: Box::pin(tokio::time::sleep(timeout)),
        expired: Rc::clone(&expired),
    });
    req.set_payload(Payload::from(stream));
    let res = next.call(req).await?;
    if !expired.get() {
        return Ok(res.map_into_left_body());
    }
    let message = format!(
        "the request body did not arrive within {} seconds; nothing was changed",
        timeout.as_secs_f64()
    );
    let response = HttpResponse::RequestTimeout()
        .force_close()
        .json(api.error_body(ErrorStatus::ValidationError, &message));
    Ok(res.into_response(response).map_into_right_body())
}
