//! `centinela serve`: the gateway. Without a config file this is the quickstart: the
//! customers example (`examples/customers/centinela.toml`, built in) with an embedded
//! SQLite store, a generated master key and development certificate under
//! `./centinela-data/`, and the demo customers API running inside the same process.
//!
//! `centinela demo-upstream` runs that demo API on its own.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use centinela_core::auditlog::{Event, Kind};
use centinela_core::config::{Config, TlsConfig};
use centinela_core::password::PasswordHasher;
use centinela_gateway::alerting::{Alerting, WebhookConfig};
use centinela_gateway::assertion::Signer;
use centinela_gateway::audit_sink::AuditSink;
use centinela_gateway::auth::hashing::HashPool;
use centinela_gateway::auth::http::AuthHttp;
use centinela_gateway::auth::service::{Accounts, AuthSettings};
use centinela_gateway::console::Console;
use centinela_gateway::metrics::Metrics;
use centinela_gateway::{
    ensure_dev_certificate, Gateway, GatewayParts, Limits, ProxyConfig, ProxyHandler, ServerConfig,
    TlsFiles, Upstream,
};
use centinela_store::Store;
use tokio::net::TcpListener;

use crate::args::{ConfigArg, ServeArgs};
use crate::context;

/// How often expired sessions are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// How often events past `[audit_log] retention` are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often the certificate files are checked for a renewal.
const CERT_WATCH_EVERY: Duration = Duration::from_secs(30);
/// Security events queued while the database is slow or away; more are dropped and
/// counted.
const AUDIT_QUEUE: usize = 10_000;
/// Logins that may wait for a hashing worker, per worker; more get a 503 at once.
const HASH_QUEUE_PER_WORKER: usize = 32;

/// JSON logs on stdout (what container platforms collect), filtered by `RUST_LOG`
/// (default `info`). Secrets never reach a log call: they are wrapped in types whose
/// `Debug` and `Display` redact them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Fails only if a subscriber is already set, which cannot happen here.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .try_init();
}

/// Creates `dir` (mode 0700) if it does not exist.
fn ensure_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

/// The certificate to serve: the operator's files, or the development certificate
/// (created on first run, with a warning that cannot be missed).
fn tls_files(cfg: &Config) -> anyhow::Result<(PathBuf, PathBuf)> {
    match &cfg.tls {
        TlsConfig::Files {
            cert_file,
            key_file,
        } => Ok((cert_file.clone(), key_file.clone())),
        TlsConfig::SelfSigned => {
            let (cert, key, created) = ensure_dev_certificate(&cfg.server.data_dir)?;
            eprintln!(
                "\n  WARNING: serving a SELF-SIGNED DEVELOPMENT CERTIFICATE ({}{}).\n  \
                 Browsers will warn, and clients cannot tell this gateway from an impostor.\n  \
                 For anything but a trial, set [tls] cert_file and key_file.\n",
                cert.display(),
                if created { ", generated now" } else { "" }
            );
            tracing::warn!(cert = %cert.display(), "Serving a self-signed development certificate");
            Ok((cert, key))
        }
    }
}

/// The HTTPS port clients see, for redirects from the plain-HTTP listener.
fn public_https_port(cfg: &Config) -> u16 {
    let url = cfg.effective_public_url();
    let authority = url
        .strip_prefix("https://")
        .unwrap_or(&url)
        .split('/')
        .next()
        .unwrap_or("");
    // `[::1]:8443`, `host:8443` or `host` (443).
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && !host.is_empty() => {
            port.parse().unwrap_or(443)
        }
        _ => 443,
    }
}

/// One proxy per `[[upstream]]`, by name.
fn proxies(cfg: &Config) -> anyhow::Result<HashMap<String, ProxyHandler>> {
    let mut out = HashMap::new();
    for u in &cfg.upstreams {
        let upstream = Upstream::parse(&u.url)
            .with_context(|| format!("upstream \"{}\" is not usable", u.name))?;
        let mut pc = ProxyConfig::new(upstream);
        pc.connect_timeout = u.connect_timeout;
        pc.response_timeout = u.response_timeout;
        pc.body_idle_timeout = u.body_idle_timeout;
        out.insert(u.name.clone(), ProxyHandler::new(pc));
    }
    Ok(out)
}

