//! Opening SQLite through the `Any` driver: the URL names the file; the pragmas are set on every new connection.

use super::{Result, StoreError, StoreOptions};
use sqlx::Executor;
use sqlx::{AnyPool, any::AnyPoolOptions};

/// SQLite's URL for `database_url`, creating the file when missing (`mode=rwc`) unless the URL says otherwise.
fn sqlite_url(database_url: &str) -> String {
    let url = database_url.trim();
    if in_memory(url) || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The file a SQLite URL names (`sqlite://PATH?…` or `sqlite:PATH`), or `None` for an in-memory database.
fn sqlite_path(database_url: &str) -> Option<std::path::PathBuf> {
    let url = database_url.trim();
    if in_memory(url) {
        return None;
    }
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.strip_prefix("//").unwrap_or(rest).split('?').next()?;
    (!path.is_empty()).then(|| path.into())
}

/// Holds `PATH-migrate.lock` beside the database (as SQLite keeps `PATH-wal` and `PATH-shm`) while the schema is
/// brought up to date, so that processes opening one new database together migrate one at a time: sqlx's migration
/// lock is PostgreSQL's advisory lock and does nothing on SQLite. An advisory `flock`, released when the file closes
/// (a crash included); the database file itself is never opened here, since closing a descriptor of it would drop
/// SQLite's own locks in this process.
async fn migration_lock(path: &std::path::Path) -> Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push("-migrate.lock");
    let failed =
        |source| StoreError::MigrationLock { path: std::path::PathBuf::from(&name).display().to_string(), source };
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&name).map_err(failed)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| failed(std::io::Error::other(e.to_string())))?
        .map_err(failed)
}

fn in_memory(database_url: &str) -> bool {
    database_url.contains(":memory:") || database_url.contains("mode=memory")
}

/// The pragmas of a connection. Journal: WAL, so readers (readiness probes, metrics) never block the writer.
/// `synchronous=FULL`: a commit is fsynced before it returns. GitHub does not redeliver a webhook we acknowledged,
/// so a delivery answered 202 must survive a power loss or kernel crash, not only a process crash (which is all
/// `NORMAL` guarantees in WAL mode). The cost, one fsync per commit, is shared by the deliveries of a burst (group
/// commit).
fn pragmas(options: &StoreOptions, file: bool, read_only: bool) -> String {
    let mut sql = format!(
        "PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        options.write_timeout.as_millis()
    );
    if file {
        sql.push_str(" PRAGMA journal_mode = WAL;");
    }
    if read_only {
        sql.push_str(" PRAGMA query_only = ON;");
    }
    sql
}

fn pool_options(pragmas: String) -> AnyPoolOptions {
    AnyPoolOptions::new().after_connect(move |conn, _| {
        let pragmas = pragmas.clone();
        Box::pin(async move {
            conn.execute(pragmas.as_str()).await?;
            Ok(())
        })
    })
}

/// The read pool and the one write connection of a SQLite database, its schema brought up to date.
pub(super) async fn open_sqlite(database_url: &str, options: &StoreOptions) -> Result<(AnyPool, AnyPool)> {
    let url = sqlite_url(database_url);
    let file = !in_memory(&url);
    // One connection that never closes. For an in-memory database it is also the only one: the database lives
    // as long as its last connection, and shared-cache connections fail with SQLITE_LOCKED instead of waiting.
    let writes = pool_options(pragmas(options, file, false))
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(options.write_timeout)
        .connect(&url)
        .await?;
    let lock = match sqlite_path(&url) {
        Some(path) => Some(migration_lock(&path).await?),
        None => None,
    };
    sqlx::migrate!("./migrations/sqlite").run(&writes).await?;
    drop(lock);
    let pool = if file {
        pool_options(pragmas(options, true, true))
            .max_connections(options.read_connections.max(1))
            .connect(&url)
            .await?
    } else {
        writes.clone()
    };
    Ok((pool, writes))
}
