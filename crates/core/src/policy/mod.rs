//! The access policy: which request may reach which upstream, decided before anything
//! is forwarded. Deny by default: a request that no route matches, or that no rule of
//! its route allows, is refused.
//!
//! A [`Policy`] is an ordered list of [`Route`]s (host, path pattern with named
//! parameters, methods, upstream) each with [`Rule`]s (who, how authenticated, from
//! where, and optionally *whose*: an ownership condition binding a path parameter,
//! query parameter, JSON field or a database lookup to an attribute of the caller).
//! The first route matching host, path and method decides; its rules are alternatives.
//!
//! Evaluation is a pure function. Facts the engine cannot know by itself (the owner of
//! a record that only the application's database knows, a JSON body not yet read) are
//! asked for with [`Decision::NeedLookup`] / [`Decision::NeedBody`]; the caller fetches
//! them and evaluates again, so the engine stays free of I/O and fails closed.

pub mod net;
pub mod path;
pub mod pattern;

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

pub use net::Cidr;
pub use path::{normalize, CasePolicy, NormalPath, PathError};
pub use pattern::{Pattern, PatternError};

/// The whole policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// How literal segments compare.
    pub case: CasePolicy,
    /// Routes in order; the first match decides.
    pub routes: Vec<Route>,
}

/// One route: which requests it covers, where they go, and who may send them.
#[derive(Clone, Debug)]
pub struct Route {
    /// Name used in explanations, logs and metrics.
    pub name: String,
    /// Host the route applies to (lower case, no port); `None` for any host.
    pub host: Option<String>,
    /// Path pattern.
    pub pattern: Pattern,
    /// Methods covered (upper case); empty for every method.
    pub methods: Vec<String>,
    /// Name of the upstream requests go to.
    pub upstream: String,
    /// Alternatives: the first that allows, allows.
    pub rules: Vec<Rule>,
    /// Content-Security-Policy for this route's responses, replacing the upstream's.
    pub csp: Option<String>,
    /// Requests per caller (user, or address when anonymous) on this route.
    pub rate_limit: Option<crate::ratelimit::Rate>,
    /// How requests on this route are inspected before they are forwarded.
    pub inspect: crate::inspect::InspectPolicy,
}

/// Who a rule admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// Everyone, signed in or not.
    Anyone,
    /// Any signed-in caller.
    Authenticated,
    /// Signed-in callers holding at least one of these roles.
    Roles(Vec<String>),
}

/// How the caller must have authenticated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthKind {
    /// Session or API token.
    #[default]
    Any,
    /// Browser session only.
    Session,
    /// API token only (rules by API-token role).
    Token,
}

/// Where the owner of the requested record is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnerSource {
    /// A named path parameter, e.g. `{id}`.
    PathParam(String),
    /// A query parameter (sent once; a repeated one is refused as ambiguous).
    Query(String),
    /// A top-level or nested JSON field of the body, as a JSON pointer (`/customer_id`).
    Json(String),
    /// A lookup in the application's database keyed by a path parameter:
    /// `lookup` names a configured query, `param` the path parameter that is its key.
    Lookup {
        /// Configured lookup name.
        lookup: String,
        /// Path parameter that is the key.
        param: String,
    },
}

/// The caller attribute an owner must equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    /// The account's `customer_id`.
    CustomerId,
    /// The login name.
    Username,
    /// The internal user id.
    UserId,
}

impl Attribute {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerId => "customer_id",
            Self::Username => "username",
            Self::UserId => "user_id",
        }
    }

    fn of(self, s: &Subject) -> Option<&str> {
        match self {
            Self::CustomerId => s.customer_id.as_deref(),
            Self::Username => Some(&s.username),
            Self::UserId => Some(&s.user_id),
        }
    }
}

/// An ownership condition: the record's owner must be the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Where the owner comes from.
    pub source: OwnerSource,
    /// Which caller attribute it must equal.
    pub attribute: Attribute,
}

