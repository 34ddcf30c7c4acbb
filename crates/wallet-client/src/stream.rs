//! `GET /events/stream` as a `Stream` that reconnects and resumes.

use crate::error::{refusal, Error};
use crate::retry::Failure;
use crate::sse::Parser;
use crate::Client;
use futures_core::Stream;
use reqwest::Method;
use std::collections::VecDeque;
use std::pin::Pin;
use wallet_core::wire::EventDoc;

/// The events of [`Client::events_stream`], oldest first, each once.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<EventDoc, Error>> + Send>>;

struct State {
    client: Client,
    /// The last `seq` yielded (or the `after` asked for).
    after: Option<i64>,
    types: String,
    response: Option<reqwest::Response>,
    parser: Parser,
    ready: VecDeque<EventDoc>,
    /// Connections in a row that failed or ended without an event.
    failures: u32,
    /// Whether the open connection sent anything (an event or a
    /// keep-alive): one that did was healthy, whatever ended it.
    alive: bool,
    done: bool,
}

pub(crate) fn open(client: Client, after: Option<i64>, types: String) -> EventStream {
    let state = State {
        client,
        after,
        types,
        response: None,
        parser: Parser::default(),
        ready: VecDeque::new(),
        failures: 0,
        alive: false,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, next))
}

impl State {
    async fn connect(&self) -> Result<reqwest::Response, (Failure, Error)> {
        let mut request = self.client.request(Method::GET, "/events/stream");
        let mut query = Vec::new();
        if let Some(after) = self.after {
            query.push(("after", after.to_string()));
            // What a browser's EventSource sends; it wins over `after`.
            request = request.header("Last-Event-ID", after.to_string());
        }
        if !self.types.is_empty() {
            query.push(("types", self.types.clone()));
        }
        let response = request.query(&query).send().await.map_err(|e| {
            let failure = if e.is_connect() {
                Failure::Connect
            } else {
                Failure::Transport
            };
            (failure, Error::Transport(e))
        })?;
        let http = response.status().as_u16();
        if http == 200 {
            return Ok(response);
        }
        let retry_after = crate::retry::retry_after(
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        Err((Failure::Status { http, retry_after }, refusal(http, &body)))
    }

    /// Takes the events `bytes` completes; an event at or before the last
    /// one yielded is skipped.
    fn take(&mut self, bytes: &[u8]) -> Result<(), Error> {
        for message in self.parser.feed(bytes) {
            let event: EventDoc = serde_json::from_str(&message.data)?;
            if self.after.is_some_and(|after| event.seq <= after) {
                continue;
            }
            self.after = Some(event.seq);
            self.ready.push_back(event);
        }
        Ok(())
    }
}

async fn next(mut st: State) -> Option<(Result<EventDoc, Error>, State)> {
    loop {
        if let Some(event) = st.ready.pop_front() {
            return Some((Ok(event), st));
        }
        if st.done {
            return None;
        }
        let Some(response) = st.response.as_mut() else {
            let policy = st.client.policy();
            if st.failures > 0 {
                tokio::time::sleep(policy.backoff(st.failures)).await;
            }
            match st.connect().await {
                Ok(response) => {
                    st.response = Some(response);
                    st.parser = Parser::default();
                    st.alive = false;
                }
                Err((failure, error)) => {
                    st.failures += 1;
                    // Reconnecting is always safe (a GET); what the policy
                    // does not retry (a 401, a 400) ends the stream.
                    if policy.delay(st.failures, true, failure).is_none() {
                        st.done = true;
                        return Some((Err(error), st));
                    }
                }
            }
            continue;
        };
        match response.chunk().await {
            Ok(Some(bytes)) => {
                st.alive = true;
                st.failures = 0;
                if let Err(e) = st.take(&bytes) {
                    st.done = true;
                    return Some((Err(e), st));
                }
            }
            // The connection ended or dropped: reconnect after the last seq.
            Ok(None) | Err(_) => {
                st.response = None;
                if !st.alive {
                    st.failures += 1;
                    let policy = st.client.policy();
                    if policy.delay(st.failures, true, Failure::Transport).is_none() {
                        st.done = true;
                        return Some((
                            Err(Error::Unexpected {
                                http: 200,
                                body: "the event stream kept ending before it sent anything".to_owned(),
                            }),
                            st,
                        ));
                    }
                }
            }
        }
    }
}
