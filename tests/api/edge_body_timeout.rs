//! A request body must arrive within `body_timeout` of its head: a client
//! that sends a head and then stops, or trickles the body, gets a 408 in the
//! API's error shape and its connection closed, instead of holding it (and,
//! on the unauthenticated login, a slot anyone can take) forever (issue 9,
//! item 3).

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wallet_testkit::app::v2::ctx;
use wallet_testkit::app::{spawn_app_with, TestApp};

const TIMEOUT: Duration = Duration::from_millis(500);
/// Far more than TIMEOUT: a request still open then was never cut off.
const PATIENCE: Duration = Duration::from_secs(6);

/// How a client sends (part of) its body after the head.
#[derive(Debug, Clone, Copy)]
enum Sending {
    /// Half the body, then nothing more.
    Stops,
    /// One byte every 100 ms: the whole would take far longer than TIMEOUT.
    Trickles,
}

struct Answer {
    status: u16,
    closes: bool,
    body: Value,
    /// Until the first byte of the answer.
    elapsed: Duration,
}

fn port(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends the head of `method path` announcing `body`, then sends the body as
/// `sending` says, and reads the answer until the server closes.
async fn slow_request(
    app: &TestApp,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
    sending: Sending,
) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port(app))).await.unwrap();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let start = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let bytes = body.as_bytes().to_vec();
    let writer = tokio::spawn(async move {
        match sending {
            Sending::Stops => {
                let _ = write.write_all(&bytes[..bytes.len() / 2]).await;
                tokio::time::sleep(PATIENCE * 2).await;
            }
            Sending::Trickles => {
                for b in &bytes[..bytes.len() - 1] {
                    if write.write_all(&[*b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        drop(write);
    });
    // The time to the answer; closing may take actix's linger (about 1 s) more.
    let mut raw = vec![0u8; 1];
    let first = tokio::time::timeout(PATIENCE, read.read_exact(&mut raw)).await;
    let elapsed = start.elapsed();
    let case = format!("{method} {path} ({sending:?})");
    assert!(
        first.is_ok(),
        "{case}: no answer after {PATIENCE:?}: the server waits for the body forever"
    );
    if !matches!(first, Ok(Ok(_))) {
        raw.clear();
    }
    let read_all = tokio::time::timeout(PATIENCE, read.read_to_end(&mut raw)).await;
    writer.abort();
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(
        read_all.is_ok(),
        "{case}: the server still held the connection {PATIENCE:?} after answering: {text:?}"
    );
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let closes = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "connection:close");
    Answer {
        status,
        closes,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
        elapsed,
    }
}

#[tokio::test]
async fn a_body_that_stops_or_trickles_gets_408_and_the_connection_closed() {
    let app = spawn_app_with(|s| s.body_timeout = TIMEOUT).await;
    let authority = app.create_authority("default").await;
    let c = ctx(&app, "default").await;
    let wallet = c.customer_wallet(&app, "holder").await;
    let bearer = format!("Bearer {}", c.key);
    let padding = "x".repeat(40);
    // (method, path, Authorization, body, v2 error shape?)
    let cases: Vec<(&str, String, Option<&str>, String, bool)> = vec![
        (
            "POST",
            "/admin/api/login".into(),
            None,
            json!({ "username": "admin", "password": padding }).to_string(),
            false,
        ),
        (
            "POST",
            "/api/v1/entry".into(),
            Some(authority.token.as_str()),
            json!({ "user_id": "holder", "amount": 1, "reason": padding }).to_string(),
            false,
        ),
        (
            "POST",
            "/api/v2/customers".into(),
            Some(bearer.as_str()),
            json!({ "id": "late", "name": padding }).to_string(),
            true,
        ),
        (
            // A `web::Bytes` body.
            "POST",
            "/api/v2/customers/holder/keys".into(),
            Some(bearer.as_str()),
            format!("{{\"expiresAt\": null {padding:>40}}}"),
            true,
        ),
        (
            // A `web::Json<Value>` body.
            "PUT",
            format!("/api/v2/wallets/{wallet}/status"),
            Some(bearer.as_str()),
            format!("{{\"status\": \"Suspended\" {padding:>40}}}"),
            true,
        ),
    ];
    let before = app.check().await;
    let mut failures = Vec::new();
    for (method, path, auth, body, v2) in &cases {
        for sending in [Sending::Stops, Sending::Trickles] {
            let answer = slow_request(&app, method, path, *auth, body, sending).await;
            let shape_ok = if *v2 {
                answer.body["status"] == "VALIDATION_ERROR" && answer.body["message"].is_string()
            } else {
                answer.body["error"].is_string()
            };
            if answer.status != 408 || !answer.closes || !shape_ok || answer.elapsed > TIMEOUT * 6 {
                failures.push(format!(
                    "{method} {path} ({sending:?}): expected 408 + Connection: close in the API's \
                     error shape soon after {TIMEOUT:?}; got {} close={} in {:?}: {}",
                    answer.status, answer.closes, answer.elapsed, answer.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let after = app.check().await;
    assert_eq!(
        (after.entries, after.transactions, after.wallets),
        (before.entries, before.transactions, before.wallets),
        "a cut-off request changed nothing"
    );
    assert_eq!(c.wallet_of(&app, &wallet).await["status"], "Open");
}

#[tokio::test]
async fn a_body_that_arrives_in_time_is_served_however_it_is_split() {
    let app = spawn_app_with(|s| s.body_timeout = TIMEOUT).await;
    let c = ctx(&app, "default").await;
    let body = json!({ "id": "punctual" }).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port(&app))).await.unwrap();
    let head = format!(
        "POST /api/v2/customers HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        c.key,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(TIMEOUT / 3).await;
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut raw))
        .await
        .expect("answered")
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
}
