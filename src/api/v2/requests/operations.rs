//! One operation of a transaction request, and the integer literals that
//! amounts (and credit limits) must be.

use super::items::ItemOperation;
use super::row_id;
use crate::api::v2::error::{ErrorStatus, V2Error};
use crate::api::v2::types::OperationType;
use serde_json::value::RawValue;
use wallet_core::amount::PositiveAmount;
use wallet_core::ids::WalletId;
use wallet_core::operation::Operation;
use wallet_core::text::HoldId;
use wallet_core::wire::OperationBody;
use wallet_core::Missing;

/// The server's reading of an [`OperationBody`].
pub trait ToOperation {
    /// The operation at index `i` of its transaction, checked.
    fn to_operation(&self, i: usize) -> Result<Operation, V2Error>;
}

impl ToOperation for OperationBody {
    fn to_operation(&self, i: usize) -> Result<Operation, V2Error> {
        let kind = self.kind;
        let wallet = |side: &Option<String>, name: &str| -> Result<WalletId, V2Error> {
            let id = side
                .as_deref()
                .ok_or_else(|| V2Error::invalid(format!("operation {i}: {name} is required")))?;
            row_id(id, Missing::Wallet)
        };
        let optional_wallet = |side: &Option<String>| -> Result<Option<WalletId>, V2Error> {
            side.as_deref().map(|id| row_id(id, Missing::Wallet)).transpose()
        };
        let amount = || -> Result<PositiveAmount, V2Error> {
            let raw = self
                .amount
                .as_deref()
                .ok_or_else(|| V2Error::invalid(format!("operation {i}: amount is required")))?;
            parse_amount(raw, i)
        };
        // A hold named by a Capture or Void: an id that cannot exist is not
        // found, as for wallets.
        let hold = || -> Result<HoldId, V2Error> {
            let id = self
                .hold
                .as_deref()
                .ok_or_else(|| V2Error::invalid(format!("operation {i}: hold is required")))?;
            HoldId::parse(id).map_err(|_| V2Error::not_found(Missing::Hold))
        };
        let present = [
            ("source", self.source.is_some()),
            ("destination", self.destination.is_some()),
            ("amount", self.amount.is_some()),
            ("hold", self.hold.is_some()),
            ("holdId", self.hold_id.is_some()),
            ("expiresAt", self.expires_at.is_some()),
            ("itemType", self.item_type.is_some()),
            ("customerId", self.customer_id.is_some()),
            ("properties", self.properties.is_some()),
            ("itemId", self.item_id.is_some()),
            ("item", self.item.is_some()),
            ("to", self.to.is_some()),
            ("from", self.from.is_some()),
        ];
        let takes: &[&str] = match kind {
            OperationType::Issue => &["destination", "amount", "expiresAt"],
            OperationType::Redeem => &["source", "amount"],
            OperationType::Transfer => &["source", "destination", "amount"],
            OperationType::Hold => &["source", "destination", "amount", "holdId", "expiresAt"],
            OperationType::Capture => &["hold", "amount", "destination"],
            OperationType::Void => &["hold"],
            OperationType::GrantItem => &["itemType", "customerId", "properties", "itemId"],
            OperationType::TransferItem => &["item", "to", "from"],
            OperationType::ConsumeItem => &["item", "from"],
            OperationType::SetItemProperties => &["item", "properties"],
        };
        if let Some((field, _)) = present
            .iter()
            .find(|(field, given)| *given && !takes.contains(field))
        {
            return Err(V2Error::invalid(format!(
                "operation {i}: {kind:?} takes no {field}"
            )));
        }
        Ok(match kind {
            OperationType::Issue => Operation::Issue {
                destination: wallet(&self.destination, "destination")?,
                amount: amount()?.into(),
                expires_at: self.expires_at,
            },
            OperationType::Redeem => Operation::Redeem {
                source: wallet(&self.source, "source")?,
                amount: amount()?.into(),
            },
            OperationType::Transfer => Operation::Transfer {
                source: wallet(&self.source, "source")?,
                destination: wallet(&self.destination, "destination")?,
                amount: amount()?.into(),
            },
            OperationType::Hold => Operation::Hold {
                source: wallet(&self.source, "source")?,
                amount: amount()?.into(),
                destination: optional_wallet(&self.destination)?,
                expires_at: self.expires_at,
                hold_id: match self.hold_id.as_deref() {
                    Some(id) => {
                        HoldId::parse(id).map_err(|e| V2Error::invalid(format!("operation {i}: {}", e.0)))?
                    }
                    None => HoldId::random(),
                },
            },
            OperationType::Capture => Operation::Capture {
                hold: hold()?,
                amount: self
                    .amount
                    .as_deref()
                    .map(|_| amount())
                    .transpose()?
                    .map(Into::into),
                destination: optional_wallet(&self.destination)?,
            },
            OperationType::Void => Operation::Void { hold: hold()? },
            OperationType::GrantItem
            | OperationType::TransferItem
            | OperationType::ConsumeItem
            | OperationType::SetItemProperties => self.item_operation(i)?,
        })
    }
}

