//! One delivery: a signed POST of an event's JSON.
//!
//! - Headers: `webhook-id` (the event's id), `webhook-timestamp` (epoch
//!   seconds), `webhook-signature` (`v1,<base64>`), `content-type:
//!   application/json`.
//! - A 2xx answer within [`TIMEOUT`] (connecting, sending and the answer's
//!   head) is a delivery; any other status, a redirect (never followed),
//!   a timeout, a refused address or a connection error is a failure. The
//!   answer's body is not read. The connection is kept alive between
//!   deliveries (the pool keeps it 30 s idle).
//! - Addresses: a literal one is checked against the [`AddressPolicy`]
//!   before connecting; a name is resolved by the client's resolver
//!   ([`PolicyResolver`]), which hands the connector only the addresses the
//!   policy allows, so what is connected to is what was checked (no DNS
//!   rebinding). No proxy is used (a proxy would resolve names itself).

use crate::policy::{AddressPolicy, InvalidUrl};
use crate::signing::Secret;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use wallet_core::events::{Attempt, Event};

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP client of the worker, cheap to clone.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: AddressPolicy,
}

impl Sender {
    pub fn new(policy: AddressPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!(
                "wallet-service/",
                env!("CARGO_PKG_VERSION"),
                " (webhooks)"
            ))
            .build()?;
        Ok(Self { client, policy })
    }

    /// Checks `url` against the policy once, for a run of deliveries to it.
    pub fn target(&self, url: &str) -> Target {
        Target(self.policy.parse_url(url).map(|checked| checked.url))
    }

    /// Sends `event` to `url`, signed with `secret`, stamped `timestamp`
    /// (epoch seconds).
    pub async fn send(&self, url: &str, secret: &Secret, event: &Event, timestamp: i64) -> Attempt {
        self.send_to(&self.target(url), secret, event, timestamp).await
    }

    /// [`send`](Self::send) to a URL checked before.
    pub async fn send_to(&self, target: &Target, secret: &Secret, event: &Event, timestamp: i64) -> Attempt {
        let url = match &target.0 {
            Ok(url) => url.clone(),
            Err(e) => return failed(None, format!("refused: {e}")),
        };
        let id = event.id();
        let body = event.to_json();
        let signature = secret.sign(&id, timestamp, &body);
        let request = self
            .client
            .post(url)
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        match request.send().await {
            Ok(answer) => {
                let status = answer.status();
                // The body is not read: dropping the answer closes it, or
                // (the usual small body, already read with the head) hands
                // the connection back to the pool for the next delivery.
                drop(answer);
                if status.is_success() {
                    Attempt::Delivered {
                        http_status: status.as_u16(),
                    }
                } else if status.is_redirection() {
                    failed(
                        Some(status.as_u16()),
                        format!("answered {status} (redirects are not followed)"),
                    )
                } else {
                    failed(Some(status.as_u16()), format!("answered {status}"))
                }
            }
            Err(e) => failed(None, describe(&e)),
        }
    }
}

/// A webhook URL checked against the address policy (or why it was
/// refused); the addresses its name resolves to are checked at each
/// connection.
#[derive(Debug, Clone)]
pub struct Target(Result<reqwest::Url, InvalidUrl>);

fn failed(http_status: Option<u16>, error: String) -> Attempt {
    Attempt::Failed { http_status, error }
}

/// A transport error in one line: the kind, and the innermost cause (where
/// a refused address or a refused connection is said).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text: String = format!("{kind}: {cause}").chars().take(500).collect();
    text
}

