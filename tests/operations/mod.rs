//! Operational promises on the real binary: a maintenance command never
//! creates a database (a typo in `--db` is an error, not a new empty
//! ledger); a bad setting is refused with its key named, never a panic; one
//! password policy for every way of setting the admin password.

use crate::common::{run_with_input, wallet_service, Finished};
use std::path::Path;
use std::time::Duration;

/// Every run here fails fast; a run that reaches the timeout is a bug (a
/// server that started when it should have refused).
const FAST: Duration = Duration::from_secs(20);

fn run(db: &Path, args: &[&str], env: &[(&str, &str)], input: Option<&str>) -> Finished {
    run_with_input(
        wallet_service(db).envs(env.iter().copied()).args(args),
        input,
        FAST,
    )
}

fn assert_refused(run: &Finished, what: &str, message: &str) {
    assert!(
        !run.timed_out && run.status.code() == Some(1),
        "{what} must exit 1:\n{}",
        run.describe()
    );
    assert!(
        run.stderr.contains(message),
        "{what}: stderr must say {message:?}:\n{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{what} must not panic:\n{}",
        run.describe()
    );
}

#[test]
fn maintenance_commands_never_create_a_database() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("typo");
    let db = folder.join("wallet.db");
    let out = tmp.path().join("out.file");
    let out = out.to_str().unwrap();
    let commands: &[(&[&str], Option<&str>)] = &[
        (&["check"], None),
        (&["authority", "list"], None),
        (
            &[
                "authority",
                "create",
                "app",
                "--api-base-url",
                "http://127.0.0.1:1",
            ],
            None,
        ),
        (&["authority", "revoke", "au_aaaaaaaaaaaaaaaaaaaa"], None),
        (&["key", "list"], None),
        (&["key", "create"], None),
        (&["key", "revoke", "ak_aaaaaaaaaaaaaaaaaaaa"], None),
        (&["project", "list"], None),
        (&["project", "create", "shop"], None),
        (&["admin", "set-password"], Some("a long enough password\n")),
        (&["backup", "--out", out], None),
        (&["export", "--project", "default", "--out", out], None),
    ];
    for (args, input) in commands {
        let what = format!("`{}` on a missing database", args.join(" "));
        let finished = run(&db, args, &[], *input);
        assert_refused(&finished, &what, "no database");
        assert!(
            finished.stderr.contains(&db.display().to_string()),
            "{what}: the error names the file:\n{}",
            finished.describe()
        );
        assert!(!folder.exists(), "{what} created {}", folder.display());
        assert!(!Path::new(out).exists(), "{what} left {out} behind");
    }

    // A file that is not a wallet-service database is refused and left as it was.
    for (name, contents) in [("empty.db", ""), ("notes.txt", "shopping list\n")] {
        let file = tmp.path().join(name);
        std::fs::write(&file, contents).unwrap();
        let finished = run(&file, &["check"], &[], None);
        assert_refused(
            &finished,
            &format!("`check` on {name}"),
            "not a wallet-service database",
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            contents,
            "{name} untouched"
        );
    }
}

#[test]
fn a_bad_setting_is_refused_with_its_key_named_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let config = tmp.path().join("config.toml");
    std::fs::write(&config, "workers = 600\n").unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "serve",
    ];
    let finished = run(&db, &args, &[], None);
    assert_refused(&finished, "workers = 600", "workers");
    assert!(!db.exists(), "nothing was created for a refused config");

    let finished = run(&db, &["--listen", "localhost", "serve"], &[], None);
    assert_refused(&finished, "--listen localhost", "listen");
}

#[test]
fn one_password_policy_for_the_environment_and_set_password() {
    const POLICY: &str = "the admin password must be at least 12 characters";
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("wallet.db");
    let short = [("WALLET_ADMIN_PASSWORD", "x")];
    let finished = run(&db, &["--listen", "127.0.0.1:0", "serve"], &short, None);
    assert_refused(&finished, "WALLET_ADMIN_PASSWORD=x", POLICY);

    drop(wallet_service::startup::open_sqlite(&db).unwrap());
    let finished = run(&db, &["admin", "set-password"], &[], Some("x\n"));
    assert_refused(&finished, "`admin set-password` with x", POLICY);
    let finished = run(&db, &["admin", "set-password"], &[], Some("twelve chars\n"));
    assert!(
        finished.ok(),
        "a password of 12 characters is accepted:\n{}",
        finished.describe()
    );
}

