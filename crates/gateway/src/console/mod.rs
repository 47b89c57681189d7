//! The admin console at `/_centinela/admin`: a dashboard (traffic, blocks, logins,
//! alerts), audit-log search, users and their sessions (disable, enable, unlock,
//! revoke) and alert acknowledgement.
//!
//! Only a signed-in account with role `admin` **and** a second factor gets in; an API
//! token never does (the console is for people, and a token cannot prove a second
//! factor). Pages are askama templates (auto-escaping) under a CSP whose only script
//! source is a per-response nonce; every form carries the session's CSRF token and is
//! also refused when `Origin` names another site. Every change made here is written to
//! the audit log with the administrator as actor before the page says it is done.

mod chart;
mod views;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use askama::Template;
use bytes::Bytes;
use centinela_core::auditlog::{Event, Kind, Stored};
use centinela_core::timefmt::rfc3339;
use centinela_store::audit_query::AuditFilter;
use centinela_store::{Store, ThrottleState, UserStatus};
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;

use crate::auth::http::{
    cookie, ct_eq, form_fields, read_body, same_origin, AuthResponse, SESSION_COOKIE,
};
use crate::auth::pages;
use crate::auth::service::{user_key, Accounts, Identity};
use crate::metrics::Metrics;
use chart::Series;
use views::{AlertRow, AuditForm, BlockRow, EventRow, Frame, UserRow};

/// Where the console lives.
pub const CONSOLE_PATH: &str = "/_centinela/admin";

/// The role the console requires.
const ADMIN_ROLE: &str = "admin";

/// Events shown per audit page.
const AUDIT_PAGE: i64 = 50;

const STYLESHEET: &str = include_str!("../../templates/console/console.css");

