//! The admin password: argon2id PHC string in the settings table, verified
//! off the async threads (a bounded number at a time: `verifier`). The
//! plain password is never stored.

use crate::domain::AdminPassword;
use anyhow::Context;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use std::io::Write;
use std::path::{Path, PathBuf};
use wallet_core::model::AdminSession;
use wallet_core::text::random_base32;
use wallet_core::{Ledger, LedgerError};

/// The one admin user's name.
pub const ADMIN_USER: &str = "admin";
/// The file a generated password is written to, next to the database.
pub const PASSWORD_FILE: &str = "admin-password.txt";

pub(super) fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))
}

/// Hashes on a blocking thread: argon2 takes tens of milliseconds on purpose.
async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .context("hashing thread")?
}

/// Identifies one stored password hash (`AdminSession::stamp_of`: the
/// SHA-256 of its PHC string). Every `set` hashes with a fresh salt, so the
/// stamp changes with every change of password, even to the same one.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordStamp(Vec<u8>);

impl PasswordStamp {
    pub(super) fn of(phc: &str) -> Self {
        Self(AdminSession::stamp_of(phc))
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// The stored PHC string, if a password is set.
pub(super) async fn stored_hash(ledger: &Ledger) -> Result<Option<String>, LedgerError> {
    ledger.admin_password_hash().await
}

/// Sets (or replaces) the admin password; every session opened under
/// another ends (the ledger prunes them in the same write, and no process
/// would accept them anyway: their stamp is not the stored hash's).
pub async fn set(ledger: &Ledger, password: &AdminPassword) -> anyhow::Result<()> {
    let phc = hash_blocking(password.expose().to_owned()).await?;
    ledger
        .set_admin_password_hash(phc, false)
        .await
        .context("storing the admin password hash")?;
    Ok(())
}

/// On server start: makes sure an admin password exists. Takes
/// `from_env` if given, else generates one, writes it to `password_file`
/// (mode 0600) and logs where it is. Without either (a fresh PostgreSQL
/// database and no `admin_password_file`) the start is refused: a
/// generated password nobody can read would lock the operator out.
pub async fn ensure(
    ledger: &Ledger,
    from_env: Option<AdminPassword>,
    password_file: Option<&Path>,
) -> anyhow::Result<()> {
    if ledger.admin_password_hash().await?.is_some() {
        return Ok(());
    }
    let generated = from_env.is_none();
    let file = match (generated, password_file) {
        (true, None) => anyhow::bail!(
            "this database has no admin password yet, and there is no file next to a PostgreSQL \
             database to write a generated one to: set WALLET_ADMIN_PASSWORD for the first start \
             (or `admin_password_file` in the config file to have one generated there)"
        ),
        (_, file) => file,
    };
    let password = match from_env {
        Some(password) => password.expose().to_owned(),
        None => random_base32(24),
    };
    let phc = hash_blocking(password.clone()).await?;
    let stored = ledger.set_admin_password_hash(phc, true).await?;
    if let (true, true, Some(file)) = (stored, generated, file) {
        write_password_file(file, &password)?;
        // The log says where the password is, never the password itself:
        // logs travel (journald, log shippers) and secrets never go there.
        log::warn!(
            "generated the admin password (user `{ADMIN_USER}`); it is in {} (mode 0600). \
             Change it with `wallet-service admin set-password`",
            file.display()
        );
    }
    Ok(())
}

/// Where a generated password is written: next to the database file.
pub fn password_file(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join(PASSWORD_FILE)
}

fn write_password_file(path: &Path, password: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    writeln!(file, "{password}")?;
    #[cfg(unix)]
    {
        // An older file may have had looser permissions.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    /// A database with no password and no file to write a generated one to
    /// (a fresh PostgreSQL database without `admin_password_file`): the
    /// start is refused unless `WALLET_ADMIN_PASSWORD` gives it.
    #[tokio::test]
    async fn without_a_password_file_the_first_start_needs_the_password() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let ledger = Ledger::new(crate::startup::open_sqlite(&dir.path().join("w.db"))?);
        let refused = ensure(&ledger, None, None).await;
        let message = format!("{:#}", refused.err().ok_or_else(|| anyhow::anyhow!("accepted"))?);
        assert!(message.contains("WALLET_ADMIN_PASSWORD"), "{message}");
        assert!(message.contains("admin_password_file"), "{message}");
        assert_eq!(ledger.admin_password_hash().await?, None, "nothing was stored");

        let given = AdminPassword::parse("a password from the environment")?;
        ensure(&ledger, Some(given), None).await?;
        assert!(ledger.admin_password_hash().await?.is_some());
        ensure(&ledger, None, None).await?;
        assert!(
            std::fs::read_dir(dir.path())?
                .all(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().contains("password"))),
            "no password file anywhere"
        );
        Ok(())
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() -> anyhow::Result<()> {
        let phc = hash("correct horse battery staple")?;
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let parsed = PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("{e}"))?;
        assert!(Argon2::default()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &parsed).is_err());
        Ok(())
    }
}
