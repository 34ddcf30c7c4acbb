//! A minimal HTTP/1.1 client: one keep-alive connection per benchmark
//! client, requests written as prepared bytes, responses read by
//! `Content-Length`.
//!
//! The load generator shares two cores with the server it measures, so every
//! cycle it spends is taken from the server. A general client (connection
//! pools, header maps, body streams) costs several times what this does; the
//! server under test answers only sized bodies, which is all this reads.

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the server is: the socket address to dial, the `Host` header, and a
/// path prefix (for a server behind a proxy path).
#[derive(Debug, Clone)]
pub(super) struct Endpoint {
    pub addr: String,
    pub host: String,
    pub prefix: String,
}

impl Endpoint {
    /// `http://host:port[/prefix]`. HTTPS is not supported: measure the
    /// server, not a TLS terminator.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .trim()
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("--url must start with http:// (got {url:?})"))?;
        let (host, prefix) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        anyhow::ensure!(!host.is_empty(), "--url needs a host");
        let addr = if host.contains(':') {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        Ok(Self {
            addr,
            host: host.to_owned(),
            prefix,
        })
    }

    /// Appends a whole request to `out`. `authorization` is the header's
    /// full value; a body is always JSON.
    pub fn write_request(
        &self,
        out: &mut Vec<u8>,
        method: &str,
        path: &str,
        authorization: &str,
        body: Option<&[u8]>,
    ) {
        use std::io::Write;
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {authorization}\r\n",
            self.prefix, self.host
        );
        match body {
            Some(body) => {
                let _ = write!(
                    out,
                    "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                out.extend_from_slice(body);
            }
            None => out.extend_from_slice(b"\r\n"),
        }
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum HttpError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("unreadable response: {0}")]
    Malformed(&'static str),
}

impl HttpError {
    /// A short label for the error table.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Io(_) => "connection error",
            HttpError::Closed => "connection closed",
            HttpError::Malformed(_) => "unreadable response",
        }
    }
}

/// An answer; the body borrows the connection's buffer.
pub(super) struct Response<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// One keep-alive connection, (re)opened on demand.
pub(super) struct Conn {
    endpoint: Arc<Endpoint>,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(endpoint: Arc<Endpoint>) -> Self {
        Self {
            endpoint,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends one request and reads its response. After any error the
    /// connection is dropped and the next call dials again.
    pub async fn roundtrip(&mut self, request: &[u8]) -> Result<Response<'_>, HttpError> {
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(&self.endpoint.addr).await?;
                stream.set_nodelay(true)?;
                stream
            }
        };
        stream.write_all(request).await?;
        let head = read_response(&mut stream, &mut self.buf).await?;
        if !head.close {
            self.stream = Some(stream);
        }
        Ok(Response {
            status: head.status,
            body: &self.buf[head.body_start..head.body_end],
        })
    }
}

struct Head {
    status: u16,
    body_start: usize,
    body_end: usize,
    close: bool,
}

async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Head, HttpError> {
    buf.clear();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        fill(stream, buf).await?;
    };
    let (status, length, close) = parse_head(&buf[..head_end])?;
    let body_end = head_end + length;
    while buf.len() < body_end {
        fill(stream, buf).await?;
    }
    Ok(Head {
        status,
        body_start: head_end,
        body_end,
        close,
    })
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), HttpError> {
    buf.reserve(16 * 1024);
    if stream.read_buf(buf).await? == 0 {
        return Err(HttpError::Closed);
    }
    Ok(())
}

/// Status, body length and whether the server will close the connection.
fn parse_head(head: &[u8]) -> Result<(u16, usize, bool), HttpError> {
    let text = std::str::from_utf8(head).map_err(|_| HttpError::Malformed("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or(HttpError::Malformed("no status line"))?;
    let mut length = None;
    let mut close = status_line.starts_with("HTTP/1.0");
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| HttpError::Malformed("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::Malformed("chunked bodies are not supported"));
        }
    }
    // Only 1xx, 204 and 304 may come without a length; none carry a body.
    let length = match (length, status) {
        (Some(n), _) => n,
        (None, 100..=199 | 204 | 304) => 0,
        (None, _) => return Err(HttpError::Malformed("no Content-Length")),
    };
    Ok((status, length, close))
}

#[cfg(test)]
mod tests;
