//! Who may do what: the one authorization decision of the service.
//!
//! Every request is made by a [`Caller`], bound to one project. The ledger
//! asks [`authorize`] before it reads or writes anything, and for
//! resources owned by a customer it asks again with the owner it found
//! ([`Action::ReadWallet`] and friends). Handlers never decide access.

use crate::ids::{AssetId, AuthorityRowId, CustomerKeyRowId, CustomerRowId};
use crate::model::Millis;

/// An authority (API v1's key pair, API v2's access key) of one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityCaller {
    pub authority: AuthorityRowId,
    pub public_id: String,
    pub project_id: String,
    /// The project's default asset (API v1's currency).
    pub default_asset: AssetId,
    /// When the credential stops being valid (a JWT's `exp`), if ever. Writes
    /// check it again when they commit.
    pub expires_at: Option<Millis>,
}

/// How a customer caller proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerCredential {
    /// An opaque customer key the server issued.
    Key(CustomerKeyRowId),
    /// An offline ES256 JWT signed by an authority of the project.
    Token(AuthorityRowId),
}

/// A read-only caller bound to one customer (a customer key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCaller {
    pub project_id: String,
    pub customer: CustomerRowId,
    pub customer_id: String,
    pub credential: CustomerCredential,
    pub expires_at: Option<Millis>,
}

/// The server's operator acting inside one project (an admin session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCaller {
    pub project_id: String,
    pub default_asset: AssetId,
}

/// Whoever made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Authority(AuthorityCaller),
    Customer(CustomerCaller),
    Operator(OperatorCaller),
}

impl Caller {
    pub fn project_id(&self) -> &str {
        match self {
            Caller::Authority(a) => &a.project_id,
            Caller::Customer(c) => &c.project_id,
            Caller::Operator(o) => &o.project_id,
        }
    }

    /// The customer a customer caller is bound to.
    pub fn customer(&self) -> Option<CustomerRowId> {
        match self {
            Caller::Customer(c) => Some(c.customer),
            _ => None,
        }
    }
}

/// Something a caller asks to do in its project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the project and its assets list (`GET /project`).
    ReadProject,
    /// Read assets.
    ReadAssets,
    /// Create, rename or delete assets.
    ManageAssets,
    /// Create, update, suspend, resume or delete customers; list them.
    ManageCustomers,
    /// Read one customer (found, with this row).
    ReadCustomer(CustomerRowId),
    /// Mint, list or revoke a customer's keys.
    ManageCustomerKeys,
    /// Open wallets, change their status, list system wallets.
    ManageWallets,
    /// Read a wallet (found, with this owner; `None` = a system wallet),
    /// its entries and balance.
    ReadWallet(Option<CustomerRowId>),
    /// Rename or describe a wallet (found, with this owner).
    LabelWallet(Option<CustomerRowId>),
    /// List the caller's own wallets (`GET /wallets`): customer keys only.
    ListOwnWallets,
    /// Post transactions or API v1 entries; use v1 items.
    PostTransactions,
    /// Read transactions and API v1 totals and inventory.
    ReadTransactions,
    /// Read an item and its history, by its owner (`None`: stock).
    ReadItem(Option<CustomerRowId>),
    /// List the project's stock of items.
    ReadStock,
    /// Read the project's event feed (`GET /events`).
    ReadEvents,
    /// Stream events (`GET /events/stream`): a customer key gets only its
    /// own customer's.
    StreamEvents,
    /// Register, list, delete and replay webhooks; read their deliveries.
    ManageWebhooks,
}

/// Why a caller may not do something. The text is safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied(pub &'static str);

