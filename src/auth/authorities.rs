//! Creating, listing and revoking authorities: key-pair authorities (API v1's
//! SDK) and access keys (opaque tokens for API v2).

use super::{keys, tokens, Credentials};
use serde::Serialize;
use wallet_core::model::{Authority, AuthorityCredential};
use wallet_core::text::{ProjectId, PublicId, Text};
use wallet_core::{LedgerError, Missing};

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

/// The result of creating a key-pair authority.
#[derive(Debug)]
pub struct NewAuthority {
    pub info: AuthorityInfo,
    pub config: ClientConfig,
}

/// The result of creating an access key: the token is shown once.
pub struct NewAccessKey {
    pub info: AuthorityInfo,
    pub token: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("info", &self.info)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What anyone may see of an authority.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorityInfo {
    pub id: String,
    pub project: String,
    pub name: String,
    /// `key-pair` (ES256 JWTs, the SDK) or `access-key` (an opaque token).
    pub kind: &'static str,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl From<Authority> for AuthorityInfo {
    fn from(row: Authority) -> Self {
        Self {
            kind: match row.credential {
                AuthorityCredential::PublicKey(_) => "key-pair",
                AuthorityCredential::TokenDigest(_) => "access-key",
            },
            id: row.public_id,
            project: row.project_id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        }
    }
}

impl Credentials {
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
        let row = self
            .ledger
            .create_authority(
                project,
                name,
                public_id,
                AuthorityCredential::PublicKey(pair.public_pem),
            )
            .await?;
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

    /// Creates an authority whose credential is an opaque access key, and
    /// returns the key (the only time it is shown).
    pub async fn create_access_key(
        &self,
        project: ProjectId,
        name: Text,
    ) -> Result<NewAccessKey, LedgerError> {
        let minted = tokens::mint(tokens::ACCESS_KEY_PREFIX);
        let row = self
            .ledger
            .create_authority(
                project,
                name,
                minted.id,
                AuthorityCredential::TokenDigest(minted.digest),
            )
            .await?;
        Ok(NewAccessKey {
            info: row.into(),
            token: minted.token,
        })
    }

    pub async fn list_authorities(
        &self,
        project: Option<ProjectId>,
    ) -> Result<Vec<AuthorityInfo>, LedgerError> {
        let rows = self.ledger.authorities(project).await?;
        Ok(rows.into_iter().map(AuthorityInfo::from).collect())
    }

    /// What may be shown of one authority or access key.
    pub async fn authority_info(&self, id: &PublicId) -> Result<AuthorityInfo, LedgerError> {
        self.ledger
            .authority(id.clone())
            .await?
            .map(AuthorityInfo::from)
            .ok_or(LedgerError::NotFound(Missing::Authority))
    }

    /// Revokes an authority or access key: no write by it commits after this.
    pub async fn revoke_authority(&self, id: PublicId) -> Result<(), LedgerError> {
        self.ledger.revoke_authority(id).await
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
    let host = rest.split('/').next().unwrap_or_default();
    let bad =
        host.is_empty() || host.ends_with(':') || rest.chars().any(|c| c.is_whitespace() || c.is_control());
    if bad {
        return Err(LedgerError::Invalid(
            "the API base URL needs a host, and no spaces".to_owned(),
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
        for bad in [
            "",
            "127.0.0.1:8080",
            "ftp://x",
            "http://",
            "http://a b",
            "http://127.0.0.1:",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad:?}");
        }
    }
}
