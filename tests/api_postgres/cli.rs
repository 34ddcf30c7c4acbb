//! Every command of the binary on `--db postgres://…`: `serve` (in
//! `processes` too), `project`, `authority`, `key`, `admin set-password`,
//! `check`, `export` and `import` work on it, beside a running server;
//! `backup` and `restore` exit 2 and name PostgreSQL's own tools; a
//! maintenance command never creates the schema; and the URL's password is
//! in no output, the server's debug log included. (`bench` belongs to the
//! benchmark and its own tests.)

use crate::app::{db_arg, json_of, sign_es256, TestBackend, TestDatabase};
use crate::common::{run_with_input, wallet_service, Finished, Server, CLI_TIMEOUT};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;

/// The cluster trusts 127.0.0.1, so a password in the URL is never asked
/// for: it is there to show that no command prints it.
const SECRET: &str = "hunter2-never-printed";

/// The database's URL with a password in it.
fn url_with_password(database: &TestDatabase) -> OsString {
    let url = db_arg(database.db()).into_string().expect("a UTF-8 URL");
    url.replacen("postgres@", &format!("postgres:{SECRET}@"), 1)
        .into()
}

/// `wallet-service --db URL ARGS…` with `input` on stdin; asserts that no
/// output holds the URL's password.
fn run(url: &OsString, args: &[&str], input: Option<&str>) -> Finished {
    let run = run_with_input(wallet_service(url).args(args), input, CLI_TIMEOUT);
    assert!(
        !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
        "`{}` printed the database password:\n{}",
        args.join(" "),
        run.describe()
    );
    run
}

/// As [`run`], and the command must succeed.
fn ok(url: &OsString, args: &[&str]) -> Finished {
    let done = run(url, args, None);
    assert!(
        done.ok(),
        "`{}` must succeed:\n{}",
        args.join(" "),
        done.describe()
    );
    done
}

fn assert_exit(done: &Finished, code: i32, says: &str, what: &str) {
    assert!(
        !done.timed_out && done.status.code() == Some(code) && done.stderr.contains(says),
        "{what}: exit {code}, saying {says:?}:\n{}",
        done.describe()
    );
}

