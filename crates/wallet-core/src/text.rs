//! Identifiers and bounded texts chosen by clients.

/// Why a client value was refused. The message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
use std::fmt;

/// 1 to `max` characters of `A-Z a-z 0-9 _ -`: ids that go into URLs and
/// logs unescaped.
fn slug(value: &str, max: usize, what: &str) -> Result<String, InvalidValue> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if value.is_empty() || value.len() > max || !ok_chars {
        return Err(InvalidValue::new(format!(
            "{what} must be 1-{max} characters of A-Z, a-z, 0-9, '_' or '-'"
        )));
    }
    Ok(value.to_owned())
}

/// Whether a text id holds a character it may not: a control (Unicode
/// category Cc), an invisible format character (Cf: zero-width space and
/// joiners, the bidi overrides and isolates, the byte-order mark, the soft
/// hyphen, tag characters) or a line or paragraph separator (Zl, Zp).
///
/// Two ids that print the same must be the same id, and an id must neither
/// hide nor reorder the text around it where it is shown (logs, the admin
/// page, a client's UI). The categories come from `unicode-properties`
/// (Unicode's own tables, kept current by the unicode-rs project) rather than
/// a hand list that would miss the next format character. Zero-width joiners
/// are refused too, though some scripts and emoji sequences use them: an id
/// is a key, not a display name (names and descriptions keep them).
fn has_hidden_chars(s: &str) -> bool {
    s.chars().any(is_hidden_char)
}

/// Whether a text id may not hold this character (see [`has_hidden_chars`]).
/// Public so the OpenAPI document can list the same characters.
pub fn is_hidden_char(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// 1 to `max` characters without hidden characters ([`has_hidden_chars`]):
/// ids a caller chooses (customer, reference, hold and item ids).
fn text_id(value: &str, max: usize, what: &str) -> Result<String, InvalidValue> {
    if value.is_empty() || value.chars().count() > max || has_hidden_chars(value) {
        return Err(InvalidValue::new(format!(
            "{what} must be 1-{max} characters without control or invisible formatting characters"
        )));
    }
    Ok(value.to_owned())
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A project id: 1–30 characters of `A-Z a-z 0-9 _ -`.
    ProjectId
);

impl ProjectId {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        slug(value, 30, "project id").map(Self)
    }

    /// The project every fresh database has, and the one API v1 authorities
    /// are created in unless told otherwise.
    pub fn default_project() -> Self {
        Self("default".to_owned())
    }
}

string_newtype!(
    /// A customer id chosen by the caller (API v1's `user_id`): 1–64 characters
    /// without control, invisible format or line-separator characters
    /// (`has_hidden_chars`). 64, not 30, so UUIDs (36) fit: they are the
    /// most common user ids and the SDK puts no limit on them.
    CustomerId
);

impl CustomerId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        text_id(value, Self::MAX_LEN, "user id").map(Self)
    }
}

string_newtype!(
    /// A public identifier the server generated or a client quotes back
    /// (authority ids, entry ids): 1–30 characters of `A-Z a-z 0-9 _ -`.
    PublicId
);

impl PublicId {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        slug(value, 30, "id").map(Self)
    }

    /// A fresh random id: a prefix and 20 base-32 characters (100 bits).
    pub fn random(prefix: &str) -> Self {
        Self(format!("{prefix}{}", random_base32(20)))
    }
}

string_newtype!(
    /// An asset code: 1–16 characters of `A-Z a-z 0-9 _ -` (e.g. `GOLD`, `EUR`).
    AssetCode
);

impl AssetCode {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        slug(value, 16, "asset code").map(Self)
    }
}

string_newtype!(
    /// A transaction's reference id, unique per project: 1–30 characters
    /// without control, invisible format or line-separator characters.
    ReferenceId
);

impl ReferenceId {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        text_id(value, 30, "referenceId").map(Self)
    }
}

