//! Words for the planner's failures: the one place a `FailReason` (data)
//! becomes the text a client reads. Both APIs use it.

use wallet_core::planner::{FailReason, Failure};

/// The message of a transaction that failed at one of its operations.
pub fn describe(failure: &Failure) -> String {
    format!("operation {}: {}", failure.operation, reason(&failure.reason))
}

/// What went wrong, without saying which operation.
pub fn reason(reason: &FailReason) -> String {
    match reason {
        FailReason::UnknownWallet { wallet } => format!("wallet {wallet} is unknown"),
        FailReason::WalletNotOpen { wallet, status } => format!("wallet {wallet} is {status}"),
        FailReason::OwnerNotActive { wallet, status } => {
            format!("the customer of wallet {wallet} is {status}")
        }
        FailReason::AssetMismatch { source, destination } => {
            format!("wallets {source} and {destination} hold different assets")
        }
        FailReason::InsufficientFunds {
            wallet,
            needed,
            available,
        } => format!("wallet {wallet} holds {available} but {needed} would leave it"),
        FailReason::BalanceOverflow { wallet } => {
            format!("wallet {wallet}'s balance would pass the largest amount a wallet can hold")
        }
        FailReason::UnknownHold { hold } => format!("hold {hold} is unknown"),
        FailReason::HoldIdTaken { hold } => format!("holdId {hold} is taken in this project"),
        FailReason::WrongHoldStatus { hold, status } => format!("hold {hold} is {status}"),
        FailReason::HoldNotDue { hold } => format!("hold {hold} has not expired yet"),
        FailReason::HoldInsufficient {
            hold,
            needed,
            remaining,
        } => format!("hold {hold} reserves {remaining} but {needed} would be captured"),
        FailReason::NoDestination { hold } => {
            format!("hold {hold} names no destination, and neither does the capture")
        }
        FailReason::DestinationMismatch { hold, destination } => {
            format!("hold {hold} is for another destination than wallet {destination}")
        }
        FailReason::CaptureIntoSource { hold } => {
            format!("hold {hold} cannot be captured into its own source wallet")
        }
        FailReason::ExpiryNotInFuture { hold } => format!("hold {hold}'s expiresAt is not in the future"),
        FailReason::LotExpiryNotInFuture { expires_at } => {
            format!("an Issue's expiresAt ({expires_at}) is not in the future")
        }
        // Only the server's own expiries name lots.
        FailReason::UnknownLot { lot } => format!("{lot} is unknown"),
        FailReason::LotNotDue { lot } => format!("lot {lot} has nothing to expire yet"),
        FailReason::UnknownItem { item } => format!("item {item} is unknown"),
        FailReason::ItemIdTaken { item } => format!("itemId {item} is taken in this project"),
        FailReason::WrongItemStatus { item, status } => format!("item {item} is {status}"),
        FailReason::WrongItemOwner {
            item,
            owner: Some(owner),
        } => {
            format!("item {item} belongs to customer {owner}")
        }
        FailReason::WrongItemOwner { item, owner: None } => format!("item {item} is in the stock"),
        FailReason::UnknownCustomer { customer } => format!("customer {customer} is unknown"),
        FailReason::CustomerNotActive { customer, status } => format!("customer {customer} is {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::ids::WalletId;

    #[test]
    fn a_failure_names_its_operation_wallet_and_amounts() {
        let failure = Failure {
            operation: 1,
            reason: FailReason::InsufficientFunds {
                wallet: WalletId::new(7),
                needed: 10,
                available: 3,
            },
        };
        assert_eq!(
            describe(&failure),
            "operation 1: wallet 7 holds 3 but 10 would leave it"
        );
    }
}
