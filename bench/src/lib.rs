//! Shared fixtures for Centinela's benchmarks (see `benches/` and `README.md`).
//!
//! The inspection fixtures ([`inspect_json_body`], [`inspect_query_string`]) are the
//! benign requests the `inspect` criterion bench and the `inspect_loop` binary (for
//! instruction counts under callgrind) both run.
//!
//! The session fixture builds a real SQLite store in a temporary directory, exactly as
//! the gateway opens it (`Store::open`, migrations, WAL), with one user and a number of
//! live sessions, and keeps both the cookie values and their digests so a bench can
//! replay the gateway's lookup path.
#![forbid(unsafe_code)]

use centinela_core::secret::SecretString;
use centinela_core::token;
use centinela_store::{DbOptions, MasterKey, NewUser, Store};
use rand::seq::SliceRandom;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};

/// The session lookup the store runs (copied from `crates/store/src/sessions.rs`), for
/// the raw-driver comparison benches.
pub const LOOKUP_SQL: &str =
    "SELECT s.user_id, s.mfa_pending, s.created_at, s.last_seen_at, s.expires_at, \
     u.username, u.roles, u.customer_id, u.status \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?";

/// Idle timeout passed to `lookup_session` (the config default, 30 minutes).
pub const IDLE_TIMEOUT_SECS: i64 = 1800;
/// Absolute timeout used when creating the sessions (12 hours).
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 43_200;

/// A populated SQLite store and the sessions in it, in shuffled order.
#[derive(Debug)]
pub struct SessionFixture {
    /// The store, opened as the gateway opens it.
    pub store: Store,
    /// Cookie values (session ids) of live sessions, shuffled.
    pub cookies: Vec<SecretString>,
    /// `token::digest` of each cookie, same order.
    pub digests: Vec<[u8; 32]>,
    /// The database file.
    pub db_path: std::path::PathBuf,
    /// Keeps the temporary directory alive.
    _dir: tempfile::TempDir,
}

/// Creates a temporary SQLite store with one active user and `sessions` live sessions.
///
/// # Panics
/// When the store cannot be created; a bench has nothing to measure then.
pub async fn session_fixture(sessions: usize) -> SessionFixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db_path = dir.path().join("b.db");
    let url = format!("sqlite://{}", db_path.display());
    let store = Store::open(&DbOptions::new(url), &MasterKey::generate())
        .await
        .expect("open the SQLite store");
    let user = store
        .create_user(NewUser {
            username: "bench.user".to_owned(),
            display_name: "Bench User".to_owned(),
            email: None,
            roles: vec!["staff".to_owned(), "billing".to_owned()],
            customer_id: Some("c-0001".to_owned()),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$not-a-real-hash".to_owned(),
        })
        .await
        .expect("create the bench user");
    let mut cookies = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let id = token::new_session_id();
        store
            .create_session(
                &token::digest(id.expose()),
                &user.id,
                false,
                ABSOLUTE_TIMEOUT_SECS,
                None,
            )
            .await
            .expect("create a session");
        cookies.push(id);
    }
    cookies.shuffle(&mut rand::thread_rng());
    let digests = cookies.iter().map(|c| token::digest(c.expose())).collect();
    SessionFixture {
        store,
        cookies,
        digests,
        db_path,
        _dir: dir,
    }
}

impl SessionFixture {
    /// A plain `sqlx::SqlitePool` on the same file, bypassing the `Any` driver, with
    /// the store's pool size (10) and the given `test_before_acquire` setting (the
    /// store's pool has it on, which pings the connection on every acquire).
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub async fn raw_sqlite_pool(&self, test_before_acquire: bool) -> SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(10)
            .test_before_acquire(test_before_acquire)
            .connect(&format!("sqlite://{}", self.db_path.display()))
            .await
            .expect("open a raw SQLite pool")
    }
}

/// Hex form of a digest, as the `sessions.id_hash` column stores it.
pub fn digest_hex(digest: &[u8; 32]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A typical 1 KB JSON order body: a customer with accents and an apostrophe in the
/// name, an address, and order items with free-text notes.
pub fn inspect_json_body() -> Vec<u8> {
    let mut s = String::from("{\"customer\":{\"id\":48213,\"name\":\"María José O'Brien\",\"email\":\"maria.obrien@example.com\",\"phone\":\"+34 912 345 678\",\"address\":{\"street\":\"Calle de Alcalá 42, 3º B\",\"city\":\"Madrid\",\"zip\":\"28014\",\"country\":\"ES\"}},\"order\":{\"items\":[");
    let mut i = 0;
    while s.len() < 900 {
        s.push_str(&format!(
            "{{\"sku\":\"SKU-{i:05}\",\"qty\":{},\"note\":\"gift wrap, or leave at the door\"}},",
            i % 3 + 1
        ));
        i += 1;
    }
    s.pop();
    s.push_str("],\"comment\":\"Please select the blue one if available\"}}");
    s.into_bytes()
}

/// A 2 KB query string of form-encoded Spanish text with percent-encoded accents.
pub fn inspect_query_string() -> String {
    let mut q = String::new();
    let mut i = 0;
    while q.len() < 2000 {
        q.push_str(&format!(
            "field{i}=Valor+n%C3%BAmero+{i}+de+la+b%C3%BAsqueda&"
        ));
        i += 1;
    }
    q.push_str("sort=price&order=desc");
    q
}