/// The quickstart runs the demo API in-process, on the address its `demo` upstream
/// names, so `centinela serve` alone gives something to sign in to.
async fn start_demo(
    cfg: &Config,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(demo) = cfg.upstreams.iter().find(|u| u.name == "demo") else {
        return Ok(());
    };
    let addr: SocketAddr = demo
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .with_context(|| format!("the demo upstream URL {} is not http://IP:PORT", demo.url))?;
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot start the demo customers API on {addr} (is something else using that port? \
             stop it, or run with --config)"
        )
    })?;
    let mut rx = shutdown.clone();
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Err(e) = centinela_gateway::demo::run_demo_upstream(listener, stop).await {
            tracing::error!(error = %e, "Demo upstream stopped");
        }
    });
    eprintln!("  The demo customers API runs on http://{addr}, behind the gateway.");
    Ok(())
}

fn unix_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
    )
    .unwrap_or(i64::MAX)
}

fn auth_settings(cfg: &Config) -> AuthSettings {
    let throttle = cfg.login.throttle;
    AuthSettings {
        idle_timeout: cfg.session.idle_timeout,
        absolute_timeout: cfg.session.absolute_timeout,
        ip_max_failures: throttle.max_failures.saturating_mul(5),
        throttle,
        totp_issuer: cfg.login.totp_issuer.clone(),
    }
}

/// Deletes expired sessions now and then; failures (database down) are logged and
/// retried at the next tick.
fn spawn_session_purger(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            match store.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "Purged expired sessions"),
                Err(e) => tracing::warn!(error = %e, "Could not purge expired sessions"),
            }
        }
    });
}

/// The audit log's upkeep: verifies the whole chain every `chain_every` (a break is
/// recorded as an `audit-chain-broken` event, which the alert rule of that name turns
/// into one alert), and with a `retention`, prunes older events behind a signed
/// checkpoint — only after a clean verification, so pruning never hides a break.
///
/// Another instance may prune while this one verifies, which looks like missing
/// events; a break is therefore confirmed by a second verification before it counts.
fn spawn_audit_upkeep(
    store: Store,
    audit: AuditSink,
    chain_every: Option<Duration>,
    retention: Option<Duration>,
) {
    let every = match (chain_every, retention) {
        (None, None) => return,
        (Some(c), None) => c,
        (None, Some(_)) => PRUNE_EVERY,
        (Some(c), Some(_)) => c.min(PRUNE_EVERY),
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let mut verdict = store.verify_audit().await;
            if matches!(verdict, Ok(Err(_))) {
                tokio::time::sleep(Duration::from_secs(2)).await;
                verdict = store.verify_audit().await;
            }
            match verdict {
                Ok(Ok(_)) => {}
                Ok(Err(b)) => {
                    tracing::error!(seq = b.seq, reason = %b.reason, "The audit chain is broken");
                    if chain_every.is_some() {
                        audit.record(
                            Event::new(Kind::AuditChainBroken, "failure", unix_ms())
                                .target(format!("event {}", b.seq))
                                .detail("reason", b.reason.clone()),
                        );
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Could not verify the audit chain");
                    continue;
                }
            }
            let Some(keep) = retention else { continue };
            let before =
                unix_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
            match store.prune_audit(before).await {
                Ok(r) if r.deleted > 0 => {
                    tracing::info!(deleted = r.deleted, checkpoint = ?r.checkpoint, "Pruned audit events past the retention period");
                    audit.record(
                        Event::new(Kind::AuditPruned, "success", unix_ms())
                            .actor("centinela:retention")
                            .detail("deleted", r.deleted)
                            .detail("checkpoint_seq", r.checkpoint)
                            .detail("before_ms", before),
                    );
                }
                Ok(_) => {}
                // Two instances pruning at once: the second finds the checkpoint taken.
                Err(e) => tracing::warn!(error = %e, "Could not prune the audit log"),
            }
        }
    });
}

