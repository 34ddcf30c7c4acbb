//! Amounts count an asset's smallest parts as integers: never floats.

use crate::text::InvalidValue;

/// A signed change to a wallet (API v1 entries: positive adds, negative spends,
/// zero only carries an item). Any `i64` except `i64::MIN`, whose magnitude
/// has no `i64`: refusing it keeps every `abs()` in the core total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(i64);

impl Amount {
    pub fn parse(value: i64) -> Result<Self, InvalidValue> {
        if value == i64::MIN {
            return Err(InvalidValue::new("amount is out of range"));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The amount of one ledger operation: a strictly positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PositiveAmount(i64);

impl PositiveAmount {
    pub fn parse(value: i64) -> Result<Self, InvalidValue> {
        if value <= 0 {
            return Err(InvalidValue::new("amount must be a positive integer"));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amount_refuses_only_i64_min() {
        assert!(Amount::parse(i64::MIN).is_err());
        assert_eq!(Amount::parse(i64::MIN + 1).map(Amount::get), Ok(i64::MIN + 1));
        assert_eq!(Amount::parse(0).map(Amount::get), Ok(0));
    }

    proptest! {
        #[test]
        fn positive_amount_holds_only_positive_values(v in any::<i64>()) {
            match PositiveAmount::parse(v) {
                Ok(a) => prop_assert!(a.get() > 0 && a.get() == v),
                Err(_) => prop_assert!(v <= 0),
            }
        }

        #[test]
        fn amount_magnitude_never_overflows(v in any::<i64>()) {
            if let Ok(a) = Amount::parse(v) {
                prop_assert!(a.get().checked_abs().is_some());
            }
        }
    }
}
