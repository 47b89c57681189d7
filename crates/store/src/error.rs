//! The store's error type: what went wrong, classified so callers can pick an answer
//! (a 503 for an unreachable database, a 409 for a duplicate, a 404 for a missing row).

use thiserror::Error;

/// Errors from the persistence layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be reached or timed out; the caller should answer 503 and retry later.
    #[error("the database is unavailable ({0}); check that it is running and reachable, service resumes by itself when it answers")]
    Unavailable(String),
    /// Any other database error (constraint, syntax, decoding).
    #[error("database error: {0}")]
    Database(String),
    /// The database URL cannot be used.
    #[error("invalid database URL: {0}; use sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DB")]
    InvalidUrl(String),
    /// Applying the schema migrations failed.
    #[error("could not apply the schema migrations: {0}")]
    Migration(String),
    /// A unique value (username, email) is already taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The named row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The master key is missing, malformed or does not match the data keys in the database.
    #[error("key error: {0}")]
    Key(String),
    /// A ciphertext failed authentication or names an unknown key.
    #[error("could not decrypt a protected field: {0}")]
    Decrypt(String),
    /// A value from the caller breaks a rule (e.g. a role name with spaces).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Reading or writing a local file (key file, database directory) failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Password hashing failed or its worker pool is gone.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl StoreError {
    /// True when the error means the database did not answer (so a retry may succeed).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Self::Unavailable(err.to_string()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Self::Conflict("a row with the same unique value".to_owned())
            }
            sqlx::Error::RowNotFound => Self::NotFound("row".to_owned()),
            _ => Self::Database(err.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        match err {
            sqlx::migrate::MigrateError::Execute(e) => Self::from(e),
            other => Self::Migration(other.to_string()),
        }
    }
}

/// Result alias for the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
