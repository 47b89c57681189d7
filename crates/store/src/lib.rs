//! Centinela's persistence layer: SQLite (embedded, the default) or MySQL/MariaDB
//! through sqlx, with versioned migrations, field encryption for personal data, and the
//! records of identity: users, sessions, API tokens, recovery codes and login throttling.
//!
//! Every query is a static string with `?` placeholders; values only ever travel as
//! bound parameters (a workspace test fails the build on SQL assembled with `format!`).
//! Secrets never reach a table in clear: session ids, API tokens and recovery codes are
//! stored as digests, emails and TOTP secrets as AES-256-GCM ciphertexts.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod audit;
pub mod audit_query;
mod db;
mod error;
mod keys;
pub mod lookup;
mod networks;
mod sessions;
mod sqlite_read;
mod throttle;
mod tokens;
mod users;

use std::sync::Arc;

use sqlx::AnyPool;

pub use db::{redact_url, Backend, DbOptions};
pub use error::{Result, StoreError};
pub use keys::MasterKey;
pub use sessions::SessionRecord;
pub use throttle::ThrottleState;
pub use tokens::{ApiTokenRecord, NewApiToken};
pub use users::{validate_roles, validate_username, NewUser, User, UserStatus};

/// A handle on the database; cheap to clone, shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    keys: Arc<keys::Keyring>,
    /// Synchronous read path for session lookups on SQLite (see `sqlite_read`).
    sqlite_reader: Option<Arc<sqlite_read::SqliteReader>>,
}

/// What `keys rotate` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationReport {
    /// The id of the data key that is now current.
    pub new_key_id: u32,
    /// Encrypted fields rewritten under the new key.
    pub reencrypted: u64,
    /// Fields that still name an older key (a concurrent write raced the rotation);
    /// running the rotation again picks them up.
    pub remaining: u64,
}

impl Store {
    /// Connects, applies pending migrations and checks the master key against the
    /// database's data keys.
    pub async fn open(opts: &DbOptions, master: &MasterKey) -> Result<Self> {
        let (pool, backend) = db::connect(opts).await?;
        let keys = Arc::new(keys::Keyring::new(master));
        keys.init(&pool).await?;
        let sqlite_reader = match backend {
            Backend::Sqlite => Some(Arc::new(sqlite_read::SqliteReader::new(&db::sqlite_path(
                &opts.url,
            )?))),
            Backend::MySql => None,
        };
        Ok(Self {
            pool,
            backend,
            keys,
            sqlite_reader,
        })
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later
    /// fails with "database is locked" when another connection is writing, instead of
    /// waiting its turn.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::MySql => self.pool.begin().await?,
        })
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The raw pool, for health checks and tests that inspect tables.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes the pool, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The seed of the assertion-signing key (see the gateway's `assertion` module).
    pub fn assertion_signing_seed(&self) -> zeroize::Zeroizing<[u8; 32]> {
        self.keys.signing_seed()
    }

    /// A keyed digest of `value` for lookups that must not reveal it (throttle keys,
    /// recovery codes). Stable for a given master key.
    pub fn keyed_digest(&self, label: &str, value: &[u8]) -> String {
        self.keys.keyed_digest(label, value)
    }

    /// Re-encrypts every protected field under a new data key while other processes keep
    /// serving. `settle` is how long to wait between the switch and a second pass, so
    /// that servers that cached the old current key (up to five seconds) have moved on.
    pub async fn rotate_keys(&self, settle: std::time::Duration) -> Result<RotationReport> {
        let new_key_id = self.keys.add_current_key(&self.pool).await?;
        let mut reencrypted = self.reencrypt_users(new_key_id).await?;
        if !settle.is_zero() {
            tokio::time::sleep(settle).await;
            reencrypted += self.reencrypt_users(new_key_id).await?;
        }
        let remaining = self.count_fields_not_under(new_key_id).await?;
        Ok(RotationReport {
            new_key_id,
            reencrypted,
            remaining,
        })
    }

    /// The wait a rotation should use when servers may be running.
    pub fn rotation_settle_time() -> std::time::Duration {
        keys::CURRENT_KEY_TTL + std::time::Duration::from_secs(1)
    }
}
