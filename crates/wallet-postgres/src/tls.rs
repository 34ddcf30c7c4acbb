//! TLS to PostgreSQL, with libpq's `sslmode` and `sslrootcert` meanings.
//!
//! The driver knows only `disable`, `prefer` and `require`, and leaves
//! verifying the server to the TLS connector; this module takes the two
//! parameters out of the URL and builds a rustls connector that does what
//! libpq does for each mode:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (the default) | if the server offers it | not verified (like libpq) unless `sslrootcert` is given |
//! | `require` | always | not verified unless `sslrootcert` is given (then as `verify-ca`) |
//! | `verify-ca` | always | signed by a root of `sslrootcert` |
//! | `verify-full` | always | signed by a root of `sslrootcert` and issued to the host name of the URL |
//!
//! `sslrootcert` is a PEM file of CA certificates, or `system` for the
//! operating system's store. `verify-ca` and `verify-full` need it: there
//! is no silent fallback to "trust anything".

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;
use wallet_core::StoreError;

/// What the URL asked of TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    mode: Mode,
    roots: Option<Roots>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    File(PathBuf),
    System,
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of `url` (a `postgres://` URL,
    /// or libpq's `key=value` words); returns the URL without them, for the
    /// driver, and the settings.
    pub(crate) fn split(url: &str) -> Result<(String, Self), StoreError> {
        let mut mode = None;
        let mut roots = None;
        let mut take = |key: &str, value: &str| -> Result<bool, StoreError> {
            match key {
                "sslmode" => {
                    mode = Some(Mode::parse(value)?);
                    Ok(true)
                }
                "sslrootcert" => {
                    roots = Some(if value == "system" {
                        Roots::System
                    } else {
                        Roots::File(PathBuf::from(value))
                    });
                    Ok(true)
                }
                _ => Ok(false),
            }
        };
        let rest = if url.contains("://") {
            match url.split_once('?') {
                Some((base, query)) => {
                    let mut kept = Vec::new();
                    for pair in query.split('&').filter(|p| !p.is_empty()) {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        if !take(&percent_decode(key)?, &percent_decode(value)?)? {
                            kept.push(pair);
                        }
                    }
                    if kept.is_empty() {
                        base.to_owned()
                    } else {
                        format!("{base}?{}", kept.join("&"))
                    }
                }
                None => url.to_owned(),
            }
        } else {
            let mut kept = Vec::new();
            for word in url.split_whitespace() {
                let (key, value) = word.split_once('=').unwrap_or((word, ""));
                if !take(key.trim(), value.trim_matches('\''))? {
                    kept.push(word);
                }
            }
            kept.join(" ")
        };
        let settings = Self {
            mode: mode.unwrap_or(Mode::Prefer),
            roots,
        };
        if matches!(settings.mode, Mode::VerifyCa | Mode::VerifyFull) && settings.roots.is_none() {
            return Err(StoreError::Unavailable(format!(
                "sslmode={} needs sslrootcert=<a PEM file of CA certificates> or sslrootcert=system",
                settings.mode.name()
            )));
        }
        Ok((rest, settings))
    }

    /// The driver's mode: whether TLS is tried, and whether it is a must.
    pub(crate) fn driver_mode(&self) -> SslMode {
        match self.mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        }
    }

    /// The connector, with the verifier the mode asks for. Reads the root
    /// certificates now, so a missing or empty file fails at start.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match (&self.roots, self.mode) {
            (_, Mode::Disable) | (None, Mode::Prefer | Mode::Require) => {
                Arc::new(EncryptOnly(Arc::clone(&provider)))
            }
            (Some(roots), mode) => {
                let inner = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots.load()?),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| StoreError::Unavailable(format!("TLS roots for PostgreSQL: {e}")))?;
                if mode == Mode::VerifyFull {
                    inner
                } else {
                    Arc::new(AnyName(inner))
                }
            }
            // Refused by `split`.
            (None, Mode::VerifyCa | Mode::VerifyFull) => {
                return Err(StoreError::Internal(
                    "a verifying sslmode without roots".to_owned(),
                ))
            }
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Internal(format!("TLS protocol versions: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

impl Mode {
    fn parse(value: &str) -> Result<Self, StoreError> {
        Ok(match value {
            "disable" => Mode::Disable,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(StoreError::Unavailable(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                )))
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

impl Roots {
    fn load(&self) -> Result<RootCertStore, StoreError> {
        let mut store = RootCertStore::empty();
        match self {
            Roots::File(path) => {
                let fail =
                    |why: String| StoreError::Unavailable(format!("sslrootcert={}: {why}", path.display()));
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| fail(e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| fail(e.to_string()))?;
                let (added, _) = store.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(fail("no CA certificate in the file".to_owned()));
                }
            }
            Roots::System => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(StoreError::Unavailable(format!(
                        "sslrootcert=system: the system's certificate store has no usable certificate ({} errors)",
                        found.errors.len()
                    )));
                }
            }
        }
        Ok(store)
    }
}

/// `%XX` in a URL parameter; anything else stays as it is.
fn percent_decode(text: &str) -> Result<String, StoreError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| StoreError::Unavailable("a bad %-escape in the PostgreSQL URL".to_owned()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| StoreError::Unavailable("the PostgreSQL URL is not UTF-8".to_owned()))
}

/// `prefer` and `require` without roots: the connection is encrypted and
/// the handshake's signatures are checked against the certificate the
/// server shows, but who issued it is not (libpq's meaning of those modes;
/// it protects against listening, not against a server in the middle).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name on the
/// certificate is not compared with the host.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (String, TlsSettings) {
        TlsSettings::split(url).expect("accepted")
    }

    #[test]
    fn the_two_parameters_leave_the_url_and_the_rest_stays() {
        let (rest, tls) = split(
            "postgres://u:p@db:5432/w?sslmode=verify-full&connect_timeout=5&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(rest, "postgres://u:p@db:5432/w?connect_timeout=5");
        assert_eq!(tls.mode, Mode::VerifyFull);
        assert_eq!(tls.roots, Some(Roots::File(PathBuf::from("/etc/ca.pem"))));
        assert_eq!(tls.driver_mode(), SslMode::Require);

        let (rest, tls) = split("postgres://db/w?sslmode=disable");
        assert_eq!(rest, "postgres://db/w");
        assert_eq!(tls.driver_mode(), SslMode::Disable);

        let (rest, tls) = split("postgres://db/w");
        assert_eq!(rest, "postgres://db/w");
        assert_eq!((tls.mode, tls.roots), (Mode::Prefer, None), "libpq's default");

        let (rest, tls) = split("host=db dbname=w sslmode=verify-ca sslrootcert=system");
        assert_eq!(rest, "host=db dbname=w");
        assert_eq!((tls.mode, tls.roots), (Mode::VerifyCa, Some(Roots::System)));
    }

    #[test]
    fn verifying_modes_need_roots_and_unknown_modes_are_refused() {
        for url in [
            "postgres://db/w?sslmode=verify-full",
            "postgres://db/w?sslmode=verify-ca",
            "postgres://db/w?sslmode=allow-anything",
            "postgres://db/w?sslrootcert=%zz",
        ] {
            assert!(TlsSettings::split(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn a_root_file_without_a_certificate_is_refused_at_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("written");
        let url = format!(
            "postgres://db/w?sslmode=verify-full&sslrootcert={}",
            empty.display()
        );
        let (_, tls) = split(&url);
        let error = tls.connector().err().expect("refused");
        assert!(error.to_string().contains("no CA certificate"), "{error}");
        let missing = format!(
            "postgres://db/w?sslmode=verify-full&sslrootcert={}",
            dir.path().join("missing.pem").display()
        );
        assert!(split(&missing).1.connector().is_err());
    }
}
