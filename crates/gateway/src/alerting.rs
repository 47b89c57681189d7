//! Alerting: after each batch of security events is written, the rules of
//! [`centinela_core::alerts`] are checked against counts over the audit log (shared by
//! every instance), an alert is opened once per rule and key (the store's claim makes
//! sure only one instance notifies), the automatic response is applied, and the
//! notification goes to the log and, if configured, a webhook.
//!
//! The webhook never slows requests: notifications go through a bounded queue to one
//! sender task that retries with back-off and counts what it had to drop.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use centinela_core::alerts::{self, Response, Rule};
use centinela_core::auditlog::Event;
use centinela_store::alerts::NewAlert;
use centinela_store::Store;
use tokio::sync::mpsc;

use crate::metrics::Metrics;

/// Notifications waiting for the webhook; more are dropped and counted.
const WEBHOOK_QUEUE: usize = 1000;
/// Attempts per notification.
const WEBHOOK_ATTEMPTS: u32 = 5;

/// Addresses refused by an automatic response, refreshed from the database.
#[derive(Debug, Default)]
pub struct Blocklist {
    until: RwLock<HashMap<IpAddr, i64>>,
}

impl Blocklist {
    /// True when `ip` is blocked at `now_ms`.
    pub fn is_blocked(&self, ip: IpAddr, now_ms: i64) -> bool {
        self.until
            .read()
            .map(|m| m.get(&ip).is_some_and(|u| *u > now_ms))
            .unwrap_or(false)
    }

    fn replace(&self, entries: Vec<(String, i64)>) {
        let map = entries
            .into_iter()
            .filter_map(|(ip, until)| Some((ip.parse().ok()?, until)))
            .collect();
        if let Ok(mut m) = self.until.write() {
            *m = map;
        }
    }

    fn add(&self, ip: IpAddr, until: i64) {
        if let Ok(mut m) = self.until.write() {
            m.insert(ip, until);
        }
    }
}

/// Where notifications go besides the log.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// `http(s)://…` endpoint receiving a POST per alert.
    pub url: String,
    /// Send Slack's `{"text": …}` shape instead of the full JSON.
    pub slack: bool,
}

