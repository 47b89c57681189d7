//! Opening the database: backend detection from the URL, the connection pool, and the
//! versioned schema migrations applied at start.
//!
//! Both backends go through sqlx's `Any` driver so that every query is written once,
//! with `?` placeholders, and the same test suite covers SQLite and MySQL/MariaDB. The
//! schemas differ only in DDL, so there is one migration directory per backend.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use crate::error::{Result, StoreError};

/// Which database engine a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// A MySQL or MariaDB server.
    MySql,
}

impl Backend {
    /// The backend a database URL names, or an error explaining the accepted forms.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Ok(Self::MySql)
        } else {
            Err(StoreError::InvalidUrl(format!(
                "{} (unknown scheme)",
                redact_url(url)
            )))
        }
    }
}

/// Connection settings for [`crate::Store::open`].
#[derive(Clone)]
pub struct DbOptions {
    /// `sqlite://PATH` or `mysql://USER:PASSWORD@HOST:PORT/DB`.
    pub url: String,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
    /// How long a query waits for a connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for DbOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbOptions")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl DbOptions {
    /// Options with the defaults the server uses.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Hides the password of a `scheme://user:password@host/...` URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// The filesystem path of a `sqlite:` URL (without its `?options`).
pub(crate) fn sqlite_path(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::InvalidUrl(url.to_owned()))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::InvalidUrl(format!(
            "{url}: an in-memory database would lose every user at exit; give a file path"
        )));
    }
    Ok(PathBuf::from(path))
}

/// Creates `dir` and its missing parents with mode 0700: it holds the database and the
/// key, which no other local user should read.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates the SQLite file's directory, and the file itself with owner-only permissions,
/// so that password hashes and ciphertexts are not world-readable on disk.
fn prepare_sqlite_file(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::db::create_private_dir(dir).map_err(|source| StoreError::Io {
            context: format!("creating the database directory {}", dir.display()),
            source,
        })?;
    }
    if !path.exists() {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .or_else(|e| {
                // Another process created it between the check and the open: fine.
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    std::fs::File::open(path)
                } else {
                    Err(e)
                }
            })
            .map_err(|source| StoreError::Io {
                context: format!("creating the database file {}", path.display()),
                source,
            })?;
    }
    Ok(())
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");

/// Connects, and brings the schema up to date.
pub(crate) async fn connect(opts: &DbOptions) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(&opts.url)?;
    let url = match backend {
        Backend::Sqlite => {
            let path = sqlite_path(&opts.url)?;
            prepare_sqlite_file(&path)?;
            let path = path.to_str().ok_or_else(|| {
                StoreError::InvalidUrl("the SQLite path is not valid UTF-8".to_owned())
            })?;
            format!("sqlite://{path}?mode=rwc")
        }
        Backend::MySql => opts.url.replacen("mariadb://", "mysql://", 1),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(opts.max_connections.max(1))
        .acquire_timeout(opts.acquire_timeout)
        .test_before_acquire(true)
        .connect(&url)
        .await?;
    match backend {
        Backend::Sqlite => {
            // WAL lets the CLI and the server use one file at once: readers never block
            // the writer. The setting is stored in the file, so once is enough.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
        }
        Backend::MySql => migrate_mysql(&pool).await?,
    }
    Ok((pool, backend))
}

/// How long an instance waits for another one's migrations to finish.
const MIGRATION_LOCK_SECS: i64 = 120;

/// Runs the MySQL migrations under a named lock, so instances starting at the same
/// time apply each migration once. sqlx's migrator takes `GET_LOCK(name, -1)`, which
/// MySQL reads as "wait forever" but MariaDB as "do not wait" (it returns NULL at
/// once and sqlx ignores the answer): on MariaDB two instances would both apply a
/// migration and one would fail. This lock is taken with a finite wait, its answer
/// checked, and the migrations run on the same connection that holds it.
async fn migrate_mysql(pool: &AnyPool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let got: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(CONCAT('centinela-migrate-', DATABASE()), ?)")
            .bind(MIGRATION_LOCK_SECS)
            .fetch_one(&mut *conn)
            .await?;
    if got != Some(1) {
        return Err(StoreError::Migration(format!(
            "another instance held the migration lock for over {MIGRATION_LOCK_SECS} s;              check that no migration is stuck, then start again"
        )));
    }
    let result = MYSQL_MIGRATIONS.run(&mut *conn).await;
    // Released on every path; the connection also drops it if it closes.
    let released = sqlx::query("SELECT RELEASE_LOCK(CONCAT('centinela-migrate-', DATABASE()))")
        .execute(&mut *conn)
        .await;
    result?;
    released?;
    Ok(())
}

/// Seconds since the Unix epoch: the one time format the schema uses.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("mysql://root:hunter2@127.0.0.1:3306/test"),
            "mysql://root:***@127.0.0.1:3306/test"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn backend_detection() {
        assert_eq!(
            Backend::from_url("sqlite://a.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("mysql://u@h/d").ok(),
            Some(Backend::MySql)
        );
        assert!(Backend::from_url("postgres://u@h/d").is_err());
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://./data/c.db?mode=rwc").ok(),
            Some(PathBuf::from("./data/c.db"))
        );
        assert!(sqlite_path("sqlite::memory:").is_err());
    }
}
