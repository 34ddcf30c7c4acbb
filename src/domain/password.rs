//! The admin password policy: one rule for every way of setting it
//! (`WALLET_ADMIN_PASSWORD`, `admin set-password`, the generated one).

use super::InvalidValue;
use std::fmt;

/// A password the admin may be given: 12 to 1024 characters, no control
/// characters (a tab or newline cannot be typed into the login form, so such
/// a password could never be used). Its `Debug` never shows it.
#[derive(Clone)]
pub struct AdminPassword(String);

impl AdminPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let chars = value.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(InvalidValue::new(format!(
                "the admin password must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if chars > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!(
                "the admin password must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "the admin password must not contain control characters (tab, newline, ...)",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The plain password, to hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_takes_12_to_1024_printable_characters() {
        for bad in [
            "",
            "x",
            "elevenchars",
            "tab\tinside-it",
            "newline\ninside",
            &"a".repeat(1025),
        ] {
            assert!(AdminPassword::parse(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["twelve chars", "ünïcödé-pässwörd", &"a".repeat(1024)] {
            assert!(AdminPassword::parse(good).is_ok(), "{good:?} was refused");
        }
        let secret = AdminPassword::parse("correct horse battery").map(|p| format!("{p:?}"));
        assert_eq!(secret.as_deref(), Ok("AdminPassword(<redacted>)"));
    }
}
