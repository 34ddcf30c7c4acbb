//! Progress of the long commands (`check`, `export`, `import`) through the
//! real binary, on either backend: nothing at all on a pipe (stderr exactly
//! the command's own lines, stdout only its result), and progress lines
//! under a pseudo-terminal (util-linux `script`, which a missing install
//! fails, never skips). `backup`'s are in `reliability_backup` (a SQLite
//! file), the bench preload's in `tests/bench_smoke.rs`.

use crate::app::{fresh_database, spawn_app};
use crate::reliability_export::{cli, describe, fixture, path_str};
use std::ffi::OsStr;
use std::process::Command;

/// Runs `wallet-service --db DB ARGS…` with stdin, stdout and stderr on a
/// pseudo-terminal; returns everything it drew there.
pub async fn cli_on_terminal(db: impl AsRef<OsStr>, args: &[&str]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = vec![
        quote(env!("CARGO_BIN_EXE_wallet-service")),
        "--db".to_owned(),
        quote(db.as_ref().to_str().unwrap()),
    ];
    line.extend(args.iter().map(|a| quote(a)));
    let mut command = Command::new("script");
    command
        .env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN")
        .args(["-qfec", &line.join(" "), "/dev/null"]);
    let out = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("util-linux `script` is installed (the pseudo-terminal tests need it)")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "under a terminal: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A command's own stderr lines, its log records (`[time LEVEL target] …`,
/// e.g. PostgreSQL's schema steps on a fresh database) left out.
fn own_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.starts_with('['))
        .map(str::to_owned)
        .collect()
}

/// The lines of `text` that a progress report drew (`command: …`), the
/// terminal's control sequences (`ESC [ … letter`) taken out.
pub fn progress_lines(text: &str, command: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Up to and with the sequence's final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| l.starts_with(&format!("{command}: ")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn export_import_and_check_show_progress_on_a_terminal_only() {
    let app = spawn_app().await;
    app.create_project("game").await;
    fixture(&app, "game").await;
    let fresh = fresh_database();
    let piped_file = fresh.dir().join("piped.jsonl");
    let tty_file = fresh.dir().join("tty.jsonl");

    // export: on a pipe, stdout is the counts and stderr one line.
    let piped = cli(
        app.db_arg(),
        &["export", "--project", "game", "--out", path_str(&piped_file)],
    )
    .await;
    assert!(piped.status.success(), "{}", describe(&piped));
    assert_eq!(
        own_lines(&piped.stderr),
        [format!("project game exported to {}", piped_file.display())],
        "no progress on a pipe"
    );
    let counts: serde_json::Value = serde_json::from_slice(&piped.stdout).expect("stdout is the counts only");
    let rows = std::fs::read_to_string(&piped_file).unwrap().lines().count() - 1;
    let drawn = cli_on_terminal(
        app.db_arg(),
        &["export", "--project", "game", "--out", path_str(&tty_file)],
    )
    .await;
    let lines = progress_lines(&drawn, "export");
    assert!(lines.iter().any(|l| l.starts_with("export: rows …")), "{drawn}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("export: rows: {rows} ("))),
        "the rows counted ({rows}): {drawn}"
    );
    assert_eq!(
        std::fs::read_to_string(&tty_file).unwrap().lines().count(),
        rows + 1,
        "the progress went to the terminal, not into the file"
    );

    // import: the same, into two fresh databases.
    let quiet_db = fresh_database();
    let piped = cli(quiet_db.arg(), &["import", "--file", path_str(&piped_file)]).await;
    assert!(piped.status.success(), "{}", describe(&piped));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&piped.stdout).expect("stdout is the counts only"),
        counts
    );
    let stderr = own_lines(&piped.stderr);
    assert!(
        stderr.len() == 1 && stderr[0].starts_with("project game imported into "),
        "no progress on a pipe: {stderr:?}"
    );
    let drawn_db = fresh_database();
    let drawn = cli_on_terminal(drawn_db.arg(), &["import", "--file", path_str(&tty_file)]).await;
    let lines = progress_lines(&drawn, "import");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("import: rows: {} (", rows - 1))),
        "every row after the project's counted: {drawn}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("import: checking every invariant")),
        "{drawn}"
    );

    // check: one line per phase, numbered, on the terminal only.
    let piped = cli(app.db_arg(), &["check", "--full"]).await;
    assert!(piped.status.success(), "{}", describe(&piped));
    let stderr = own_lines(&piped.stderr);
    assert!(
        stderr.len() == 1 && stderr[0].starts_with("ok: "),
        "no progress on a pipe: {stderr:?}"
    );
    serde_json::from_slice::<serde_json::Value>(&piped.stdout).expect("stdout is the report only");
    let drawn = cli_on_terminal(app.db_arg(), &["check", "--full"]).await;
    let lines = progress_lines(&drawn, "check");
    assert!(
        lines.iter().any(|l| l.contains(" (1/")),
        "the first phase: {drawn}"
    );
    assert!(lines.len() >= 5, "a line per phase: {drawn}");
}
