//! Credentials: authorities (ES256 key pairs or opaque access keys), customer
//! keys (opaque or offline JWTs), and authenticating a request as one of them.
//!
//! The server stores only public keys and SHA-256 digests. Private keys and
//! opaque tokens are shown once and forgotten.

mod authenticate;
mod authorities;
mod customer_keys;
mod jwt;
mod keys;
mod tokens;
mod verified;

pub use authorities::{AuthorityInfo, ClientConfig, NewAccessKey, NewAuthority};
pub use customer_keys::{CustomerKeyInfo, NewCustomerKey};
pub use jwt::AuthError;

use crate::storage::Store;

/// Credential operations over one store. Cheap to clone.
#[derive(Clone)]
pub struct Credentials {
    store: Store,
    verified: std::sync::Arc<verified::VerifiedTokens>,
}

impl Credentials {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            verified: Default::default(),
        }
    }
}