string_newtype!(
    /// A hold's id, unique in its project: chosen by the caller (`holdId`,
    /// 1–30 characters without control, invisible format or line-separator
    /// characters) or made by the server (`hd_` and 20 random characters).
    HoldId
);

impl HoldId {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        text_id(value, 30, "holdId").map(Self)
    }

    /// A fresh id for a hold the caller did not name (100 random bits).
    pub fn random() -> Self {
        Self(format!("hd_{}", random_base32(20)))
    }
}

string_newtype!(
    /// An item's id, unique in its project: chosen by the caller (`itemId`,
    /// 1–64 characters without control, invisible format or line-separator
    /// characters) or made by the server (`it_` and 20 random characters).
    ItemId
);

impl ItemId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        text_id(value, Self::MAX_LEN, "itemId").map(Self)
    }

    /// A fresh id for an item the caller did not name (100 random bits).
    pub fn random() -> Self {
        Self(format!("it_{}", random_base32(20)))
    }
}

string_newtype!(
    /// What kind of thing an item is (`"sword"`): 1–64 characters without
    /// control characters through API v2. An item granted through API v1
    /// takes its item name, which may be up to 200 characters.
    ItemType
);

impl ItemType {
    pub const MAX_LEN: usize = 64;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.is_empty() || value.chars().count() > Self::MAX_LEN || has_control_chars(value) {
            return Err(InvalidValue::new(format!(
                "itemType must be 1-{} characters without control characters",
                Self::MAX_LEN
            )));
        }
        Ok(Self(value.to_owned()))
    }

    /// The type of an item granted with an API v1 entry: its name.
    pub fn of_v1_item(name: &ItemName) -> Self {
        Self(name.as_str().to_owned())
    }
}

/// An item's properties: one JSON value, kept as the exact text the client
/// sent (numbers keep every digit; nothing goes through a float). At most
/// [`ItemProperties::MAX_BYTES`] through API v2; API v1's item data keeps
/// the request body's own limit.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ItemProperties(String);

impl ItemProperties {
    /// 16 KiB of JSON text.
    pub const MAX_BYTES: usize = 16 * 1024;
    /// Arrays and objects in arrays and objects: `[[1]]` is 2 deep.
    pub const MAX_DEPTH: usize = 64;

    /// Properties given through API v2: valid JSON of at most 16 KiB,
    /// nested at most [`ItemProperties::MAX_DEPTH`] levels deep. Without a
    /// depth limit a value of a few KiB could nest thousands deep: stored,
    /// it would fail every reader that parses JSON with a nesting limit
    /// (serde_json's is 128, and the value sits a few levels down in every
    /// reply).
    pub fn parse(json: &str) -> Result<Self, InvalidValue> {
        if json.len() > Self::MAX_BYTES {
            return Err(InvalidValue::new(format!(
                "properties must be at most {} bytes of JSON",
                Self::MAX_BYTES
            )));
        }
        let too_deep = || {
            InvalidValue::new(format!(
                "properties must be one JSON value nested at most {} levels deep",
                Self::MAX_DEPTH
            ))
        };
        let properties = Self::parse_unbounded(json)?;
        if depth(json) > Self::MAX_DEPTH {
            return Err(too_deep());
        }
        Ok(properties)
    }

    /// Valid JSON of any size (API v1's item data, rows read back).
    pub fn parse_unbounded(json: &str) -> Result<Self, InvalidValue> {
        serde_json::from_str::<serde::de::IgnoredAny>(json)
            .map_err(|_| InvalidValue::new("properties must be one JSON value"))?;
        Ok(Self(json.trim().to_owned()))
    }

    /// The JSON text, exactly as kept.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How many arrays and objects deep valid JSON text nests (a scalar: 0),
/// counted on the text: a parsed value would refuse what JSON allows and
/// a float cannot hold (`1e400`), and the properties are kept as text.
fn depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl serde::Serialize for ItemProperties {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let raw = serde_json::value::RawValue::from_string(self.0.clone()).map_err(S::Error::custom)?;
        raw.serialize(s)
    }
}