/// Why a JSON value is not an integer count of smallest parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotAnInteger {
    /// A number with a fraction or an exponent (`1.5`, `1.0`, `1e3`).
    Fraction,
    /// An integer beyond i64.
    OutOfRange,
    /// Not a number at all (a string, `null`, `true`).
    NotANumber,
}

/// A JSON integer literal, exactly.
pub(super) fn integer_literal(raw: &RawValue) -> Result<i64, NotAnInteger> {
    let text = raw.get().trim();
    if let Ok(value) = text.parse::<i64>() {
        return Ok(value);
    }
    let is_number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if is_number && text.contains(['.', 'e', 'E']) {
        return Err(NotAnInteger::Fraction);
    }
    if is_number {
        return Err(NotAnInteger::OutOfRange);
    }
    Err(NotAnInteger::NotANumber)
}

/// An amount must be a JSON integer literal: `1.5`, `1.0` and `1e3` are
/// `FRACTION_IN_AMOUNT_NOT_VALID`; zero, negatives and values beyond i64 are
/// `VALIDATION_ERROR`.
fn parse_amount(raw: &RawValue, i: usize) -> Result<PositiveAmount, V2Error> {
    let positive = || V2Error::invalid(format!("operation {i}: amount must be a positive integer"));
    match integer_literal(raw) {
        Ok(value) => PositiveAmount::parse(value).map_err(|_| positive()),
        Err(NotAnInteger::Fraction) => Err(V2Error::new(
            ErrorStatus::FractionInAmountNotValid,
            format!("operation {i}: amount must be an integer count of the asset's smallest parts"),
        )),
        Err(NotAnInteger::OutOfRange) => {
            Err(V2Error::invalid(format!("operation {i}: amount is out of range")))
        }
        Err(NotAnInteger::NotANumber) => Err(positive()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Result<i64, ErrorStatus> {
        let raw = RawValue::from_string(text.to_owned()).map_err(|_| ErrorStatus::ValidationError)?;
        parse_amount(&raw, 0)
            .map(PositiveAmount::get)
            .map_err(|e| e.status)
    }

    #[test]
    fn amounts() {
        use ErrorStatus::*;
        let cases: &[(&str, Result<i64, ErrorStatus>)] = &[
            ("5", Ok(5)),
            ("9223372036854775807", Ok(i64::MAX)),
            ("1.5", Err(FractionInAmountNotValid)),
            ("1.0", Err(FractionInAmountNotValid)),
            ("1e3", Err(FractionInAmountNotValid)),
            ("0", Err(ValidationError)),
            ("-5", Err(ValidationError)),
            ("9223372036854775808", Err(ValidationError)),
            ("\"5\"", Err(ValidationError)),
            ("null", Err(ValidationError)),
            ("true", Err(ValidationError)),
        ];
        for (text, expected) in cases {
            assert_eq!(&amount(text), expected, "amount {text}");
        }
    }
}

/// Property tests of amount parsing (issue 6: bad input at scale).
#[cfg(test)]
mod amount_properties {
    use super::*;
    use proptest::prelude::*;

    fn amount(text: &str) -> Result<i64, ErrorStatus> {
        let raw = RawValue::from_string(text.to_owned()).map_err(|_| ErrorStatus::ValidationError)?;
        parse_amount(&raw, 0)
            .map(PositiveAmount::get)
            .map_err(|e| e.status)
    }

    proptest! {
        #[test]
        fn an_integer_literal_is_itself_if_positive_else_a_validation_error(v in any::<i64>()) {
            match amount(&v.to_string()) {
                Ok(a) => prop_assert!(v > 0 && a == v),
                Err(status) => prop_assert!(v <= 0 && status == ErrorStatus::ValidationError),
            }
        }

        #[test]
        fn fractions_and_exponents_are_fraction_errors(int in 0u32..1_000_000, frac in "[0-9]{1,6}", exp in -5i32..20) {
            for text in [format!("{int}.{frac}"), format!("{int}e{exp}"), format!("-{int}.{frac}E{exp}")] {
                prop_assert_eq!(amount(&text), Err(ErrorStatus::FractionInAmountNotValid), "{}", text);
            }
        }

        #[test]
        fn integers_beyond_i64_are_validation_errors(digits in "[1-9][0-9]{19,60}") {
            prop_assert_eq!(amount(&digits), Err(ErrorStatus::ValidationError));
            prop_assert_eq!(amount(&format!("-{digits}")), Err(ErrorStatus::ValidationError));
        }

        #[test]
        fn any_text_is_a_positive_amount_or_a_400(text in "\\PC{0,40}") {
            match amount(&text) {
                Ok(a) => prop_assert!(a > 0),
                Err(status) => prop_assert!(matches!(
                    status,
                    ErrorStatus::ValidationError | ErrorStatus::FractionInAmountNotValid
                )),
            }
        }
    }
}
