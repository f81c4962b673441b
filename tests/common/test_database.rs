//! A database for one test, on the backend the run asks for: SQLite in a temporary directory (the default), or,
//! with `SHIPSHAPE_TEST_BACKEND=postgres`, a new database in the PostgreSQL server `SHIPSHAPE_TEST_POSTGRES_URL`
//! names (`.ci/test` starts a private one and runs the store, worker and App suites on both backends). Asking for
//! PostgreSQL without a server is an error, never a silent fall back to SQLite.

use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which backend this test run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("SHIPSHAPE_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("SHIPSHAPE_TEST_BACKEND={other:?}: expected sqlite or postgres"),
    }
}

/// A test's database: its URL, and for SQLite the directory that holds the file (removed when dropped).
pub struct TestDatabase {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    /// A new, empty database on this run's backend.
    pub async fn new() -> TestDatabase {
        match backend() {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres().await,
        }
    }

    /// A new SQLite database, whatever the run's backend (tests of SQLite itself: its journal, its query plans).
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("shipshape.db").display());
        TestDatabase { url, _dir: dir }
    }

    /// A new database in the test server (left there: the server is the test run's own and is removed with it).
    pub async fn postgres() -> TestDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin = std::env::var("SHIPSHAPE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
            panic!("SHIPSHAPE_TEST_BACKEND=postgres needs SHIPSHAPE_TEST_POSTGRES_URL (.ci/test starts a server)")
        });
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("t_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {admin}: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        let base = admin.rsplit_once('/').map(|(base, _)| base).expect("a URL with a database name");
        TestDatabase { url: format!("{base}/{name}"), _dir: tempfile::tempdir().unwrap() }
    }
}
