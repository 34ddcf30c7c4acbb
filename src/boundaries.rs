//! The layering rules of `docs/architecture.md`, checked on the sources and
//! the lock file so that a shortcut fails `cargo test` instead of waiting
//! for a review: the core depends on no database, web framework or async
//! runtime; this package holds no SQL; the HTTP layer never names a backend.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no sources under {}", dir.display());
    found
}

/// The lines of the files under `dir` (this file excepted) that contain any
/// of `needles`.
fn lines_with(dir: &Path, needles: &[&str]) -> Vec<String> {
    let this = Path::new(ROOT).join(file!());
    let mut hits = Vec::new();
    for path in sources(dir) {
        if path == this {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a readable source");
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|needle| line.contains(needle)) {
                hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn this_package_holds_no_sql_and_no_sqlite_driver() {
    let src = Path::new(ROOT).join("src");
    let hits = lines_with(
        &src,
        &[
            "rusqlite",
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
            "CREATE TABLE",
            "PRAGMA",
        ],
    );
    assert!(
        hits.is_empty(),
        "SQL belongs to the backend crates:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_http_layer_never_names_a_backend() {
    let api = Path::new(ROOT).join("src").join("api");
    let hits = lines_with(&api, &["wallet_sqlite", "wallet_postgres"]);
    assert!(
        hits.is_empty(),
        "src/api speaks to the ledger, not to a backend:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_core_depends_on_no_database_web_framework_or_runtime() {
    let lock: toml::Table = std::fs::read_to_string(Path::new(ROOT).join("Cargo.lock"))
        .expect("Cargo.lock")
        .parse()
        .expect("a TOML lock file");
    // name -> dependency names (a "name version" entry names one of several versions).
    let mut graph: HashMap<String, Vec<String>> = HashMap::new();
    for package in lock["package"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("a name").to_owned();
        let deps: Vec<String> = package
            .get("dependencies")
            .and_then(|d| d.as_array())
            .map(|d| {
                d.iter()
                    .filter_map(|v| v.as_str())
                    .map(|v| v.split(' ').next().unwrap_or(v).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        graph.entry(name).or_default().extend(deps);
    }
    // The lock file lists optional dependencies too (utoipa, behind the
    // core's `openapi` feature), so this over-approximates what the core
    // pulls in: stricter, never looser.
    let mut seen = BTreeSet::new();
    let mut pending = vec!["wallet-core".to_owned()];
    while let Some(name) = pending.pop() {
        // tokio's own dependencies in the lock file are those of every
        // feature the workspace enables; the core's is checked below.
        if seen.insert(name.clone()) && name != "tokio" {
            pending.extend(graph.get(&name).cloned().unwrap_or_default());
        }
    }
    assert!(seen.len() > 3, "the walk found the core's dependencies: {seen:?}");
    // One exception: tokio's `sync` module alone (the events bell, a watch
    // channel): no runtime, no timer, no I/O; any other feature is refused.
    let core: toml::Table = std::fs::read_to_string(Path::new(ROOT).join("crates/wallet-core/Cargo.toml"))
        .expect("wallet-core's Cargo.toml")
        .parse()
        .expect("a TOML manifest");
    let tokio_features = core["dependencies"]
        .get("tokio")
        .and_then(|t| t.get("features"))
        .and_then(|f| f.as_array())
        .map(|f| f.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>());
    assert_eq!(
        tokio_features,
        Some(vec!["sync"]),
        "wallet-core may use tokio's sync module only"
    );
    let forbidden: Vec<&String> = seen
        .iter()
        .filter(|name| name.as_str() != "tokio")
        .filter(|name| {
            [
                "rusqlite",
                "libsqlite3-sys",
                "postgres",
                "tokio",
                "actix",
                "r2d2",
                "hyper",
                "mio",
            ]
            .iter()
            .any(|f| name.starts_with(f))
        })
        .collect();
    assert!(forbidden.is_empty(), "wallet-core must stay pure: {forbidden:?}");
}