/// One alternative of a route. Every condition present must hold.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Who.
    pub who: Who,
    /// How authenticated.
    pub auth: AuthKind,
    /// Methods this rule allows (upper case); empty for all the route's methods.
    pub methods: Vec<String>,
    /// Client networks; empty for any.
    pub networks: Vec<Cidr>,
    /// Ownership condition.
    pub owner: Option<Owner>,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.who {
            Who::Anyone => f.write_str("anyone")?,
            Who::Authenticated => f.write_str("any signed-in caller")?,
            Who::Roles(r) => write!(f, "roles [{}]", r.join(", "))?,
        }
        match self.auth {
            AuthKind::Any => {}
            AuthKind::Session => f.write_str(" with a session")?,
            AuthKind::Token => f.write_str(" with an API token")?,
        }
        if !self.methods.is_empty() {
            write!(f, ", methods {}", self.methods.join("/"))?;
        }
        if !self.networks.is_empty() {
            let nets: Vec<String> = self.networks.iter().map(ToString::to_string).collect();
            write!(f, ", from {}", nets.join(", "))?;
        }
        if let Some(o) = &self.owner {
            let src = match &o.source {
                OwnerSource::PathParam(p) => format!("{{{p}}}"),
                OwnerSource::Query(q) => format!("query {q}"),
                OwnerSource::Json(p) => format!("JSON {p}"),
                OwnerSource::Lookup { lookup, param } => format!("{lookup}({{{param}}})"),
            };
            write!(f, ", owner {src} = user.{}", o.attribute.as_str())?;
        }
        Ok(())
    }
}

/// The caller, as far as the policy cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// Internal user id.
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Roles in force (a token's own roles for API tokens).
    pub roles: Vec<String>,
    /// Customer id, for ownership rules.
    pub customer_id: Option<String>,
    /// True for API tokens.
    pub via_token: bool,
}

/// The facts of one request.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// Method, upper case.
    pub method: &'a str,
    /// Host without port, lower case; `None` when the request named none.
    pub host: Option<&'a str>,
    /// The canonical path.
    pub path: &'a NormalPath,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The client's address.
    pub client_ip: IpAddr,
    /// The caller; `None` for anonymous requests.
    pub subject: Option<&'a Subject>,
    /// The parsed JSON body, once the caller has read it (after [`Decision::NeedBody`]).
    pub json_body: Option<&'a serde_json::Value>,
}

/// Lookup answers the caller has fetched: `(lookup name, key)` → owner (`None` when the
/// record does not exist).
pub type Resolved = HashMap<(String, String), Option<String>>;

/// The outcome of an evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Forward the request.
    Allow {
        /// Index of the route in [`Policy::routes`].
        route: usize,
        /// Index of the rule that allowed it.
        rule: usize,
        /// Path parameters captured by the pattern.
        params: Vec<(String, String)>,
    },
    /// Refuse it.
    Deny {
        /// The route that matched, if any.
        route: Option<usize>,
        /// Why, for logs and `policy explain` (never shown to the client).
        reason: String,
        /// True when the caller is anonymous and signing in might help (a 401 rather
        /// than a 403).
        sign_in_may_help: bool,
    },
    /// Fetch this lookup's answer and evaluate again.
    NeedLookup {
        /// Configured lookup name.
        lookup: String,
        /// Its key (a path parameter's value).
        key: String,
    },
    /// Read the body as JSON and evaluate again.
    NeedBody,
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allow { .. })
    }
}

impl Route {
    fn host_matches(&self, host: Option<&str>) -> bool {
        match (&self.host, host) {
            (None, _) => true,
            (Some(want), Some(got)) => want == got,
            (Some(_), None) => false,
        }
    }

    fn method_matches(&self, method: &str) -> bool {
        self.methods.is_empty() || self.methods.iter().any(|m| m == method)
    }
}

/// The single value of query parameter `name`; `Err` when it is sent more than once.
fn query_param(query: Option<&str>, name: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if k == name {
            if found.is_some() {
                return Err(());
            }
            found = Some(v.into_owned());
        }
    }
    Ok(found)
}

fn json_scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What one rule concludes.
enum RuleOutcome {
    Allow,
    No(String),
    Need(Decision),
}

