//! What clients send to API v2, and its validation into domain values.

mod items;
mod operations;

pub use items::{ItemsQuery, StockOwner, StockQuery};
pub use operations::ToOperation;
// The bodies themselves are wallet_core's: what a client writes too.
pub use wallet_core::wire::{
    BatchBody, CreditLimitBody, CustomerBody, CustomerUpdateBody, DescriptionBody, NameBody, NewAssetBody,
    NewKeyBody, NewSystemWalletBody, NewWalletBody, OperationBody, ResumeBody, StatusBody, StatusObject,
    TransactionBody,
};

use super::error::{ErrorStatus, V2Error};
use super::types::{HoldStatus, LotStatus, WalletStatus};
use operations::{integer_literal, NotAnInteger};
use serde::Deserialize;
use utoipa::IntoParams;
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

/// The server's reading of a [`StatusBody`].
pub trait ParseStatus {
    /// `"Open"` or `{"status": "Open"}`; anything else (an array too, which
    /// serde would read as the object) is a validation error.
    fn parse(body: serde_json::Value) -> Result<WalletStatus, V2Error>;
}

impl ParseStatus for StatusBody {
    fn parse(body: serde_json::Value) -> Result<WalletStatus, V2Error> {
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

/// Most transactions one batch may hold.
pub const MAX_BATCH: usize = 8000;

/// The server's reading of a [`TransactionBody`].
pub trait IntoRequest {
    fn into_request(self) -> Result<TransactionRequest, V2Error>;
}

impl IntoRequest for TransactionBody {
    fn into_request(self) -> Result<TransactionRequest, V2Error> {
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

/// The server's reading of a [`CreditLimitBody`].
pub trait CreditLimit {
    /// The limit as an integer; its range is the ledger's to check. Like an
    /// amount, a fraction is `FRACTION_IN_AMOUNT_NOT_VALID`.
    fn limit(&self) -> Result<i64, V2Error>;
}

impl CreditLimit for CreditLimitBody {
    fn limit(&self) -> Result<i64, V2Error> {
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
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
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
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
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
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
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
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4_294_967_295_i64)]
    pub page: Option<u32>,
    /// 1-1000, default 20.
    #[param(minimum = 1, maximum = 1000)]
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
