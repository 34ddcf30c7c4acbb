//! What clients send to API v2, and its validation into domain values.

mod items;
mod operations;

pub use items::{ItemsQuery, StockOwner, StockQuery};
pub use operations::OperationBody;

use super::error::{ErrorStatus, V2Error};
use super::types::{HoldStatus, LotStatus, WalletStatus};
use operations::{integer_literal, NotAnInteger};
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};
use wallet_core::ids::RowId;
use wallet_core::model::{PageRequest, TimeRange};
use wallet_core::operation::TransactionRequest;
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

/// `PUT /wallets/{walletId}/credit-limit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreditLimitBody {
    /// How far below zero the balance may go: an integer count of the
    /// asset's smallest parts, from 0 to 2^62.
    #[schema(value_type = i64, minimum = 0)]
    pub credit_limit: Box<RawValue>,
}

impl CreditLimitBody {
    /// The limit as an integer; its range is the ledger's to check. Like an
    /// amount, a fraction is `FRACTION_IN_AMOUNT_NOT_VALID`.
    pub fn limit(&self) -> Result<i64, V2Error> {
        integer_literal(&self.credit_limit).map_err(|e| match e {
            NotAnInteger::Fraction => V2Error::new(
                ErrorStatus::FractionInAmountNotValid,
                "creditLimit must be an integer count of the asset's smallest parts",
            ),
            NotAnInteger::OutOfRange | NotAnInteger::NotANumber => V2Error::invalid(format!(
                "creditLimit must be an integer from 0 to {}",
                wallet_core::MAX_CREDIT_LIMIT
            )),
        })
    }
}

/// `GET /wallets/{walletId}/holds`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HoldsQuery {
    /// Only holds of this status; default: all.
    pub status: Option<HoldStatus>,
    /// Page number, from 0.
    pub page: Option<u32>,
    /// 1-1000, default 20.
    pub page_size: Option<u32>,
}

impl HoldsQuery {
    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

/// `GET /wallets/{walletId}/lots`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LotsQuery {
    /// Only lots of this status; default: all.
    pub status: Option<LotStatus>,
    /// Page number, from 0.
    pub page: Option<u32>,
    /// 1-1000, default 20.
    pub page_size: Option<u32>,
}

impl LotsQuery {
    pub fn page(&self) -> Result<PageRequest, V2Error> {
        page(self.page, self.page_size)
    }
}

/// `GET /wallets/{walletId}/balance`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BalanceQuery {
    /// Epoch milliseconds: the balance after every entry created at or
    /// before it.
    pub at: i64,
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

/// A page request from `page` and `pageSize`, checked.
pub fn page(page: Option<u32>, size: Option<u32>) -> Result<PageRequest, V2Error> {
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

    #[test]
    fn page_sizes() {
        assert!(page(None, Some(1000)).is_ok());
        assert!(page(None, Some(1001)).is_err());
        assert!(page(None, Some(0)).is_err());
        assert_eq!(page(None, None).ok(), Some(PageRequest { page: 0, size: 20 }));
    }
}
