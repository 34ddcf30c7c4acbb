//! What a transaction asks for: operations, run in order, all-or-nothing.

use crate::amount::PositiveAmount;
use crate::ids::{LotId, WalletId};
use crate::model::Millis;
use crate::text::{CustomerId, HoldId, ItemId, ItemProperties, ItemType, ReferenceId, Text};
use crate::LedgerError;
use serde::{Serialize, Serializer};

/// Most operations one transaction may hold.
pub const MAX_OPERATIONS: usize = 100;

/// How much of an asset an operation moves: a count of smallest parts,
/// never negative. API v2 asks for positive amounts at its edge; API v1's
/// entries may move 0 (an entry that only carries an item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    /// `None` below zero.
    pub fn new(parts: i64) -> Option<Self> {
        (parts >= 0).then_some(Self(parts))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<PositiveAmount> for Quantity {
    fn from(amount: PositiveAmount) -> Self {
        Self(amount.get())
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

/// One operation on wallets of the caller's project. Serialized, it is the
/// record of the request kept with the transaction (and shown by API v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Operation {
    /// Creates value in a wallet; with `expires_at`, as a lot that expires
    /// then.
    Issue {
        destination: WalletId,
        amount: Quantity,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires_at: Option<Millis>,
    },
    /// Destroys value in a wallet.
    Redeem { source: WalletId, amount: Quantity },
    /// Moves value between two wallets of one asset.
    Transfer {
        source: WalletId,
        destination: WalletId,
        amount: Quantity,
    },
    /// Reserves value of `source`: it stays in the balance but can no longer
    /// be spent, until captured, voided or expired.
    Hold {
        source: WalletId,
        amount: Quantity,
        #[serde(skip_serializing_if = "Option::is_none")]
        destination: Option<WalletId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires_at: Option<Millis>,
        /// The caller's id, or one the server made before planning.
        hold_id: HoldId,
    },
    /// Moves reserved value of a hold to a destination (the op's, else the
    /// hold's); all that remains unless `amount` says less.
    Capture {
        hold: HoldId,
        #[serde(skip_serializing_if = "Option::is_none")]
        amount: Option<Quantity>,
        #[serde(skip_serializing_if = "Option::is_none")]
        destination: Option<WalletId>,
    },
    /// Releases what remains of a hold.
    Void { hold: HoldId },
    /// Releases what remains of a hold whose time ran out: the server posts
    /// it, never a client.
    ExpireHold { hold: HoldId },
    /// Expires what is left of a lot, not earmarked, once its time ran out:
    /// the server posts it, never a client.
    ExpireLot { wallet: WalletId, lot: LotId },
    /// Creates an Active item owned by a customer (`None`: the project's
    /// stock).
    GrantItem {
        item_type: ItemType,
        customer_id: Option<CustomerId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        properties: Option<ItemProperties>,
        /// The caller's id, or one the server made before planning.
        item_id: ItemId,
    },
    /// Moves an Active item to `to` (`None`: stock). `from`, when given,
    /// must be its owner now (`Some(None)`: stock).
    TransferItem {
        item: ItemId,
        to: Option<CustomerId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<Option<CustomerId>>,
    },
    /// Uses an Active item up: it is Consumed, for good.
    ConsumeItem {
        item: ItemId,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<Option<CustomerId>>,
    },
    /// Replaces the properties of an Active item.
    SetItemProperties {
        item: ItemId,
        properties: ItemProperties,
    },
}

impl Operation {
    /// The wallets the operation names itself (a Capture's or Void's hold
    /// adds the hold's own wallets, known only once the hold is read).
    pub fn wallets(&self) -> impl Iterator<Item = WalletId> {
        let (a, b) = match self {
            Operation::Issue { destination, .. } => (Some(*destination), None),
            Operation::Redeem { source, .. } => (Some(*source), None),
            Operation::Transfer {
                source, destination, ..
            } => (Some(*source), Some(*destination)),
            Operation::Hold {
                source, destination, ..
            } => (Some(*source), *destination),
            Operation::Capture { destination, .. } => (*destination, None),
            Operation::ExpireLot { wallet, .. } => (Some(*wallet), None),
            Operation::Void { .. }
            | Operation::ExpireHold { .. }
            | Operation::GrantItem { .. }
            | Operation::TransferItem { .. }
            | Operation::ConsumeItem { .. }
            | Operation::SetItemProperties { .. } => (None, None),
        };
        a.into_iter().chain(b)
    }

    /// The wallet value leaves (or a lot expires in) by the operation itself,
    /// whose lots the planner must see: a Redeem's, a Transfer's or a Hold's
    /// source, an expired lot's wallet. (A Capture's or Void's hold adds its
    /// source, known once the hold is read.)
    pub fn spends_from(&self) -> Option<WalletId> {
        match self {
            Operation::Redeem { source, .. }
            | Operation::Transfer { source, .. }
            | Operation::Hold { source, .. } => Some(*source),
            Operation::ExpireLot { wallet, .. } => Some(*wallet),
            _ => None,
        }
    }

    /// The hold an operation works on, if it is a Capture, Void or expiry.
    pub fn hold(&self) -> Option<&HoldId> {
        match self {
            Operation::Capture { hold, .. } | Operation::Void { hold } | Operation::ExpireHold { hold } => {
                Some(hold)
            }
            _ => None,
        }
    }

    /// The item an operation works on (not one it grants).
    pub fn item(&self) -> Option<&ItemId> {
        match self {
            Operation::TransferItem { item, .. }
            | Operation::ConsumeItem { item, .. }
            | Operation::SetItemProperties { item, .. } => Some(item),
            _ => None,
        }
    }

    /// The item an operation grants, if it is a GrantItem.
    pub fn granted_item(&self) -> Option<&ItemId> {
        match self {
            Operation::GrantItem { item_id, .. } => Some(item_id),
            _ => None,
        }
    }

    /// The customers an operation names: a grant's owner, a move's `to` and
    /// `from`.
    pub fn customers(&self) -> impl Iterator<Item = &CustomerId> {
        let (a, b) = match self {
            Operation::GrantItem { customer_id, .. } => (customer_id.as_ref(), None),
            Operation::TransferItem { to, from, .. } => (to.as_ref(), from.as_ref().and_then(Option::as_ref)),
            Operation::ConsumeItem { from, .. } => (from.as_ref().and_then(Option::as_ref), None),
            _ => (None, None),
        };
        a.into_iter().chain(b)
    }

    /// The hold an operation places, if it is a Hold.
    pub fn placed_hold(&self) -> Option<&HoldId> {
        match self {
            Operation::Hold { hold_id, .. } => Some(hold_id),
            _ => None,
        }
    }
}

/// A validated API v2 transaction request.
#[derive(Debug, Clone)]
pub struct TransactionRequest {
    pub reference_id: ReferenceId,
    pub operations: Vec<Operation>,
    pub description: Option<Text>,
}

impl TransactionRequest {
    /// Refuses what is not a transaction at all: no operations, too many,
    /// or a transfer from a wallet to itself.
    pub fn new(
        reference_id: ReferenceId,
        operations: Vec<Operation>,
        description: Option<Text>,
    ) -> Result<Self, LedgerError> {
        if operations.is_empty() || operations.len() > MAX_OPERATIONS {
            return Err(LedgerError::Invalid(format!(
                "a transaction has 1 to {MAX_OPERATIONS} operations"
            )));
        }
        for (i, op) in operations.iter().enumerate() {
            if let Operation::Transfer {
                source, destination, ..
            } = op
            {
                if source == destination {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: a transfer needs two different wallets"
                    )));
                }
            }
            if let Operation::Hold {
                source,
                destination: Some(destination),
                ..
            } = op
            {
                if source == destination {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: a hold's destination must be another wallet than its source"
                    )));
                }
            }
            if matches!(op, Operation::ExpireHold { .. }) {
                return Err(LedgerError::Invalid(format!(
                    "operation {i}: only the server expires holds"
                )));
            }
            if matches!(op, Operation::ExpireLot { .. }) {
                return Err(LedgerError::Invalid(format!(
                    "operation {i}: only the server expires lots"
                )));
            }
            if let Some(id) = op.granted_item() {
                if created_before(&operations, i, id, Operation::granted_item) {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: itemId {id} is granted twice in this transaction"
                    )));
                }
            }
            if let Some(id) = op.placed_hold() {
                if created_before(&operations, i, id, Operation::placed_hold) {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: holdId {id} is placed twice in this transaction"
                    )));
                }
            }
        }
        Ok(Self {
            reference_id,
            operations,
            description,
        })
    }

    /// Refuses a hold or an issued lot set to expire at or before `now`
    /// (before anything is attempted: the reference id stays free).
    pub fn check_times(&self, now: Millis) -> Result<(), LedgerError> {
        for (i, op) in self.operations.iter().enumerate() {
            if let Operation::Hold {
                expires_at: Some(at), ..
            }
            | Operation::Issue {
                expires_at: Some(at), ..
            } = op
            {
                if *at <= now {
                    return Err(LedgerError::Invalid(format!(
                        "operation {i}: expiresAt must be in the future"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The operations as the JSON kept with the transaction.
    pub fn operations_json(&self) -> String {
        operations_json(&self.operations)
    }
}

/// Picks an id out of an operation: the hold or item it works on, or the one
/// it creates.
pub type IdOf<T> = for<'a> fn(&'a Operation) -> Option<&'a T>;

/// Whether an operation before the `i`th creates `id`.
pub fn created_before<T: PartialEq>(operations: &[Operation], i: usize, id: &T, creates: IdOf<T>) -> bool {
    operations[..i].iter().any(|earlier| creates(earlier) == Some(id))
}

/// The ids the operations work on or create, sorted, each once: what a
/// write locks (in that order).
pub fn named_ids<T: Ord + Clone>(operations: &[Operation], uses: IdOf<T>, creates: IdOf<T>) -> Vec<T> {
    let mut ids: Vec<T> = operations
        .iter()
        .filter_map(|op| uses(op).or_else(|| creates(op)))
        .cloned()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Whether every id an operation works on exists (`exists`) or is created
/// by an earlier operation of the transaction.
pub fn all_known<T: PartialEq>(
    operations: &[Operation],
    uses: IdOf<T>,
    creates: IdOf<T>,
    exists: impl Fn(&T) -> bool,
) -> bool {
    operations
        .iter()
        .enumerate()
        .all(|(i, op)| uses(op).is_none_or(|id| exists(id) || created_before(operations, i, id, creates)))
}

/// Operations as the JSON kept with a transaction.
pub fn operations_json(operations: &[Operation]) -> String {
    // Serializing plain enums of ids and integers cannot fail.
    serde_json::to_string(operations).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(n: i64) -> WalletId {
        WalletId::new(n)
    }

    #[test]
    fn operations_serialize_as_the_api_shows_them() {
        let ops = [
            Operation::Issue {
                destination: w(1),
                amount: Quantity(5),
                expires_at: None,
            },
            Operation::Issue {
                destination: w(1),
                amount: Quantity(2),
                expires_at: Some(1_700_000_000_000),
            },
            Operation::Transfer {
                source: w(1),
                destination: w(2),
                amount: Quantity(3),
            },
        ];
        assert_eq!(
            operations_json(&ops),
            r#"[{"type":"Issue","destination":"1","amount":5},{"type":"Issue","destination":"1","amount":2,"expiresAt":1700000000000},{"type":"Transfer","source":"1","destination":"2","amount":3}]"#
        );
    }

    #[test]
    fn a_request_needs_operations_and_two_wallets_per_transfer() {
        let reference = ReferenceId::parse("r").expect("valid");
        assert!(TransactionRequest::new(reference.clone(), vec![], None).is_err());
        let to_self = Operation::Transfer {
            source: w(1),
            destination: w(1),
            amount: Quantity(1),
        };
        assert!(TransactionRequest::new(reference.clone(), vec![to_self], None).is_err());
        let issue = Operation::Issue {
            destination: w(1),
            amount: Quantity(1),
            expires_at: None,
        };
        assert!(
            TransactionRequest::new(reference.clone(), vec![issue.clone(); MAX_OPERATIONS + 1], None)
                .is_err()
        );
        assert!(TransactionRequest::new(reference, vec![issue; MAX_OPERATIONS], None).is_ok());
    }
}
