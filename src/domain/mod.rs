//! Domain values: types that can only hold valid data, parsed once at the
//! edge (the HTTP handlers or the CLI). They live in `wallet-core`; the
//! admin password's policy is the server's own.

mod password;

pub use password::AdminPassword;
pub use wallet_core::amount::{Amount, PositiveAmount};
pub use wallet_core::text::{
    random_base32, AssetCode, CustomerId, InvalidValue, ItemName, ProjectId, PublicId, Reason, ReferenceId,
    Text,
};

/// A numeric id in its one canonical spelling (see `wallet_core::ids`).
pub fn row_id(value: &str) -> Option<i64> {
    wallet_core::ids::WalletId::parse(value).map(wallet_core::ids::WalletId::get)
}
