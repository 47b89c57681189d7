//! Alert rules: "at least N events of a kind for one key within a window", with an
//! optional automatic response that expires by itself, and the runbook to follow.
//!
//! Rules are data: [`default_rules`] gives the built-in set, and `[[alerts.rule]]`
//! tables in the configuration tune or disable those and add new ones (validated in
//! `config`, which calls [`GroupBy::parse`] and [`Response::parse`]).
//!
//! Counting happens over the audit log in the database (the gateway asks the store how
//! many matching events fall in the window), so every gateway instance sees the same
//! totals; this module only holds the rules and the decision.

use std::fmt;
use std::time::Duration;

use crate::auditlog::{Event, Kind};

/// Which field of an event groups the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// The account acted on (`target`), e.g. failed logins per account.
    Target,
    /// The client address, e.g. blocked requests per address.
    ClientIp,
    /// The acting user.
    Actor,
    /// Everything together (a spike across all keys).
    All,
}

impl GroupBy {
    /// The names accepted in configuration.
    pub const NAMES: [&'static str; 4] = ["target", "client_ip", "actor", "all"];

    /// Parses a configuration name (`target`, `client_ip`, `actor`, `all`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "target" => Some(Self::Target),
            "client_ip" => Some(Self::ClientIp),
            "actor" => Some(Self::Actor),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    /// The column the store counts on, or `None` for [`GroupBy::All`].
    pub fn column(self) -> Option<&'static str> {
        match self {
            Self::Target => Some("target"),
            Self::ClientIp => Some("client_ip"),
            Self::Actor => Some("actor"),
            Self::All => None,
        }
    }

    /// The key of `e` for this grouping; `None` when the event has no such field.
    pub fn key_of(self, e: &Event) -> Option<String> {
        match self {
            Self::Target => e.target.clone(),
            Self::ClientIp => e.client_ip.clone(),
            Self::Actor => e.actor.clone(),
            Self::All => Some("*".to_owned()),
        }
    }
}

/// What the gateway does by itself when a rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response {
    /// Nothing but the notification.
    Notify,
    /// Refuse every request from the client address for a while.
    BlockIp(Duration),
    /// Refuse logins to the account for a while.
    LockAccount(Duration),
    /// End every session of the account.
    RevokeSessions,
}

impl Response {
    /// The names accepted in configuration.
    pub const NAMES: [&'static str; 4] = ["notify", "block-ip", "lock-account", "revoke-sessions"];

    /// Parses a configuration name; `for_` is how long a block or lock lasts.
    pub fn parse(name: &str, for_: Duration) -> Option<Self> {
        match name {
            "notify" => Some(Self::Notify),
            "block-ip" => Some(Self::BlockIp(for_)),
            "lock-account" => Some(Self::LockAccount(for_)),
            "revoke-sessions" => Some(Self::RevokeSessions),
            _ => None,
        }
    }

    /// Why this response cannot act on keys grouped by `g`, if it cannot: a block
    /// needs an address, a lock or a revocation needs an account.
    pub fn conflict_with(self, g: GroupBy) -> Option<&'static str> {
        match (self, g) {
            (Self::Notify, _)
            | (Self::BlockIp(_), GroupBy::ClientIp)
            | (Self::LockAccount(_) | Self::RevokeSessions, GroupBy::Target | GroupBy::Actor) => {
                None
            }
            (Self::BlockIp(_), _) => Some("block-ip needs group_by = \"client_ip\""),
            _ => Some("lock-account and revoke-sessions need group_by = \"target\" or \"actor\""),
        }
    }
}

impl fmt::Display for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Notify => f.write_str("notify"),
            Self::BlockIp(d) => write!(f, "block the address for {}s", d.as_secs()),
            Self::LockAccount(d) => write!(f, "lock the account for {}s", d.as_secs()),
            Self::RevokeSessions => f.write_str("revoke the account's sessions"),
        }
    }
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable name (alert id prefix, metric label, runbook file name).
    pub name: String,
    /// The event kind counted.
    pub kind: Kind,
    /// How the count is grouped.
    pub group_by: GroupBy,
    /// Events within the window that fire the alert.
    pub threshold: u32,
    /// The sliding window.
    pub window: Duration,
    /// Severity for the notification.
    pub severity: String,
    /// Automatic response.
    pub response: Response,
    /// One line for the notification.
    pub summary: String,
    /// The runbook, a path relative to the runbook base URL.
    pub runbook: String,
}

