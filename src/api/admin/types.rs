//! The admin API's wallet and hold objects: those of API v2 (`docs/api-v2.md`,
//! spec `holds.md`), field for field. Kept here, beside API v2's own, so the
//! admin page shows a wallet's holds and limits whatever API v2 serves yet.

use serde::Serialize;
use wallet_core::model::{self, WalletStatus};

/// API v2's Wallet with what holds and credit change: `held`, `available`
/// (`balance - held + creditLimit`, what may still be spent) and
/// `creditLimit` (how far below zero the balance may go).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wallet {
    pub id: String,
    /// The owner; null for a system wallet.
    pub customer_id: Option<String>,
    pub asset_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: WalletStatus,
    /// Posted value in the asset's smallest parts; below zero only down to
    /// `-creditLimit`.
    pub balance: i64,
    pub held: i64,
    pub available: i64,
    pub credit_limit: i64,
    pub created_at: i64,
    /// The Open lots' remaining value per expiry, soonest first (≤ 10 rows).
    pub expiring: Vec<Expiring>,
}

/// API v2's `{expiresAt, amount}` row of a wallet's `expiring`.
pub use crate::api::v2::types::Expiring;

impl From<model::Wallet> for Wallet {
    fn from(w: model::Wallet) -> Self {
        Self {
            available: w.available(),
            id: w.id.to_string(),
            customer_id: w.owner.map(|o| o.id),
            asset_id: w.asset_id.to_string(),
            name: w.name,
            description: w.description,
            status: w.status,
            balance: w.balance,
            held: w.held,
            credit_limit: w.credit_limit,
            created_at: w.created_at,
            expiring: w.expiring.into_iter().map(Expiring::from).collect(),
        }
    }
}

/// A hold as API v2 shows it: the admin page reads the same object.
pub use crate::api::v2::types::Hold;

/// Pages of holds and lots, as API v2 pages them (the admin API pages
/// every list the same way).
pub use crate::api::v2::types::{HoldPage, LotPage};
