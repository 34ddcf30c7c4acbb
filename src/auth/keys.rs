//! P-256 key pairs for authorities.

use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use p256::SecretKey;

/// A fresh key pair: the private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`) and
/// the public key as SPKI PEM. Not SEC1: p256 writes SEC1 without the curve
/// parameters, which OpenSSL (the SDK's `cryptography`) refuses to load;
/// PKCS#8 names the curve and loads everywhere.
pub(super) struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

pub(super) fn generate() -> Result<KeyPair, String> {
    let secret = SecretKey::random(&mut rand_core::OsRng);
    let private_pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("could not encode the private key: {e}"))?;
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| format!("could not encode the public key: {e}"))?;
    Ok(KeyPair {
        private_pem: private_pem.to_string(),
        public_pem,
    })
}
