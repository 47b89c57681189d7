//! Prometheus metrics (OpenMetrics text), served on the admin listener.
//!
//! Request metrics are recorded by the gateway handler; the security counters
//! (logins by result, blocks by detector, denials, rate limits) are derived from the
//! security events as they are recorded, so the metrics and the audit log count the
//! same things.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use centinela_core::auditlog::{Event, Kind};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// A route name as a metric label. Made once per route when the gateway starts and
/// cloned (a reference count) for each request, so recording a request allocates
/// nothing and hashes only the name and the status.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RouteLabel(Arc<str>);

impl RouteLabel {
    /// The label for the route called `name`.
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    /// The route name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: RouteLabel,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOnly {
    route: RouteLabel,
}

/// Every metric the gateway exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<RouteOnly, Histogram>,
    upstream_errors: Family<Labels, Counter>,
    logins: Family<Labels, Counter>,
    blocks: Family<Labels, Counter>,
    denials: Family<Labels, Counter>,
    rate_limited: Family<Labels, Counter>,
    events: Family<Labels, Counter>,
    /// Live sessions in the store, refreshed periodically.
    pub active_sessions: Gauge<i64, AtomicI64>,
    /// Security events dropped because the audit queue was full.
    pub audit_dropped: Gauge<i64, AtomicI64>,
    /// Alerts fired, by rule.
    pub alerts_fired: Family<Labels, Counter>,
    /// Alert notifications the webhook did not get, by reason (`queue_full`,
    /// `undelivered` after every retry). The alert itself is in the log and the store.
    pub notifications_failed: Family<Labels, Counter>,
    /// Requests per minute over the last hour, for the admin console's chart.
    pub per_minute: PerMinute,
}

/// Request counts for each of the last 60 minutes, one slot per minute of the hour.
/// A slot is reset when a request arrives in a newer minute; two requests racing at
/// the turn of a minute may lose a count, which a chart does not show.
#[derive(Debug)]
pub struct PerMinute {
    minute: [AtomicU64; 60],
    count: [AtomicU64; 60],
}

impl Default for PerMinute {
    fn default() -> Self {
        Self {
            minute: std::array::from_fn(|_| AtomicU64::new(0)),
            count: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl PerMinute {
    fn now_minute() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 60)
    }

    fn add_at(&self, minute: u64) {
        let slot = usize::try_from(minute % 60).unwrap_or(0);
        if self.minute[slot].swap(minute, Ordering::Relaxed) != minute {
            self.count[slot].store(0, Ordering::Relaxed);
        }
        self.count[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one request now.
    pub fn add(&self) {
        self.add_at(Self::now_minute());
    }

    fn series_at(&self, now: u64) -> Vec<u64> {
        (0..60u64)
            .rev()
            .map(|ago| {
                let m = now.saturating_sub(ago);
                let slot = usize::try_from(m % 60).unwrap_or(0);
                if self.minute[slot].load(Ordering::Relaxed) == m {
                    self.count[slot].load(Ordering::Relaxed)
                } else {
                    0
                }
            })
            .collect()
    }

    /// Requests in each of the last 60 minutes, oldest first (the last is this minute).
    pub fn series(&self) -> Vec<u64> {
        self.series_at(Self::now_minute())
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("centinela");
        let requests = Family::<RouteStatus, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        let latency = Family::<RouteOnly, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head, by route",
            latency.clone(),
        );
        let upstream_errors = Family::<Labels, Counter>::default();
        registry.register(
            "upstream_errors",
            "Upstream failures (502/504 answered by the gateway), by route",
            upstream_errors.clone(),
        );
        let logins = Family::<Labels, Counter>::default();
        registry.register("logins", "Login attempts, by result", logins.clone());
        let blocks = Family::<Labels, Counter>::default();
        registry.register(
            "inspection_blocks",
            "Requests refused (or flagged, detect-only) by inspection, by detector and mode",
            blocks.clone(),
        );
        let denials = Family::<Labels, Counter>::default();
        registry.register(
            "policy_denials",
            "Requests refused by the access policy, by route",
            denials.clone(),
        );
        let rate_limited = Family::<Labels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit, by limit",
            rate_limited.clone(),
        );
        let events = Family::<Labels, Counter>::default();
        registry.register(
            "security_events",
            "Security events recorded, by kind",
            events.clone(),
        );
        let active_sessions = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "active_sessions",
            "Live sessions in the store",
            active_sessions.clone(),
        );
        let audit_dropped = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "audit_events_dropped",
            "Security events dropped because the audit queue was full (database away too long)",
            audit_dropped.clone(),
        );
        let alerts_fired = Family::<Labels, Counter>::default();
        registry.register(
            "alerts_fired",
            "Alerts fired, by rule",
            alerts_fired.clone(),
        );
        let notifications_failed = Family::<Labels, Counter>::default();
        registry.register(
            "alert_notifications_failed",
            "Alert notifications not delivered to the webhook, by reason (queue_full, undelivered)",
            notifications_failed.clone(),
        );
        Self {
            registry,
            notifications_failed,
            requests,
            latency,
            upstream_errors,
            logins,
            blocks,
            denials,
            rate_limited,
            events,
            active_sessions,
            audit_dropped,
            alerts_fired,
            per_minute: PerMinute::default(),
        }
    }
}

