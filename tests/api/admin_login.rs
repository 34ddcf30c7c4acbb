//! Admin login under attack and sessions after a password change: attempts
//! are counted before argon2 runs, at most a few verifications run at once,
//! the lockout is per address and user name, and `admin set-password` (from
//! another process) ends every session.

use serde_json::json;
use std::collections::BTreeMap;
use wallet_service::api::admin::password;
use wallet_service::api::client_addr::{IpRange, TrustedProxies};
use wallet_service::domain::AdminPassword;
use wallet_testkit::app::{json_of, spawn_app, spawn_app_with, TestApp};

/// Failed attempts allowed per address and user name per minute (docs/admin.md).
const ATTEMPTS: usize = 5;
/// Password verifications that may run at once (docs/admin.md).
const CONCURRENT_VERIFICATIONS: u64 = 2;

async fn login(app: &TestApp, user: &str, password: &str, forwarded_for: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/admin/api/login"))
        .json(&json!({ "username": user, "password": password }));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    json_of(request.send().await.unwrap()).await.0
}

/// Sends all `guesses` at once; returns how many got each status.
async fn wave(app: &TestApp, guesses: Vec<(String, String, Option<String>)>) -> BTreeMap<u16, usize> {
    let mut set = tokio::task::JoinSet::new();
    for (user, password, forwarded_for) in guesses {
        let (client, url) = (app.client.clone(), app.url("/admin/api/login"));
        set.spawn(async move {
            let mut request = client
                .post(url)
                .json(&json!({ "username": user, "password": password }));
            if let Some(address) = forwarded_for {
                request = request.header("X-Forwarded-For", address);
            }
            json_of(request.send().await.unwrap()).await
        });
    }
    let mut counts = BTreeMap::new();
    while let Some(reply) = set.join_next().await {
        let (status, body) = reply.unwrap();
        assert!(
            [401, 429].contains(&status),
            "a wrong guess gets 401 or 429, got {status}: {body}"
        );
        assert!(body["error"].is_string(), "{body}");
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

/// A metric's value from `/metrics` (read with an admin session).
async fn metric(app: &TestApp, cookie: &str, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not in /metrics:\n{text}"))
}

#[tokio::test]
async fn concurrent_wrong_guesses_are_counted_before_argon2_runs() {
    let app = spawn_app().await;
    let (cookie, _) = app.admin_login().await;
    let verified_before = metric(&app, &cookie, "wallet_admin_login_verifications_total").await;

    // 40 guesses at once from one address. Without a trusted proxy the
    // X-Forwarded-For header is the client's word and changes nothing.
    let guesses = (0..40)
        .map(|i| ("admin".into(), format!("wrong-{i}"), Some(format!("10.0.0.{i}"))))
        .collect();
    let counts = wave(&app, guesses).await;
    assert_eq!(
        counts,
        BTreeMap::from([(401, ATTEMPTS), (429, 40 - ATTEMPTS)]),
        "exactly {ATTEMPTS} guesses may be tried, the rest are refused before argon2"
    );
    let verified = metric(&app, &cookie, "wallet_admin_login_verifications_total").await - verified_before;
    assert_eq!(verified, ATTEMPTS as u64, "argon2 ran once per admitted guess");
    assert_eq!(
        login(&app, "admin", &app.admin_password(), None).await,
        429,
        "the locked-out address and user name wait, even with the right password"
    );

    // Many user names at once: each is admitted, but argon2 (19 MiB a run)
    // runs at most a few at a time; the overflow waits or is refused.
    let guesses = (0..40)
        .map(|i| (format!("user-{i}"), "wrong".into(), None))
        .collect();
    let before = metric(&app, &cookie, "wallet_admin_login_verifications_total").await;
    let counts = wave(&app, guesses).await;
    let verified = metric(&app, &cookie, "wallet_admin_login_verifications_total").await - before;
    assert_eq!(
        verified,
        counts.get(&401).copied().unwrap_or(0) as u64,
        "every 401 was verified and no refused guess was: {counts:?}"
    );
    let peak = metric(&app, &cookie, "wallet_admin_login_verifications_peak").await;
    assert!(
        (1..=CONCURRENT_VERIFICATIONS).contains(&peak),
        "at most {CONCURRENT_VERIFICATIONS} verifications ran at once, saw {peak}"
    );
}

#[tokio::test]
async fn guesses_at_one_user_name_do_not_lock_out_another() {
    let app = spawn_app().await;
    let guesses = (0..20)
        .map(|i| ("root".into(), format!("wrong-{i}"), None))
        .collect();
    let counts = wave(&app, guesses).await;
    assert_eq!(counts.get(&401), Some(&ATTEMPTS), "{counts:?}");
    assert_eq!(
        login(&app, "admin", &app.admin_password(), None).await,
        200,
        "the operator logs in from the same address while `root` is locked out"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_lockout_is_per_forwarded_client() {
    let app = spawn_app_with(|settings| {
        settings.trusted_proxies = TrustedProxies(vec![IpRange::parse("127.0.0.1").unwrap()]);
    })
    .await;
    let attacker = "198.51.100.7";
    let guesses = (0..20)
        .map(|i| ("admin".into(), format!("wrong-{i}"), Some(attacker.to_owned())))
        .collect();
    let counts = wave(&app, guesses).await;
    assert_eq!(counts, BTreeMap::from([(401, ATTEMPTS), (429, 20 - ATTEMPTS)]));
    let password = app.admin_password();
    assert_eq!(login(&app, "admin", &password, Some(attacker)).await, 429);
    assert_eq!(
        login(&app, "admin", &password, Some("203.0.113.9")).await,
        200,
        "the operator, elsewhere behind the same proxy, is not locked out"
    );
    assert_eq!(
        login(
            &app,
            "admin",
            &password,
            Some(&format!("203.0.113.9, {attacker}"))
        )
        .await,
        429,
        "the attacker cannot dodge by prepending an address: the proxy's entry is the last"
    );
}

#[tokio::test]
async fn setting_the_password_ends_every_session() {
    let app = spawn_app().await;
    let old_password = app.admin_password();
    let (first, _) = app.admin_login().await;
    let (second, _) = app.admin_login().await;
    for cookie in [&first, &second] {
        assert_eq!(
            app.admin("GET", "/session", cookie, None, None).await.status(),
            200
        );
    }

    // What `wallet-service admin set-password` does from another process:
    // its own store on the same file; the server's memory is not told.
    let other_process = wallet_core::Ledger::new(wallet_service::startup::open_sqlite(&app.db).unwrap());
    let new_password = AdminPassword::parse("a brand new password").unwrap();
    password::set(&other_process, &new_password).await.unwrap();
    drop(other_process);

    for cookie in [&first, &second] {
        let (status, body) = json_of(app.admin("GET", "/session", cookie, None, None).await).await;
        assert_eq!(status, 401, "a session from before the change ended: {body}");
        let (status, _) = json_of(app.admin("GET", "/projects", cookie, None, None).await).await;
        assert_eq!(status, 401);
    }
    assert_eq!(login(&app, "admin", &old_password, None).await, 401);
    assert_eq!(login(&app, "admin", "a brand new password", None).await, 200);
}
