//! Reading the audit log the way an operator looks at it: newest first, filtered by
//! kind, account, address, time and text, and counted per time bucket for charts.
//! Used by the admin console; the chain-ordered reads for verification and export
//! are in `audit`.

use centinela_core::auditlog::Stored;
use sqlx::Row;

use crate::db::Backend;
use crate::error::Result;
use crate::Store;

/// Most events one search returns.
pub const MAX_PAGE: i64 = 500;

/// What an audit search keeps. Empty fields match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Exact event kind (`login-failure`, …).
    pub kind: Option<String>,
    /// Account name, matched against the actor and the target.
    pub user: Option<String>,
    /// Exact client address.
    pub client_ip: Option<String>,
    /// Events at or after this time (ms).
    pub since_ms: Option<i64>,
    /// Events before this time (ms).
    pub until_ms: Option<i64>,
    /// Substring of the details (JSON text), e.g. a route or a detector name.
    pub text: Option<String>,
    /// Only events before this sequence number (the next page).
    pub before_seq: Option<i64>,
}

/// Escapes `%`, `_` and `!` so a searched text matches literally in
/// `LIKE … ESCAPE '!'` (not a backslash: MySQL reads a backslash in a literal as an escape).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Up to `limit` events matching `f`, newest first.
    pub async fn search_audit(&self, f: &AuditFilter, limit: i64) -> Result<Vec<Stored>> {
        let mut sql = String::from(
            "SELECT seq, at_ms, kind, outcome, actor, client_ip, target, details, prev_hash, hash \
             FROM audit_events WHERE 1 = 1",
        );
        if f.kind.is_some() {
            sql.push_str(" AND kind = ?");
        }
        if f.user.is_some() {
            sql.push_str(" AND (actor = ? OR target = ?)");
        }
        if f.client_ip.is_some() {
            sql.push_str(" AND client_ip = ?");
        }
        if f.since_ms.is_some() {
            sql.push_str(" AND at_ms >= ?");
        }
        if f.until_ms.is_some() {
            sql.push_str(" AND at_ms < ?");
        }
        if f.text.is_some() {
            sql.push_str(" AND details LIKE ? ESCAPE '!'");
        }
        if f.before_seq.is_some() {
            sql.push_str(" AND seq < ?");
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        let mut q = sqlx::query(&sql);
        if let Some(k) = &f.kind {
            q = q.bind(k.clone());
        }
        if let Some(u) = &f.user {
            q = q.bind(u.clone()).bind(u.clone());
        }
        if let Some(ip) = &f.client_ip {
            q = q.bind(ip.clone());
        }
        if let Some(s) = f.since_ms {
            q = q.bind(s);
        }
        if let Some(u) = f.until_ms {
            q = q.bind(u);
        }
        if let Some(t) = &f.text {
            q = q.bind(like_literal(t));
        }
        if let Some(b) = f.before_seq {
            q = q.bind(b);
        }
        let rows = q
            .bind(limit.clamp(1, MAX_PAGE))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crate::audit::row_to_stored).collect()
    }

    /// Events of each of `kinds` per bucket of `bucket_ms` from `since_ms` on:
    /// `counts[k][b]` is the count of `kinds[k]` in bucket `b` (`buckets` of them).
    pub async fn event_histogram(
        &self,
        kinds: &[&str],
        since_ms: i64,
        bucket_ms: i64,
        buckets: usize,
    ) -> Result<Vec<Vec<u64>>> {
        let mut counts = vec![vec![0u64; buckets]; kinds.len()];
        if kinds.is_empty() || buckets == 0 || bucket_ms <= 0 {
            return Ok(counts);
        }
        // Integer division is spelled differently: `/` is exact on SQLite integers
        // but gives a decimal on MySQL.
        let bucket = match self.backend {
            Backend::Sqlite => "(at_ms - ?) / ?",
            Backend::MySql => "(at_ms - ?) DIV ?",
        };
        let placeholders = vec!["?"; kinds.len()].join(", ");
        let sql = format!(
            "SELECT kind, {bucket} AS b, COUNT(*) FROM audit_events \
             WHERE at_ms >= ? AND kind IN ({placeholders}) GROUP BY kind, b"
        );
        let mut q = sqlx::query(&sql)
            .bind(since_ms)
            .bind(bucket_ms)
            .bind(since_ms);
        for k in kinds {
            q = q.bind((*k).to_owned());
        }
        for r in q.fetch_all(&self.pool).await? {
            let kind: String = r.try_get(0)?;
            let b: i64 = r.try_get(1)?;
            let n: i64 = r.try_get(2)?;
            let (Some(k), Ok(b)) = (kinds.iter().position(|x| *x == kind), usize::try_from(b))
            else {
                continue;
            };
            if let Some(slot) = counts[k].get_mut(b) {
                *slot = u64::try_from(n).unwrap_or(0);
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(super::like_literal("a%b_c!"), "%a!%b!_c!!%");
    }
}
