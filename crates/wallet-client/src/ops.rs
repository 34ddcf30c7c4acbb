//! Operations of a transaction, ready to post: each sets its type's
//! required fields; set the optional ones on the result (`expires_at`,
//! `hold_id`, `item_id`, `from`, …) before posting.
//!
//! ```
//! let mut hold = wallet_client::ops::hold("12", 500);
//! hold.expires_at = Some(1_900_000_000_000);
//! assert_eq!(hold.source.as_deref(), Some("12"));
//! ```

use serde_json::value::{to_raw_value, RawValue};
use wallet_core::wire::{OperationBody, OperationType};

/// An operation of `kind` with no field set.
pub fn empty(kind: OperationType) -> OperationBody {
    OperationBody {
        kind,
        source: None,
        destination: None,
        amount: None,
        hold: None,
        hold_id: None,
        expires_at: None,
        item_type: None,
        customer_id: None,
        properties: None,
        item_id: None,
        item: None,
        to: None,
        from: None,
    }
}

/// An integer as its JSON text (an i64 always is one).
fn integer(amount: i64) -> Option<Box<RawValue>> {
    to_raw_value(&amount).ok()
}

/// `Issue` `amount` into `destination` (a wallet id).
pub fn issue(destination: &str, amount: i64) -> OperationBody {
    OperationBody {
        destination: Some(destination.to_owned()),
        amount: integer(amount),
        ..empty(OperationType::Issue)
    }
}

/// `Redeem` `amount` from `source`.
pub fn redeem(source: &str, amount: i64) -> OperationBody {
    OperationBody {
        source: Some(source.to_owned()),
        amount: integer(amount),
        ..empty(OperationType::Redeem)
    }
}

/// `Transfer` `amount` from `source` to `destination`.
pub fn transfer(source: &str, destination: &str, amount: i64) -> OperationBody {
    OperationBody {
        source: Some(source.to_owned()),
        destination: Some(destination.to_owned()),
        amount: integer(amount),
        ..empty(OperationType::Transfer)
    }
}

/// `Hold` `amount` in `source` (set `destination`, `hold_id`, `expires_at`
/// on the result if wanted).
pub fn hold(source: &str, amount: i64) -> OperationBody {
    OperationBody {
        source: Some(source.to_owned()),
        amount: integer(amount),
        ..empty(OperationType::Hold)
    }
}

/// `Capture` `amount` of `hold` (`None`: all that remains) into
/// `destination` (`None`: the hold's own).
pub fn capture(hold: &str, amount: Option<i64>, destination: Option<&str>) -> OperationBody {
    OperationBody {
        hold: Some(hold.to_owned()),
        amount: amount.and_then(integer),
        destination: destination.map(str::to_owned),
        ..empty(OperationType::Capture)
    }
}

/// `Void` `hold`.
pub fn void(hold: &str) -> OperationBody {
    OperationBody {
        hold: Some(hold.to_owned()),
        ..empty(OperationType::Void)
    }
}

/// `GrantItem` of `item_type` to `customer` (`None`: the project's stock)
/// with `properties` (any JSON value, kept exactly).
pub fn grant_item(
    item_type: &str,
    customer: Option<&str>,
    properties: Option<&serde_json::Value>,
) -> OperationBody {
    OperationBody {
        item_type: Some(item_type.to_owned()),
        customer_id: customer.map(|c| Some(c.to_owned())),
        properties: properties.and_then(|p| to_raw_value(p).ok()),
        ..empty(OperationType::GrantItem)
    }
}

/// `TransferItem` `item` to `to` (`None`: the project's stock).
pub fn transfer_item(item: &str, to: Option<&str>) -> OperationBody {
    OperationBody {
        item: Some(item.to_owned()),
        to: Some(to.map(str::to_owned)),
        ..empty(OperationType::TransferItem)
    }
}

/// `ConsumeItem` `item`.
pub fn consume_item(item: &str) -> OperationBody {
    OperationBody {
        item: Some(item.to_owned()),
        ..empty(OperationType::ConsumeItem)
    }
}

/// `SetItemProperties` of `item` to `properties` (JSON `null` clears them).
pub fn set_item_properties(item: &str, properties: &serde_json::Value) -> OperationBody {
    OperationBody {
        item: Some(item.to_owned()),
        properties: to_raw_value(properties).ok(),
        ..empty(OperationType::SetItemProperties)
    }
}