/// The decision. Authorities do everything in their project but list
/// "their own" wallets (they own none); the operator does what authorities
/// do except post transactions (no entry may name it); a customer reads its
/// own customer, its own wallets and the project's assets, and its only
/// write is labelling its own wallets.
pub fn authorize(caller: &Caller, action: Action) -> Result<(), Denied> {
    match caller {
        Caller::Authority(_) => match action {
            Action::ListOwnWallets => Err(Denied(
                "only a customer key lists its own wallets here; use /customers/{customerId}/wallets",
            )),
            _ => Ok(()),
        },
        Caller::Operator(_) => match action {
            Action::PostTransactions => Err(Denied("the operator posts no transactions")),
            Action::ListOwnWallets => Err(Denied("the operator owns no wallets")),
            _ => Ok(()),
        },
        Caller::Customer(c) => {
            let own = |owner: Option<CustomerRowId>| {
                if owner == Some(c.customer) {
                    Ok(())
                } else {
                    Err(NOT_YOURS)
                }
            };
            match action {
                Action::ReadAssets | Action::ListOwnWallets | Action::StreamEvents => Ok(()),
                Action::ReadCustomer(customer) => own(Some(customer)),
                Action::ReadWallet(owner) | Action::LabelWallet(owner) | Action::ReadItem(owner) => {
                    own(owner)
                }
                Action::ReadProject
                | Action::ManageAssets
                | Action::ManageCustomers
                | Action::ManageCustomerKeys
                | Action::ManageWallets
                | Action::PostTransactions
                | Action::ReadTransactions
                | Action::ReadStock
                | Action::ReadEvents
                | Action::ManageWebhooks => Err(READ_ONLY),
            }
        }
    }
}

/// What a customer caller is told about anything not its own, found or not:
/// the same words either way, so a key cannot probe which ids exist.
pub const NOT_YOURS: Denied = Denied("a customer key sees only its own customer and that customer's wallets");

const READ_ONLY: Denied = Denied("customer keys are read-only and see only their own customer");

#[cfg(test)]
mod tests {
    use super::*;

    fn authority() -> Caller {
        Caller::Authority(AuthorityCaller {
            authority: AuthorityRowId::new(1),
            public_id: "au_1".into(),
            project_id: "p".into(),
            default_asset: AssetId::new(1),
            expires_at: None,
        })
    }

    fn customer(row: i64) -> Caller {
        Caller::Customer(CustomerCaller {
            project_id: "p".into(),
            customer: CustomerRowId::new(row),
            customer_id: format!("c{row}"),
            credential: CustomerCredential::Key(CustomerKeyRowId::new(1)),
            expires_at: None,
        })
    }

    fn operator() -> Caller {
        Caller::Operator(OperatorCaller {
            project_id: "p".into(),
            default_asset: AssetId::new(1),
        })
    }

    #[test]
    fn the_policy_table() {
        let mine = CustomerRowId::new(7);
        let theirs = CustomerRowId::new(8);
        // (action, authority, operator, customer 7)
        let table = [
            (Action::ReadProject, true, true, false),
            (Action::ReadAssets, true, true, true),
            (Action::ManageAssets, true, true, false),
            (Action::ManageCustomers, true, true, false),
            (Action::ReadCustomer(mine), true, true, true),
            (Action::ReadCustomer(theirs), true, true, false),
            (Action::ManageCustomerKeys, true, true, false),
            (Action::ManageWallets, true, true, false),
            (Action::ReadWallet(Some(mine)), true, true, true),
            (Action::ReadWallet(Some(theirs)), true, true, false),
            (Action::ReadWallet(None), true, true, false),
            (Action::LabelWallet(Some(mine)), true, true, true),
            (Action::LabelWallet(Some(theirs)), true, true, false),
            (Action::ListOwnWallets, false, false, true),
            (Action::PostTransactions, true, false, false),
            (Action::ReadTransactions, true, true, false),
            (Action::ReadItem(Some(mine)), true, true, true),
            (Action::ReadItem(Some(theirs)), true, true, false),
            (Action::ReadItem(None), true, true, false),
            (Action::ReadStock, true, true, false),
        ];
        for (action, by_authority, by_operator, by_customer) in table {
            assert_eq!(
                authorize(&authority(), action).is_ok(),
                by_authority,
                "authority: {action:?}"
            );
            assert_eq!(
                authorize(&operator(), action).is_ok(),
                by_operator,
                "operator: {action:?}"
            );
            assert_eq!(
                authorize(&customer(7), action).is_ok(),
                by_customer,
                "customer: {action:?}"
            );
        }
    }

    #[test]
    fn another_customers_resource_reads_like_a_missing_one() {
        assert_eq!(
            authorize(&customer(7), Action::ReadWallet(Some(CustomerRowId::new(8)))),
            Err(NOT_YOURS)
        );
        assert_eq!(authorize(&customer(7), Action::ReadWallet(None)), Err(NOT_YOURS));
    }
}
