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