impl Rule {
    /// The runbook path a rule gets when its configuration names none.
    pub fn default_runbook(name: &str) -> String {
        format!("docs/runbooks/{name}.md")
    }

    /// True when this rule counts `e`.
    pub fn matches(&self, e: &Event) -> bool {
        e.kind == self.kind
    }
}

/// The built-in rules (the plan's examples, with responses that expire).
pub fn default_rules() -> Vec<Rule> {
    let mut rules = vec![
        Rule {
            name: "failed-logins-per-account".into(),
            kind: Kind::LoginFailure,
            group_by: GroupBy::Target,
            threshold: 10,
            window: Duration::from_secs(300),
            severity: "high".into(),
            response: Response::LockAccount(Duration::from_secs(900)),
            summary: "many failed logins for one account: password guessing".into(),
            runbook: String::new(),
        },
        Rule {
            name: "blocked-requests-per-address".into(),
            kind: Kind::InspectionBlocked,
            group_by: GroupBy::ClientIp,
            threshold: 20,
            window: Duration::from_secs(60),
            severity: "high".into(),
            response: Response::BlockIp(Duration::from_secs(900)),
            summary: "many requests from one address refused as attacks: a scanner or an attack in progress".into(),
            runbook: String::new(),
        },
        Rule {
            name: "access-denial-spike".into(),
            kind: Kind::PolicyDenied,
            group_by: GroupBy::All,
            threshold: 200,
            window: Duration::from_secs(60),
            severity: "medium".into(),
            response: Response::Notify,
            summary: "a spike of access denials: enumeration (URL editing) or a broken client or policy".into(),
            runbook: String::new(),
        },
        Rule {
            name: "denials-per-user".into(),
            kind: Kind::PolicyDenied,
            group_by: GroupBy::Actor,
            threshold: 30,
            window: Duration::from_secs(300),
            severity: "high".into(),
            response: Response::RevokeSessions,
            summary: "a signed-in user keeps asking for records that are not theirs: account misuse or a stolen session".into(),
            runbook: String::new(),
        },
        Rule {
            name: "admin-login-new-network".into(),
            kind: Kind::AdminNewNetwork,
            group_by: GroupBy::Actor,
            threshold: 1,
            window: Duration::from_secs(3600),
            severity: "high".into(),
            response: Response::Notify,
            summary: "an administrator signed in from a network never seen for them: a stolen password, or travel to confirm".into(),
            runbook: String::new(),
        },
        Rule {
            name: "audit-chain-broken".into(),
            kind: Kind::AuditChainBroken,
            group_by: GroupBy::All,
            threshold: 1,
            window: Duration::from_secs(3600),
            severity: "critical".into(),
            response: Response::Notify,
            summary: "the audit log's hash chain does not verify: a record was edited, inserted or deleted outside Centinela".into(),
            runbook: String::new(),
        },
    ];
    for r in &mut rules {
        r.runbook = Rule::default_runbook(&r.name);
    }
    rules
}

/// Whether a count fires a rule: exactly when it reaches the threshold, so a burst
/// fires once and not on every later event of the same window (the store's open-alert
/// record also prevents repeats across instances).
pub fn fires(rule: &Rule, count_in_window: u64) -> bool {
    count_in_window >= u64::from(rule.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_matching() {
        let rules = default_rules();
        let e = Event::new(Kind::LoginFailure, "failure", 0)
            .target("ana")
            .client("192.0.2.1");
        let r = &rules[0];
        assert!(r.matches(&e));
        assert_eq!(r.group_by.key_of(&e).as_deref(), Some("ana"));
        assert_eq!(GroupBy::ClientIp.key_of(&e).as_deref(), Some("192.0.2.1"));
        assert_eq!(GroupBy::Actor.key_of(&e), None);
        assert_eq!(GroupBy::All.key_of(&e).as_deref(), Some("*"));
        assert!(!rules[1].matches(&e));
        assert!(!fires(r, 9));
        assert!(fires(r, 10));
        assert_eq!(r.runbook, "docs/runbooks/failed-logins-per-account.md");
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique);
    }

    #[test]
    fn every_rule_has_a_runbook() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for r in default_rules() {
            let path = root.join(&r.runbook);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} has no runbook at {}", r.name, path.display()));
            for section in ["## Confirm", "## Contain", "## Recover", "## Record"] {
                assert!(text.contains(section), "{} lacks {section}", path.display());
            }
        }
    }
}