/// Records every certificate reload (and failed reload) as a `config-reloaded`
/// security event.
fn reload_recorder(audit: AuditSink) -> centinela_gateway::tls::ReloadHook {
    centinela_gateway::tls::ReloadHook(Arc::new(move |trigger, result| {
        let (outcome, error) = match &result {
            Ok(()) => ("success", None),
            Err(e) => ("failure", Some(e.clone())),
        };
        let mut e = Event::new(Kind::ConfigReloaded, outcome, unix_ms())
            .target("tls certificate")
            .detail("trigger", trigger);
        if let Some(err) = error {
            e = e.detail("error", err);
        }
        audit.record(e);
    }))
}

/// Keeps the active-sessions gauge current.
fn spawn_session_gauge(store: Store, metrics: Arc<Metrics>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        loop {
            tick.tick().await;
            if let Ok(n) = store.count_active_sessions().await {
                metrics.active_sessions.set(n);
            }
        }
    });
}

/// Completes on Ctrl-C or SIGTERM.
async fn termination() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}

pub async fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let arg: &ConfigArg = &args.cfg;
    let mut cfg = context::load_config(arg)?;
    if let Some(admin) = args.admin_listen {
        cfg.server.admin_listen = Some(admin);
    }
    if let Some(listen) = args.listen {
        cfg.server.listen = listen;
    }
    for w in &cfg.warnings {
        eprintln!("  warning: {w}");
        tracing::warn!(warning = %w, "Configuration warning");
    }
    ensure_data_dir(&cfg.server.data_dir)?;
    let (cert, key) = tls_files(&cfg)?;
    let store = context::open_store(&cfg).await?;
    let hasher = PasswordHasher::new(cfg.password.hash)?;
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = cfg.password.hash_workers_for(cpus);
    let pool = HashPool::new(hasher, workers, workers * HASH_QUEUE_PER_WORKER);
    let metrics = Arc::new(Metrics::default());
    metrics.init_known(
        &cfg.policy
            .routes
            .iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>(),
        &cfg.alerts
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        &centinela_core::inspect::Detector::ALL.map(|d| d.as_str()),
    );
    let alerting = cfg.alerts.enabled.then(|| {
        Alerting::start(
            store.clone(),
            cfg.alerts.rules.clone(),
            cfg.alerts.webhook_url.clone().map(|url| WebhookConfig {
                url,
                slack: cfg.alerts.webhook_slack,
            }),
            Some(Arc::clone(&metrics)),
            &cfg.alerts.runbook_base_url,
        )
    });
    let blocklist = alerting.as_ref().map(|a| a.blocklist());
    let audit = AuditSink::spawn_full(
        store.clone(),
        AUDIT_QUEUE,
        Some(Arc::clone(&metrics)),
        alerting.clone(),
    );
    let accounts =
        Accounts::new(store.clone(), pool, auth_settings(&cfg)).with_audit(audit.clone());

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if arg.config.is_none() {
        start_demo(&cfg, &stop_rx).await?;
    }
    let console = Console::new(
        accounts.clone(),
        Some(Arc::clone(&metrics)),
        &cfg.alerts.runbook_base_url,
        &cfg.alerts.rules,
    );
    let gateway = Gateway::new(GatewayParts {
        auth: AuthHttp::new(accounts),
        policy: cfg.policy.clone(),
        proxies: proxies(&cfg)?,
        lookups: context::app_lookups(&cfg)?,
        headers: cfg.headers.clone(),
        rate_limits: cfg.rate_limits,
        trusted_proxies: cfg.server.trusted_proxies.clone(),
        public_url: cfg.effective_public_url(),
        signer: Signer::from_seed(&store.assertion_signing_seed(), &cfg.effective_public_url())?,
        audit: Some(audit.clone()),
        metrics: Some(Arc::clone(&metrics)),
        blocklist,
        body_read_timeout: cfg.server.body_read_timeout,
        console: Some(console),
    });
    if let Some(addr) = cfg.server.admin_listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot open the admin listener on {addr}"))?;
        let (m, st, mut rx) = (Arc::clone(&metrics), store.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = centinela_gateway::admin::serve_admin(listener, m, st, stop).await {
                tracing::error!(error = %e, "Admin listener stopped");
            }
        });
        eprintln!("  Metrics and health checks on http://{addr}/metrics, /healthz, /readyz");
    }
    spawn_session_gauge(store.clone(), Arc::clone(&metrics));
    audit.record(
        Event::new(Kind::ConfigLoaded, "success", unix_ms())
            .target(
                arg.config
                    .as_ref()
                    .map_or_else(|| "quickstart".to_owned(), |p| p.display().to_string()),
            )
            .detail("routes", cfg.policy.routes.len())
            .detail("upstreams", cfg.upstreams.len())
            .detail("warnings", cfg.warnings.len()),
    );

    let server = centinela_gateway::bind(ServerConfig {
        listen: cfg.server.listen,
        redirect_listen: cfg.server.http_redirect_listen,
        public_https_port: public_https_port(&cfg),
        tls: TlsFiles {
            cert,
            key,
            watch_interval: Some(CERT_WATCH_EVERY),
            on_reload: Some(reload_recorder(audit.clone())),
        },
        limits: Limits {
            header_read_timeout: cfg.server.header_read_timeout,
            idle_timeout: cfg.server.idle_timeout,
            max_header_bytes: cfg.server.max_header_bytes,
            max_headers: cfg.server.max_headers,
            ..Limits::default()
        },
    })
    .await?;
    spawn_session_purger(store.clone());
    spawn_audit_upkeep(
        store.clone(),
        audit.clone(),
        cfg.alerts
            .enabled
            .then_some(cfg.alerts.chain_check_interval),
        cfg.audit_log.retention,
    );

    let url = cfg.effective_public_url();
    tracing::info!(
        listen = %server.https_addr(),
        redirect = ?server.redirect_addr(),
        routes = cfg.policy.routes.len(),
        upstreams = cfg.upstreams.len(),
        database = %cfg.database.redacted_url(),
        hash_workers = workers,
        "Centinela gateway listening"
    );
    eprintln!("  Centinela is listening on {url}/ (sign in at {url}/_centinela/login)");
    match store.count_users().await {
        Ok(0) => {
            let config_flag = arg
                .config
                .as_ref()
                .map(|p| format!(" --config {}", p.display()))
                .unwrap_or_default();
            eprintln!(
                "  No users yet. Create an administrator (the password is prompted for):\n    \
                 centinela user add admin --role admin{config_flag}\n"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "Could not count users"),
    }

    let handler: Arc<dyn centinela_gateway::Handler> = Arc::new(gateway);
    let result = server.run(handler, termination()).await;
    let _ = stop_tx.send(true);
    store.close().await;
    result?;
    tracing::info!("Centinela gateway stopped");
    Ok(ExitCode::SUCCESS)
}

/// `centinela demo-upstream`: the demo customers API, plain HTTP, for examples and
/// tests. It trusts the identity headers the gateway sets, so it must only listen
/// where nothing but the gateway can reach it.
pub async fn demo_upstream(listen: SocketAddr) -> anyhow::Result<ExitCode> {
    init_logging();
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(listen = %listen, "Demo upstream listening");
    centinela_gateway::demo::run_demo_upstream(listener, termination()).await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_public_url(url: Option<&str>) -> Config {
        let mut cfg = Config::default();
        cfg.server.public_url = url.map(str::to_owned);
        cfg
    }

    #[test]
    fn public_port_comes_from_the_public_url() {
        assert_eq!(public_https_port(&with_public_url(None)), 8443);
        assert_eq!(
            public_https_port(&with_public_url(Some("https://gw.example.com"))),
            443
        );
        assert_eq!(
            public_https_port(&with_public_url(Some("https://gw.example.com:9443/app"))),
            9443
        );
        assert_eq!(
            public_https_port(&with_public_url(Some("https://[::1]:7443"))),
            7443
        );
        assert_eq!(
            public_https_port(&with_public_url(Some("https://[::1]"))),
            443
        );
    }
}
