//! Alerts, their states and the automatic responses, in the shared database: counting
//! events in a window (over the audit log), claiming an open alert so that one
//! instance notifies, acknowledging and resolving, blocking an address or locking an
//! account for a while.

use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::Store;

/// An alert as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    /// Random id.
    pub id: String,
    /// Rule name.
    pub rule: String,
    /// The key the count was grouped by (account, address, user, or `*`).
    pub group_key: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub state: String,
    /// Severity.
    pub severity: String,
    /// Events counted when it fired.
    pub event_count: i64,
    /// The automatic response taken.
    pub response: String,
    /// When it fired (ms).
    pub fired_at: i64,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
}

fn row_to_alert(r: &sqlx::any::AnyRow) -> Result<AlertRecord> {
    Ok(AlertRecord {
        id: r.try_get("id")?,
        rule: r.try_get("rule")?,
        group_key: r.try_get("group_key")?,
        state: r.try_get("state")?,
        severity: r.try_get("severity")?,
        event_count: r.try_get("event_count")?,
        response: r.try_get("response")?,
        fired_at: r.try_get("fired_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
    })
}

/// What an alert is about when it is opened.
#[derive(Clone, Debug)]
pub struct NewAlert<'a> {
    /// Rule name.
    pub rule: &'a str,
    /// Grouping key.
    pub group_key: &'a str,
    /// Severity.
    pub severity: &'a str,
    /// Events in the window.
    pub event_count: i64,
    /// Response taken.
    pub response: &'a str,
    /// The alert stays open (no new notification for the same key) until then (ms).
    pub open_until: i64,
}

impl Store {
    /// Events of `kind` since `since_ms`, grouped by `column` = `key` (`None` counts
    /// every event of the kind).
    pub async fn count_events(
        &self,
        kind: &str,
        column: Option<&str>,
        key: &str,
        since_ms: i64,
    ) -> Result<i64> {
        let q = match column {
            None => "SELECT COUNT(*) FROM audit_events WHERE kind = ? AND at_ms >= ?",
            Some("target") => {
                "SELECT COUNT(*) FROM audit_events WHERE kind = ? AND at_ms >= ? AND target = ?"
            }
            Some("client_ip") => {
                "SELECT COUNT(*) FROM audit_events WHERE kind = ? AND at_ms >= ? AND client_ip = ?"
            }
            Some("actor") => {
                "SELECT COUNT(*) FROM audit_events WHERE kind = ? AND at_ms >= ? AND actor = ?"
            }
            Some(other) => return Err(StoreError::Invalid(format!("cannot count by {other}"))),
        };
        let mut query = sqlx::query_scalar(q).bind(kind).bind(since_ms);
        if column.is_some() {
            query = query.bind(key);
        }
        Ok(query.fetch_one(&self.pool).await?)
    }

    /// Opens an alert unless one is already open for this rule and key (on any
    /// instance). `Some(id)` when this call opened it and must notify.
    pub async fn open_alert(&self, a: &NewAlert<'_>, now_ms: i64) -> Result<Option<String>> {
        let key: String = a.group_key.chars().take(191).collect();
        sqlx::query("DELETE FROM alert_open WHERE rule = ? AND group_key = ? AND until_ms < ?")
            .bind(a.rule)
            .bind(&key)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        let id = crate::users::new_row_id();
        let claimed = sqlx::query(
            "INSERT INTO alert_open (rule, group_key, alert_id, until_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(a.rule)
        .bind(&key)
        .bind(&id)
        .bind(a.open_until)
        .execute(&self.pool)
        .await;
        match claimed.map_err(StoreError::from) {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        sqlx::query(
            "INSERT INTO alerts (id, rule, group_key, state, severity, event_count, response, \
             fired_at, open_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(a.rule)
        .bind(a.group_key)
        .bind("firing")
        .bind(a.severity)
        .bind(a.event_count)
        .bind(a.response)
        .bind(now_ms)
        .bind(a.open_until)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(Some(id))
    }

    /// Alerts, newest first; `state` filters.
    pub async fn list_alerts(&self, state: Option<&str>, limit: i64) -> Result<Vec<AlertRecord>> {
        let rows = match state {
            Some(s) => sqlx::query(
                "SELECT id, rule, group_key, state, severity, event_count, response, fired_at, \
                     acknowledged_by FROM alerts WHERE state = ? ORDER BY fired_at DESC LIMIT ?",
            )
            .bind(s)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
            None => sqlx::query(
                "SELECT id, rule, group_key, state, severity, event_count, response, fired_at, \
                     acknowledged_by FROM alerts ORDER BY fired_at DESC LIMIT ?",
            )
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        };
        rows.iter().map(row_to_alert).collect()
    }

    /// Marks a firing alert acknowledged. False when there is no such firing alert.
    pub async fn acknowledge_alert(&self, id: &str, by: &str, now_ms: i64) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE alerts SET state = ?, acknowledged_by = ?, updated_at = ? \
             WHERE id = ? AND state = ?",
        )
        .bind("acknowledged")
        .bind(by)
        .bind(now_ms)
        .bind(id)
        .bind("firing")
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Resolves alerts whose window has passed, and frees their keys.
    pub async fn resolve_expired_alerts(&self, now_ms: i64) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE alerts SET state = ?, updated_at = ? WHERE state <> ? AND open_until < ?",
        )
        .bind("resolved")
        .bind(now_ms)
        .bind("resolved")
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM alert_open WHERE until_ms < ?")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Blocks an address until `until_ms` (extends an existing block).
    pub async fn block_address(&self, ip: &str, until_ms: i64, reason: &str) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE blocked_addresses SET until_ms = ?, reason = ? WHERE ip = ? AND until_ms < ?",
        )
        .bind(until_ms)
        .bind(reason)
        .bind(ip)
        .bind(until_ms)
        .execute(&self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            let inserted = sqlx::query(
                "INSERT INTO blocked_addresses (ip, until_ms, reason) VALUES (?, ?, ?)",
            )
            .bind(ip)
            .bind(until_ms)
            .bind(reason)
            .execute(&self.pool)
            .await;
            match inserted.map_err(StoreError::from) {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Addresses blocked at `now_ms`, with the end of each block.
    pub async fn blocked_addresses(&self, now_ms: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT ip, until_ms FROM blocked_addresses WHERE until_ms > ?")
            .bind(now_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Lifts an address block. False when there was none.
    pub async fn unblock_address(&self, ip: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM blocked_addresses WHERE ip = ?")
            .bind(ip)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
