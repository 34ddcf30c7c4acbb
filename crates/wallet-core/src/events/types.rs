//! The event types, with their dotted names.

use std::fmt;
use std::str::FromStr;

macro_rules! event_types {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What an event reports. Its name (`transaction.completed`) is what
        /// the feed's `type` field, the `types` filters and a webhook's
        /// `types` use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($(#[$doc])* $variant,)*
        }

        impl EventType {
            /// Every type, in the order the docs list them.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }
        }

        impl FromStr for EventType {
            type Err = UnknownEventType;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(EventType::$variant),)*
                    _ => Err(UnknownEventType(s.chars().take(64).collect())),
                }
            }
        }
    };
}

event_types! {
    /// A transaction applied (data: the Transaction).
    TransactionCompleted = "transaction.completed",
    /// A transaction was recorded as Failed (data: the Transaction).
    TransactionFailed = "transaction.failed",
    /// A transaction changed a wallet's balance or held value (data:
    /// `{walletId, customerId, assetId, balance, held, available,
    /// transactionId}`), one per wallet.
    WalletBalanceChanged = "wallet.balance_changed",
    /// A wallet was suspended, resumed or closed (data: the Wallet).
    WalletStatusChanged = "wallet.status_changed",
    /// Data: the Customer.
    CustomerCreated = "customer.created",
    /// A customer's name or description changed (data: the Customer).
    CustomerUpdated = "customer.updated",
    /// Suspended, resumed or deleted (data: the Customer).
    CustomerStatusChanged = "customer.status_changed",
    /// Data: the Hold, as after the transaction.
    HoldCreated = "hold.created",
    HoldCaptured = "hold.captured",
    HoldVoided = "hold.voided",
    HoldExpired = "hold.expired",
    /// Data: the Item, as after the transaction.
    ItemGranted = "item.granted",
    ItemTransferred = "item.transferred",
    ItemConsumed = "item.consumed",
    ItemUpdated = "item.updated",
    /// Data: the Lot, as after the expiry.
    LotExpired = "lot.expired",
    /// Data: the Asset.
    AssetCreated = "asset.created",
    AssetDeleted = "asset.deleted",
}

impl EventType {
    /// Whether every customer key of the project may see events of this
    /// type (the project's assets).
    pub fn is_public(self) -> bool {
        matches!(self, EventType::AssetCreated | EventType::AssetDeleted)
    }

    /// Parses a comma-separated list (`types=a,b`); empty parts are
    /// skipped, the result is sorted and without repeats.
    pub fn parse_list(list: &str) -> Result<Vec<EventType>, UnknownEventType> {
        let mut types = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(EventType::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        types.sort_unstable();
        types.dedup();
        Ok(types)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A name that is no event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);
