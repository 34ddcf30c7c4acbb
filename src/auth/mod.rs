//! Credentials: authorities' P-256 keys, and the verification of the ES256
//! JWTs they sign.
//!
//! The server stores only public keys. A private key is generated here, put
//! into the client config file once, and forgotten.

mod authorities;
mod jwt;
mod keys;

pub use authorities::{AuthorityInfo, ClientConfig, Credentials, NewAuthority};
pub use jwt::AuthError;
