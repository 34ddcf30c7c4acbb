//! The patterns of the OpenAPI document that Unicode categories define.
//!
//! A text id (customer, reference, hold and item ids) may not hold a
//! control, invisible format or line/paragraph separator character
//! (`wallet_core::text::is_hidden_char`). The annotations say so in the
//! readable `\p{..}` notation ([`HIDDEN`]); the served document lists the
//! same characters as explicit ranges instead, computed from the very
//! predicate the server applies, because common consumers of the document
//! have no `\p{..}` (Python's `re`, which schemathesis generates data with;
//! ECMA-262 regular expressions without the `u` flag).

use wallet_core::events::EventType;
use wallet_core::text::is_hidden_char;

/// The class of characters a text id may hold, as the annotations write it.
pub const HIDDEN: &str = r"[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]";

/// Where a pattern takes one event type's name (`types` filters): a
/// placeholder, replaced by [`event_type`] so the list is never a copy.
pub const EVENT_TYPE: &str = r"\{EventType\}";

/// Any one event type's name, as a regex group.
pub fn event_type() -> String {
    let names: Vec<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str().replace('.', r"\."))
        .collect();
    format!("(?:{})", names.join("|"))
}

/// [`HIDDEN`] as explicit ranges: BMP code points as `\uXXXX` escapes (read
/// alike by ECMA-262, Python and Rust regexes), the few beyond the BMP as
/// the characters themselves (an escape for those differs in every dialect).
pub fn hidden_class() -> String {
    let mut ranges: Vec<(char, char)> = Vec::new();
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if !is_hidden_char(c) {
            continue;
        }
        match ranges.last_mut() {
            Some((_, end)) if u32::from(*end) + 1 == u32::from(c) => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    let one = |c: char| match u32::from(c) {
        code @ 0..=0xFFFF => format!("\\u{code:04X}"),
        _ => c.to_string(),
    };
    let mut class = String::from("[^");
    for (start, end) in ranges {
        class.push_str(&one(start));
        if end != start {
            class.push('-');
            class.push_str(&one(end));
        }
    }
    class.push(']');
    class
}

/// The document's JSON text with every [`HIDDEN`] replaced by
/// [`hidden_class`] and every [`EVENT_TYPE`] by [`event_type`] (all as they
/// are spelled inside a JSON string).
pub fn expand(document: &str) -> String {
    let json_text = |s: &str| {
        let quoted = serde_json::Value::String(s.to_owned()).to_string();
        quoted[1..quoted.len() - 1].to_owned()
    };
    document
        .replace(&json_text(HIDDEN), &json_text(&hidden_class()))
        .replace(&json_text(EVENT_TYPE), &json_text(&event_type()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_lists_what_the_server_refuses() {
        let class = hidden_class();
        for listed in [
            r"\u0000-\u001F",
            r"\u007F-\u009F",
            r"\u00AD",
            r"\u200B-\u200F",
            r"\u2028-\u202E",
            r"\uFEFF",
        ] {
            assert!(class.contains(listed), "{listed} missing from {class}");
        }
        assert!(
            class.contains('\u{E0001}'),
            "tag characters beyond the BMP: {class}"
        );
        assert!(!class.contains(r"\u0041"), "{class}");
    }

    #[test]
    fn expand_rewrites_the_notation_inside_json_text() {
        let doc = serde_json::json!({"pattern": format!("^{HIDDEN}*$"), "types": format!("^{EVENT_TYPE}$")})
            .to_string();
        let expanded: serde_json::Value = serde_json::from_str(&expand(&doc)).unwrap_or_default();
        assert_eq!(expanded["pattern"], format!("^{}*$", hidden_class()));
        assert_eq!(expanded["types"], format!("^{}$", event_type()));
        assert!(
            event_type().contains(r"|transaction\.failed|"),
            "{}",
            event_type()
        );
    }
}
