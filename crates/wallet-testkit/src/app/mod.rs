//! `TestApp`: the real application on port 0 over a temp-dir database,
//! with an HTTP client and the token signing the tests need.

pub mod v2;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use wallet_core::check::CheckReport;
use wallet_core::text::{ProjectId, Text};
use wallet_core::Ledger;
use wallet_service::auth::Credentials;
use wallet_service::config::Settings;
use wallet_service::startup::Application;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: PathBuf,
    credentials: Credentials,
    ledger: Ledger,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Kept so the database outlives the app; `None` when the caller owns the folder.
    _dir: Option<TempDir>,
}

/// An authority created for a test, with what a client holds.
pub struct TestAuthority {
    pub id: String,
    pub private_pem: String,
    /// A token exactly as the SDK makes it: `{"sub": id}`, ES256, no expiry.
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("wallet.db");
    let mut app = spawn_app_at(&db).await;
    app._dir = Some(dir);
    app
}

/// Starts the app on a new database, with settings changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut app = spawn_app_configured(&dir.path().join("wallet.db"), adjust).await;
    app._dir = Some(dir);
    app
}

/// Starts the app on an existing (or new) database file.
pub async fn spawn_app_at(db: &Path) -> TestApp {
    spawn_app_configured(db, |_| {}).await
}

/// Starts the app on an existing (or new) database file, with settings
/// changed by `adjust`.
pub async fn spawn_app_configured(db: &Path, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        db: db.to_path_buf().into(),
        workers: 2,
        ..Settings::default()
    };
    adjust(&mut settings);
    let app = Application::build(&settings).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let credentials = Credentials::new(app.store().clone());
    let ledger = Ledger::new(app.store().clone());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db: settings.db.sqlite_path().expect("a SQLite test app").to_owned(),
        credentials,
        ledger,
        handle,
        server,
        _dir: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn create_authority(&self, project: &str) -> TestAuthority {
        let created = self
            .credentials
            .create_authority(
                ProjectId::parse(project).expect("project id"),
                Text::parse("test", "name", 200).expect("name"),
                &self.address,
            )
            .await
            .expect("authority created");
        let id = created.config.authority_id.clone();
        let private_pem = created.config.private_key.clone();
        let token = sign_es256(&private_pem, &json!({ "sub": id }));
        TestAuthority {
            id,
            private_pem,
            token,
        }
    }

    pub async fn revoke(&self, authority: &TestAuthority) {
        let id = wallet_core::text::PublicId::parse(&authority.id).expect("id");
        self.credentials.revoke_authority(id).await.expect("revoked");
    }

    pub async fn post_entry(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/entry"))
            .header("Authorization", token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Posts an entry that must succeed and returns the entry.
    pub async fn entry(&self, token: &str, user: &str, amount: i64) -> Value {
        let response = self
            .post_entry(
                token,
                &json!({ "user_id": user, "amount": amount, "reason": "test", "item": null }),
            )
            .await;
        assert_eq!(response.status().as_u16(), 200, "posting {amount} for {user}");
        let body: Value = response.json().await.expect("json");
        body["entry"].clone()
    }

    pub async fn get(&self, token: &str, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(self.url(path_and_query))
            .header("Authorization", token)
            .send()
            .await
            .expect("request sent")
    }

    /// The v1 total of one user, `None` when the user is omitted.
    pub async fn total(&self, token: &str, user: &str) -> Option<i64> {
        let response = self
            .get(token, &format!("/api/v1/wallet?user_ids={user}&authority_ids="))
            .await;
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        body["wallets"]
            .as_array()
            .expect("wallets array")
            .iter()
            .find(|w| w["user_id"] == user)
            .map(|w| w["total"].as_i64().expect("integer total"))
    }

    /// Runs every invariant check on the live database.
    pub async fn check(&self) -> CheckReport {
        self.ledger.check().await.expect("check runs")
    }

    pub async fn assert_invariants(&self) {
        let report = self.check().await;
        assert!(report.is_ok(), "invariants violated: {report:#?}");
    }

    /// Stops the server gracefully and waits until it has stopped.
    pub async fn stop(self) -> Option<TempDir> {
        self.handle.stop(true).await;
        self.server.await.expect("server task").expect("server result");
        drop(self.credentials);
        drop(self.ledger);
        self._dir
    }
}

pub fn sign_es256(private_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).expect("private key");
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).expect("signed")
}

