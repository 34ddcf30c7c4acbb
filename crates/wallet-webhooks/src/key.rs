//! The server's key: 32 random bytes in a file, made on the first start.
//!
//! - A webhook's signing secret is HMAC-SHA256 of the key over
//!   `webhook:<id>:<salt>`: derived, never stored, shown once when the
//!   webhook is created; the database holds only the (non-secret) salt. A
//!   stolen database therefore cannot forge deliveries.
//! - `events prune` signs its anchors with it ([`ServerKey::sign_anchor`]),
//!   and `verify` checks them.
//!
//! The file:
//! - missing: created with 32 random bytes, mode 0600, without ever
//!   replacing a file another process created meanwhile (written aside,
//!   then hard-linked into place; a process that loses the race reads the
//!   winner's);
//! - present: it must hold exactly 32 bytes, and on Unix it must not be
//!   readable or writable by group or others (as ssh refuses a private
//!   key): anything else is refused at start with the reason, rather than
//!   signing with a key others may read;
//! - every process on one database (several PostgreSQL servers) must use
//!   the same file (the same bytes), or their signatures differ.

use crate::signing::{HmacSha256, Secret};
use hmac::Mac;
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How long the key is.
pub const KEY_LEN: usize = 32;

/// The server's key, loaded once.
#[derive(Clone)]
pub struct ServerKey(Arc<[u8; KEY_LEN]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

/// Why the key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the server key {path} could not be {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("the server key {path} holds {len} bytes; it must hold exactly {KEY_LEN}")]
    Length { path: PathBuf, len: usize },
    #[error(
        "the server key {path} is readable or writable by others (mode {mode:o}); \
         make it private with `chmod 600`"
    )]
    Exposed { path: PathBuf, mode: u32 },
}

impl ServerKey {
    /// A key of these bytes (tests; a key read elsewhere).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Arc::new(bytes))
    }

    /// Reads the key at `path`, creating it (and its folder) first if it is
    /// missing.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match Self::load(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                create(path)?;
                Self::load(path)
            }
            other => other,
        }
    }

    /// Reads an existing key.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let io = |what| {
            move |source| KeyError::Io {
                path: path.to_owned(),
                what,
                source,
            }
        };
        let meta = std::fs::metadata(path).map_err(io("read"))?;
        check_private(path, &meta)?;
        let bytes = std::fs::read(path).map_err(io("read"))?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| KeyError::Length {
            path: path.to_owned(),
            len: bytes.len(),
        })?;
        Ok(Self(Arc::new(key)))
    }

    /// The signing secret of webhook `id` with `salt`.
    pub fn webhook_secret(&self, id: &str, salt: &str) -> Secret {
        Secret::from_bytes(self.mac(&format!("webhook:{id}:{salt}")))
    }

    /// Lowercase hex HMAC-SHA256 of `text` (an `events prune` anchor).
    pub fn sign_anchor(&self, text: &str) -> String {
        wallet_core::events::hex(&self.mac(&format!("anchor:{text}")))
    }

    /// [`sign_anchor`](Self::sign_anchor) as the core's `AnchorSigner`.
    pub fn anchor_signer(&self) -> wallet_core::AnchorSigner {
        let key = self.clone();
        Arc::new(move |text: &str| key.sign_anchor(text))
    }

    fn mac(&self, text: &str) -> Vec<u8> {
        // A 32-byte key: `new_from_slice` cannot fail.
        let Ok(mut mac) = HmacSha256::new_from_slice(self.0.as_slice()) else {
            return Vec::new();
        };
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// Writes a new key aside (mode 0600, synced) and links it into place,
/// unless a file is there by then (another process won: its key is used).
fn create(path: &Path) -> Result<(), KeyError> {
    let io = |what| {
        move |source| KeyError::Io {
            path: path.to_owned(),
            what,
            source,
        }
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("given a folder"))?;
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = dir.join(format!(".{name}.{}.tmp", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&aside).and_then(|mut file| {
        file.write_all(&key)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&aside, path));
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io("created")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_is_created_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub").join("wallet.db.key");
        let first = ServerKey::load_or_create(&path).expect("created");
        assert_eq!(std::fs::read(&path).expect("read").len(), KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = ServerKey::load_or_create(&path).expect("loaded");
        assert_eq!(first.sign_anchor("p:1:h"), again.sign_anchor("p:1:h"));
        assert_eq!(
            first.webhook_secret("wh_a", "salt"),
            again.webhook_secret("wh_a", "salt")
        );
        let leftovers = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .count();
        assert_eq!(leftovers, 1, "nothing left aside");
    }

    #[test]
    fn a_key_of_the_wrong_length_or_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let short = dir.path().join("short.key");
        std::fs::write(&short, [1u8; 16]).expect("written");
        set_mode(&short, 0o600);
        assert!(matches!(
            ServerKey::load_or_create(&short),
            Err(KeyError::Length { len: 16, .. })
        ));
        #[cfg(unix)]
        {
            let open = dir.path().join("open.key");
            std::fs::write(&open, [1u8; KEY_LEN]).expect("written");
            set_mode(&open, 0o644);
            assert!(matches!(ServerKey::load(&open), Err(KeyError::Exposed { .. })));
            set_mode(&open, 0o400);
            assert!(ServerKey::load(&open).is_ok());
        }
    }

    #[test]
    fn secrets_differ_per_webhook_salt_and_key_and_anchors_are_hex() {
        let key = ServerKey::from_bytes([7; KEY_LEN]);
        let base = key.webhook_secret("wh_a", "s1");
        assert_ne!(base, key.webhook_secret("wh_b", "s1"));
        assert_ne!(base, key.webhook_secret("wh_a", "s2"));
        assert_ne!(
            base,
            ServerKey::from_bytes([8; KEY_LEN]).webhook_secret("wh_a", "s1")
        );
        assert!(base.to_whsec().starts_with("whsec_"));
        let signature = key.sign_anchor("p:10:abc");
        assert_eq!(signature.len(), 64);
        assert!(signature
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!((key.anchor_signer())("p:10:abc"), signature);
        assert_ne!(signature, key.sign_anchor("p:11:abc"));
    }

    fn set_mode(path: &Path, mode: u32) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        let _ = (path, mode);
    }
}
