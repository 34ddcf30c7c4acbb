//! Creating, listing and revoking authorities: key-pair authorities (API v1's
//! SDK) and access keys (opaque tokens for API v2).

use super::{keys, tokens, Credentials};
use crate::clock;
use crate::domain::{ProjectId, PublicId, Text};
use crate::ledger::{LedgerError, Missing};
use crate::storage::{AuthorityCredential, AuthorityRow};
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

impl From<AuthorityRow> for AuthorityInfo {
    fn from(row: AuthorityRow) -> Self {
        Self {
            kind: if row.public_key_pem.is_some() {
                "key-pair"
            } else {
                "access-key"
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
            .insert(project, name, public_id, move |tx, id, project, name| {
                tx.insert_authority(
                    id,
                    project,
                    name,
                    AuthorityCredential::PublicKey(&pair.public_pem),
                    clock::now_ms(),
                )
            })
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
        let digest = minted.digest;
        let row = self
            .insert(project, name, minted.id, move |tx, id, project, name| {
                tx.insert_authority(
                    id,
                    project,
                    name,
                    AuthorityCredential::TokenDigest(&digest),
                    clock::now_ms(),
                )
            })
            .await?;
        Ok(NewAccessKey {
            info: row.into(),
            token: minted.token,
        })
    }

    async fn insert<F>(
        &self,
        project: ProjectId,
        name: Text,
        id: PublicId,
        insert: F,
    ) -> Result<AuthorityRow, LedgerError>
    where
        F: FnOnce(
                &crate::storage::WriteTx<'_>,
                &str,
                &ProjectId,
                &str,
            ) -> Result<i64, crate::storage::StorageError>
            + Send
            + 'static,
    {
        let lookup = id.clone();
        self.store
            .write(move |tx| {
                if !tx.project_exists(&project)? {
                    return Err(LedgerError::NotFound(Missing::Project));
                }
                insert(tx, id.as_str(), &project, name.as_str())?;
                tx.read()
                    .authority(lookup.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Authority))
            })
            .await
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

    /// What may be shown of one authority or access key.
    pub async fn authority_info(&self, id: &PublicId) -> Result<AuthorityInfo, LedgerError> {
        let id = id.clone();
        self.store
            .read(move |r| {
                r.authority(id.as_str())?
                    .ok_or(LedgerError::NotFound(Missing::Authority))
            })
            .await
            .map(AuthorityInfo::from)
    }

    /// Revokes an authority or access key: from the next request on, its
    /// credential is refused.
    pub async fn revoke_authority(&self, id: PublicId) -> Result<(), LedgerError> {
        self.store
            .write(
                move |tx| match tx.revoke_authority(id.as_str(), clock::now_ms())? {
                    true => Ok(()),
                    false => Err(LedgerError::NotFound(Missing::Authority)),
                },
            )
            .await
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
