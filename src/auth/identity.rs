//! Who a credential belongs to, for what is kept per credential (the rate
//! limit): the same for every token or signature that proves it, never a
//! secret, never the token's bytes.

use super::jwt::{self, AuthError};
use super::{tokens, Credentials};
use wallet_core::policy::Caller;

/// The identity behind an authenticated credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// An authority, by its id: its access key, or any JWT it signs.
    Authority(String),
    /// One opaque customer key, by its public id.
    CustomerKey(String),
    /// The offline customer JWTs one authority signs for one customer.
    CustomerToken { authority: String, customer: String },
}

impl Credentials {
    /// `authenticate`, and the identity of the credential that passed.
    pub async fn identify(&self, header: Option<&str>) -> Result<(Caller, Identity), AuthError> {
        let caller = self.authenticate(header).await?;
        let identity = match &caller {
            Caller::Authority(authority) => Identity::Authority(authority.public_id.clone()),
            Caller::Operator(operator) => Identity::Authority(format!("operator:{}", operator.project_id)),
            Caller::Customer(viewer) => {
                let token = jwt::token_of(header.unwrap_or_default());
                // As `authenticate` tells them apart: a token with a dot is a
                // JWT, and its claims have just been verified.
                if token.contains('.') {
                    Identity::CustomerToken {
                        authority: jwt::unverified_claims(token)?.sub,
                        customer: viewer.customer_id.clone(),
                    }
                } else {
                    let (key_id, _) = tokens::split(token).ok_or(AuthError::Malformed)?;
                    Identity::CustomerKey(key_id.to_owned())
                }
            }
        };
        Ok((caller, identity))
    }

    /// `authenticate_authority`, and the authority's identity.
    pub async fn identify_authority(&self, header: Option<&str>) -> Result<(Caller, Identity), AuthError> {
        let caller = self.authenticate_authority(header).await?;
        let identity = match &caller {
            Caller::Authority(authority) => Identity::Authority(authority.public_id.clone()),
            _ => return Err(AuthError::UnknownKey),
        };
        Ok((caller, identity))
    }
}
