//! Security promises checked on the real binary: a revocation by the CLI
//! takes effect at the next request of the running server; no secret or
//! token ever reaches the logs (captured at `RUST_LOG=debug`); the database,
//! its WAL and shared-memory files and every secret file are mode 0600; the
//! server keeps only digests of opaque keys, compared in constant time; a
//! flood of admin logins keeps the process's peak memory bounded.
//!
//! `operations`: maintenance commands on a missing database, bad settings
//! and the admin password policy, on the binary too.
//!
//! The JWT attacks and the customer-key sweep run in-process, in
//! `tests/api/reliability_security.rs`.
#![allow(clippy::unwrap_used)]

mod common;
mod operations;

use common::{run_with_timeout, wallet_service, Finished, Server, CLI_TIMEOUT};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

fn cli(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let run = run_with_timeout(
        wallet_service(db).envs(env.iter().copied()).args(args),
        CLI_TIMEOUT,
    );
    assert!(
        run.ok(),
        "`wallet-service {}` failed:\n{}",
        args.join(" "),
        run.describe()
    );
    run
}

/// `key create` prints the key on stdout.
fn access_key(db: &Path) -> String {
    cli(db, &["key", "create", "--project", "default"], &[])
        .stdout
        .trim()
        .to_owned()
}

/// The public id of an opaque key `<prefix>_<id>_<secret>`, and its secret.
fn split_key(token: &str) -> (&str, &str) {
    token.rsplit_once('_').unwrap()
}

/// `authority create --out FILE`: the authority id and its private key.
fn authority(db: &Path, dir: &Path, name: &str, env: &[(&str, &str)]) -> (String, String, Finished) {
    let out = dir.join(format!("{name}.json"));
    let run = cli(
        db,
        &[
            "authority",
            "create",
            name,
            "--api-base-url",
            "http://127.0.0.1:1",
            "--out",
            out.to_str().unwrap(),
        ],
        env,
    );
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let id = config["authority_id"].as_str().unwrap().to_owned();
    (id, config["private_key"].as_str().unwrap().to_owned(), run)
}

fn sign(private_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).unwrap()
}

/// A small blocking HTTP client: the tests here drive processes, not futures.
struct Http {
    base: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new(port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        self.runtime.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = self.client.request(method, format!("{}{path}", self.base));
            if let Some(token) = token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
    }
}

#[test]
fn a_cli_revocation_takes_effect_at_the_next_request() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let http = Http::new(server.port);
    let (revoked, kept) = (access_key(&db), access_key(&db));
    let (authority_id, private_pem, _) = authority(&db, tmp.path(), "app", &[]);
    let jwt = sign(&private_pem, &json!({ "sub": authority_id }));
    // A wallet: its read is a point read (authentication and the wallet on
    // the worker thread, no hop), and must see the revocation as well.
    let (_, project) = http.call("GET", "/api/v2/project", Some(&kept), None);
    let (status, wallet) = http.call(
        "POST",
        "/api/v2/system-wallets",
        Some(&kept),
        Some(json!({ "assetId": project["defaultAssetId"] })),
    );
    assert_eq!(status, 201, "{wallet}");
    let wallet_path = format!("/api/v2/wallets/{}", wallet["id"].as_str().unwrap());
    for token in [&revoked, &kept, &jwt] {
        assert_eq!(http.call("GET", "/api/v2/project", Some(token), None).0, 200);
        assert_eq!(http.call("GET", &wallet_path, Some(token), None).0, 200);
    }
    assert_eq!(http.call("GET", "/api/v1/wallet", Some(&jwt), None).0, 200);

    cli(&db, &["key", "revoke", split_key(&revoked).0], &[]);
    let (status, body) = http.call("GET", &wallet_path, Some(&revoked), None);
    assert_eq!(
        (status, &body["status"]),
        (401, &json!("ILLEGAL_TOKEN")),
        "the very next wallet read is refused: {body}"
    );
    let (status, body) = http.call("GET", "/api/v2/project", Some(&revoked), None);
    assert_eq!(
        (status, &body["status"]),
        (401, &json!("ILLEGAL_TOKEN")),
        "{body}"
    );
    let write = json!({ "id": "after-revoke" });
    assert_eq!(
        http.call("POST", "/api/v2/customers", Some(&revoked), Some(write))
            .0,
        401
    );
    assert_eq!(
        http.call("GET", "/api/v2/project", Some(&kept), None).0,
        200,
        "another key is untouched"
    );

    cli(&db, &["authority", "revoke", &authority_id], &[]);
    for path in [wallet_path.as_str(), "/api/v2/project", "/api/v1/wallet"] {
        let (status, body) = http.call("GET", path, Some(&jwt), None);
        assert_eq!(status, 401, "the revoked authority's JWT on {path}: {body}");
    }
    let entry = json!({ "user_id": "bob", "amount": 5, "reason": "after revocation" });
    assert_eq!(http.call("POST", "/api/v1/entry", Some(&jwt), Some(entry)).0, 401);
    let (status, customers) = http.call("GET", "/api/v2/customers", Some(&kept), None);
    assert_eq!(
        (status, &customers["total"]),
        (200, &json!(0)),
        "no revoked credential wrote: {customers}"
    );
    drop(server.stop_and_collect_logs());
}

