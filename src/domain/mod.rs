//! Domain values: types that can only hold valid data.
//!
//! Every value a client sends is parsed into one of these once, at the edge
//! (the HTTP handlers or the CLI). The ledger core and storage then trust them.

mod amount;
mod ids;
mod password;

pub use amount::{Amount, PositiveAmount};
pub use ids::{
    random_base32, row_id, AssetCode, CustomerId, ItemName, ProjectId, PublicId, Reason, ReferenceId, Text,
};
pub use password::AdminPassword;

/// Why a client value was refused. The message is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