#[test]
fn maintenance_commands_on_a_database_without_the_schema_refuse_and_create_nothing() {
    let database = TestBackend::Postgres.fresh_database();
    let url = url_with_password(&database);
    let out = database.dir().join("p.jsonl");
    let out = out.to_str().expect("UTF-8 path");
    // Twice each: the first refusal must not have made the schema.
    for _ in 0..2 {
        for args in [
            &["project", "list"][..],
            &["project", "create", "game"],
            &["key", "create"],
            &["key", "list"],
            &["authority", "list"],
            &["authority", "revoke", "ak_x"],
            &["check"],
            &["export", "--project", "default", "--out", out],
        ] {
            let refused = run(&url, args, None);
            assert_exit(
                &refused,
                1,
                "creates its schema on its first start",
                &args.join(" "),
            );
        }
        let refused = run(&url, &["admin", "set-password"], Some("a long enough password\n"));
        assert_exit(
            &refused,
            1,
            "creates its schema on its first start",
            "admin set-password",
        );
    }
    assert!(!std::path::Path::new(out).exists(), "no export file was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_on_a_postgresql_database_beside_a_running_server() {
    let database = TestBackend::Postgres.fresh_database();
    let url = url_with_password(&database);
    let dir = database.dir().to_owned();
    let path = |name: &str| dir.join(name).to_str().expect("UTF-8 path").to_owned();
    let mut server = Server::start_with_env(
        &url,
        &[
            ("WALLET_ADMIN_PASSWORD", "the first password"),
            ("RUST_LOG", "debug"),
        ],
    );
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();

    // project
    ok(&url, &["project", "create", "game", "--name", "Game"]);
    let listed = ok(&url, &["project", "list"]);
    assert!(
        listed.stdout.contains("default\t") && listed.stdout.contains("game\tGame"),
        "{}",
        listed.describe()
    );

    // authority: its config file is private; its JWT works until it is revoked.
    let config_file = path("authority.json");
    ok(
        &url,
        &[
            "authority",
            "create",
            "sdk",
            "--api-base-url",
            &base,
            "--project",
            "game",
            "--out",
            &config_file,
        ],
    );
    let mode = std::fs::metadata(&config_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the config file holds the only copy of the private key"
    );
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&config_file).unwrap()).unwrap();
    let authority = config["authority_id"].as_str().unwrap().to_owned();
    let jwt = sign_es256(
        config["private_key"].as_str().unwrap(),
        &json!({ "sub": authority }),
    );
    let v1_entry = || {
        client
            .post(format!("{base}/api/v1/entry"))
            .header("Authorization", &jwt)
            .json(&json!({ "user_id": "u", "amount": 3, "reason": "cli" }))
    };
    assert_eq!(json_of(v1_entry().send().await.unwrap()).await.0, 200);
    let listed = ok(&url, &["authority", "list", "--project", "game"]);
    assert!(
        listed.stdout.contains(&format!("{authority}\tgame\tactive\tsdk")),
        "{}",
        listed.describe()
    );

    // key: printed once; works until it is revoked.
    let key = ok(&url, &["key", "create", "--project", "game", "--name", "shop"])
        .stdout
        .trim()
        .to_owned();
    let key_id = key.rsplit_once('_').expect("a key id").0.to_owned();
    let project = |key: String| {
        let request = client.get(format!("{base}/api/v2/project")).bearer_auth(key);
        async move { json_of(request.send().await.unwrap()).await }
    };
    let (status, body) = project(key.clone()).await;
    assert_eq!((status, body["id"].as_str()), (200, Some("game")), "{body}");
    let listed = ok(&url, &["key", "list", "--project", "game"]);
    assert!(
        listed.stdout.contains(&key_id) && listed.stdout.contains(&authority),
        "{}",
        listed.describe()
    );

    // check, on the database the server is writing to.
    let checked = ok(&url, &["check"]);
    assert!(checked.stderr.contains("ok:"), "{}", checked.describe());
    let report: Value = serde_json::from_str(&checked.stdout).expect("the report is JSON");
    assert!(report["entries"].as_u64() >= Some(1), "{report}");
    // The next check starts from the checkpoint the first recorded; --full
    // checks everything again.
    for (args, mode) in [
        (&["check"][..], "incremental"),
        (&["check", "--full"][..], "full"),
    ] {
        let checked = ok(&url, args);
        let report: Value = serde_json::from_str(&checked.stdout).expect("the report is JSON");
        assert_eq!(report["mode"], mode, "{}", checked.describe());
    }

    // export, and import into another database.
    let file = path("game.jsonl");
    ok(&url, &["export", "--project", "game", "--out", &file]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(r#""type":"project","id":"game""#), "{text}");
    let other = TestBackend::Postgres.fresh_database();
    let other_url = url_with_password(&other);
    ok(&other_url, &["import", "--file", &file]);
    let checked = ok(&other_url, &["check"]);
    assert!(checked.stderr.contains("ok:"), "{}", checked.describe());
    let listed = ok(&other_url, &["authority", "list", "--project", "game"]);
    assert!(
        listed.stdout.contains(&authority),
        "the authority moved: {}",
        listed.describe()
    );

    // revocations, seen by the running server at its next request.
    ok(&url, &["authority", "revoke", &authority]);
    assert_eq!(json_of(v1_entry().send().await.unwrap()).await.0, 401);
    let listed = ok(&url, &["authority", "list", "--project", "game"]);
    assert!(
        listed.stdout.contains(&format!("{authority}\tgame\trevoked")),
        "{}",
        listed.describe()
    );
    ok(&url, &["key", "revoke", &key_id]);
    assert_eq!(project(key).await.0, 401);

    // admin set-password: at once, for the running server too.
    let login = |password: &'static str| {
        let request = client
            .post(format!("{base}/admin/api/login"))
            .json(&json!({ "username": "admin", "password": password }));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(login("the first password").await, 200);
    let set = run(&url, &["admin", "set-password"], Some("a brand new password\n"));
    assert!(set.ok(), "{}", set.describe());
    assert_eq!(login("a brand new password").await, 200);
    assert_eq!(login("the first password").await, 401);

    // backup and restore: not for PostgreSQL; they say what to use and do nothing.
    let backup = path("backup.db");
    let refused = run(&url, &["backup", "--out", &backup], None);
    assert_exit(&refused, 2, "pg_dump", "backup");
    assert!(!std::path::Path::new(&backup).exists(), "no backup file was made");
    std::fs::write(&backup, b"not a backup").unwrap();
    let refused = run(&url, &["restore", "--from", &backup], None);
    assert_exit(&refused, 2, "pg_restore", "restore");
    assert_eq!(
        json_of(v1_entry().send().await.unwrap()).await.0,
        401,
        "nothing was restored"
    );

    let stopped = server.terminate(std::time::Duration::from_secs(30));
    let logs = server.stop_and_collect_logs();
    assert!(stopped.is_some_and(|s| s.success()), "{logs}");
    assert!(
        !logs.contains(SECRET),
        "the server logged the database password:\n{logs}"
    );
}