impl Metrics {
    /// Creates the series whose label values are known in advance at zero, so that
    /// dashboards and alert expressions see them before the first occurrence (a
    /// missing series and a zero are not the same thing to PromQL).
    pub fn init_known(&self, routes: &[String], rules: &[&str], detectors: &[&str]) {
        for r in ["success", "failure", "locked"] {
            let _ = self.logins.get_or_create(&vec![("result", r.to_owned())]);
        }
        for l in ["per address", "per user", "per route"] {
            let _ = self
                .rate_limited
                .get_or_create(&vec![("limit", l.to_owned())]);
        }
        for reason in ["queue_full", "undelivered"] {
            let _ = self
                .notifications_failed
                .get_or_create(&vec![("reason", reason.to_owned())]);
        }
        for rule in rules {
            let _ = self
                .alerts_fired
                .get_or_create(&vec![("rule", (*rule).to_owned())]);
        }
        for route in routes {
            let _ = self
                .upstream_errors
                .get_or_create(&vec![("route", route.clone())]);
            let _ = self.denials.get_or_create(&vec![("route", route.clone())]);
        }
        for d in detectors {
            for mode in ["block", "detect-only"] {
                let _ = self.blocks.get_or_create(&vec![
                    ("detector", (*d).to_owned()),
                    ("mode", mode.to_owned()),
                ]);
            }
        }
    }

    /// Records one answered request.
    pub fn request(&self, route: &RouteLabel, status: u16, took: Duration) {
        self.per_minute.add();
        self.requests
            .get_or_create(&RouteStatus {
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteOnly {
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        if matches!(status, 502 | 504) {
            self.upstream_errors
                .get_or_create(&vec![("route", route.as_str().to_owned())])
                .inc();
        }
    }

    /// Counts a security event in the matching counters.
    pub fn event(&self, e: &Event) {
        self.events
            .get_or_create(&vec![("kind", e.kind.as_str().to_owned())])
            .inc();
        let detail = |k: &str| {
            e.details
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        match e.kind {
            Kind::LoginSuccess => {
                self.logins
                    .get_or_create(&vec![("result", "success".to_owned())])
                    .inc();
            }
            Kind::LoginFailure => {
                self.logins
                    .get_or_create(&vec![("result", "failure".to_owned())])
                    .inc();
            }
            Kind::LoginLocked => {
                self.logins
                    .get_or_create(&vec![("result", "locked".to_owned())])
                    .inc();
            }
            Kind::InspectionBlocked => {
                let mode = detail("mode");
                let detectors: Vec<String> = e
                    .details
                    .get("detectors")
                    .and_then(|d| d.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut seen: Vec<&String> = Vec::new();
                for d in &detectors {
                    if !seen.contains(&d) {
                        seen.push(d);
                        self.blocks
                            .get_or_create(&vec![("detector", d.clone()), ("mode", mode.clone())])
                            .inc();
                    }
                }
            }
            Kind::PolicyDenied => {
                self.denials
                    .get_or_create(&vec![("route", detail("route"))])
                    .inc();
            }
            Kind::RateLimited => {
                self.rate_limited
                    .get_or_create(&vec![("limit", detail("limit"))])
                    .inc();
            }
            _ => {}
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_minute_counts_and_forgets_old_minutes() {
        let p = PerMinute::default();
        p.add_at(1_000);
        p.add_at(1_000);
        p.add_at(1_059);
        let s = p.series_at(1_059);
        assert_eq!(s.len(), 60);
        assert_eq!((s[0], s[59], s.iter().sum::<u64>()), (2, 1, 3));
        // An hour later minute 1_000's slot is reused and starts from zero.
        p.add_at(1_060);
        let s = p.series_at(1_060);
        assert_eq!((s[59], s.iter().sum::<u64>()), (1, 2));
        assert_eq!(p.series_at(2_000).iter().sum::<u64>(), 0);
    }

    #[test]
    fn requests_and_events_are_exported() {
        let m = Metrics::default();
        let customer = RouteLabel::new("customer");
        m.request(&customer, 200, Duration::from_millis(3));
        m.request(&customer, 502, Duration::from_millis(30));
        m.event(&Event::new(Kind::LoginFailure, "failure", 0));
        m.event(
            &Event::new(Kind::InspectionBlocked, "failure", 0)
                .detail("detectors", vec!["sqli", "sqli", "xss"])
                .detail("mode", "block"),
        );
        let text = m.render();
        for want in [
            "centinela_http_requests_total{route=\"customer\",status=\"200\"} 1",
            "centinela_upstream_errors_total{route=\"customer\"} 1",
            "centinela_logins_total{result=\"failure\"} 1",
            "centinela_inspection_blocks_total{detector=\"sqli\",mode=\"block\"} 1",
            "centinela_inspection_blocks_total{detector=\"xss\",mode=\"block\"} 1",
            "centinela_http_request_duration_seconds_bucket{",
            "centinela_active_sessions 0",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
    }
}