/// True for the console's paths.
pub fn is_console_path(path: &str) -> bool {
    path == CONSOLE_PATH
        || path
            .strip_prefix(CONSOLE_PATH)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The console's state: the identity service (sessions, CSRF, the store) and this
/// instance's request counters.
#[derive(Clone, Debug)]
pub struct Console {
    accounts: Accounts,
    metrics: Option<Arc<Metrics>>,
    runbook_base: String,
    /// Runbook path of each configured rule (a rule may name its own).
    runbooks: HashMap<String, String>,
}

/// A signed-in administrator with a second factor.
struct Admin {
    session_id: String,
    identity: Identity,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A fresh CSP nonce (128 bits, base64url).
fn new_nonce() -> String {
    use base64::Engine as _;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

fn with_headers(mut r: AuthResponse, content_type: &'static str, csp: &str) -> AuthResponse {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

fn page(status: StatusCode, body: Result<String, askama::Error>, nonce: &str) -> AuthResponse {
    match body {
        Ok(html) => {
            let mut r = Response::new(Full::new(Bytes::from(html)));
            *r.status_mut() = status;
            with_headers(r, "text/html; charset=utf-8", &csp(nonce))
        }
        Err(e) => {
            tracing::error!(error = %e, "Admin console page could not be rendered");
            plain_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Console error",
                "The page could not be rendered; the gateway log has the reason.",
            )
        }
    }
}

/// A page outside the console frame (refusals before or instead of the console).
fn plain_page(status: StatusCode, title: &str, text: &str) -> AuthResponse {
    let mut r = Response::new(Full::new(Bytes::from(pages::message(title, text))));
    *r.status_mut() = status;
    with_headers(
        r,
        "text/html; charset=utf-8",
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'",
    )
}

fn see_other(location: &str) -> AuthResponse {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn store_failed(e: &centinela_store::StoreError) -> AuthResponse {
    tracing::error!(error = %e, "Admin console could not read the database");
    plain_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Database unavailable",
        "The console could not reach the database. Try again in a moment.",
    )
}

/// Query string parameters (last one wins; these are only search filters).
fn query_params(uri: &http::Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The message shown after an action, chosen from fixed texts by code: a crafted
/// link cannot make the console display words of an attacker's choosing.
fn flash_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "disabled" => "The account is disabled and its sessions have ended.",
        "enabled" => "The account is enabled.",
        "unlocked" => "The account's login lock and failure count are cleared.",
        "revoked" => "Every session of the account has ended.",
        "acknowledged" => "The alert is acknowledged.",
        "ack-gone" => "That alert is no longer firing (already acknowledged or resolved).",
        "unrecorded" => {
            "Done, but the audit log could not record it; check the database and the gateway log."
        }
        "no-user" => "There is no such account.",
        "self" => "You cannot disable your own account from the console.",
        _ => return None,
    })
}

const PERIODS: [(&str, &str, i64); 5] = [
    ("1h", "last hour", 3_600_000),
    ("24h", "last 24 hours", 86_400_000),
    ("7d", "last 7 days", 7 * 86_400_000),
    ("30d", "last 30 days", 30 * 86_400_000),
    ("all", "all time", 0),
];

const ALERT_STATES: [(&str, &str); 4] = [
    ("firing", "firing"),
    ("acknowledged", "acknowledged"),
    ("resolved", "resolved"),
    ("all", "all"),
];

impl Console {
    /// A console over the identity service's store and sessions; alert rows link the
    /// runbook of the configured rule, under `runbook_base` as in notifications.
    pub fn new(
        accounts: Accounts,
        metrics: Option<Arc<Metrics>>,
        runbook_base: &str,
        rules: &[centinela_core::alerts::Rule],
    ) -> Self {
        Self {
            accounts,
            metrics,
            runbook_base: runbook_base.trim_end_matches('/').to_owned(),
            runbooks: rules
                .iter()
                .map(|r| (r.name.clone(), r.runbook.clone()))
                .collect(),
        }
    }

    fn store(&self) -> &Store {
        self.accounts.store()
    }

    /// Answers a request under [`CONSOLE_PATH`].
    pub async fn handle<B>(&self, req: Request<B>, client_ip: IpAddr) -> AuthResponse
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path();
        if parts.method == Method::GET && path == "/_centinela/admin/console.css" {
            let mut r = Response::new(Full::new(Bytes::from_static(STYLESHEET.as_bytes())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            return r;
        }
        let admin = match self.gate(&parts.headers).await {
            Ok(a) => a,
            Err(r) => return r,
        };
        let flash = query_params(&parts.uri)
            .get("done")
            .and_then(|c| flash_text(c))
            .map(str::to_owned);
        match (&parts.method, path) {
            (&Method::GET, "/_centinela/admin" | "/_centinela/admin/") => {
                self.dashboard(&admin, flash).await
            }
            (&Method::GET, "/_centinela/admin/audit") => {
                self.audit(&admin, &query_params(&parts.uri), flash).await
            }
            (&Method::GET, "/_centinela/admin/users") => self.users(&admin, flash).await,
            (&Method::GET, "/_centinela/admin/alerts") => {
                self.alerts(&admin, &query_params(&parts.uri), flash).await
            }
            (&Method::POST, "/_centinela/admin/users/action" | "/_centinela/admin/alerts/ack") => {
                let fields = match read_body(body).await.and_then(|b| form_fields(&b)) {
                    Ok(f) => f,
                    Err(e) => {
                        return plain_page(StatusCode::BAD_REQUEST, "Bad request", &e.to_string())
                    }
                };
                let expected = self.accounts.csrf_for_session(&admin.session_id);
                let csrf_ok = fields.get("csrf").is_some_and(|f| ct_eq(f, &expected));
                if !csrf_ok || !same_origin(&parts.headers) {
                    return plain_page(
                        StatusCode::FORBIDDEN,
                        "Request refused",
                        "The form was not sent from this console (missing or wrong CSRF token). \
                         Reload the page and try again.",
                    );
                }
                if path.ends_with("/ack") {
                    self.acknowledge(&admin, &fields, client_ip).await
                } else {
                    self.user_action(&admin, &fields, client_ip).await
                }
            }
            (_, "/_centinela/admin/users/action" | "/_centinela/admin/alerts/ack") => plain_page(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "This address only takes the console's forms.",
            ),
            _ => plain_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such console page.",
            ),
        }
    }

    /// Lets in only a live session of an active admin account with a second factor.
    async fn gate(&self, h: &HeaderMap) -> Result<Admin, AuthResponse> {
        let login = || see_other("/_centinela/login?next=/_centinela/admin");
        let Some(sid) = cookie(h, SESSION_COOKIE) else {
            return Err(login());
        };
        let identity = match self.accounts.session_identity(sid).await {
            Ok(Some(i)) => i,
            Ok(None) => return Err(login()),
            Err(e) => {
                tracing::error!(error = %e, "Admin console could not check the session");
                return Err(plain_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "The session could not be checked. Try again in a moment.",
                ));
            }
        };
        if !identity.roles.iter().any(|r| r == ADMIN_ROLE) {
            return Err(plain_page(
                StatusCode::FORBIDDEN,
                "Administrators only",
                "The console is for accounts with the admin role.",
            ));
        }
        // Every login of an account with TOTP goes through the second factor, so a
        // live session of such an account proves it; a password-only admin is sent to
        // enrol first.
        match self.store().user_by_id(&identity.user_id).await {
            Ok(Some(u)) if u.totp_enabled && u.status == UserStatus::Active => Ok(Admin {
                session_id: sid.to_owned(),
                identity,
            }),
            Ok(Some(u)) if !u.totp_enabled => Err(plain_page(
                StatusCode::FORBIDDEN,
                "Second factor required",
                "The console needs an account with a second factor. Turn on TOTP at \
                 /_centinela/account, sign in again, and come back.",
            )),
            Ok(_) => Err(login()),
            Err(e) => Err(store_failed(&e)),
        }
    }

    fn frame(&self, admin: &Admin, title: &str, flash: Option<String>) -> Frame {
        Frame {
            title: title.to_owned(),
            username: admin.identity.username.clone(),
            csrf: self.accounts.csrf_for_session(&admin.session_id),
            nonce: new_nonce(),
            nav: vec![
                ("/_centinela/admin", "Dashboard".to_owned()),
                ("/_centinela/admin/audit", "Audit log".to_owned()),
                ("/_centinela/admin/users", "Users".to_owned()),
                ("/_centinela/admin/alerts", "Alerts".to_owned()),
            ],
            flash,
        }
    }

    fn alert_rows(&self, alerts: Vec<centinela_store::alerts::AlertRecord>) -> Vec<AlertRow> {
        alerts
            .into_iter()
            .map(|a| AlertRow {
                runbook: format!(
                    "{}/{}",
                    self.runbook_base,
                    self.runbooks.get(&a.rule).cloned().unwrap_or_else(|| {
                        // An alert of a rule since removed from the configuration.
                        centinela_core::alerts::Rule::default_runbook(&a.rule)
                    })
                ),
                fired: rfc3339(a.fired_at),
                id: a.id,
                rule: a.rule,
                key: a.group_key,
                severity: a.severity,
                count: a.event_count,
                response: a.response,
                state: a.state,
                by: a.acknowledged_by,
            })
            .collect()
    }

    async fn dashboard(&self, admin: &Admin, flash: Option<String>) -> AuthResponse {
        let f = self.frame(admin, "Dashboard", flash);
        let store = self.store();
        let now = now_ms();
        let hour = 3_600_000;
        let since = (now / hour - 23) * hour;
        let kinds = [
            Kind::InspectionBlocked.as_str(),
            Kind::RateLimited.as_str(),
            Kind::LoginSuccess.as_str(),
            Kind::LoginFailure.as_str(),
            Kind::PolicyDenied.as_str(),
        ];
        let counts = match store.event_histogram(&kinds, since, hour, 24).await {
            Ok(c) => c,
            Err(e) => return store_failed(&e),
        };
        let firing = match store.list_alerts(Some("firing"), 50).await {
            Ok(a) => self.alert_rows(a),
            Err(e) => return store_failed(&e),
        };
        let active_sessions = store.count_active_sessions().await.unwrap_or(0);
        let recent = store
            .search_audit(
                &AuditFilter {
                    kind: Some(Kind::InspectionBlocked.as_str().to_owned()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap_or_default();
        let per_minute = self
            .metrics
            .as_ref()
            .map_or_else(|| vec![0; 60], |m| m.per_minute.series());
        let series = |i: usize| counts.get(i).cloned().unwrap_or_default();
        let hour_label = |i: usize| {
            let t = since + i64::try_from(i).unwrap_or(0) * hour;
            format!("{} UTC", &rfc3339(t)[..16].replace('T', " "))
        };
        let first = hour_label(0);
        let last = hour_label(23);
        let minute_label = |i: usize| format!("{} min ago", 59 - i);
        let charts = vec![
            chart::bars(
                "Requests per minute, last hour (this instance)",
                &[Series {
                    name: "requests",
                    class: "s-traffic",
                    values: per_minute.clone(),
                }],
                minute_label,
                "60 min ago",
                "now",
            ),
            chart::bars(
                "Refused requests per hour, last 24 hours",
                &[
                    Series {
                        name: "blocked as attacks",
                        class: "s-block",
                        values: series(0),
                    },
                    Series {
                        name: "rate limited",
                        class: "s-rate",
                        values: series(1),
                    },
                ],
                hour_label,
                &first,
                &last,
            ),
            chart::bars(
                "Logins per hour, last 24 hours",
                &[
                    Series {
                        name: "succeeded",
                        class: "s-ok",
                        values: series(2),
                    },
                    Series {
                        name: "failed",
                        class: "s-fail",
                        values: series(3),
                    },
                ],
                hour_label,
                &first,
                &last,
            ),
            chart::bars(
                "Access denials per hour, last 24 hours",
                &[Series {
                    name: "denied",
                    class: "s-deny",
                    values: series(4),
                }],
                hour_label,
                &first,
                &last,
            ),
        ];
        let recent_blocks = recent
            .iter()
            .map(|e| {
                let d: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
                let list = |k: &str| {
                    d.get(k)
                        .and_then(|v| v.as_array())
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default()
                };
                BlockRow {
                    time: rfc3339(e.at_ms),
                    client_ip: e.client_ip.clone().unwrap_or_default(),
                    route: d
                        .get("route")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_owned(),
                    detector: list("detectors"),
                    location: list("parameters"),
                }
            })
            .collect();
        let view = views::Dashboard {
            requests_hour: per_minute.iter().sum(),
            blocked_day: series(0).iter().sum(),
            login_failures_day: series(3).iter().sum(),
            active_sessions,
            charts,
            firing,
            recent_blocks,
            f,
        };
        let nonce = view.f.nonce.clone();
        page(StatusCode::OK, view.render(), &nonce)
    }

    async fn audit(
        &self,
        admin: &Admin,
        q: &HashMap<String, String>,
        flash: Option<String>,
    ) -> AuthResponse {
        let f = self.frame(admin, "Audit log", flash);
        let get = |k: &str| {
            q.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let form = AuditForm {
            kind: get("kind").unwrap_or_default(),
            user: get("user").unwrap_or_default(),
            ip: get("ip").unwrap_or_default(),
            last: get("last").unwrap_or_else(|| "24h".to_owned()),
            q: get("q").unwrap_or_default(),
        };
        let mut error = None;
        let kind = get("kind").filter(|k| {
            let known = Kind::from_name(k).is_some();
            if !known {
                error = Some(format!(
                    "\"{k}\" is not an event kind; pick one from the list."
                ));
            }
            known
        });
        let span = PERIODS
            .iter()
            .find(|(v, _, _)| *v == form.last)
            .map_or(86_400_000, |(_, _, ms)| *ms);
        let before_seq = get("before").and_then(|b| b.parse::<i64>().ok());
        let filter = AuditFilter {
            kind,
            user: get("user"),
            client_ip: get("ip"),
            since_ms: (span > 0).then(|| now_ms().saturating_sub(span)),
            until_ms: None,
            text: get("q"),
            before_seq,
        };
        let events: Vec<Stored> = match self.store().search_audit(&filter, AUDIT_PAGE).await {
            Ok(e) => e,
            Err(e) => return store_failed(&e),
        };
        let older = (i64::try_from(events.len()).unwrap_or(0) == AUDIT_PAGE)
            .then(|| events.last().map(|e| e.seq))
            .flatten()
            .map(|seq| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                for (k, v) in [
                    ("kind", &form.kind),
                    ("user", &form.user),
                    ("ip", &form.ip),
                    ("last", &form.last),
                    ("q", &form.q),
                ] {
                    if !v.is_empty() {
                        s.append_pair(k, v);
                    }
                }
                s.append_pair("before", &seq.to_string());
                format!("/_centinela/admin/audit?{}", s.finish())
            });
        let view = views::Audit {
            kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
            periods: PERIODS.iter().map(|(v, l, _)| (*v, *l)).collect(),
            filter: form,
            error,
            events: events
                .into_iter()
                .map(|e| EventRow {
                    seq: e.seq,
                    time: rfc3339(e.at_ms),
                    kind: e.kind,
                    outcome: e.outcome,
                    actor: e.actor.unwrap_or_default(),
                    target: e.target.unwrap_or_default(),
                    client_ip: e.client_ip.unwrap_or_default(),
                    details: e.details,
                })
                .collect(),
            older,
            f,
        };
        let nonce = view.f.nonce.clone();
        page(StatusCode::OK, view.render(), &nonce)
    }

    async fn users(&self, admin: &Admin, flash: Option<String>) -> AuthResponse {
        let f = self.frame(admin, "Users", flash);
        let store = self.store();
        let list = match store.list_users().await {
            Ok(u) => u,
            Err(e) => return store_failed(&e),
        };
        let window =
            i64::try_from(self.accounts.settings().throttle.window_secs).unwrap_or(i64::MAX);
        let now_secs = now_ms() / 1000;
        let mut users = Vec::with_capacity(list.len());
        for u in list {
            let sessions = store.count_user_sessions(&u.id).await.unwrap_or(0);
            let locked = match store.throttle_state(&user_key(&u.username), window).await {
                Ok(ThrottleState {
                    locked_until: Some(until),
                    ..
                }) if until > now_secs => format!("locked until {}", rfc3339(until * 1000)),
                Ok(t) if t.failures > 0 => format!("{} recent failures", t.failures),
                Ok(_) => "—".to_owned(),
                Err(_) => "unknown".to_owned(),
            };
            users.push(UserRow {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                roles: u.roles.join(", "),
                status: u.status.as_str(),
                totp: u.totp_enabled,
                sessions,
                locked,
            });
        }
        let view = views::Users { users, f };
        let nonce = view.f.nonce.clone();
        page(StatusCode::OK, view.render(), &nonce)
    }

    async fn alerts(
        &self,
        admin: &Admin,
        q: &HashMap<String, String>,
        flash: Option<String>,
    ) -> AuthResponse {
        let f = self.frame(admin, "Alerts", flash);
        let state = q
            .get("state")
            .filter(|s| ALERT_STATES.iter().any(|(v, _)| v == s))
            .cloned()
            .unwrap_or_else(|| "firing".to_owned());
        let filter = (state != "all").then_some(state.as_str());
        let firing = match self.store().list_alerts(filter, 200).await {
            Ok(a) => self.alert_rows(a),
            Err(e) => return store_failed(&e),
        };
        let view = views::Alerts {
            states: ALERT_STATES.to_vec(),
            state,
            firing,
            f,
        };
        let nonce = view.f.nonce.clone();
        page(StatusCode::OK, view.render(), &nonce)
    }

    /// Writes the record of an admin action; false when the audit log refused it.
    async fn record(&self, admin: &Admin, event: Event) -> bool {
        match self
            .store()
            .append_audit(&[event.actor(&admin.identity.username)])
            .await
        {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "An admin console action could not be recorded in the audit log");
                false
            }
        }
    }

    async fn acknowledge(
        &self,
        admin: &Admin,
        fields: &HashMap<String, String>,
        client_ip: IpAddr,
    ) -> AuthResponse {
        let Some(id) = fields.get("id").filter(|i| !i.is_empty() && i.len() <= 64) else {
            return plain_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "No alert was named.",
            );
        };
        let now = now_ms();
        match self
            .store()
            .acknowledge_alert(id, &admin.identity.username, now)
            .await
        {
            Ok(true) => {
                let e = Event::new(Kind::AdminAction, "success", now)
                    .client(client_ip)
                    .target(id.as_str())
                    .detail("action", "alert-ack")
                    .detail("via", "console");
                let done = if self.record(admin, e).await {
                    "acknowledged"
                } else {
                    "unrecorded"
                };
                see_other(&format!("/_centinela/admin/alerts?done={done}"))
            }
            Ok(false) => see_other("/_centinela/admin/alerts?done=ack-gone"),
            Err(e) => store_failed(&e),
        }
    }

    async fn user_action(
        &self,
        admin: &Admin,
        fields: &HashMap<String, String>,
        client_ip: IpAddr,
    ) -> AuthResponse {
        let back = |code: &str| see_other(&format!("/_centinela/admin/users?done={code}"));
        let store = self.store();
        let user = match fields.get("user") {
            Some(id) if !id.is_empty() && id.len() <= 64 => match store.user_by_id(id).await {
                Ok(Some(u)) => u,
                Ok(None) => return back("no-user"),
                Err(e) => return store_failed(&e),
            },
            _ => return back("no-user"),
        };
        let action = fields.get("action").map_or("", String::as_str);
        let now = now_ms();
        let (result, name, done) = match action {
            "disable" => {
                if user.id == admin.identity.user_id {
                    return back("self");
                }
                let r = match store.set_user_status(&user.id, UserStatus::Disabled).await {
                    Ok(()) => store.delete_user_sessions(&user.id).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                (r, "user-disable", "disabled")
            }
            "enable" => (
                store.set_user_status(&user.id, UserStatus::Active).await,
                "user-enable",
                "enabled",
            ),
            "unlock" => (
                store.clear_throttle(&user_key(&user.username)).await,
                "user-unlock",
                "unlocked",
            ),
            "revoke" => (
                store.delete_user_sessions(&user.id).await.map(|_| ()),
                "user-revoke-sessions",
                "revoked",
            ),
            _ => {
                return plain_page(
                    StatusCode::BAD_REQUEST,
                    "Bad request",
                    "Unknown action; use the console's buttons.",
                )
            }
        };
        if let Err(e) = result {
            return store_failed(&e);
        }
        let e = Event::new(Kind::AdminAction, "success", now)
            .client(client_ip)
            .target(&user.username)
            .detail("action", name)
            .detail("via", "console");
        if self.record(admin, e).await {
            back(done)
        } else {
            back("unrecorded")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths() {
        assert!(is_console_path("/_centinela/admin"));
        assert!(is_console_path("/_centinela/admin/users"));
        assert!(!is_console_path("/_centinela/administrator"));
        assert!(!is_console_path("/_centinela/account"));
    }

    #[test]
    fn flash_messages_come_from_a_fixed_list() {
        assert!(flash_text("disabled").is_some());
        assert!(flash_text("<script>alert(1)</script>").is_none());
    }

    #[test]
    fn nonces_are_fresh_and_fit_the_csp_grammar() {
        let a = new_nonce();
        assert_ne!(a, new_nonce());
        assert!(a.len() >= 22);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(csp(&a).contains(&format!("script-src 'nonce-{a}'")));
        assert!(!csp(&a).contains("unsafe-inline"));
    }
}
