//! `--webhook ok|dead`: a webhook receiver on 127.0.0.1, registered with the
//! server before the run, so a run shows what delivering events costs the
//! writes. `ok` answers every delivery 204 at once; `dead` accepts the
//! connection, reads the request and never answers (each attempt then waits
//! for the server's 10 s timeout), the worst a receiver can do.

use crate::http::Endpoint;
use crate::remote;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReceiverKind {
    /// 204 to every delivery.
    Ok,
    /// Never answers.
    Dead,
}

/// A receiver serving until the run ends (it stops with the process).
pub(crate) struct Receiver {
    pub addr: SocketAddr,
    /// Requests it read.
    pub received: Arc<AtomicU64>,
}

impl Receiver {
    pub async fn start(kind: ReceiverKind) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, kind, Arc::clone(&counter)));
            }
        });
        Ok(Self { addr, received })
    }

    /// Registers it as a webhook of the project (every event type).
    pub async fn register(&self, endpoint: &Arc<Endpoint>, access: &str) -> anyhow::Result<()> {
        let client = remote::v2_client(endpoint, access)?;
        remote::register_webhook(&client, format!("http://{}/hook", self.addr)).await
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Reads requests off one connection (headers, then `content-length`
/// bytes) and answers each as `kind` says.
async fn serve(mut socket: TcpStream, kind: ReceiverKind, received: Arc<AtomicU64>) {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let Some(end) = find(&buffer, b"\r\n\r\n") else {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let length = content_length(&buffer[..end]).unwrap_or(0);
        let total = end + 4 + length;
        while buffer.len() < total {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.drain(..total);
        received.fetch_add(1, Ordering::Relaxed);
        match kind {
            ReceiverKind::Ok => {
                let answer = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";
                if socket.write_all(answer).await.is_err() {
                    return;
                }
            }
            ReceiverKind::Dead => {
                // Hold the connection open, answering nothing, until the
                // server gives up on it.
                while let Ok(n) = socket.read(&mut chunk).await {
                    if n == 0 {
                        return;
                    }
                }
                return;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_length_is_read_whatever_its_case() {
        assert_eq!(
            content_length(b"POST / HTTP/1.1\r\nContent-Length: 12\r\nHost: x"),
            Some(12)
        );
        assert_eq!(content_length(b"POST / HTTP/1.1\r\ncontent-length:3"), Some(3));
        assert_eq!(content_length(b"POST / HTTP/1.1\r\nHost: x"), None);
    }

    #[tokio::test]
    async fn an_ok_receiver_answers_each_request_and_counts_it() {
        let receiver = Receiver::start(ReceiverKind::Ok)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut socket = TcpStream::connect(receiver.addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..2 {
            socket
                .write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut answer = [0u8; 64];
            let n = socket.read(&mut answer).await.unwrap_or_else(|e| panic!("{e}"));
            assert!(answer[..n].starts_with(b"HTTP/1.1 204"));
        }
        assert_eq!(receiver.received(), 2);
    }
}
