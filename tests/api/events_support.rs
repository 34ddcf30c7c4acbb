//! What the events and webhooks tests share: a webhook receiver on
//! 127.0.0.1 whose answers a test scripts, an SSE reader, a feed reader,
//! and waiting (bounded, never timed) for a condition.
#![allow(dead_code)] // each module uses a part

use crate::app::TestApp;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long any wait of these tests may take before it fails: generous, a
/// bound on a hang, not a measure.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `check` until it gives `Some`, every 20 ms, for at most
/// [`PATIENCE`]; panics with `what` after.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// A redirect to this URL.
    Redirect(&'static str),
    /// Never answers (the connection is held open).
    Hang,
}

/// One request the receiver read.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub answered: Answer,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    pub fn seq(&self) -> i64 {
        self.event()["seq"].as_i64().expect("seq")
    }
}

type Script = Arc<dyn Fn(usize) -> Answer + Send + Sync>;

/// A webhook receiver on 127.0.0.1: answers the `n`th request (from 0) as
/// `script(n)` says, and keeps every request.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start(script: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Arc::new(script)));
        let (seen, answers) = (Arc::clone(&received), Arc::clone(&script));
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (seen, answers) = (Arc::clone(&seen), Arc::clone(&answers));
                tokio::spawn(serve(socket, seen, answers));
            }
        });
        Receiver {
            url,
            received,
            script,
            task,
        }
    }

    /// Answers every request the same way.
    pub async fn always(answer: Answer) -> Receiver {
        Self::start(move |_| answer).await
    }

    /// Answers as `script` says from now on.
    pub fn rescript(&self, script: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Arc::new(script);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests it answered 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| matches!(r.answered, Answer::Status(s) if (200..300).contains(&s)))
            .collect()
    }
}

/// Serves one connection: requests one after another (keep-alive).
async fn serve(
    mut socket: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
) {
    let mut buf = Vec::new();
    loop {
        let Some((headers, body)) = read_request(&mut socket, &mut buf).await else {
            return;
        };
        let answer = {
            let mut seen = seen.lock().unwrap();
            let n = seen.len();
            let script = Arc::clone(&script.lock().unwrap());
            let answer = script(n);
            seen.push(Received {
                headers,
                body,
                answered: answer,
            });
            answer
        };
        let reply = match answer {
            Answer::Status(status) => format!("HTTP/1.1 {status} Whatever\r\ncontent-length: 2\r\n\r\nok"),
            Answer::Redirect(to) => {
                format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n\r\n")
            }
            Answer::Hang => {
                // Holds the connection until the sender gives up.
                let mut sink = [0u8; 1024];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        };
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn read_request(
    socket: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(Vec<(String, String)>, String)> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let headers: Vec<(String, String)> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = socket.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
            buf.drain(..end + 4 + len);
            return Some((headers, body));
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One SSE frame: `id`, `event`, `data` (parsed).
#[derive(Debug, Clone)]
pub struct Frame {
    pub id: i64,
    pub kind: String,
    pub data: Value,
}

/// Reads an SSE response frame by frame, skipping comments.
pub struct Sse {
    response: reqwest::Response,
    buf: String,
}

impl Sse {
    /// Opens `GET /api/v2/events/stream{query}` with `key` and
    /// `Last-Event-ID` if given.
    pub async fn open(app: &TestApp, key: &str, query: &str, last_event_id: Option<&str>) -> Sse {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v2/events/stream{query}")))
            .bearer_auth(key);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        Self::from_response(request.send().await.unwrap()).await
    }

    /// Opens the admin page's live feed of `project`
    /// (`GET /admin/api/projects/{project}/events/stream{query}`) with the
    /// session `cookie`.
    pub async fn admin(app: &TestApp, cookie: &str, project: &str, query: &str) -> Sse {
        let url = app.url(&format!("/admin/api/projects/{project}/events/stream{query}"));
        Self::from_response(app.client.get(url).header("Cookie", cookie).send().await.unwrap()).await
    }

    /// Reads an opened stream: past its first comment.
    async fn from_response(response: reqwest::Response) -> Sse {
        assert_eq!(response.status().as_u16(), 200, "the stream opens");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut sse = Sse {
            response,
            buf: String::new(),
        };
        // The first comment: the stream is open (and subscribed) now.
        sse.fill_until(|b| b.contains("\n\n")).await;
        assert!(sse.buf.starts_with(':'), "a comment first: {:?}", sse.buf);
        let end = sse.buf.find("\n\n").unwrap();
        sse.buf.drain(..end + 2);
        sse
    }

    async fn fill_until(&mut self, done: impl Fn(&str) -> bool) {
        while !done(&self.buf) {
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream sent nothing for a minute")
                .expect("the stream reads")
                .expect("the stream did not end");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Reads until the stream ends (the server closed it); `true` then.
    pub async fn ends(&mut self) -> bool {
        loop {
            match tokio::time::timeout(PATIENCE, self.response.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None) | Err(_)) => return true,
            }
        }
    }

    /// The next event frame.
    pub async fn next(&mut self) -> Frame {
        loop {
            self.fill_until(|b| b.contains("\n\n")).await;
            let end = self.buf.find("\n\n").unwrap();
            let block: String = self.buf.drain(..end + 2).collect();
            if block.starts_with(':') {
                continue;
            }
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_else(|| panic!("no {name} in {block:?}"))
                    .to_owned()
            };
            return Frame {
                id: field("id").parse().unwrap(),
                kind: field("event"),
                data: serde_json::from_str(&field("data")).unwrap(),
            };
        }
    }
}

/// Every event of the project after `after`, through `GET /events`.
pub async fn feed_all(app: &TestApp, key: &str, mut after: i64) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let (status, page) = app
            .v2(
                "GET",
                &format!("/events?after={after}&limit=1000"),
                Some(key),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().unwrap().clone();
        let next = page["next"].as_i64().unwrap();
        if events.is_empty() {
            assert_eq!(next, after);
            return all;
        }
        after = next;
        all.extend(events);
    }
}

/// The `seq` of the project's last event.
pub async fn head(app: &TestApp, key: &str) -> i64 {
    feed_all(app, key, 0)
        .await
        .last()
        .map_or(0, |e| e["seq"].as_i64().unwrap())
}

/// A customer key of `customer`.
pub async fn customer_key(app: &TestApp, key: &str, customer: &str) -> String {
    let (status, minted) = app
        .v2(
            "POST",
            &format!("/customers/{customer}/keys"),
            Some(key),
            Some(&serde_json::json!({})),
        )
        .await;
    assert_eq!(status, 201, "{minted}");
    minted["token"].as_str().unwrap().to_owned()
}
