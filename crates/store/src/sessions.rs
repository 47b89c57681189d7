//! Browser sessions. The id given to the client is 256 random bits; the table keeps only
//! its SHA-256, so a copy of the database does not let anyone impersonate a user.
//!
//! Idle and absolute timeouts are enforced here, on every lookup, so revocation and
//! expiry take effect at once on every gateway instance sharing the database.

use data_encoding::HEXLOWER;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::sqlite_read::SessionRow;
use crate::Store;

/// How stale `last_seen_at` may get before a lookup writes it back. Writing on every
/// request would turn each page view into a database write; a minute of slack on a
/// 30-minute idle timeout is immaterial. Short idle timeouts touch sooner (a quarter
/// of the timeout), so a session in use never lapses between two writes.
const TOUCH_INTERVAL_SECS: i64 = 60;

fn touch_interval(idle_timeout_secs: i64) -> i64 {
    TOUCH_INTERVAL_SECS.min(idle_timeout_secs / 4)
}

/// A live session and the identity behind it.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// The owner.
    pub user_id: String,
    /// The owner's login name.
    pub username: String,
    /// The owner's roles at lookup time (role changes apply immediately).
    pub roles: Vec<String>,
    /// The owner's customer id, for ownership rules.
    pub customer_id: Option<String>,
    /// True between a correct password and the second factor: such a session grants
    /// nothing but the TOTP step.
    pub mfa_pending: bool,
    /// When the session was created (absolute timeout counts from here).
    pub created_at: i64,
    /// Absolute expiry.
    pub expires_at: i64,
}

fn digest_hex(digest: &[u8; 32]) -> String {
    HEXLOWER.encode(digest)
}

impl Store {
    /// Stores a new session under the digest of its id.
    pub async fn create_session(
        &self,
        id_digest: &[u8; 32],
        user_id: &str,
        mfa_pending: bool,
        absolute_timeout_secs: i64,
        client_ip: Option<&str>,
    ) -> Result<()> {
        let now = crate::db::now();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, mfa_pending, created_at, last_seen_at, \
             expires_at, client_ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(digest_hex(id_digest))
        .bind(user_id)
        .bind(i64::from(mfa_pending))
        .bind(now)
        .bind(now)
        .bind(now.saturating_add(absolute_timeout_secs))
        .bind(client_ip.map(|ip| ip.chars().take(64).collect::<String>()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this id digest, or `None` when it is unknown, expired
    /// (idle or absolute), or its user is no longer active. Expired rows are deleted.
    pub async fn lookup_session(
        &self,
        id_digest: &[u8; 32],
        idle_timeout_secs: i64,
    ) -> Result<Option<SessionRecord>> {
        let key = digest_hex(id_digest);
        let fast = self
            .sqlite_reader
            .as_ref()
            .and_then(|r| r.lookup_session(&key));
        let row = match fast {
            Some(row) => row,
            None => self.lookup_session_row(&key).await?,
        };
        let Some(row) = row else { return Ok(None) };
        let now = crate::db::now();
        if now >= row.expires_at || now >= row.last_seen_at.saturating_add(idle_timeout_secs) {
            self.delete_session_hex(&key).await?;
            return Ok(None);
        }
        if row.status != "active" {
            return Ok(None);
        }
        if now - row.last_seen_at >= touch_interval(idle_timeout_secs) {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
                .bind(now)
                .bind(&key)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionRecord {
            user_id: row.user_id,
            username: row.username,
            roles: row
                .roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            customer_id: row.customer_id,
            mfa_pending: row.mfa_pending != 0,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }))
    }

    /// The session row through sqlx: MySQL, and SQLite when the fast path declines.
    async fn lookup_session_row(&self, key: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT s.user_id, s.mfa_pending, s.created_at, s.last_seen_at, s.expires_at, \
             u.username, u.roles, u.customer_id, u.status \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionRow {
            user_id: row.try_get("user_id")?,
            mfa_pending: row.try_get("mfa_pending")?,
            created_at: row.try_get("created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            username: row.try_get("username")?,
            roles: row.try_get("roles")?,
            customer_id: row.try_get("customer_id")?,
            status: row.try_get("status")?,
        }))
    }

    async fn delete_session_hex(&self, key: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Ends one session (logout). True when it existed.
    pub async fn delete_session(&self, id_digest: &[u8; 32]) -> Result<bool> {
        self.delete_session_hex(&digest_hex(id_digest)).await
    }

    /// Ends every session of a user ("log out everywhere", admin revocation, password
    /// change). Returns how many were ended.
    pub async fn delete_user_sessions(&self, user_id: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Replaces a session by a new id for the same user (privilege change, second
    /// factor completed), keeping the absolute expiry of the original so rotation
    /// cannot extend a session's lifetime. Fails with `NotFound` if the old one is gone.
    pub async fn rotate_session(
        &self,
        old_digest: &[u8; 32],
        new_digest: &[u8; 32],
        mfa_pending: bool,
    ) -> Result<()> {
        let old = digest_hex(old_digest);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT user_id, created_at, expires_at, client_ip FROM sessions WHERE id_hash = ?",
        )
        .bind(&old)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound("session".to_owned()))?;
        let user_id: String = row.try_get(0)?;
        let created_at: i64 = row.try_get(1)?;
        let expires_at: i64 = row.try_get(2)?;
        let client_ip: Option<String> = row.try_get(3)?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&old)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, mfa_pending, created_at, last_seen_at, \
             expires_at, client_ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(digest_hex(new_digest))
        .bind(user_id)
        .bind(i64::from(mfa_pending))
        .bind(created_at)
        .bind(crate::db::now())
        .bind(expires_at)
        .bind(client_ip)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Number of live sessions of a user (for the CLI and tests).
    pub async fn count_user_sessions(&self, user_id: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?",
            )
            .bind(user_id)
            .bind(crate::db::now())
            .fetch_one(&self.pool)
            .await?,
        )
    }

    /// Sessions not yet past their absolute expiry (for the active-sessions metric).
    pub async fn count_active_sessions(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at > ?")
                .bind(crate::db::now())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Deletes sessions past their absolute expiry; run periodically.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(crate::db::now())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