/// The alerting state of one gateway instance.
#[derive(Debug)]
pub struct Alerting {
    store: Store,
    rules: Vec<Rule>,
    metrics: Option<Arc<Metrics>>,
    blocklist: Arc<Blocklist>,
    webhook: Option<mpsc::Sender<serde_json::Value>>,
    webhook_dropped: Arc<AtomicU64>,
    /// Base for runbook links in notifications.
    runbook_base: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Alerting {
    /// Alerting over `store` with `rules`; starts the webhook sender and the task that
    /// refreshes the blocklist and resolves expired alerts.
    pub fn start(
        store: Store,
        rules: Vec<Rule>,
        webhook: Option<WebhookConfig>,
        metrics: Option<Arc<Metrics>>,
        runbook_base: &str,
    ) -> Arc<Self> {
        let webhook_dropped = Arc::new(AtomicU64::new(0));
        let webhook = webhook.map(|cfg| {
            let (tx, rx) = mpsc::channel(WEBHOOK_QUEUE);
            tokio::spawn(send_webhooks(cfg, rx, metrics.clone()));
            tx
        });
        let blocklist = Arc::new(Blocklist::default());
        let this = Arc::new(Self {
            store: store.clone(),
            rules,
            metrics,
            blocklist: Arc::clone(&blocklist),
            webhook,
            webhook_dropped,
            runbook_base: runbook_base.trim_end_matches('/').to_owned(),
        });
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let now = now_ms();
                if let Ok(list) = store.blocked_addresses(now).await {
                    blocklist.replace(list);
                }
                if let Err(e) = store.resolve_expired_alerts(now).await {
                    tracing::debug!(error = %e, "Could not resolve expired alerts");
                }
            }
        });
        this
    }

    /// The addresses currently blocked by automatic responses.
    pub fn blocklist(&self) -> Arc<Blocklist> {
        Arc::clone(&self.blocklist)
    }

    /// Notifications dropped because the webhook queue was full.
    pub fn webhook_dropped(&self) -> u64 {
        self.webhook_dropped.load(Ordering::Relaxed)
    }

    /// Checks the rules against a batch of events just written.
    pub async fn evaluate(&self, batch: &[Event]) {
        let mut checked: HashSet<(&str, String)> = HashSet::new();
        for e in batch {
            for rule in self.rules.iter().filter(|r| r.matches(e)) {
                let Some(key) = rule.group_by.key_of(e) else {
                    continue;
                };
                if !checked.insert((rule.name.as_str(), key.clone())) {
                    continue;
                }
                if let Err(err) = self.check(rule, &key).await {
                    tracing::warn!(rule = %rule.name, error = %err, "Alert rule could not be evaluated");
                }
            }
        }
    }

    async fn check(&self, rule: &Rule, key: &str) -> Result<(), centinela_store::StoreError> {
        let now = now_ms();
        let count = self
            .store
            .count_events(
                rule.kind.as_str(),
                rule.group_by.column(),
                key,
                now.saturating_sub(ms(rule.window)),
            )
            .await?;
        if !alerts::fires(rule, u64::try_from(count).unwrap_or(0)) {
            return Ok(());
        }
        let response = rule.response.to_string();
        let opened = self
            .store
            .open_alert(
                &NewAlert {
                    rule: &rule.name,
                    group_key: key,
                    severity: &rule.severity,
                    event_count: count,
                    response: &response,
                    open_until: now.saturating_add(ms(rule.window)),
                },
                now,
            )
            .await?;
        let Some(id) = opened else {
            return Ok(());
        };
        self.respond(rule, key, now).await;
        if let Some(m) = &self.metrics {
            m.alerts_fired
                .get_or_create(&vec![("rule", rule.name.clone())])
                .inc();
        }
        let runbook = format!("{}/{}", self.runbook_base, rule.runbook);
        tracing::warn!(
            alert_id = %id,
            rule = %rule.name,
            severity = %rule.severity,
            key = key,
            count = count,
            response = %response,
            runbook = %runbook,
            "Alert fired: {}",
            rule.summary
        );
        if let Some(tx) = &self.webhook {
            let payload = serde_json::json!({
                "alert_id": id,
                "rule": rule.name,
                "state": "firing",
                "severity": rule.severity,
                "key": key,
                "count": count,
                "threshold": rule.threshold,
                "window_secs": rule.window.as_secs(),
                "summary": rule.summary,
                "response": response,
                "runbook": runbook,
                "fired_at_ms": now,
            });
            if tx.try_send(payload).is_err() {
                self.webhook_dropped.fetch_add(1, Ordering::Relaxed);
                count_failed(self.metrics.as_deref(), "queue_full");
                tracing::error!("Webhook queue full: an alert notification was dropped (it is in the log and the database)");
            }
        }
        Ok(())
    }

    async fn respond(&self, rule: &Rule, key: &str, now: i64) {
        let result = match rule.response {
            Response::Notify => Ok(()),
            Response::BlockIp(d) => match key.parse::<IpAddr>() {
                Ok(ip) => {
                    let until = now.saturating_add(ms(d));
                    self.blocklist.add(ip, until);
                    self.store.block_address(key, until, &rule.name).await
                }
                Err(_) => Ok(()),
            },
            Response::LockAccount(d) => {
                let until_secs = now.saturating_add(ms(d)) / 1000;
                self.store
                    .lock_throttle_key(&crate::auth::service::user_key(key), until_secs)
                    .await
            }
            Response::RevokeSessions => match self.store.user_by_username(key).await {
                Ok(Some(u)) => self.store.delete_user_sessions(&u.id).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            },
        };
        if let Err(e) = result {
            tracing::error!(rule = %rule.name, key = key, error = %e, "Automatic response failed");
        }
    }
}

fn count_failed(metrics: Option<&Metrics>, reason: &str) {
    if let Some(m) = metrics {
        m.notifications_failed
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }
}

async fn send_webhooks(
    cfg: WebhookConfig,
    mut rx: mpsc::Receiver<serde_json::Value>,
    metrics: Option<Arc<Metrics>>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Cannot build the webhook client; alerts go to the log only");
            return;
        }
    };
    while let Some(payload) = rx.recv().await {
        let body = if cfg.slack {
            serde_json::json!({
                "text": format!(
                    ":rotating_light: *{}* ({}) on `{}`: {} — {} events. Response: {}. Runbook: {}",
                    payload["rule"].as_str().unwrap_or(""),
                    payload["severity"].as_str().unwrap_or(""),
                    payload["key"].as_str().unwrap_or(""),
                    payload["summary"].as_str().unwrap_or(""),
                    payload["count"],
                    payload["response"].as_str().unwrap_or(""),
                    payload["runbook"].as_str().unwrap_or(""),
                )
            })
        } else {
            payload
        };
        let mut wait = Duration::from_millis(500);
        for attempt in 1..=WEBHOOK_ATTEMPTS {
            match client.post(&cfg.url).json(&body).send().await {
                Ok(r) if r.status().is_success() => break,
                Ok(r) => tracing::warn!(status = %r.status(), attempt, "Webhook refused the alert"),
                Err(e) => tracing::warn!(error = %e, attempt, "Webhook unreachable"),
            }
            if attempt == WEBHOOK_ATTEMPTS {
                tracing::error!("Alert notification not delivered after {WEBHOOK_ATTEMPTS} attempts (it is in the log and the database)");
                count_failed(metrics.as_deref(), "undelivered");
            } else {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}
