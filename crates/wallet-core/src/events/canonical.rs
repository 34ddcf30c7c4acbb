//! Canonical JSON, the text an event's hash is taken over: keys sorted at
//! every level (by their UTF-8 bytes, which is code point order), no
//! whitespace between tokens, strings as UTF-8 with only the escapes JSON
//! requires (`\"`, `\\` and control characters), numbers exactly as written
//! (integers stay integers; an item's properties keep every digit).
//!
//! The input is JSON the server produced or accepted, parsed here by a
//! small recursive descent parser that keeps each number's text (a
//! `serde_json::Value` would round it).

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The text was not one JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON value")]
pub struct NotJson;

/// Deepest nesting accepted: above serde_json's own limit (128), so any
/// value the server accepted (API v1 item data up to 127 levels) still has
/// a canonical form as an event's data, a few levels further down.
const MAX_DEPTH: usize = 160;

/// `json` in canonical form.
pub fn canonical(json: &str) -> Result<String, NotJson> {
    let mut parser = Parser {
        bytes: json.as_bytes(),
        text: json,
        at: 0,
    };
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.at != parser.bytes.len() {
        return Err(NotJson);
    }
    let mut out = String::with_capacity(json.len());
    value.write(&mut out);
    Ok(out)
}

/// [`canonical`], as a raw JSON value.
pub fn canonical_raw(json: &str) -> Result<Box<RawValue>, NotJson> {
    RawValue::from_string(canonical(json)?).map_err(|_| NotJson)
}

/// Appends `s` as a JSON string with only the escapes JSON requires.
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

enum Value<'a> {
    /// `null`, `true`, `false` or a number: its text as written.
    Literal(&'a str),
    String(String),
    Array(Vec<Value<'a>>),
    /// Members by key; a key with a lone surrogate escape (no UTF-8 form)
    /// sorts by its text as written, and is written so.
    Object(BTreeMap<String, (Option<&'a str>, Value<'a>)>),
}

impl Value<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Value::Literal(text) => out.push_str(text),
            Value::String(s) => push_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (key, (written, value))) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match written {
                        Some(literal) => out.push_str(literal),
                        None => push_string(out, key),
                    }
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), NotJson> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(NotJson)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, NotJson> {
        if depth > MAX_DEPTH {
            return Err(NotJson);
        }
        self.skip_ws();
        match self.peek().ok_or(NotJson)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string_value(),
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(NotJson),
        }
    }

    fn word(&mut self, word: &'static str) -> Result<Value<'a>, NotJson> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(Value::Literal(word))
        } else {
            Err(NotJson)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value<'a>, NotJson> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(NotJson),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(NotJson);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(NotJson);
            }
        }
        Ok(Value::Literal(&self.text[start..self.at]))
    }

    /// A string value. One with a lone surrogate escape (`"\ud800"`, which
    /// item properties may hold: they are kept byte for byte) has no UTF-8
    /// form: it is kept as written, its escapes being the ones JSON needs.
    fn string_value(&mut self) -> Result<Value<'a>, NotJson> {
        let start = self.at;
        match self.string() {
            Ok(s) => Ok(Value::String(s)),
            Err(NotJson) => {
                let literal = self.text.get(start..self.at).ok_or(NotJson)?;
                if literal.len() >= 2 && literal.ends_with('"') && lone_surrogate(literal) {
                    Ok(Value::Literal(literal))
                } else {
                    Err(NotJson)
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, NotJson> {
        // The string's JSON text, decoded by serde_json (escapes, surrogate
        // pairs, and refusal of raw control characters).
        let start = self.at;
        self.expect(b'"')?;
        loop {
            match self.peek().ok_or(NotJson)? {
                b'"' => {
                    self.at += 1;
                    break;
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
        let literal = self.text.get(start..self.at).ok_or(NotJson)?;
        serde_json::from_str(literal).map_err(|_| NotJson)
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, NotJson> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(NotJson),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, NotJson> {
        self.expect(b'{')?;
        let mut members = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            let (key, written) = match self.string_value()? {
                Value::String(key) => (key, None),
                Value::Literal(literal) => (literal.to_owned(), Some(literal)),
                _ => return Err(NotJson),
            };
            self.skip_ws();
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            // A repeated key: the last one wins, as serde_json reads it.
            members.insert(key, (written, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(NotJson),
            }
        }
    }
}

/// Whether a string literal (escapes intact, raw control characters
/// refused) is JSON whose only fault for serde_json is a lone surrogate
/// escape: the same text with every `\\u` escape of a surrogate replaced
/// by a plain one decodes.
fn lone_surrogate(literal: &str) -> bool {
    let mut fixed = String::with_capacity(literal.len());
    let mut found = false;
    let mut rest = literal;
    while let Some(i) = rest.find('\\') {
        fixed.push_str(&rest[..i]);
        let escape = &rest[i..];
        let is_surrogate = escape.len() >= 6
            && escape.as_bytes()[1] == b'u'
            && escape
                .get(2..6)
                .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                .is_some_and(|u| (0xd800..0xe000).contains(&u));
        if is_surrogate {
            fixed.push_str("\\u0020");
            found = true;
            rest = &escape[6..];
        } else {
            let end = escape.char_indices().nth(2).map_or(escape.len(), |(j, _)| j);
            fixed.push_str(&escape[..end]);
            rest = &escape[end..];
        }
    }
    fixed.push_str(rest);
    found && serde_json::from_str::<String>(&fixed).is_ok()
}
