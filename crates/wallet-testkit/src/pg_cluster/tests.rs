use super::*;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

fn client(database: &PgDatabase) -> postgres::Client {
    postgres::Client::connect(database.url(), postgres::NoTls)
        .expect("the fresh database accepts a connection by its url")
}

fn setting(client: &mut postgres::Client, name: &str) -> String {
    client
        .query_one(&format!("SHOW {name}"), &[])
        .expect("SHOW a setting")
        .get(0)
}

/// Alive, and not a zombie waiting for its parent (an exited postmaster
/// whose parent is gone counts as gone).
fn running(pid: &str) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn a_fresh_database_answers_over_its_url_with_durable_defaults() {
    let database = PgCluster::shared().fresh_database();
    assert!(
        database.url().starts_with("postgres://postgres@127.0.0.1:")
            && database.url().ends_with(&format!("/{}", database.name())),
        "url: {}",
        database.url()
    );
    let mut client = client(&database);
    let one: i32 = client.query_one("SELECT 1", &[]).expect("SELECT 1").get(0);
    assert_eq!(one, 1);
    let current: String = client
        .query_one("SELECT current_database()", &[])
        .expect("current_database")
        .get(0);
    assert_eq!(current, database.name());
    for (name, expected) in [
        ("fsync", "on"),
        ("synchronous_commit", "on"),
        ("full_page_writes", "on"),
        ("listen_addresses", "127.0.0.1"),
    ] {
        assert_eq!(setting(&mut client, name), expected, "{name}");
    }
    assert!(
        setting(&mut client, "unix_socket_directories")
            .starts_with(&PgCluster::shared().dir().display().to_string()),
        "the socket is in the cluster's own directory"
    );
}

#[test]
fn two_fresh_databases_are_isolated() {
    let cluster = PgCluster::shared();
    let (first, second) = (cluster.fresh_database(), cluster.fresh_database());
    assert_ne!(first.name(), second.name());
    client(&first)
        .batch_execute("CREATE TABLE mine (x INT); INSERT INTO mine VALUES (1)")
        .expect("a table in the first database");
    let seen = client(&second)
        .query_one("SELECT count(*) FROM pg_tables WHERE tablename = 'mine'", &[])
        .expect("look for the table")
        .get::<_, i64>(0);
    assert_eq!(seen, 0, "the second database sees the first one's table");
}

#[test]
fn a_dropped_guard_drops_its_database() {
    let cluster = PgCluster::shared();
    let database = cluster.fresh_database();
    let name = database.name().to_owned();
    let _open = client(&database); // dropped with FORCE even while connected
    drop(database);
    let mut admin = connect(cluster.port(), "postgres", Duration::from_secs(5)).expect("the admin database");
    let left = admin
        .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
        .expect("look for the database")
        .get::<_, i64>(0);
    assert_eq!(left, 0, "{name} outlived its guard");
}

#[tokio::test]
async fn works_from_inside_a_tokio_test() {
    // The blocking client would panic on this runtime's thread.
    let database = PgCluster::shared().fresh_database();
    assert!(database.name().starts_with("t_"));
}

#[test]
fn an_owned_cluster_takes_settings_and_is_removed_when_dropped() {
    let cluster = PgCluster::start(&[("fsync", "off")]).expect("a cluster of its own");
    let database = cluster.fresh_database();
    assert_eq!(setting(&mut client(&database), "fsync"), "off");
    let (dir, pid) = (cluster.dir().to_owned(), cluster.pid().to_string());
    drop(database);
    drop(cluster);
    assert!(!dir.exists(), "{} outlived the cluster", dir.display());
    assert!(!running(&pid), "postmaster {pid} outlived the cluster");
}

#[test]
fn a_server_that_cannot_start_fails_with_its_log_and_leaves_nothing() {
    let error = PgCluster::start(&[("shared_buffers", "plenty")]).expect_err("a setting postgres refuses");
    let message = error.to_string();
    assert!(
        message.contains("did not accept connections") && message.contains("shared_buffers"),
        "{message}"
    );
    // Other tests' clusters come and go meanwhile: only this one's log says "plenty".
    let left: Vec<PathBuf> = fs::read_dir(std::env::temp_dir())
        .expect("the temp dir lists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|dir| fs::read_to_string(dir.join("postgres.log")).is_ok_and(|log| log.contains("plenty")))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn no_binaries_fails_and_says_how_to_install_them() {
    let empty = tempfile::tempdir().expect("a temp dir");
    let error = process::first_with_binaries([empty.path().to_owned()]).expect_err("no initdb there");
    let message = error.to_string();
    assert!(message.contains("apt-get install -y postgresql"), "{message}");
}

/// Set in the child processes of the watchdog test: how the child ends.
const CHILD_VAR: &str = "WALLET_TESTKIT_WATCHDOG_CHILD";

#[test]
#[ignore = "a child process of the_watchdog_removes_the_cluster_however_the_test_binary_ends"]
fn watchdog_child() {
    let Ok(ending) = std::env::var(CHILD_VAR) else {
        return;
    };
    let cluster = PgCluster::shared();
    let database = cluster.fresh_database();
    let mut session = client(&database); // a backend alive at the end
    let rows = session
        .query("SELECT pid FROM pg_stat_activity", &[])
        .expect("the cluster's processes");
    let mut pids: Vec<String> = rows.iter().map(|row| row.get::<_, i32>(0).to_string()).collect();
    pids.push(cluster.pid().to_string());
    println!("CLUSTER dir={} pids={}", cluster.dir().display(), pids.join(","));
    match ending.as_str() {
        "exit" => std::process::exit(0),
        "abort" => std::process::abort(),
        _ => {
            let _ = Command::new("kill")
                .args(["-KILL", &std::process::id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(30));
            unreachable!("SIGKILL did not kill the test binary");
        }
    }
}

#[test]
fn the_watchdog_removes_the_cluster_however_the_test_binary_ends() {
    let exe = std::env::current_exe().expect("the test binary's path");
    let name = format!(
        "{}::watchdog_child",
        module_path!().split_once("::").expect("a crate path").1
    );
    let children: Vec<_> = [("exit", None), ("abort", Some(6)), ("kill", Some(9))]
        .into_iter()
        .map(|(ending, signal)| {
            let child = Command::new(&exe)
                .args([
                    name.as_str(),
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_VAR, ending)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start a child test binary");
            (ending, signal, child)
        })
        .collect();
    for (ending, signal, child) in children {
        let out = child.wait_with_output().expect("the child ends");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report = format!(
            "{ending}: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.signal(), signal, "{report}");
        let line = stdout
            .lines()
            .find_map(|line| Some(line.split_once("CLUSTER dir=")?.1))
            .unwrap_or_else(|| panic!("{report}"));
        let (dir, pids) = line.split_once(" pids=").unwrap_or_else(|| panic!("{report}"));
        let pids: Vec<&str> = pids.split(',').collect();
        assert!(
            pids.len() >= 3,
            "a postmaster, a session and background processes: {report}"
        );
        // Well inside the minute after which a postmaster whose lock file is
        // gone stops by itself: this must be the watchdog's work.
        let deadline = Instant::now() + Duration::from_secs(20);
        while (Path::new(dir).exists() || pids.iter().any(|pid| running(pid))) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!Path::new(dir).exists(), "{ending}: {dir} left behind");
        let left: Vec<_> = pids.iter().filter(|pid| running(pid)).collect();
        assert!(
            left.is_empty(),
            "{ending}: postgres processes {left:?} left behind"
        );
    }
}