impl Policy {
    /// Decides on a request. See [`Decision`] for the two "ask me again" outcomes.
    pub fn evaluate(&self, facts: &Facts<'_>, resolved: &Resolved) -> Decision {
        let segments = facts.path.segments();
        let mut path_matched = false;
        for (ri, route) in self.routes.iter().enumerate() {
            if !route.host_matches(facts.host) {
                continue;
            }
            let Some(params) = route.pattern.matches(segments) else {
                continue;
            };
            path_matched = true;
            if !route.method_matches(facts.method) {
                continue;
            }
            let mut reasons = Vec::new();
            for (i, rule) in route.rules.iter().enumerate() {
                match check_rule(rule, facts, &params, resolved) {
                    RuleOutcome::Allow => {
                        return Decision::Allow {
                            route: ri,
                            rule: i,
                            params,
                        }
                    }
                    RuleOutcome::Need(d) => return d,
                    RuleOutcome::No(why) => reasons.push(format!("rule {} ({rule}): {why}", i + 1)),
                }
            }
            let reason = if reasons.is_empty() {
                format!("route \"{}\" has no rules", route.name)
            } else {
                format!(
                    "route \"{}\": no rule allows it; {}",
                    route.name,
                    reasons.join("; ")
                )
            };
            return Decision::Deny {
                route: Some(ri),
                reason,
                sign_in_may_help: facts.subject.is_none()
                    && route.rules.iter().any(|r| r.who != Who::Anyone),
            };
        }
        let reason = if path_matched {
            format!("no route allows method {} on {}", facts.method, facts.path)
        } else {
            format!("no route matches {}", facts.path)
        };
        Decision::Deny {
            route: None,
            reason,
            sign_in_may_help: false,
        }
    }
}

fn check_rule(
    rule: &Rule,
    facts: &Facts<'_>,
    params: &[(String, String)],
    resolved: &Resolved,
) -> RuleOutcome {
    use RuleOutcome::{Allow, Need, No};
    if !rule.methods.is_empty() && !rule.methods.iter().any(|m| m == facts.method) {
        return No(format!("method {} not allowed", facts.method));
    }
    if !rule.networks.is_empty() && !rule.networks.iter().any(|n| n.contains(facts.client_ip)) {
        return No(format!(
            "client {} outside the allowed networks",
            facts.client_ip
        ));
    }
    let subject = match (&rule.who, facts.subject) {
        (Who::Anyone, s) => s,
        (_, None) => return No("not signed in".to_owned()),
        (Who::Authenticated, Some(s)) => Some(s),
        (Who::Roles(want), Some(s)) => {
            if !want.iter().any(|w| s.roles.contains(w)) {
                return No(format!("caller has roles [{}]", s.roles.join(", ")));
            }
            Some(s)
        }
    };
    match (rule.auth, subject) {
        (AuthKind::Any, _) => {}
        (AuthKind::Session, Some(s)) if !s.via_token => {}
        (AuthKind::Token, Some(s)) if s.via_token => {}
        (AuthKind::Session, _) => return No("needs a browser session".to_owned()),
        (AuthKind::Token, _) => return No("needs an API token".to_owned()),
    }
    let Some(owner) = &rule.owner else {
        return Allow;
    };
    let Some(subject) = subject else {
        return No("ownership needs a signed-in caller".to_owned());
    };
    let Some(mine) = owner.attribute.of(subject) else {
        return No(format!("caller has no {}", owner.attribute.as_str()));
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let theirs: Option<String> = match &owner.source {
        OwnerSource::PathParam(p) => param(p),
        OwnerSource::Query(q) => match query_param(facts.query, q) {
            Ok(v) => v,
            Err(()) => return No(format!("query parameter {q} sent more than once")),
        },
        OwnerSource::Json(pointer) => match facts.json_body {
            None => return Need(Decision::NeedBody),
            Some(body) => body.pointer(pointer).and_then(json_scalar),
        },
        OwnerSource::Lookup { lookup, param: p } => {
            let Some(key) = param(p) else {
                return No(format!("no path parameter {p}"));
            };
            match resolved.get(&(lookup.clone(), key.clone())) {
                None => {
                    return Need(Decision::NeedLookup {
                        lookup: lookup.clone(),
                        key,
                    })
                }
                Some(None) => return No(format!("{lookup}({key}) found no record")),
                Some(Some(owner)) => Some(owner.clone()),
            }
        }
    };
    match theirs {
        Some(t) if t == mine => Allow,
        Some(t) => No(format!(
            "owner {t} is not the caller's {} {mine}",
            owner.attribute.as_str()
        )),
        None => No("the request names no owner".to_owned()),
    }
}

#[cfg(test)]
mod tests;
