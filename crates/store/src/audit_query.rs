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
    /// Up to `limit` events matching `f`, newest first. One fixed statement: each
    /// filter is `(? IS NULL OR …)` with the value bound twice, so nothing of the
    /// search ever becomes SQL text.
    pub async fn search_audit(&self, f: &AuditFilter, limit: i64) -> Result<Vec<Stored>> {
        let text = f.text.as_deref().map(like_literal);
        let rows = sqlx::query(SEARCH_SQL)
            .bind(f.kind.clone())
            .bind(f.kind.clone())
            .bind(f.user.clone())
            .bind(f.user.clone())
            .bind(f.user.clone())
            .bind(f.client_ip.clone())
            .bind(f.client_ip.clone())
            .bind(f.since_ms.unwrap_or(i64::MIN))
            .bind(f.until_ms.unwrap_or(i64::MAX))
            .bind(text.clone())
            .bind(text)
            .bind(f.before_seq.unwrap_or(i64::MAX))
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
        if buckets == 0 || bucket_ms <= 0 {
            return Ok(counts);
        }
        // Integer division is spelled differently: `/` is exact on SQLite integers
        // but gives a decimal on MySQL.
        let sql = match self.backend {
            Backend::Sqlite => HISTOGRAM_SQLITE,
            Backend::MySql => HISTOGRAM_MYSQL,
        };
        for (k, kind) in kinds.iter().enumerate() {
            let rows = sqlx::query(sql)
                .bind(since_ms)
                .bind(bucket_ms)
                .bind((*kind).to_owned())
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await?;
            for r in rows {
                let b: i64 = r.try_get(0)?;
                let n: i64 = r.try_get(1)?;
                if let Some(slot) = usize::try_from(b).ok().and_then(|b| counts[k].get_mut(b)) {
                    *slot = u64::try_from(n).unwrap_or(0);
                }
            }
        }
        Ok(counts)
    }
}

const SEARCH_SQL: &str = "SELECT seq, at_ms, kind, outcome, actor, client_ip, target, details, \
     prev_hash, hash FROM audit_events \
     WHERE (? IS NULL OR kind = ?) \
     AND (? IS NULL OR actor = ? OR target = ?) \
     AND (? IS NULL OR client_ip = ?) \
     AND at_ms >= ? AND at_ms < ? \
     AND (? IS NULL OR details LIKE ? ESCAPE '!') \
     AND seq < ? \
     ORDER BY seq DESC LIMIT ?";

const HISTOGRAM_SQLITE: &str = "SELECT (at_ms - ?) / ? AS b, COUNT(*) FROM audit_events \
     WHERE kind = ? AND at_ms >= ? GROUP BY b";

const HISTOGRAM_MYSQL: &str = "SELECT (at_ms - ?) DIV ? AS b, COUNT(*) FROM audit_events \
     WHERE kind = ? AND at_ms >= ? GROUP BY b";

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(super::like_literal("a%b_c!"), "%a!%b!_c!!%");
    }
}
