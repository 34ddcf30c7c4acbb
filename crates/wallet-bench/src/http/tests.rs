//! The client's reading of answers: the head parsed alone, then whole
//! exchanges against a scripted server on a loopback port, with answers
//! split at awkward places, kept alive, closed or cut short.

use super::*;
use std::time::Duration;
use tokio::net::TcpListener;

#[test]
fn heads_parse() {
    let head = b"HTTP/1.1 201 Created\r\ncontent-length: 12\r\nContent-Type: x\r\n\r\n";
    assert_eq!(parse_head(head).ok(), Some((201, 12, false)));
    let head = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    assert_eq!(parse_head(head).ok(), Some((204, 0, true)));
    for bad in [
        &b"HTTP/1.1 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
    ] {
        assert!(parse_head(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn urls_parse() -> anyhow::Result<()> {
    let e = Endpoint::parse("http://127.0.0.1:8080/")?;
    assert_eq!((e.addr.as_str(), e.prefix.as_str()), ("127.0.0.1:8080", ""));
    let e = Endpoint::parse("http://wallet.local/ledger")?;
    assert_eq!(
        (e.addr.as_str(), e.prefix.as_str()),
        ("wallet.local:80", "/ledger")
    );
    assert!(Endpoint::parse("https://x").is_err());
    Ok(())
}

#[test]
fn a_local_url_names_the_loopback_port() -> anyhow::Result<()> {
    let e = Endpoint::parse("http://127.0.0.1:4321")?;
    assert_eq!(
        (e.addr.as_str(), e.host.as_str(), e.prefix.as_str()),
        ("127.0.0.1:4321", "127.0.0.1:4321", "")
    );
    Ok(())
}

#[test]
fn requests_carry_prefix_host_authorization_and_length() -> anyhow::Result<()> {
    let e = Endpoint::parse("http://wallet.local:8080/ledger/")?;
    let mut out = Vec::new();
    e.write_request(
        &mut out,
        "POST",
        "/api/v2/transactions",
        "Bearer k",
        Some(b"{\"a\":1}"),
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "POST /ledger/api/v2/transactions HTTP/1.1\r\nHost: wallet.local:8080\r\nAuthorization: Bearer k\r\n\
         Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
    );
    out.clear();
    e.write_request(&mut out, "GET", "/api/v2/wallets/3", "Bearer k", None);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "GET /ledger/api/v2/wallets/3 HTTP/1.1\r\nHost: wallet.local:8080\r\nAuthorization: Bearer k\r\n\r\n"
    );
    Ok(())
}

/// What the scripted server does with one connection: for each request it
/// reads, the next answer, written in the given pieces; then it closes.
type Script = Vec<Vec<&'static [u8]>>;

/// Serves one connection per script, in order, and stops listening once the
/// last is accepted: a client that dials more often than scripted is refused.
async fn scripted_server(connections: Vec<Script>) -> anyhow::Result<Arc<Endpoint>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = Arc::new(Endpoint::parse(&format!("http://{}", listener.local_addr()?))?);
    tokio::spawn(async move {
        let mut listener = Some(listener);
        let last = connections.len();
        for (n, script) in connections.into_iter().enumerate() {
            let Some(socket) = &listener else {
                return;
            };
            let Ok((mut stream, _)) = socket.accept().await else {
                return;
            };
            if n + 1 == last {
                listener = None;
            }
            for answer in script {
                if read_request(&mut stream).await.is_err() {
                    break;
                }
                for piece in answer {
                    if stream.write_all(piece).await.is_err() {
                        break;
                    }
                    // Separate segments, so the client sees partial reads.
                    let _ = stream.flush().await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        }
    });
    Ok(endpoint)
}

/// Reads one request (head and `Content-Length` body).
async fn read_request(stream: &mut TcpStream) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        anyhow::ensure!(stream.read_buf(&mut buf).await? > 0, "closed");
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(Ok(0), str::parse)?;
    while buf.len() < head_end + length {
        anyhow::ensure!(stream.read_buf(&mut buf).await? > 0, "closed");
    }
    Ok(())
}

fn get(endpoint: &Endpoint) -> Vec<u8> {
    let mut request = Vec::new();
    endpoint.write_request(&mut request, "GET", "/x", "Bearer k", None);
    request
}

#[tokio::test]
async fn answers_split_anywhere_are_read_whole_over_one_kept_alive_connection() -> anyhow::Result<()> {
    let endpoint = scripted_server(vec![vec![
        vec![
            b"HTTP/1.1 20",
            b"1 Created\r\nContent-Le",
            b"ngth: 11\r\n\r",
            b"\nhello ",
            b"world",
        ],
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
        vec![b"HTTP/1.1 204 No Content\r\n\r\n"],
    ]])
    .await?;
    let mut conn = Conn::new(Arc::clone(&endpoint));
    let request = get(&endpoint);
    let expected: [(u16, &[u8]); 3] = [(201, b"hello world"), (200, b"ok"), (204, b"")];
    for (status, body) in expected {
        // Only one connection is served: a second dial would be refused.
        let response = conn.roundtrip(&request).await?;
        assert_eq!((response.status, response.body), (status, body));
    }
    Ok(())
}

#[tokio::test]
async fn after_connection_close_the_next_request_dials_again() -> anyhow::Result<()> {
    let endpoint = scripted_server(vec![
        vec![vec![
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
        ]],
        vec![vec![b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb"]],
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"]],
    ])
    .await?;
    let mut conn = Conn::new(Arc::clone(&endpoint));
    let request = get(&endpoint);
    // The second answer is HTTP/1.0 without keep-alive: it closes too.
    for body in [b"a", b"b", b"c"] {
        let response = conn.roundtrip(&request).await?;
        assert_eq!(response.body, body);
    }
    Ok(())
}

#[tokio::test]
async fn an_answer_cut_short_is_an_error_and_the_connection_is_replaced() -> anyhow::Result<()> {
    let endpoint = scripted_server(vec![
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]],
        vec![vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        ]],
        vec![vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]],
    ])
    .await?;
    let mut conn = Conn::new(Arc::clone(&endpoint));
    let request = get(&endpoint);
    let cut = conn.roundtrip(&request).await.err();
    assert!(matches!(cut, Some(HttpError::Closed)), "{cut:?}");
    let chunked = conn.roundtrip(&request).await.err();
    assert!(matches!(chunked, Some(HttpError::Malformed(_))), "{chunked:?}");
    assert_eq!(chunked.map(|e| e.kind()), Some("unreadable response"));
    let response = conn.roundtrip(&request).await?;
    assert_eq!((response.status, response.body), (200, &b"ok"[..]));
    Ok(())
}

#[tokio::test]
async fn a_refused_connection_is_a_connection_error() -> anyhow::Result<()> {
    let endpoint = scripted_server(Vec::new()).await?;
    // The server's task drops its listener as soon as it runs.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut conn = Conn::new(Arc::clone(&endpoint));
    let error = conn.roundtrip(&get(&endpoint)).await.err();
    assert_eq!(error.map(|e| e.kind()), Some("connection error"));
    Ok(())
}
