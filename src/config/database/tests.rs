use super::*;

fn parse(text: &str) -> Result<Database, InvalidDatabase> {
    Database::parse(OsStr::new(text))
}

#[test]
fn every_spelling_is_a_path_a_postgres_url_or_refused_with_the_accepted_forms() {
    enum Is {
        Path,
        Postgres,
        Refused(&'static str),
    }
    use Is::*;
    let cases = [
        ("./data/wallet.db", Path),
        ("/var/lib/wallet/wallet.db", Path),
        ("wallet.db", Path),
        ("data dir/wallet.db", Path),
        ("C:\\wallet\\wallet.db", Path),
        // No `://`: a file name, as it always was.
        ("postgres:wallet.db", Path),
        ("sqlite:wallet.db", Path),
        ("postgres://user:secret@db.internal:5432/wallet", Postgres),
        ("postgresql://user:secret@db.internal:5432/wallet", Postgres),
        ("POSTGRES://db.internal/wallet", Postgres),
        (
            "postgres://db.internal/wallet?sslmode=require&connect_timeout=5",
            Postgres,
        ),
        ("postgres://user@db.internal/wallet", Postgres),
        (
            "postgres://u:p@h1:5432,h2:5433/wallet?target_session_attrs=read-write",
            Postgres,
        ),
        ("postgresql:///wallet?host=/var/run/postgresql", Postgres),
        ("postgres://", Postgres),
        ("mysql://user:secret@host/db", Refused("a mysql:// URL")),
        ("sqlite://wallet.db", Refused("a sqlite:// URL")),
        ("sqlite:///data/wallet.db", Refused("a sqlite:// URL")),
        ("file:///data/wallet.db", Refused("a file:// URL")),
        ("http://db.internal:5432/wallet", Refused("a http:// URL")),
        ("https://db.internal/wallet", Refused("a https:// URL")),
        ("postgres+ssl://db/wallet", Refused("a postgres+ssl:// URL")),
        ("cockroachdb://db/wallet", Refused("a cockroachdb:// URL")),
        (
            "host=db.internal dbname=wallet",
            Refused("libpq connection string"),
        ),
        ("dbname=wallet", Refused("libpq connection string")),
        ("postgres://db/wallet?sslmode", Refused("key=value")),
        ("postgres://db/wallet?=x", Refused("no name")),
        ("postgres://db/wal let", Refused("space")),
        ("postgres://user:pa/ss@db/wallet", Refused("percent-encode")),
        ("postgres://user:pa?ss@db/wallet", Refused("percent-encode")),
        ("", Refused("empty")),
        ("   ", Refused("empty")),
    ];
    for (text, expected) in cases {
        match (parse(text), expected) {
            (Ok(Database::Sqlite(path)), Path) => assert_eq!(path, PathBuf::from(text), "{text:?}"),
            (Ok(Database::Postgres(url)), Postgres) => assert_eq!(url.expose(), text, "{text:?}"),
            (Err(InvalidDatabase(message)), Refused(words)) => {
                assert!(
                    message.contains(words),
                    "{text:?}: {message:?} must say {words:?}"
                );
                assert!(
                    message.contains("postgres://") && message.contains("SQLite file path"),
                    "{text:?}: the message names the accepted forms: {message}"
                );
                assert!(!message.contains("secret"), "{text:?}: no password in {message}");
            }
            (other, _) => panic!("{text:?}: unexpected {other:?}"),
        }
    }
}

#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_a_path() {
    use std::os::unix::ffi::OsStrExt;
    let raw = OsStr::from_bytes(b"/tmp/wallet-\xff.db");
    assert_eq!(Database::parse(raw), Ok(Database::Sqlite(PathBuf::from(raw))));
}

#[test]
fn a_postgres_url_never_shows_its_password() {
    let cases = [
        (
            "postgres://wallet:s3cr3t-Pa55@db.internal:5432/wallet?sslmode=require",
            "postgres://wallet:***@db.internal:5432/wallet?sslmode=require",
        ),
        (
            "postgresql://wallet:s3cr3t-Pa55@h1,h2/wallet",
            "postgresql://wallet:***@h1,h2/wallet",
        ),
        (
            "postgres://db.internal/wallet?user=wallet&password=s3cr3t-Pa55&sslmode=verify-full",
            "postgres://db.internal/wallet?user=wallet&password=***&sslmode=verify-full",
        ),
        (
            "postgres://wallet:s3cr3t%40Pa55@db.internal/wallet",
            "postgres://wallet:***@db.internal/wallet",
        ),
        (
            "postgres://wallet:s3cr3t-Pa55@db.internal",
            "postgres://wallet:***@db.internal",
        ),
        (
            "postgres://wallet@db.internal/wallet",
            "postgres://wallet@db.internal/wallet",
        ),
    ];
    for (text, shown) in cases {
        let db = parse(text).expect("a PostgreSQL URL");
        let Database::Postgres(url) = &db else {
            panic!("{text}: not PostgreSQL")
        };
        assert_eq!(url.to_string(), shown);
        assert_eq!(db.to_string(), shown);
        for printed in [format!("{url:?}"), format!("{db:?}"), format!("{db}")] {
            assert!(!printed.contains("s3cr3t"), "the password shows in {printed}");
        }
        assert_eq!(url.expose(), text, "the connection gets the whole URL");
    }
}
