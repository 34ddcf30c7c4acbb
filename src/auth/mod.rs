//! Credentials: authorities (ES256 key pairs or opaque access keys), customer
//! keys (opaque or offline JWTs), authenticating a request as one of them,
//! and naming the identity behind it (what the rate limit keys on).
//!
//! The server stores only public keys and SHA-256 digests. Private keys and
//! opaque tokens are shown once and forgotten.

mod authenticate;
mod authorities;
mod customer_keys;
mod identity;
mod jwt;
mod keys;
mod tokens;
mod verified;

pub use authorities::{AuthorityInfo, ClientConfig, NewAccessKey, NewAuthority};
pub use customer_keys::{CustomerKeyInfo, NewCustomerKey};
pub use identity::Identity;
pub use jwt::AuthError;

use wallet_core::{Ledger, Store};

/// Credential operations over one store. Cheap to clone.
///
/// Authentication reads credentials through the storage port (one read per
/// request, so a revocation by another process is seen at once); creating
/// and revoking them goes through the ledger, which decides who may.
#[derive(Clone)]
pub struct Credentials {
    store: Store,
    ledger: Ledger,
    verified: std::sync::Arc<verified::VerifiedTokens>,
    /// Seconds of skew allowed on JWT `exp`/`nbf` (`jwt_leeway_seconds`).
    jwt_leeway: u64,
}

impl Credentials {
    /// Credentials with JWT times enforced exactly (no leeway).
    pub fn new(store: Store) -> Self {
        Self {
            ledger: Ledger::new(store.clone()),
            store,
            verified: Default::default(),
            jwt_leeway: 0,
        }
    }

    /// Allows `seconds` of clock skew on JWT `exp` and `nbf`.
    pub fn with_jwt_leeway(mut self, seconds: u64) -> Self {
        self.jwt_leeway = seconds;
        self
    }
}
