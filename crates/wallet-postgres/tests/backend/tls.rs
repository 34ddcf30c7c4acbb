//! TLS to the database: each `sslmode` does what libpq's does, against a
//! cluster with a certificate issued by a CA of the test's own, for
//! `localhost` only.

use crate::common::value;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wallet_postgres::{PgOptions, PostgresBackend};
use wallet_testkit::PgCluster;

struct Tls {
    cluster: PgCluster,
    dir: tempfile::TempDir,
}

/// The binary's TLS cluster, started on first use: its certificate names
/// `localhost` (not `127.0.0.1`) and is signed by `ca.pem`; `other-ca.pem`
/// signed nothing here.
fn tls() -> &'static Tls {
    static TLS: OnceLock<Tls> = OnceLock::new();
    TLS.get_or_init(|| {
        let ca = authority();
        let server_key = KeyPair::generate().expect("a server key");
        let server = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &ca)
            .expect("the server's certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("ca.pem");
        std::fs::write(dir.path().join("other-ca.pem"), authority().pem()).expect("other-ca.pem");
        let cluster = PgCluster::start_tls(&server.pem(), &server_key.serialize_pem())
            .expect("a cluster with TLS starts");
        Tls { cluster, dir }
    })
}

fn authority() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key")).expect("a CA")
}

impl Tls {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A URL of a fresh database of the TLS cluster on `host`, with `query`.
    fn url(&self, host: &str, query: &str) -> (wallet_testkit::PgDatabase, String) {
        let database = self.cluster.fresh_database();
        let url = format!(
            "postgres://postgres@{host}:{}/{}?{query}",
            self.cluster.port(),
            database.name()
        );
        (database, url)
    }
}

/// Connects the backend; on success, whether its connections use TLS (as
/// the server sees them).
fn connect(url: &str, admin_url: &str, database: &str) -> Result<bool, String> {
    let backend = PostgresBackend::connect(&PgOptions::new(url)).map_err(|e| e.to_string())?;
    let encrypted = value(
        admin_url,
        &format!(
            "SELECT bool_and(s.ssl)::text FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = '{database}' AND a.application_name = 'wallet-service'"
        ),
    );
    drop(backend);
    Ok(encrypted == "true")
}

fn case(host: &str, query: &str) -> Result<bool, String> {
    let tls = tls();
    let (database, url) = tls.url(host, query);
    let admin = tls.cluster.url("postgres");
    connect(&url, &admin, database.name())
}

fn roots(name: &str) -> String {
    let path: &Path = &tls().file(name);
    format!("sslrootcert={}", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sslmode_encrypts_and_verifies_as_libpq_does() {
    tokio::task::spawn_blocking(|| {
        assert_eq!(case("127.0.0.1", "sslmode=disable"), Ok(false), "disable: plain");
        assert_eq!(
            case("127.0.0.1", "connect_timeout=5"),
            Ok(true),
            "the default (prefer) encrypts when offered"
        );
        assert_eq!(
            case("127.0.0.1", "sslmode=require"),
            Ok(true),
            "require: encrypted, unverified"
        );
        assert_eq!(
            case("localhost", &format!("sslmode=verify-full&{}", roots("ca.pem"))),
            Ok(true),
            "verify-full: the right CA and the right name"
        );
        assert_eq!(
            case("127.0.0.1", &format!("sslmode=verify-ca&{}", roots("ca.pem"))),
            Ok(true),
            "verify-ca does not compare the name"
        );

        let wrong_name = case("127.0.0.1", &format!("sslmode=verify-full&{}", roots("ca.pem")));
        assert!(
            wrong_name.is_err(),
            "verify-full to a name the certificate lacks: {wrong_name:?}"
        );
        for mode in ["verify-full", "verify-ca", "require"] {
            let other = case("localhost", &format!("sslmode={mode}&{}", roots("other-ca.pem")));
            assert!(
                other.is_err(),
                "{mode} with roots that did not sign it: {other:?}"
            );
        }
        let message =
            case("127.0.0.1", &format!("sslmode=verify-full&{}", roots("ca.pem"))).expect_err("refused");
        assert!(!message.contains("password"), "{message}");
    })
    .await
    .expect("the TLS cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_refuses_a_server_without_tls() {
    let database = PgCluster::shared().fresh_database();
    let url = format!("{}?sslmode=require", database.url());
    let refused = tokio::task::spawn_blocking(move || PostgresBackend::connect(&PgOptions::new(url)).err())
        .await
        .expect("the connect thread");
    assert!(
        refused.is_some(),
        "require on a server without TLS must not fall back to plain text"
    );
}
