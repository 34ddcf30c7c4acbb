//! Row ids: the keys of stored rows, one type per table so a wallet id can
//! never be passed where an asset id is meant.
//!
//! Clients see them as decimal strings (`"42"`); only the canonical spelling
//! parses (no sign, no leading zero, no space), so one row has one name.

use serde::{Serialize, Serializer};
use std::fmt;

/// What every row id is: a number a client may quote back.
pub trait RowId: Copy + Sized {
    /// The id a client quoted, in its canonical spelling, or `None`.
    fn parse(text: &str) -> Option<Self>;
}

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// The id a backend read from its own row (trusted: the store
            /// assigned it).
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            pub const fn get(self) -> i64 {
                self.0
            }

            /// The id a client quoted: a canonical positive decimal that
            /// fits in `i64`, or `None`.
            pub fn parse(text: &str) -> Option<Self> {
                parse_canonical(text).map(Self)
            }
        }

        impl RowId for $name {
            fn parse(text: &str) -> Option<Self> {
                parse_canonical(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            /// As a string: ids are opaque to clients, and JavaScript loses
            /// integers past 2^53.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }
    };
}

row_id!(
    /// An asset of a project.
    AssetId
);
row_id!(
    /// A wallet: a customer's or a system wallet.
    WalletId
);
row_id!(
    /// A transaction (API v1 entries are transactions too).
    TransactionId
);
row_id!(
    /// One line of one wallet's ledger.
    EntryId
);
row_id!(
    /// A lot: value of one wallet that expires at one time.
    LotId
);
row_id!(
    /// The stored row of a customer; clients name customers by their own
    /// [`CustomerId`](crate::CustomerId).
    CustomerRowId
);
row_id!(
    /// The stored row of an authority; clients name authorities by their
    /// public id.
    AuthorityRowId
);
row_id!(
    /// The stored row of a customer key; clients name keys by their public id.
    CustomerKeyRowId
);

/// `1..=i64::MAX` in its one canonical decimal spelling.
fn parse_canonical(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let canonical = !bytes.is_empty() && bytes[0] != b'0' && bytes.iter().all(u8::is_ascii_digit);
    if !canonical {
        return None;
    }
    text.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_the_canonical_spelling_parses() {
        let cases = [
            ("1", Some(1)),
            ("42", Some(42)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("0", None),
            ("01", None),
            ("0001", None),
            ("+1", None),
            ("-1", None),
            (" 1", None),
            ("1 ", None),
            ("1e3", None),
            ("1.0", None),
            ("\u{FF11}", None),
            ("", None),
            ("\u{0661}", None),
        ];
        for (text, expected) in cases {
            assert_eq!(WalletId::parse(text).map(WalletId::get), expected, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(raw in 1..=i64::MAX) {
            let id = AssetId::new(raw);
            prop_assert_eq!(AssetId::parse(&id.to_string()), Some(id));
        }

        #[test]
        fn parse_never_accepts_two_spellings(text in "[-+0-9 ]{0,22}") {
            if let Some(id) = EntryId::parse(&text) {
                prop_assert_eq!(id.to_string(), text);
            }
        }
    }
}