/// Runs the binary in `cwd` with `--db <value>` (a URL, not a path).
fn run_in(cwd: &Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> Finished {
    run_with_input(
        wallet_service(Path::new(db))
            .current_dir(cwd)
            .envs(env.iter().copied())
            .args(args),
        None,
        FAST,
    )
}

/// `--db`, `WALLET_DB` and `db` in the config take a path or a PostgreSQL
/// URL; any other `scheme://` (or a libpq keyword string) is refused with
/// the accepted forms named, and never becomes a file.
#[test]
fn a_database_url_of_another_kind_is_refused_never_taken_for_a_file() {
    const ACCEPTED: &str = "postgres://user:password@host:5432/database";
    let tmp = tempfile::tempdir().unwrap();
    let refused = [
        "mysql://wallet:hunter2-secret@127.0.0.1:1/wallet",
        "sqlite://wallet.db",
        "file:///tmp/wallet.db",
        "http://127.0.0.1:1/wallet",
        "host=127.0.0.1 dbname=wallet",
    ];
    for url in refused {
        for args in [&["check"][..], &["--listen", "127.0.0.1:0", "serve"][..]] {
            let what = format!("--db {url:?} {}", args.join(" "));
            let finished = run_in(tmp.path(), url, args, &[]);
            assert_refused(&finished, &what, ACCEPTED);
            assert!(!finished.stderr.contains("hunter2"), "{what}: the password shows");
        }
        // The same from the environment and from the config file.
        let from_env = run_with_input(
            std::process::Command::new(crate::common::BIN)
                .current_dir(tmp.path())
                .env_remove("WALLET_CONFIG")
                .env("WALLET_DB", url)
                .arg("check"),
            None,
            FAST,
        );
        assert_refused(&from_env, &format!("WALLET_DB={url:?}"), ACCEPTED);
        let config = tmp.path().join("config.toml");
        std::fs::write(&config, format!("db = {url:?}\n")).unwrap();
        let from_file = run_with_input(
            std::process::Command::new(crate::common::BIN)
                .current_dir(tmp.path())
                .env_remove("WALLET_DB")
                .env_remove("WALLET_CONFIG")
                .args(["--config", config.to_str().unwrap(), "check"]),
            None,
            FAST,
        );
        assert_refused(&from_file, &format!("db = {url:?} in the config"), ACCEPTED);
        std::fs::remove_file(&config).unwrap();
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "nothing was created: {left:?}");
}

/// `backup` and `restore` copy a SQLite file; on a PostgreSQL database they
/// say to use PostgreSQL's own tools, exit 2, and connect to nothing (the
/// URL points at a port nothing listens on).
#[test]
fn backup_and_restore_on_postgres_point_at_its_own_tools() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "postgres://wallet:hunter2-secret@127.0.0.1:1/wallet?sslmode=disable";
    let file = tmp.path().join("wallet.backup");
    let file = file.to_str().unwrap();
    for (args, tool) in [
        (["backup", "--out", file], "pg_dump"),
        (["restore", "--from", file], "pg_restore"),
    ] {
        let what = format!("`{}` on PostgreSQL", args.join(" "));
        let finished = run_in(tmp.path(), url, &args, &[]);
        assert!(
            !finished.timed_out && finished.status.code() == Some(2),
            "{what} must exit 2:\n{}",
            finished.describe()
        );
        for words in [
            tool,
            "the cluster's own",
            "export",
            "postgres://wallet:***@127.0.0.1:1/wallet",
        ] {
            assert!(
                finished.stderr.contains(words),
                "{what}: stderr must say {words:?}:\n{}",
                finished.describe()
            );
        }
        assert!(!finished.stderr.contains("hunter2"), "{what}: the password shows");
        assert!(!Path::new(file).exists(), "{what} wrote a file");
    }
}
