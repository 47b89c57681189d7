//! Security events from request handling to the audit log, without making requests
//! wait for the database.
//!
//! Handlers call [`AuditSink::record`], which logs the event on stdout (JSON through
//! `tracing`, for the log pipeline) and queues it. One writer task appends queued
//! events to the hash chain in batches. When the database is away the writer keeps
//! its batch and retries with back-off, and the queue (bounded) fills; past its
//! capacity new events are dropped and counted — the count is logged and exported as a
//! metric, so a loss is never silent. When the database returns, everything queued is
//! written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use centinela_core::auditlog::Event;
use centinela_store::Store;
use tokio::sync::mpsc;

/// Events written per transaction at most.
const BATCH: usize = 500;
/// Back-off bounds while the database is away.
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Queues events for the audit log.
#[derive(Clone, Debug)]
pub struct AuditSink {
    tx: mpsc::Sender<Event>,
    dropped: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl AuditSink {
    /// Starts the writer for `store`, queueing up to `capacity` events.
    pub fn spawn(store: Store, capacity: usize) -> Self {
        Self::spawn_with_metrics(store, capacity, None)
    }

    /// Like [`AuditSink::spawn`], also counting events in `metrics`.
    pub fn spawn_with_metrics(
        store: Store,
        capacity: usize,
        metrics: Option<Arc<crate::metrics::Metrics>>,
    ) -> Self {
        Self::spawn_full(store, capacity, metrics, None)
    }

    /// Like [`AuditSink::spawn_with_metrics`], also running the alert rules after each
    /// batch is written.
    pub fn spawn_full(
        store: Store,
        capacity: usize,
        metrics: Option<Arc<crate::metrics::Metrics>>,
        alerting: Option<Arc<crate::alerting::Alerting>>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let written = Arc::new(AtomicU64::new(0));
        tokio::spawn(writer(store, rx, Arc::clone(&written), alerting));
        Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            written,
            metrics,
        }
    }

    /// Logs and queues one event. Never waits.
    pub fn record(&self, e: Event) {
        tracing::info!(
            target: "centinela::audit",
            action = e.kind.as_str(),
            category = e.kind.category(),
            outcome = e.outcome,
            user = e.actor.as_deref().unwrap_or(""),
            source_ip = e.client_ip.as_deref().unwrap_or(""),
            object = e.target.as_deref().unwrap_or(""),
            details = %e.details,
            "Security event"
        );
        if let Some(m) = &self.metrics {
            m.event(&e);
        }
        if self.tx.try_send(e).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(m) = &self.metrics {
                m.audit_dropped.set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            // One line per thousand, not one per event, during a long outage.
            if n == 1 || n % 1000 == 0 {
                tracing::error!(
                    dropped = n,
                    "Audit queue full: security events are being dropped until the database accepts writes again"
                );
            }
        }
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Events written to the database.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

async fn writer(
    store: Store,
    mut rx: mpsc::Receiver<Event>,
    written: Arc<AtomicU64>,
    alerting: Option<Arc<crate::alerting::Alerting>>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let mut wait = RETRY_MIN;
        loop {
            match store.append_audit(&batch).await {
                Ok(_) => {
                    written.fetch_add(u64::try_from(batch.len()).unwrap_or(0), Ordering::Relaxed);
                    if let Some(a) = &alerting {
                        a.evaluate(&batch).await;
                    }
                    batch.clear();
                    break;
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        pending = batch.len(),
                        "Cannot write security events yet; keeping them and retrying"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        }
    }
}
