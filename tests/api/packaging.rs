//! What ships beside the server: the root page's links, the shell
//! completions, the man page and the systemd unit
//! (`contrib/systemd/wallet-service.service`).

use crate::app::spawn_app;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wallet-service"));
    command
        .env_remove("WALLET_CONFIG")
        .env_remove("WALLET_DB")
        .env_remove("WALLET_LISTEN");
    command
}

/// Every subcommand of the parser, `help` aside, from `--help` itself.
fn subcommands() -> Vec<String> {
    let out = binary().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  ").and_then(|l| l.split_whitespace().next()))
        .filter(|name| *name != "help" && !name.is_empty())
        .map(str::to_owned)
        .collect();
    for expected in [
        "serve",
        "check",
        "backup",
        "export",
        "import",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    names
}

#[tokio::test]
async fn the_root_page_links_the_admin_page_both_apis_and_the_openapi_document() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (link, want) in [
        ("/admin/", 200),
        ("/api/v1/health", 200),
        ("/api/v2/project", 401),
        ("/api/v2/openapi.json", 200),
    ] {
        assert!(
            page.contains(&format!("href=\"{link}\"")),
            "GET / links {link}:\n{page}"
        );
        let status = app
            .client
            .get(app.url(link))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, want, "{link} answers");
    }
}

#[test]
fn the_bash_completion_script_parses_and_names_every_subcommand() {
    let out = binary().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let script = String::from_utf8(out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wallet-service.bash");
    std::fs::write(&file, &script).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash is installed (the completion test needs it)");
    assert!(syntax.status.success(), "bash -n: {syntax:?}");
    for name in subcommands() {
        assert!(script.contains(&name), "the completion names {name}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = binary().args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 100, "{shell}: {out:?}");
    }
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let out = binary().arg("man").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains("\n.TH wallet-service 1"), "a .TH header:\n{page}");
    assert!(
        page.contains("\n.SH NAME") && page.contains("\n.SH SUBCOMMANDS"),
        "{page}"
    );
    for name in subcommands() {
        // roff escapes the hyphen: `wallet\-service\-check(1)`.
        let named = format!("wallet\\-service\\-{}(1)", name.replace('-', "\\-"));
        assert!(page.contains(&named), "the page names {name} ({named})");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = binary().arg("man").arg("--dir").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.path().join("wallet-service.1").is_file());
    assert!(dir.path().join("wallet-service-check.1").is_file());
}

/// The raw answer to `GET path` on `addr`.
fn answer(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

const UNIT: &str = include_str!("../../contrib/systemd/wallet-service.service");

/// The unit's `key=value` lines per section, each key with all its values.
fn parse_unit(text: &str) -> HashMap<String, HashMap<String, Vec<String>>> {
    let mut sections: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    let mut current = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_owned());
            sections.entry(name.to_owned()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: {line}", n + 1));
        let section = current
            .clone()
            .unwrap_or_else(|| panic!("line {}: outside a section", n + 1));
        sections
            .get_mut(&section)
            .unwrap()
            .entry(key.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    sections
}

#[test]
fn the_systemd_unit_is_hardened_and_systemd_accepts_it() {
    let unit = parse_unit(UNIT);
    let mut names: Vec<&String> = unit.keys().collect();
    names.sort();
    assert_eq!(names, ["Install", "Service", "Unit"], "the unit's sections");
    let service = &unit["Service"];
    let one = |key: &str| -> &str {
        let values = service.get(key).unwrap_or_else(|| panic!("[Service] sets {key}"));
        values.last().unwrap()
    };
    for (key, want) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "wallet-service"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("MemoryDenyWriteExecute", "yes"),
        ("LockPersonality", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectControlGroups", "yes"),
        ("UMask", "0077"),
        ("Restart", "on-failure"),
        // What the server stops on cleanly (startup::wait_for_shutdown_signal).
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(one(key), want, "[Service] {key}");
    }
    assert_eq!(unit["Install"]["WantedBy"], ["multi-user.target"]);
    let env: HashMap<&str, &str> = service["Environment"]
        .iter()
        .map(|e| e.split_once('=').unwrap())
        .collect();
    let db = Path::new(env["WALLET_DB"]);
    assert!(
        db.starts_with("/var/lib/wallet-service"),
        "the database is under the StateDirectory: {db:?}"
    );
    let listen = env["WALLET_LISTEN"];

    // The real binary runs the unit's command line with its environment
    // (the database moved into a temporary folder, the port made 0) and
    // stops cleanly on the unit's KillSignal.
    let exec: Vec<&str> = one("ExecStart").split_whitespace().collect();
    assert_eq!(
        exec[0], "/usr/local/bin/wallet-service",
        "the install steps copy the binary there"
    );
    let dir = tempfile::tempdir().unwrap();
    let host = listen.rsplit_once(':').unwrap().0;
    let mut server = binary()
        .args(&exec[1..])
        .env("WALLET_DB", dir.path().join(db.file_name().unwrap()))
        .env("WALLET_LISTEN", format!("{host}:0"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.starts_with(&format!("wallet-service listening on http://{host}:")),
        "{line}"
    );
    // Once it answers it serves (its signal handlers are in place from
    // the start of its build: a_sigterm_during_start_up_… below).
    let port = line.trim().rsplit_once(':').unwrap().1;
    let health = answer(&format!("{host}:{port}"), "/api/v1/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let pid = i32::try_from(server.id()).unwrap();
    let killed = Command::new("kill")
        .args(["-s", "TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "the server stops cleanly on SIGTERM: {status:?}"
    );

    // systemd's own verdict where it is installed (its verify needs the
    // binary at ExecStart's path: point it at the one under test).
    if Path::new("/usr/bin/systemd-analyze").exists() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wallet-service.service");
        std::fs::write(
            &file,
            UNIT.replace(
                "/usr/local/bin/wallet-service",
                env!("CARGO_BIN_EXE_wallet-service"),
            ),
        )
        .unwrap();
        let out = Command::new("/usr/bin/systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd-analyze verify: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// systemd may stop the service at any moment of its start: a SIGTERM that
/// arrives while the database opens (right after the first log line) is a
/// clean stop once the server is up, exit status 0, never a kill by the
/// signal's default disposition.
#[test]
fn a_sigterm_during_start_up_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = binary()
        .args(["--db"])
        .arg(dir.path().join("wallet.db"))
        .args(["--listen", "127.0.0.1:0", "serve"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "the server ended before its first log line:\n{seen}");
        seen.push_str(&line);
        if line.contains("starting (SIGTERM or SIGINT stops it cleanly)") {
            break;
        }
    }
    let pid = i32::try_from(server.id()).unwrap();
    let killed = Command::new("kill")
        .args(["-s", "TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The rest of its log, read while it stops (bounded: the pipe closes
    // when the process ends).
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
        rest
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = server.kill();
            panic!("the server did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let rest = rest.join().unwrap();
    assert!(
        status.success(),
        "a SIGTERM during start-up must be a clean stop, got {status:?}:\n{seen}{rest}"
    );
    assert!(
        rest.contains("stopped"),
        "it stopped the clean way:\n{seen}{rest}"
    );
}
