//! A Server-Sent Events parser: bytes in, messages out, across any chunk
//! boundaries. Lines end with `\n` or `\r\n` (what the server writes).

/// One dispatched message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Default)]
pub(crate) struct Parser {
    line: Vec<u8>,
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// The messages `bytes` completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if let Some(message) = self.line_done(&String::from_utf8_lossy(&line)) {
                    out.push(message);
                }
            } else {
                self.line.push(b);
            }
        }
        out
    }

    fn line_done(&mut self, line: &str) -> Option<Message> {
        if line.is_empty() {
            // A blank line dispatches what was gathered (nothing for a
            // message without data, as the SSE spec says).
            let event = self.event.take();
            let id = self.id.take();
            return self.data.take().map(|data| Message { id, event, data });
        }
        if line.starts_with(':') {
            return None; // a comment: the keep-alive
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => self.id = Some(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = ": keep-alive\n\nid: 18\nevent: transaction.completed\ndata: {\"seq\":18}\n\n\
                          id:19\r\nevent:wallet.balance_changed\r\ndata:{\"seq\":19}\r\n\r\n\
                          data: a\ndata: b\nretry: 5\n\n";

    fn expected() -> Vec<Message> {
        vec![
            Message {
                id: Some("18".into()),
                event: Some("transaction.completed".into()),
                data: "{\"seq\":18}".into(),
            },
            Message {
                id: Some("19".into()),
                event: Some("wallet.balance_changed".into()),
                data: "{\"seq\":19}".into(),
            },
            Message {
                id: None,
                event: None,
                data: "a\nb".into(),
            },
        ]
    }

    #[test]
    fn messages_are_parsed_in_one_chunk() {
        assert_eq!(Parser::default().feed(STREAM.as_bytes()), expected());
    }

    #[test]
    fn any_chunk_boundary_gives_the_same_messages() {
        let bytes = STREAM.as_bytes();
        for size in 1..bytes.len() {
            let mut parser = Parser::default();
            let got: Vec<Message> = bytes.chunks(size).flat_map(|c| parser.feed(c)).collect();
            assert_eq!(got, expected(), "chunks of {size}");
        }
    }

    #[test]
    fn an_unfinished_message_is_not_dispatched() {
        assert_eq!(Parser::default().feed(b"id: 1\ndata: {}\n"), vec![]);
    }
}