#[test]
fn no_secret_or_token_reaches_the_logs() {
    let debug = [("RUST_LOG", "debug")];
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start_with_env(&db, &debug);
    let http = Http::new(server.port);
    let mut cli_logs = String::new();

    let key_run = cli(&db, &["key", "create", "--project", "default"], &debug);
    let key = key_run.stdout.trim().to_owned();
    cli_logs += &key_run.stderr;
    let (authority_id, private_pem, run) = authority(&db, tmp.path(), "app", &debug);
    cli_logs += &run.stderr;
    cli_logs += &run.stdout;
    let doomed = access_key(&db);
    cli_logs += &cli(&db, &["key", "revoke", split_key(&doomed).0], &debug).stderr;
    let jwt = sign(&private_pem, &json!({ "sub": authority_id }));

    // Every kind of credential, valid and invalid, on both APIs.
    let (status, project) = http.call("GET", "/api/v2/project", Some(&key), None);
    assert_eq!(status, 200);
    let (status, _) = http.call(
        "POST",
        "/api/v2/customers",
        Some(&key),
        Some(json!({ "id": "alice" })),
    );
    assert_eq!(status, 201);
    let wallet = json!({ "customerId": "alice", "assetId": project["defaultAssetId"] });
    let (_, wallet) = http.call("POST", "/api/v2/wallets", Some(&jwt), Some(wallet));
    let w = wallet["id"].as_str().unwrap().to_owned();
    let tx =
        json!({ "referenceId": "log-1", "operations": [{ "type": "Issue", "destination": w, "amount": 5 }] });
    assert_eq!(
        http.call("POST", "/api/v2/transactions", Some(&key), Some(tx)).0,
        201
    );
    let (status, minted) = http.call(
        "POST",
        "/api/v2/customers/alice/keys",
        Some(&key),
        Some(json!({})),
    );
    assert_eq!(status, 201, "{minted}");
    let customer_key = minted["token"].as_str().unwrap().to_owned();
    assert_eq!(
        http.call("GET", "/api/v2/wallets", Some(&customer_key), None).0,
        200
    );
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let customer_jwt = sign(
        &private_pem,
        &json!({ "sub": authority_id, "aud": "customer:alice", "exp": exp }),
    );
    assert_eq!(
        http.call("GET", "/api/v2/wallets", Some(&customer_jwt), None).0,
        200
    );
    let entry = json!({ "user_id": "bob", "amount": 5, "reason": "x" });
    assert_eq!(http.call("POST", "/api/v1/entry", Some(&jwt), Some(entry)).0, 200);
    let wrong_secret = format!("{}_{}", split_key(&key).0, "z".repeat(32));
    let wrong_customer = format!("{}_{}", split_key(&customer_key).0, "z".repeat(32));
    let forged = format!("{}.{}", jwt.rsplit_once('.').unwrap().0, "A".repeat(86));
    let refused = [&wrong_secret, &wrong_customer, &forged, &doomed];
    for token in refused {
        assert_eq!(http.call("GET", "/api/v2/project", Some(token), None).0, 401);
        assert_eq!(http.call("GET", "/api/v1/wallet", Some(token), None).0, 401);
    }
    let status = server.terminate(Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "SIGTERM: {status:?}");
    let server_logs = server.stop_and_collect_logs();

    assert!(
        server_logs.contains("DEBUG"),
        "debug logging was on:\n{server_logs}"
    );
    assert!(
        server_logs.contains("POST /api/v2/transactions"),
        "requests were logged:\n{server_logs}"
    );
    let pem_body: Vec<&str> = private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut secrets: Vec<(&str, String)> = vec![
        ("access key", key.clone()),
        ("access key secret", split_key(&key).1.to_owned()),
        ("revoked access key", doomed.clone()),
        ("customer key", customer_key.clone()),
        ("customer key secret", split_key(&customer_key).1.to_owned()),
        ("authority JWT", jwt.clone()),
        (
            "authority JWT signature",
            jwt.rsplit_once('.').unwrap().1.to_owned(),
        ),
        ("customer JWT", customer_jwt.clone()),
        (
            "customer JWT signature",
            customer_jwt.rsplit_once('.').unwrap().1.to_owned(),
        ),
        (
            "forged JWT signature",
            forged.rsplit_once('.').unwrap().1.to_owned(),
        ),
        ("wrong secret", wrong_secret.clone()),
    ];
    secrets.extend(pem_body.iter().map(|line| ("private key", (*line).to_owned())));
    // The generated admin password goes to its 0600 file only, never to the log.
    let admin_password = std::fs::read_to_string(db.parent().unwrap().join("admin-password.txt"))
        .expect("the server generated an admin password file");
    secrets.push(("generated admin password", admin_password.trim().to_owned()));
    for (what, secret) in &secrets {
        assert!(
            !server_logs.contains(secret.as_str()),
            "the server logged the {what}:\n{server_logs}"
        );
        assert!(
            !cli_logs.contains(secret.as_str()),
            "a command logged the {what}:\n{cli_logs}"
        );
    }
    println!(
        "logs: {} secrets and tokens checked against {} lines of server log at RUST_LOG=debug and {} of command output; none found",
        secrets.len(),
        server_logs.lines().count(),
        cli_logs.lines().count()
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn database_and_secret_files_are_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("data").join("wallet.db");
    let mut server = Server::start(&db);
    let http = Http::new(server.port);
    let key = access_key(&db);
    let (status, _) = http.call(
        "POST",
        "/api/v2/customers",
        Some(&key),
        Some(json!({ "id": "alice" })),
    );
    assert_eq!(status, 201);
    let (_, _, _) = authority(&db, tmp.path(), "app", &[]);
    let backup = tmp.path().join("backup.db");
    cli(&db, &["backup", "--out", backup.to_str().unwrap()], &[]);
    let export = tmp.path().join("default.jsonl");
    cli(
        &db,
        &[
            "export",
            "--project",
            "default",
            "--out",
            export.to_str().unwrap(),
        ],
        &[],
    );

    let mut files = vec![db.clone(), tmp.path().join("app.json"), backup, export];
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    // A file the server writes a secret into next to the database, if any.
    let admin_password = db.parent().unwrap().join("admin-password.txt");
    if admin_password.exists() {
        files.push(admin_password);
    }
    for file in &files {
        assert_eq!(
            mode(file),
            0o600,
            "{} must be 0600, is {:o}",
            file.display(),
            mode(file)
        );
    }
    drop(server.stop_and_collect_logs());
    println!("file modes: {} files checked, all 0600", files.len());
}

#[test]
fn opaque_keys_are_stored_as_digests_and_compared_in_constant_time() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let key = access_key(&db);
    let http = Http::new(server.port);
    http.call(
        "POST",
        "/api/v2/customers",
        Some(&key),
        Some(json!({ "id": "alice" })),
    );
    let (_, minted) = http.call(
        "POST",
        "/api/v2/customers/alice/keys",
        Some(&key),
        Some(json!({})),
    );
    let customer_key = minted["token"].as_str().unwrap().to_owned();
    let mut stored = Vec::new();
    for suffix in ["", "-wal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        stored.extend(std::fs::read(std::path::PathBuf::from(name)).unwrap_or_default());
    }
    for token in [&key, &customer_key] {
        let secret = split_key(token).1;
        let digest = Sha256::digest(secret.as_bytes());
        let find = |needle: &[u8]| stored.windows(needle.len()).any(|w| w == needle);
        assert!(
            !find(secret.as_bytes()),
            "the secret of {} is stored in the clear",
            split_key(token).0
        );
        assert!(
            find(&digest[..]),
            "the SHA-256 digest of {}'s secret is what is stored",
            split_key(token).0
        );
    }
    drop(server.stop_and_collect_logs());

    // The comparison itself: the digest of the presented secret against the
    // stored one with `subtle`'s constant-time equality, for both kinds of key.
    let tokens = include_str!("../src/auth/tokens.rs");
    let matches = tokens
        .split("fn matches(")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("src/auth/tokens.rs has fn matches");
    assert!(
        matches.contains("ct_eq") && matches.contains("digest("),
        "matches() must compare digests with ct_eq:\n{matches}"
    );
    assert!(
        !matches.contains("=="),
        "no short-circuiting comparison in matches():\n{matches}"
    );
    let authenticate = include_str!("../src/auth/authenticate.rs");
    assert_eq!(
        authenticate.matches("tokens::matches(").count(),
        2,
        "access keys and customer keys are both verified by tokens::matches"
    );
}

