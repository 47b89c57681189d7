//! Failure counters behind login throttling, per account and per client address,
//! shared by every gateway instance through the database. The arithmetic (how long to
//! delay, when to lock) lives in `centinela_core::throttle`; this module only counts.
//!
//! Keys are stored as keyed digests: a username typed at the login form might be a
//! password typed in the wrong box, and it should not sit in a table in clear.

use sqlx::Row;

use crate::error::Result;
use crate::Store;

/// The counter for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures since `window_start`.
    pub failures: u32,
    /// Start of the counting window.
    pub window_start: i64,
    /// Locked until this time, if locked.
    pub locked_until: Option<i64>,
}

impl Store {
    fn throttle_key(&self, key: &str) -> String {
        self.keys.keyed_digest("login_throttle", key.as_bytes())
    }

    /// Current counter for `key` (e.g. `user:alice`, `ip:203.0.113.9`). A window that
    /// has run out reads as zero failures.
    pub async fn throttle_state(&self, key: &str, window_secs: i64) -> Result<ThrottleState> {
        let row = sqlx::query(
            "SELECT failures, window_start, locked_until FROM login_throttle WHERE key_hash = ?",
        )
        .bind(self.throttle_key(key))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(ThrottleState::default());
        };
        let now = crate::db::now();
        let window_start: i64 = row.try_get(1)?;
        let locked_until: Option<i64> = row.try_get(2)?;
        let failures = if now - window_start >= window_secs {
            0
        } else {
            u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX)
        };
        Ok(ThrottleState {
            failures,
            window_start,
            locked_until: locked_until.filter(|t| *t > now),
        })
    }

    /// Locks `key` (e.g. `user:alice`) until `until_secs` whatever its count: an
    /// automatic response to an alert. The lock expires by itself and `user unlock`
    /// lifts it.
    pub async fn lock_throttle_key(&self, key: &str, until_secs: i64) -> Result<()> {
        let hash = self.throttle_key(key);
        let updated = sqlx::query("UPDATE login_throttle SET locked_until = ? WHERE key_hash = ?")
            .bind(until_secs)
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        if updated.rows_affected() == 0 {
            let inserted = sqlx::query(
                "INSERT INTO login_throttle (key_hash, failures, window_start, locked_until)                  VALUES (?, ?, ?, ?)",
            )
            .bind(&hash)
            .bind(0_i64)
            .bind(crate::db::now())
            .bind(until_secs)
            .execute(&self.pool)
            .await;
            match inserted.map_err(crate::StoreError::from) {
                Ok(_) | Err(crate::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Counts one failure for `key` and returns the new state. `lock_after` and
    /// `lock_secs` come from the throttle policy: reaching `lock_after` failures in the
    /// window sets `locked_until`.
    pub async fn record_failure(
        &self,
        key: &str,
        window_secs: i64,
        lock_after: u32,
        lock_secs: i64,
    ) -> Result<ThrottleState> {
        let hash = self.throttle_key(key);
        let now = crate::db::now();
        // Reset the window when it has run out, else increment; one statement each so
        // concurrent failures on several instances are all counted.
        let updated = sqlx::query(
            "UPDATE login_throttle SET \
             failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END, \
             window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END \
             WHERE key_hash = ?",
        )
        .bind(now - window_secs)
        .bind(now - window_secs)
        .bind(now)
        .bind(&hash)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            let inserted = sqlx::query(
                "INSERT INTO login_throttle (key_hash, failures, window_start) VALUES (?, ?, ?)",
            )
            .bind(&hash)
            .bind(1_i64)
            .bind(now)
            .execute(&self.pool)
            .await;
            if let Err(e) = inserted {
                // Lost a race with another instance's insert: count on its row.
                match crate::StoreError::from(e) {
                    crate::StoreError::Conflict(_) => {
                        sqlx::query(
                            "UPDATE login_throttle SET failures = failures + 1 WHERE key_hash = ?",
                        )
                        .bind(&hash)
                        .execute(&self.pool)
                        .await?;
                    }
                    other => return Err(other),
                }
            }
        }
        sqlx::query(
            "UPDATE login_throttle SET locked_until = ? WHERE key_hash = ? AND failures >= ? \
             AND (locked_until IS NULL OR locked_until <= ?)",
        )
        .bind(now + lock_secs)
        .bind(&hash)
        .bind(i64::from(lock_after))
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.throttle_state(key, window_secs).await
    }

    /// Forgets the counter (successful login, or an administrator's unlock).
    pub async fn clear_throttle(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key_hash = ?")
            .bind(self.throttle_key(key))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
