//! The console's pages as askama templates (`templates/console/`). Every value is
//! HTML-escaped by the template engine; these structs hold display-ready text, so the
//! templates carry no logic beyond loops and conditions.

use askama::Template;

use super::chart::Chart;

/// What every page shows around its content.
#[derive(Debug)]
pub struct Frame {
    /// Page title (also picks the highlighted navigation entry).
    pub title: String,
    /// The signed-in administrator.
    pub username: String,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// This response's CSP nonce for the one inline script.
    pub nonce: String,
    /// Navigation entries (href, label).
    pub nav: Vec<(&'static str, String)>,
    /// One-line result of the last action.
    pub flash: Option<String>,
}

/// An alert row.
#[derive(Debug)]
pub struct AlertRow {
    pub id: String,
    pub fired: String,
    pub rule: String,
    pub runbook: String,
    pub key: String,
    pub severity: String,
    pub count: i64,
    pub response: String,
    pub state: String,
    pub by: Option<String>,
}

/// A recent inspection block on the dashboard.
#[derive(Debug)]
pub struct BlockRow {
    pub time: String,
    pub client_ip: String,
    pub route: String,
    pub detector: String,
    pub location: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub struct Dashboard {
    pub f: Frame,
    pub requests_hour: u64,
    pub blocked_day: u64,
    pub login_failures_day: u64,
    pub active_sessions: i64,
    pub charts: Vec<Chart>,
    /// Named `firing` because the shared alert table iterates over it.
    pub firing: Vec<AlertRow>,
    pub recent_blocks: Vec<BlockRow>,
}

#[derive(Template)]
#[template(path = "console/alerts.html")]
pub struct Alerts {
    pub f: Frame,
    pub states: Vec<(&'static str, &'static str)>,
    pub state: String,
    pub firing: Vec<AlertRow>,
}

/// The audit search form as submitted (echoed back into the form).
#[derive(Debug, Default)]
pub struct AuditForm {
    pub kind: String,
    pub user: String,
    pub ip: String,
    pub last: String,
    pub q: String,
}

/// An audit event row.
#[derive(Debug)]
pub struct EventRow {
    pub seq: i64,
    pub time: String,
    pub kind: String,
    pub outcome: String,
    pub actor: String,
    pub target: String,
    pub client_ip: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct Audit {
    pub f: Frame,
    pub kinds: Vec<&'static str>,
    pub periods: Vec<(&'static str, &'static str)>,
    pub filter: AuditForm,
    pub error: Option<String>,
    pub events: Vec<EventRow>,
    pub older: Option<String>,
}

/// A user row.
#[derive(Debug)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub status: &'static str,
    pub totp: bool,
    pub sessions: i64,
    pub locked: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
pub struct Users {
    pub f: Frame,
    pub users: Vec<UserRow>,
}