/// A JWT with any header (`crit`, say), signed ES256 over exactly the bytes given.
pub fn sign_with_header(private_pem: &str, header: &Value, claims: &Value) -> String {
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::DecodePrivateKey;
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(private_pem).expect("private key");
    let head = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = key.sign(head.as_bytes());
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The same token with its ECDSA signature `(r, s)` turned into `(r, n - s)`:
/// other bytes that verify just as well (one of the two is "high-S").
pub fn flip_s(token: &str) -> String {
    let (head, signature) = token.rsplit_once('.').expect("a JWT");
    let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let signature = p256::ecdsa::Signature::from_slice(&bytes).expect("an ES256 signature");
    let (r, s) = signature.split_scalars();
    let flipped = p256::ecdsa::Signature::from_scalars(r, -s).expect("a signature");
    format!("{head}.{}", URL_SAFE_NO_PAD.encode(flipped.to_bytes()))
}

/// Whether a JWT's ES256 signature has the larger of its two `s` values.
pub fn is_high_s(token: &str) -> bool {
    let signature = token.rsplit('.').next().expect("a JWT");
    let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    let signature = p256::ecdsa::Signature::from_slice(&bytes).expect("an ES256 signature");
    signature.normalize_s().is_some()
}

/// A fresh P-256 private key that no authority has.
pub fn foreign_private_pem() -> String {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    secret.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()
}

/// A JWT with any header and claims and the given raw signature part.
pub fn raw_jwt(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON ({status}): {text:?}"));
    (status, body)
}

impl TestApp {
    /// Creates a project (with its default asset), as `wallet-service project create` does.
    pub async fn create_project(&self, id: &str) {
        self.ledger
            .create_project(
                ProjectId::parse(id).expect("project id"),
                Text::parse(id, "name", 200).expect("name"),
            )
            .await
            .expect("project created");
    }

    /// An opaque API v2 access key of `project`, as `wallet-service key create` prints it.
    pub async fn access_key(&self, project: &str) -> String {
        self.credentials
            .create_access_key(
                ProjectId::parse(project).expect("project id"),
                Text::parse("test", "name", 200).expect("name"),
            )
            .await
            .expect("access key created")
            .token
    }

    /// One API v2 call: `Authorization: Bearer <token>` when a token is given,
    /// a JSON body when one is given. Returns the status and the parsed body
    /// (`Value::Null` for an empty body).
    pub async fn v2(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(&format!("/api/v2{path}")));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        if text.is_empty() {
            return (status, Value::Null);
        }
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON ({status}): {text:?}"));
        (status, body)
    }
}

impl TestApp {
    /// The ledger the app runs on, for tests that call the core directly.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The app's credentials, as a request's `Authorization` header would find them.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The writer's counters: commits, jobs, largest group.
    pub fn writer_stats(&self) -> wallet_core::port::BackendStats {
        self.ledger.stats()
    }
}

impl TestApp {
    /// The admin password the server generated on its first start.
    pub fn admin_password(&self) -> String {
        let file = self.db.parent().expect("db folder").join("admin-password.txt");
        std::fs::read_to_string(&file)
            .expect("the generated admin password file")
            .trim()
            .to_owned()
    }

    /// Logs in as admin; returns the session cookie (`name=value`) and the CSRF token.
    pub async fn admin_login(&self) -> (String, String) {
        let response = self
            .client
            .post(self.url("/admin/api/login"))
            .json(&json!({ "username": "admin", "password": self.admin_password() }))
            .send()
            .await
            .expect("login sent");
        assert_eq!(response.status().as_u16(), 200, "admin login");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        (cookie, body["csrfToken"].as_str().expect("csrf token").to_owned())
    }

    /// One admin API call with the session cookie and, when given, the CSRF header.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, self.url(&format!("/admin/api{path}")))
            .header("Cookie", cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }
}
