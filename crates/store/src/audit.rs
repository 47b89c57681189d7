//! The audit log in the database: appending events to the hash chain, reading them
//! back in order, verifying the chain, and pruning old events behind a signed
//! checkpoint.
//!
//! Appending starts by bumping the sequence in the one-row `audit_head` table. That
//! statement takes the row lock on MySQL and the write lock on SQLite, so concurrent
//! writers (several gateway instances on one MySQL, or the CLI next to the server)
//! queue there and each batch chains onto the one committed before it.

use centinela_core::auditlog::{self, Break, Event, Stored, Verifier};
use sqlx::Row;

use crate::error::Result;
use crate::Store;

/// Events read per query while verifying or exporting.
const PAGE: i64 = 1000;

/// What a prune did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneReport {
    /// Events deleted.
    pub deleted: u64,
    /// The checkpoint now in force (sequence of the last deleted event), if any.
    pub checkpoint: Option<i64>,
}

pub(crate) fn row_to_stored(r: &sqlx::any::AnyRow) -> Result<Stored> {
    Ok(Stored {
        seq: r.try_get("seq")?,
        at_ms: r.try_get("at_ms")?,
        kind: r.try_get("kind")?,
        outcome: r.try_get("outcome")?,
        actor: r.try_get("actor")?,
        client_ip: r.try_get("client_ip")?,
        target: r.try_get("target")?,
        details: r.try_get("details")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl Store {
    /// Appends `events` to the chain in one transaction; returns the last sequence
    /// number written.
    pub async fn append_audit(&self, events: &[Event]) -> Result<i64> {
        if events.is_empty() {
            return Ok(self.audit_head().await?.0);
        }
        let n = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE audit_head SET seq = seq + ? WHERE id = 1")
            .bind(n)
            .execute(&mut *tx)
            .await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let last: i64 = head.try_get(0)?;
        let mut prev: String = head.try_get(1)?;
        let mut seq = last - n;
        for e in events {
            seq += 1;
            let details = e.details_text();
            let hash = auditlog::chain_hash(
                &prev,
                seq,
                e.at_ms,
                e.kind.as_str(),
                e.outcome,
                e.actor.as_deref(),
                e.client_ip.as_deref(),
                e.target.as_deref(),
                &details,
            );
            sqlx::query(
                "INSERT INTO audit_events (seq, at_ms, kind, outcome, actor, client_ip, target, \
                 details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(seq)
            .bind(e.at_ms)
            .bind(e.kind.as_str())
            .bind(e.outcome)
            .bind(e.actor.as_deref())
            .bind(e.client_ip.as_deref())
            .bind(e.target.as_deref())
            .bind(&details)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            prev = hash;
        }
        sqlx::query("UPDATE audit_head SET hash = ? WHERE id = 1")
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(last)
    }

    /// The last sequence number written and its hash.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    /// Up to `limit` events after `after_seq`, at or after `since_ms`, in order.
    pub async fn audit_events(
        &self,
        after_seq: i64,
        since_ms: i64,
        limit: i64,
    ) -> Result<Vec<Stored>> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, kind, outcome, actor, client_ip, target, details, prev_hash, hash \
             FROM audit_events WHERE seq > ? AND at_ms >= ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_stored).collect()
    }

    /// The checkpoint verification starts from, if old events were pruned. `Err` when
    /// its signature does not match (someone wrote one by hand).
    async fn audit_checkpoint(&self) -> Result<std::result::Result<Option<(i64, String)>, Break>> {
        let row = sqlx::query(
            "SELECT seq, hash, created_at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(Ok(None)) };
        let seq: i64 = r.try_get(0)?;
        let hash: String = r.try_get(1)?;
        let created: i64 = r.try_get(2)?;
        let signature: String = r.try_get(3)?;
        if self.checkpoint_signature(seq, &hash, created) != signature {
            return Ok(Err(Break {
                seq,
                reason: "the prune checkpoint's signature is wrong (it was not written by \
                         centinela with this master key)"
                    .to_owned(),
            }));
        }
        Ok(Ok(Some((seq, hash))))
    }

    fn checkpoint_signature(&self, seq: i64, hash: &str, created: i64) -> String {
        self.keyed_digest(
            "audit-checkpoint",
            format!("{seq}|{hash}|{created}").as_bytes(),
        )
    }

    /// Verifies the whole chain (from the last checkpoint): `Ok(Ok(n))` with the number
    /// of events checked, `Ok(Err(break))` at the first broken link.
    pub async fn verify_audit(&self) -> Result<std::result::Result<u64, Break>> {
        let (mut v, mut after) = match self.audit_checkpoint().await? {
            Err(b) => return Ok(Err(b)),
            Ok(None) => (Verifier::new(), 0),
            Ok(Some((seq, hash))) => (Verifier::from_checkpoint(seq, hash), seq),
        };
        // Read the head first: events appended while we verify are past it.
        let (head_seq, head_hash) = self.audit_head().await?;
        loop {
            let page = self.audit_events(after, i64::MIN, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page.iter().filter(|r| r.seq <= head_seq) {
                if let Err(b) = v.check(r) {
                    return Ok(Err(b));
                }
            }
            if after >= head_seq {
                break;
            }
        }
        Ok(v.finish(head_seq, &head_hash))
    }

    /// Deletes events older than `before_ms`, after recording a signed checkpoint at
    /// the last deleted one so the rest of the chain still verifies.
    pub async fn prune_audit(&self, before_ms: i64) -> Result<PruneReport> {
        let last = sqlx::query(
            "SELECT seq, hash FROM audit_events WHERE at_ms < ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(before_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(last) = last else {
            return Ok(PruneReport {
                deleted: 0,
                checkpoint: None,
            });
        };
        let seq: i64 = last.try_get(0)?;
        let hash: String = last.try_get(1)?;
        let created = crate::db::now();
        let signature = self.checkpoint_signature(seq, &hash, created);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, created_at, signature) VALUES (?, ?, ?, ?)",
        )
        .bind(seq)
        .bind(&hash)
        .bind(created)
        .bind(&signature)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM audit_events WHERE seq <= ?")
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(PruneReport {
            deleted,
            checkpoint: Some(seq),
        })
    }
}