/// The most memory the process has held so far (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

#[test]
fn a_wave_of_admin_logins_keeps_memory_bounded() {
    // Each argon2 verification needs 19 MiB; two run at once, each thread
    // in a buffer of its own. Before: 1109 MiB for this wave.
    const BOUND_MIB: u64 = 64;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let mut server = Server::start(&db);
    let http = Http::new(server.port);
    assert_eq!(http.call("GET", "/api/v1/health", None, None).0, 200);
    let before = peak_rss_mib(server.pid());

    // 60 guesses at once, each under its own user name so the lockout
    // admits every one: only the bound on verifications holds memory down.
    let statuses = http.runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for n in 0..60 {
            let (client, url) = (http.client.clone(), format!("{}/admin/api/login", http.base));
            set.spawn(async move {
                let body = json!({ "username": format!("user-{n}"), "password": "wrong guess" });
                client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            });
        }
        let mut statuses = Vec::new();
        while let Some(status) = set.join_next().await {
            statuses.push(status.unwrap());
        }
        statuses
    });
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    let grown = peak_rss_mib(server.pid()).saturating_sub(before);
    drop(server.stop_and_collect_logs());
    assert!(
        grown <= BOUND_MIB,
        "60 concurrent logins grew the peak memory by {grown} MiB (bound {BOUND_MIB} MiB)"
    );
    println!("peak memory grew by {grown} MiB under 60 concurrent logins");
}