/// Properties as a reply shows them, kept as their exact text (a client
/// reads back what the server stored; no limit is checked, the server's
/// values are its own).
impl<'de> serde::Deserialize<'de> for ItemProperties {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        Ok(Self(raw.get().to_owned()))
    }
}

/// `len` characters of a 32-letter alphabet (5 random bits each) from the
/// operating system's generator, without look-alike letters.
pub fn random_base32(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Free text with a length limit and no control characters other than
/// newlines and tabs (names, descriptions, reasons).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Text(String);

impl Text {
    pub fn parse(value: &str, what: &str, max_chars: usize) -> Result<Self, InvalidValue> {
        let bad_control = value.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
        if value.chars().count() > max_chars || bad_control {
            return Err(InvalidValue::new(format!(
                "{what} must be at most {max_chars} characters without control characters"
            )));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Why an entry was posted (API v1 `reason`): at most 1,000 characters.
pub type Reason = Text;

/// The name of an inventory item: 1–200 characters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ItemName(String);

impl ItemName {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.is_empty() || value.chars().count() > 200 || has_control_chars(value) {
            return Err(InvalidValue::new(
                "item name must be 1-200 characters without control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_refuse_bad_values() {
        let (max, over) = ("x".repeat(30), "x".repeat(31));
        let cases: &[(&str, bool)] = &[
            ("", false),
            ("a", true),
            ("default", true),
            ("has space", false),
            ("ünïcode", false),
            (max.as_str(), true),
            (over.as_str(), false),
        ];
        for (value, ok) in cases {
            assert_eq!(ProjectId::parse(value).is_ok(), *ok, "project id {value:?}");
            assert_eq!(PublicId::parse(value).is_ok(), *ok, "public id {value:?}");
        }
    }

    #[test]
    fn customer_ids_take_uuids_and_unicode_but_not_control_chars() {
        assert!(CustomerId::parse("0b8e1f8e-5d7c-4b8a-9d55-3c7f0e9a1b2c").is_ok());
        assert!(CustomerId::parse("bobcats9").is_ok());
        assert!(CustomerId::parse("jöhn").is_ok());
        assert!(CustomerId::parse("").is_err());
        assert!(CustomerId::parse("a\nb").is_err());
        assert!(CustomerId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn text_ids_refuse_invisible_format_and_separator_characters() {
        let hidden = [
            '\u{0}',
            '\u{7}',
            '\u{85}',
            '\u{AD}',
            '\u{600}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{202A}',
            '\u{202E}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{E0001}',
            '\u{E0041}',
        ];
        for c in hidden {
            let id = format!("a{c}b");
            assert!(CustomerId::parse(&id).is_err(), "customer id {id:?}");
            assert!(ReferenceId::parse(&id).is_err(), "reference id {id:?}");
        }
        for id in ["a b", "a\u{A0}b", "jöhn", "ユーザー", "😀", "a.b@c"] {
            assert!(CustomerId::parse(id).is_ok(), "customer id {id:?}");
            assert!(ReferenceId::parse(id).is_ok(), "reference id {id:?}");
        }
    }

    #[test]
    fn item_properties_through_api_v2_are_bounded_in_size_and_depth() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // A few KiB may nest thousands deep: refused when sent, not stored
        // for every later reader to fail on.
        assert!(ItemProperties::parse(&nested(ItemProperties::MAX_DEPTH)).is_ok());
        assert!(ItemProperties::parse(&nested(ItemProperties::MAX_DEPTH + 1)).is_err());
        assert!(ItemProperties::parse(&format!(r#"{{"a": {}}}"#, nested(63))).is_ok());
        assert!(ItemProperties::parse(&format!(r#"{{"a": {}}}"#, nested(64))).is_err());
        assert!(ItemProperties::parse(&nested(4000)).is_err());
        let string_of = |bytes: usize| format!("\"{}\"", "a".repeat(bytes - 2));
        assert!(ItemProperties::parse(&string_of(ItemProperties::MAX_BYTES)).is_ok());
        assert!(ItemProperties::parse(&string_of(ItemProperties::MAX_BYTES + 1)).is_err());
        let exact = r#"{"n": 123456789012345678901234567890, "f": 1.50}"#;
        assert_eq!(
            ItemProperties::parse(exact)
                .map(ItemProperties::into_inner)
                .ok()
                .as_deref(),
            Some(exact)
        );
        for bad in ["", "{", "1 2", "nul"] {
            assert!(ItemProperties::parse(bad).is_err(), "{bad:?}");
        }
        // Valid JSON a float cannot hold is kept as sent; brackets inside
        // strings (escaped quotes too) are text, not depth.
        for good in [
            r#"{"atk":1e400}"#,
            r#"-1E-400"#,
            &format!(r#"{{"s":"{}"}}"#, "[".repeat(100)),
            &format!(r#"{{"s":"\"{}"}}"#, "{".repeat(100)),
        ] {
            assert_eq!(
                ItemProperties::parse(good)
                    .map(ItemProperties::into_inner)
                    .ok()
                    .as_deref(),
                Some(good),
                "{good}"
            );
        }
    }

    #[test]
    fn random_public_ids_parse_and_differ() {
        let a = PublicId::random("au_");
        let b = PublicId::random("au_");
        assert_ne!(a, b);
        assert!(PublicId::parse(a.as_str()).is_ok());
    }

    proptest! {
        #[test]
        fn customer_id_parse_never_panics_and_roundtrips(s in ".{0,80}") {
            if let Ok(id) = CustomerId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert!(!id.as_str().is_empty());
            }
        }

        #[test]
        fn text_respects_its_limit(s in "\\PC{0,40}", max in 0usize..40) {
            if let Ok(t) = Text::parse(&s, "text", max) {
                prop_assert!(t.as_str().chars().count() <= max);
            }
        }
    }
}

/// Property tests of id parsing (issue 6: bad input at scale).
#[cfg(test)]
mod id_properties {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9_-]{0,40}", "\\PC{0,40}", "[a-z\\x00-\\x1f\\x7f]{0,8}"]
    }

    proptest! {
        #[test]
        fn ids_take_exactly_their_alphabet_and_length(s in text()) {
            let simple = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            prop_assert_eq!(ProjectId::parse(&s).is_ok(), simple && s.len() <= 30);
            prop_assert_eq!(PublicId::parse(&s).is_ok(), simple && s.len() <= 30);
            prop_assert_eq!(AssetCode::parse(&s).is_ok(), simple && s.len() <= 16);
            // `\\PC` holds no Cc or Cf; Zl and Zp are one character each.
            let hidden = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
            let reference = !s.is_empty() && s.chars().count() <= 30 && !s.chars().any(hidden);
            prop_assert_eq!(ReferenceId::parse(&s).is_ok(), reference);
        }

        /// The regex engine's own Unicode tables are the oracle here.
        #[test]
        fn one_hidden_character_spoils_a_text_id(
            s in "[a-z0-9]{0,10}[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}][a-z0-9]{0,10}"
        ) {
            prop_assert!(CustomerId::parse(&s).is_err(), "{:?}", s);
            prop_assert!(ReferenceId::parse(&s).is_err(), "{:?}", s);
        }

        #[test]
        fn parsed_ids_keep_the_text(s in "[A-Za-z0-9_-]{1,16}") {
            prop_assert_eq!(ProjectId::parse(&s).map(ProjectId::into_inner), Ok(s.clone()));
            prop_assert_eq!(AssetCode::parse(&s).map(AssetCode::into_inner), Ok(s.clone()));
            prop_assert_eq!(ReferenceId::parse(&s).map(ReferenceId::into_inner), Ok(s));
        }
    }
}
