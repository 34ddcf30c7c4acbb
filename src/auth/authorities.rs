//! Creating, listing, revoking and authenticating authorities.

use super::jwt::{self, AuthError};
use super::keys;
use crate::clock;
use crate::domain::{ProjectId, PublicId, Text};
use crate::ledger::{LedgerError, Poster};
use crate::storage::{AuthorityRow, Store};
use serde::Serialize;

/// The client config file the Python SDK loads (`WalletClient.LoadFromConfig`).
/// It holds the only copy of the private key; `Debug` does not print it.
#[derive(Serialize)]
pub struct ClientConfig {
    pub config_schema_version: &'static str,
    pub api_base_url: String,
    pub authority_id: String,
    pub private_key: String,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_base_url", &self.api_base_url)
            .field("authority_id", &self.authority_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// The result of creating an authority.
#[derive(Debug)]
pub struct NewAuthority {
    pub info: AuthorityInfo,
    pub config: ClientConfig,
}

/// What anyone may see of an authority.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorityInfo {
    pub id: String,
    pub project: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<AuthorityRow> for AuthorityInfo {
    fn from(row: AuthorityRow) -> Self {
        Self {
            id: row.public_id,
            project: row.project_id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// Credential operations over one store. Cheap to clone.
#[derive(Clone)]
pub struct Credentials {
    store: Store,
}

impl Credentials {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Generates a key pair, stores the public key, and returns the client
    /// config holding the private key.
    pub async fn create_authority(
        &self,
        project: ProjectId,
        name: Text,
        api_base_url: &str,
    ) -> Result<NewAuthority, LedgerError> {
        let api_base_url = parse_base_url(api_base_url)?;
        let pair = keys::generate().map_err(LedgerError::Invalid)?;
        let public_id = PublicId::random("au_");
        let public_pem = pair.public_pem;
        let id = public_id.clone();
        self.store
            .write(move |tx| {
                if !tx.project_exists(&project)? {
                    return Err(LedgerError::NotFound("project"));
                }
                tx.insert_authority(id.as_str(), &project, name.as_str(), &public_pem, clock::now_ms())?;
                Ok(())
            })
            .await?;
        let row = self
            .authority(public_id.as_str())
            .await?
            .ok_or(LedgerError::NotFound("authority"))?;
        Ok(NewAuthority {
            config: ClientConfig {
                config_schema_version: "0.1.0",
                api_base_url,
                authority_id: row.public_id.clone(),
                private_key: pair.private_pem,
            },
            info: row.into(),
        })
    }

    pub async fn list_authorities(
        &self,
        project: Option<ProjectId>,
    ) -> Result<Vec<AuthorityInfo>, LedgerError> {
        let rows = self
            .store
            .read(move |r| Ok::<_, LedgerError>(r.authorities(project.as_ref().map(ProjectId::as_str))?))
            .await?;
        Ok(rows.into_iter().map(AuthorityInfo::from).collect())
    }

    /// Revokes an authority: from the next request on, its tokens are refused.
    pub async fn revoke_authority(&self, id: PublicId) -> Result<(), LedgerError> {
        self.store
            .write(
                move |tx| match tx.revoke_authority(id.as_str(), clock::now_ms())? {
                    true => Ok(()),
                    false => Err(LedgerError::NotFound("authority")),
                },
            )
            .await
    }

    async fn authority(&self, public_id: &str) -> Result<Option<AuthorityRow>, LedgerError> {
        let public_id = public_id.to_owned();
        self.store.read(move |r| Ok(r.authority(&public_id)?)).await
    }

    /// Authenticates an `Authorization` header value as an authority's JWT.
    /// The authority is looked up on every request, so a revocation (even by
    /// the CLI in another process) takes effect at once.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Poster, AuthError> {
        let token = jwt::token_of(header.ok_or(AuthError::Missing)?);
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let subject = jwt::unverified_subject(token)?;
        if PublicId::parse(&subject).is_err() {
            return Err(AuthError::UnknownAuthority);
        }
        let row = self
            .authority(&subject)
            .await
            .map_err(|e| {
                log::error!("authority lookup failed: {e}");
                AuthError::Unavailable
            })?
            .ok_or(AuthError::UnknownAuthority)?;
        if row.revoked_at.is_some() {
            return Err(AuthError::UnknownAuthority);
        }
        let claims = jwt::verify(token, &row.public_key_pem)?;
        if claims.sub != row.public_id {
            return Err(AuthError::UnknownAuthority);
        }
        Ok(Poster {
            authority: row.rowid,
            authority_id: row.public_id,
            project_id: row.project_id,
            default_asset: row.default_asset,
        })
    }
}

/// `http(s)://host[:port][/prefix]`, without a trailing slash (the SDK
/// appends `/api/v1`).
fn parse_base_url(url: &str) -> Result<String, LedgerError> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            LedgerError::Invalid("the API base URL must start with http:// or https://".to_owned())
        })?;
    if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(LedgerError::Invalid(
            "the API base URL has no host or contains spaces".to_owned(),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_base_url;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/").ok().as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            parse_base_url("https://w.example/x").ok().as_deref(),
            Some("https://w.example/x")
        );
        for bad in ["", "127.0.0.1:8080", "ftp://x", "http://", "http://a b"] {
            assert!(parse_base_url(bad).is_err(), "{bad:?}");
        }
    }
}
