//! Turning an `Authorization` header into a caller.
//!
//! Credentials are looked up on every request, so a revocation (even by the
//! CLI in another process) takes effect at once.

use super::jwt::{self, AuthError};
use super::verified::VerifiedTokens;
use super::{tokens, Credentials};
use wallet_core::clock::system_now;
use wallet_core::model::{Authority, AuthorityCredential, CustomerStatus};
use wallet_core::policy::{AuthorityCaller, Caller, CustomerCaller, CustomerCredential};
use wallet_core::port::ReadTx;
use wallet_core::text::PublicId;
use wallet_core::{Lapse, StoreError};

impl Credentials {
    /// Authenticates any credential: an authority's JWT or access key, or a
    /// customer's key or JWT.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let token = jwt::token_of(header.ok_or(AuthError::Missing)?).to_owned();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let verified = std::sync::Arc::clone(&self.verified);
        let leeway = self.jwt_leeway;
        // A few indexed lookups: a point read, which SQLite serves on this
        // thread (no hop), still against the database on every request.
        self.store
            .read_point(move |r| {
                if token.contains('.') {
                    return from_jwt(r, &token, &verified, leeway);
                }
                if token.starts_with(tokens::ACCESS_KEY_PREFIX) {
                    return from_access_key(r, &token);
                }
                if token.starts_with(tokens::CUSTOMER_KEY_PREFIX) {
                    return from_customer_key(r, &token);
                }
                Err(AuthError::Malformed)
            })
            .await
    }

    /// Authenticates an authority only (API v1): customer credentials are refused.
    pub async fn authenticate_authority(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        match self.authenticate(header).await? {
            caller @ Caller::Authority(_) => Ok(caller),
            _ => Err(AuthError::UnknownKey),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        log::error!("credential lookup failed: {e}");
        AuthError::Unavailable
    }
}

fn live_authority(r: &mut dyn ReadTx, id: &str) -> Result<Authority, AuthError> {
    if PublicId::parse(id).is_err() {
        return Err(AuthError::UnknownKey);
    }
    let row = r.authority(id)?.ok_or(AuthError::UnknownKey)?;
    if row.revoked_at.is_some() {
        return Err(AuthError::UnknownKey);
    }
    Ok(row)
}

fn poster(row: Authority, expires_at: Option<i64>) -> Caller {
    Caller::Authority(AuthorityCaller {
        authority: row.rowid,
        public_id: row.public_id,
        project_id: row.project_id,
        default_asset: row.default_asset,
        expires_at,
    })
}

/// When a token stops being usable, in Unix ms, for the writer to check
/// again: its `exp` widened by the same leeway as on arrival.
fn expiry_ms(claims: &jwt::Claims, leeway: u64) -> Option<i64> {
    let secs = claims.expiry().ok().flatten()?.saturating_add(leeway);
    i64::try_from(secs).ok()?.checked_mul(1000)
}

impl From<Lapse> for AuthError {
    /// A credential that lapsed between a request's arrival and its write is
    /// refused as it would have been on arrival.
    fn from(lapse: Lapse) -> Self {
        match lapse {
            Lapse::Revoked => AuthError::UnknownKey,
            Lapse::Expired => AuthError::Expired,
        }
    }
}

fn from_jwt(
    r: &mut dyn ReadTx,
    token: &str,
    cache: &VerifiedTokens,
    leeway: u64,
) -> Result<Caller, AuthError> {
    let claims = jwt::unverified_claims(token)?;
    // Checked on every request, cached or not: revocation is never cached.
    let row = live_authority(r, &claims.sub)?;
    // An access-key authority has no key pair: it cannot sign.
    let pem = row.public_key_pem().ok_or(AuthError::UnknownKey)?.to_owned();
    let pem = pem.as_str();
    let Some(audience) = claims.aud.as_ref() else {
        let now = u64::try_from(system_now() / 1000).unwrap_or(0);
        // Keyed by the low-S form: a token and its high-S twin are one entry.
        let key = jwt::canonical(token);
        if !cache.knows(&key, &row.public_id, now) {
            let verified = jwt::verify(token, pem, None, leeway)?;
            if verified.sub != row.public_id {
                return Err(AuthError::UnknownKey);
            }
            if let Ok(expiry) = verified.expiry() {
                let usable_until = expiry.map(|exp| exp.saturating_add(leeway));
                cache.remember(&key, &row.public_id, usable_until);
            }
        }
        return Ok(poster(row, expiry_ms(&claims, leeway)));
    };
    let customer_id = audience
        .as_str()
        .and_then(|aud| aud.strip_prefix("customer:"))
        .ok_or(AuthError::Malformed)?
        .to_owned();
    jwt::verify(token, pem, Some(&format!("customer:{customer_id}")), leeway)?;
    let customer = r
        .customer(&row.project_id, &customer_id)?
        .filter(|c| c.status != CustomerStatus::Deleted)
        .ok_or(AuthError::UnknownKey)?;
    Ok(Caller::Customer(CustomerCaller {
        project_id: row.project_id,
        customer: customer.rowid,
        customer_id: customer.id,
        credential: CustomerCredential::Token(row.rowid),
        expires_at: expiry_ms(&claims, leeway),
    }))
}

fn from_access_key(r: &mut dyn ReadTx, token: &str) -> Result<Caller, AuthError> {
    let (id, secret) = tokens::split(token).ok_or(AuthError::Malformed)?;
    let row = r.authority(id)?.ok_or(AuthError::UnknownKey)?;
    let AuthorityCredential::TokenDigest(digest) = &row.credential else {
        return Err(AuthError::UnknownKey);
    };
    if !tokens::matches(secret, digest) || row.revoked_at.is_some() {
        return Err(AuthError::UnknownKey);
    }
    Ok(poster(row, None))
}

fn from_customer_key(r: &mut dyn ReadTx, token: &str) -> Result<Caller, AuthError> {
    let (id, secret) = tokens::split(token).ok_or(AuthError::Malformed)?;
    let key = r.customer_key(id)?.ok_or(AuthError::UnknownKey)?;
    if !tokens::matches(secret, &key.token_digest) || key.revoked_at.is_some() || key.customer_deleted {
        return Err(AuthError::UnknownKey);
    }
    if key.expires_at.is_some_and(|at| at <= system_now()) {
        return Err(AuthError::Expired);
    }
    Ok(Caller::Customer(CustomerCaller {
        project_id: key.project_id,
        customer: key.customer,
        customer_id: key.customer_id,
        credential: CustomerCredential::Key(key.rowid),
        expires_at: key.expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::{Lapse, LedgerError};

    #[test]
    fn a_lapse_found_at_write_reads_as_the_refusal_on_arrival() {
        for lapse in [Lapse::Revoked, Lapse::Expired] {
            assert_eq!(
                LedgerError::Credential(lapse).to_string(),
                AuthError::from(lapse).to_string()
            );
        }
    }
}
