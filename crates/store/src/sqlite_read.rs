//! A synchronous read path for the hottest query on SQLite: the session lookup that
//! every authenticated request makes.
//!
//! sqlx runs each SQLite connection on a worker thread and hands every statement over
//! a channel; that handoff costs more than the indexed lookup itself (about 30 µs
//! against 6 µs here, see `bench/README.md`) and caps session validation well below
//! the 50,000/s per core the product promises. This module keeps a few read-only
//! rusqlite connections on the same file and runs the lookup on the calling thread.
//! It is a point query on a primary key in WAL mode, where readers never wait for the
//! writer, so the runtime thread is held for microseconds. Writes, migrations and every
//! other query stay on sqlx.
//!
//! Any error here (busy, file replaced, schema not yet created) makes the caller fall
//! back to the sqlx path, which reports errors properly; this path is only ever a
//! faster way to the same answer.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

/// Idle read connections kept; more may be opened under load and are then dropped.
const MAX_IDLE: usize = 8;
/// A reader waits at most this long for a lock (only WAL recovery or a checkpoint in
/// truncate mode can make one wait) before giving up and falling back to sqlx.
const BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// The session row and the owner's fields the gateway needs.
#[derive(Debug)]
pub(crate) struct SessionRow {
    pub user_id: String,
    pub mfa_pending: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub username: String,
    pub roles: String,
    pub customer_id: Option<String>,
    pub status: String,
}

/// Must select the same columns, in the same order, as the sqlx path in `sessions`.
const LOOKUP_SESSION: &str = "SELECT s.user_id, s.mfa_pending, s.created_at, s.last_seen_at, \
     s.expires_at, u.username, u.roles, u.customer_id, u.status \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?";

/// Read-only connections to one SQLite file.
pub(crate) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteReader {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection (or a new one), then returns it to the pool.
    fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(c) => c,
            None => match self.open() {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "SQLite read connection failed; using sqlx");
                    return None;
                }
            },
        };
        let out = f(&conn);
        match out {
            Ok(v) => {
                if let Ok(mut idle) = self.idle.lock() {
                    if idle.len() < MAX_IDLE {
                        idle.push(conn);
                    }
                }
                Some(v)
            }
            Err(e) => {
                // Drop the connection: whatever went wrong may be tied to it.
                tracing::debug!(error = %e, "SQLite fast read failed; using sqlx");
                None
            }
        }
    }

    /// The session with this id digest (hex) joined with its owner. `None` means "ask
    /// sqlx"; `Some(None)` means the session does not exist.
    pub(crate) fn lookup_session(&self, id_hash_hex: &str) -> Option<Option<SessionRow>> {
        self.with_conn(|conn| {
            conn.prepare_cached(LOOKUP_SESSION)?
                .query_row([id_hash_hex], |r| {
                    Ok(SessionRow {
                        user_id: r.get(0)?,
                        mfa_pending: r.get(1)?,
                        created_at: r.get(2)?,
                        last_seen_at: r.get(3)?,
                        expires_at: r.get(4)?,
                        username: r.get(5)?,
                        roles: r.get(6)?,
                        customer_id: r.get(7)?,
                        status: r.get(8)?,
                    })
                })
                .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_instead_of_answering_wrongly() {
        let dir = tempfile::tempdir().expect("tempdir");
        // No file: decline (sqlx will report the real problem).
        let reader = SqliteReader::new(&dir.path().join("missing.db"));
        assert!(reader.lookup_session("00").is_none());
        // A file without the schema: decline too, never "no such session".
        let path = dir.path().join("empty.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t (x INTEGER)"))
            .expect("create");
        assert!(SqliteReader::new(&path).lookup_session("00").is_none());
    }

    #[test]
    fn reads_what_was_committed_and_reuses_connections() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT, roles TEXT,
                   customer_id TEXT, status TEXT);
                 CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id TEXT,
                   mfa_pending INTEGER, created_at INTEGER, last_seen_at INTEGER,
                   expires_at INTEGER);
                 INSERT INTO users VALUES ('u1', 'alice', 'admin,ops', NULL, 'active');
                 INSERT INTO sessions VALUES ('ab', 'u1', 0, 1, 2, 3);",
            )
            .expect("schema");
        let reader = SqliteReader::new(&path);
        let row = reader
            .lookup_session("ab")
            .expect("answered")
            .expect("found");
        assert_eq!(
            (row.username.as_str(), row.roles.as_str()),
            ("alice", "admin,ops")
        );
        assert_eq!(
            (row.created_at, row.last_seen_at, row.expires_at),
            (1, 2, 3)
        );
        assert!(reader.lookup_session("cd").expect("answered").is_none());
        // A delete by another connection is seen by the very next lookup.
        writer
            .execute("DELETE FROM sessions WHERE id_hash = 'ab'", [])
            .expect("delete");
        assert!(reader.lookup_session("ab").expect("answered").is_none());
        assert_eq!(reader.idle.lock().map(|v| v.len()).unwrap_or(0), 1);
    }
}
