//! What clients send to API v2, and its validation into domain values.

use super::error::{ErrorStatus, V2Error};
use super::types::{OperationType, WalletStatus};
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use wallet_core::amount::PositiveAmount;
use wallet_core::ids::{RowId, WalletId};
use wallet_core::model::{PageRequest, TimeRange};
use wallet_core::operation::{Operation, TransactionRequest};
use wallet_core::text::{ReferenceId, Text};
use wallet_core::Missing;

pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 1000;
pub const MAX_PAGE_SIZE: u32 = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 20;

pub fn name(value: &str) -> Result<Text, V2Error> {
    Ok(Text::parse(value, "name", MAX_NAME)?)
}

pub fn description(value: &str) -> Result<Text, V2Error> {
    Ok(Text::parse(value, "description", MAX_DESCRIPTION)?)
}

pub fn optional(
    value: Option<&str>,
    parse: fn(&str) -> Result<Text, V2Error>,
) -> Result<Option<Text>, V2Error> {
    value.map(parse).transpose()
}

/// An id in a path or body that names a row of ours: anything that is not one
/// in its one canonical spelling cannot exist, so it is "not found" rather
/// than invalid.
pub fn row_id<I: RowId>(value: &str, what: Missing) -> Result<I, V2Error> {
    I::parse(value).ok_or_else(|| V2Error::not_found(what))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAssetBody {
    pub name: String,
    pub code: String,
    pub fractions: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DescriptionBody {
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerUpdateBody {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResumeBody {
    /// The wallets to open again; the customer's other wallets stay suspended.
    pub wallet_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewKeyBody {
    /// Epoch milliseconds after which the key is refused; none = no expiry.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewWalletBody {
    pub customer_id: String,
    pub asset_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSystemWalletBody {
    pub asset_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusObject {
    pub status: WalletStatus,
}

/// `"Open"` or `{"status": "Open"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum StatusBody {
    Plain(WalletStatus),
    Object(StatusObject),
}

impl StatusBody {
    /// `"Open"` or `{"status": "Open"}`; anything else (an array too, which
    /// serde would read as the object) is a validation error.
    pub fn parse(body: serde_json::Value) -> Result<WalletStatus, V2Error> {
        let parsed = match body {
            serde_json::Value::String(_) | serde_json::Value::Object(_) => serde_json::from_value(body),
            _ => {
                return Err(V2Error::invalid(
                    "the body must be a status string or {\"status\": ...}",
                ))
            }
        };
        match parsed.map_err(|e| V2Error::invalid(format!("invalid status: {e}")))? {
            StatusBody::Plain(s) | StatusBody::Object(StatusObject { status: s }) => Ok(s),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationBody {
    #[serde(rename = "type")]
    pub kind: OperationType,
    pub source: Option<String>,
    pub destination: Option<String>,
    /// A positive integer count of the asset's smallest parts.
    #[schema(value_type = i64, minimum = 1)]
    pub amount: Box<RawValue>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransactionBody {
    /// Unique per project, 1-30 characters: a retry with it never applies twice.
    pub reference_id: String,
    pub operations: Vec<OperationBody>,
    pub description: Option<String>,
}

/// Most transactions one batch may hold.
pub const MAX_BATCH: usize = 8000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// 1 to 8,000 independent transactions.
    pub transactions: Vec<TransactionBody>,
}

impl TransactionBody {
    pub fn into_request(self) -> Result<TransactionRequest, V2Error> {
        let reference_id = ReferenceId::parse(&self.reference_id)?;
        let operations = self
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| op.to_operation(i))
            .collect::<Result<Vec<_>, _>>()?;
        let description = optional(self.description.as_deref(), description)?;
        Ok(TransactionRequest::new(reference_id, operations, description)?)
    }
}

impl OperationBody {
    fn to_operation(&self, i: usize) -> Result<Operation, V2Error> {
        let amount = parse_amount(&self.amount, i)?;
        let amount = amount.into();
        let wallet = |side: &Option<String>, name: &str| -> Result<WalletId, V2Error> {
            let id = side
                .as_deref()
                .ok_or_else(|| V2Error::invalid(format!("operation {i}: {name} is required")))?;
            row_id(id, Missing::Wallet)
        };
        let unexpected = |side: &Option<String>, name: &str| match side {
            Some(_) => Err(V2Error::invalid(format!(
                "operation {i}: {:?} takes no {name}",
                self.kind
            ))),
            None => Ok(()),
        };
        Ok(match self.kind {
            OperationType::Issue => {
                unexpected(&self.source, "source")?;
                Operation::Issue {
                    destination: wallet(&self.destination, "destination")?,
                    amount,
                }
            }
            OperationType::Redeem => {
                unexpected(&self.destination, "destination")?;
                Operation::Redeem {
                    source: wallet(&self.source, "source")?,
                    amount,
                }
            }
            OperationType::Transfer => Operation::Transfer {
                source: wallet(&self.source, "source")?,
                destination: wallet(&self.destination, "destination")?,
                amount,
            },
            // `Capture` is an entry type the ledger writes; the request body
            // of a Capture (with its hold) is the holds API's, not here yet.
            OperationType::Capture => {
                return Err(V2Error::invalid(format!(
                    "operation {i}: type must be Issue, Redeem or Transfer"
                )))
            }
        })
    }
}

/// An amount must be a JSON integer literal: `1.5`, `1.0` and `1e3` are
/// `FRACTION_IN_AMOUNT_NOT_VALID`; zero, negatives and values beyond i64 are
/// `VALIDATION_ERROR`.
fn parse_amount(raw: &RawValue, i: usize) -> Result<PositiveAmount, V2Error> {
    let text = raw.get().trim();
    if let Ok(value) = text.parse::<i64>() {
        return PositiveAmount::parse(value)
            .map_err(|_| V2Error::invalid(format!("operation {i}: amount must be a positive integer")));
    }
    let is_number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if is_number && text.contains(['.', 'e', 'E']) {
        return Err(V2Error::new(
            ErrorStatus::FractionInAmountNotValid,
            format!("operation {i}: amount must be an integer count of the asset's smallest parts"),
        ));
    }
    if is_number {
        return Err(V2Error::invalid(format!("operation {i}: amount is out of range")));
    }
    Err(V2Error::invalid(format!(
        "operation {i}: amount must be a positive integer"
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 0.
    pub page: Option<u32>,
    /// 1-1000, default 20.
    pub page_size: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Epoch milliseconds, inclusive; default: the beginning.
    pub from: Option<i64>,
    /// Epoch milliseconds, exclusive; default: the end of time.
    pub to: Option<i64>,
    /// Page number, from 0.
    pub page: Option<u32>,
    /// 1-1000, default 20.
    pub page_size: Option<u32>,
}

impl RangeQuery {
    pub fn range(&self) -> TimeRange {
        TimeRange {
            from: self.from.unwrap_or(i64::MIN),
            to: self.to.unwrap_or(i64::MAX),
        }
    }

    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

fn page(page: Option<u32>, size: Option<u32>) -> Result<PageRequest, V2Error> {
    let size = size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(V2Error::invalid(format!(
            "pageSize must be from 1 to {MAX_PAGE_SIZE}"
        )));
    }
    Ok(PageRequest {
        page: page.unwrap_or(0),
        size,
    })
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

    #[test]
    fn page_sizes() {
        assert!(page(None, Some(1000)).is_ok());
        assert!(page(None, Some(1001)).is_err());
        assert!(page(None, Some(0)).is_err());
        assert_eq!(page(None, None).ok(), Some(PageRequest { page: 0, size: 20 }));
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