/// Resolves names with the system resolver and keeps only the addresses
/// the policy allows; none left is an error (the attempt fails, saying why).
struct PolicyResolver {
    policy: AddressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| policy.check(a.ip()).is_ok());
            if allowed.is_empty() {
                let refused: Vec<IpAddr> = refused.iter().map(SocketAddr::ip).collect();
                return Err(format!(
                    "refused: {host} resolves to no allowed address ({refused:?} are loopback, \
                     private, link-local or metadata addresses)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn event() -> Event {
        Event {
            seq: 3,
            project_id: "default".into(),
            kind: wallet_core::events::EventType::CustomerCreated,
            created_at: 1_700_000_000_000,
            data: serde_json::value::RawValue::from_string(r#"{"id":"c"}"#.into()).expect("json"),
            hash: "ab".repeat(32),
            customers: Vec::new(),
        }
    }

    /// A one-shot receiver on 127.0.0.1 that answers `reply` and hands
    /// back the request it read.
    async fn receiver(reply: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().expect("addr").port()
        );
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.expect("read");
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|l| l.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            socket.write_all(reply.as_bytes()).await.expect("reply");
            String::from_utf8_lossy(&seen).into_owned()
        });
        (url, task)
    }

    #[tokio::test]
    async fn a_delivery_is_signed_and_a_2xx_is_delivered() {
        let (url, task) = receiver("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        let sender = Sender::new(AddressPolicy::new(true)).expect("client");
        let secret = Secret::from_bytes(vec![5; 24]);
        let outcome = sender.send(&url, &secret, &event(), 1_700_000_001).await;
        assert_eq!(outcome, Attempt::Delivered { http_status: 204 });
        let request = task.await.expect("receiver").to_ascii_lowercase();
        assert!(request.starts_with("post /hook "), "{request}");
        assert!(request.contains("webhook-id: default:3\r\n"), "{request}");
        assert!(request.contains("webhook-timestamp: 1700000001\r\n"), "{request}");
        let expected = secret
            .sign("default:3", 1_700_000_001, &event().to_json())
            .to_ascii_lowercase();
        assert!(
            request.contains(&format!("webhook-signature: {expected}\r\n")),
            "{request}"
        );
        assert!(
            request.contains("content-type: application/json\r\n"),
            "{request}"
        );
        assert!(
            request.ends_with(&event().to_json().to_ascii_lowercase()),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_a_500_fails() {
        let (url, _task) =
            receiver("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/x\r\ncontent-length: 0\r\n\r\n")
                .await;
        let sender = Sender::new(AddressPolicy::new(true)).expect("client");
        let secret = Secret::from_bytes(vec![5; 24]);
        match sender.send(&url, &secret, &event(), 1).await {
            Attempt::Failed { http_status, .. } => assert_eq!(http_status, Some(302)),
            other => panic!("a redirect is a failure: {other:?}"),
        }
        let (url, _task) = receiver("HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n").await;
        match sender.send(&url, &secret, &event(), 1).await {
            Attempt::Failed { http_status, .. } => assert_eq!(http_status, Some(500)),
            other => panic!("a 500 is a failure: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_private_address_is_never_connected_to_when_refused() {
        let (url, task) = receiver("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let sender = Sender::new(AddressPolicy::new(false)).expect("client");
        let secret = Secret::from_bytes(vec![5; 24]);
        match sender.send(&url, &secret, &event(), 1).await {
            Attempt::Failed {
                http_status: None,
                error,
            } => assert!(error.contains("refused"), "{error}"),
            other => panic!("refused: {other:?}"),
        }
        // A name is resolved by the policy's resolver, which hands on no
        // refused address.
        let resolver = PolicyResolver {
            policy: AddressPolicy::new(false),
        };
        let name: Name = "localhost".parse().expect("a name");
        match resolver.resolve(name).await {
            Err(e) => assert!(e.to_string().contains("refused"), "{e}"),
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
        }
        let open = PolicyResolver {
            policy: AddressPolicy::new(true),
        };
        let name: Name = "localhost".parse().expect("a name");
        assert!(open
            .resolve(name)
            .await
            .expect("resolves")
            .any(|a| a.ip().is_loopback()));
        task.abort();
    }

    /// A receiver answering every request on each connection with
    /// `reply`, counting the connections it accepted and the requests.
    async fn counting_receiver(
        reply: &'static str,
    ) -> (
        String,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        tokio::task::JoinHandle<()>,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().expect("addr").port()
        );
        let connections = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        // One request: its head, then content-length bytes.
                        let done = |seen: &[u8]| {
                            let text = String::from_utf8_lossy(seen);
                            let (head, body) = text.split_once("\r\n\r\n")?;
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .strip_prefix("content-length: ")
                                        .map(str::to_owned)
                                })
                                .and_then(|l| l.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            (body.len() >= len).then_some(head.len() + 4 + len)
                        };
                        while done(&seen).is_none() {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => seen.extend_from_slice(&buf[..n]),
                            }
                        }
                        let used = done(&seen).unwrap_or(seen.len());
                        seen.drain(..used);
                        if socket.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, connections, task)
    }

    #[tokio::test]
    async fn deliveries_to_one_receiver_keep_one_connection_alive_even_with_a_body() {
        for reply in [
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n{\"ok\":true}\n",
        ] {
            let (url, connections, task) = counting_receiver(reply).await;
            let sender = Sender::new(AddressPolicy::new(true)).expect("client");
            let secret = Secret::from_bytes(vec![5; 24]);
            for _ in 0..5 {
                let outcome = sender.send(&url, &secret, &event(), 1).await;
                assert!(matches!(outcome, Attempt::Delivered { .. }), "{outcome:?}");
            }
            assert_eq!(
                connections.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "five deliveries over one kept-alive connection: {reply}"
            );
            task.abort();
        }
    }
}
