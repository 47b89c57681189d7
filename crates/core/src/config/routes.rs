//! The access-policy part of the configuration: `[policy]`, `[[route]]` with its
//! `[[route.allow]]` rules, `[[lookup]]` (ownership resolved in the application's
//! database) and `[[app_database]]`. Errors stop the load; findings that leave a
//! working but probably unintended policy (shadowed routes, routes without rules,
//! anonymous write access, unused upstreams) are warnings that `config check` prints.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Diagnostic, Sp, Upstream, Validator};
use crate::policy::{
    Attribute, AuthKind, CasePolicy, Cidr, Owner, OwnerSource, Pattern, Policy, Route, Rule, Who,
};
use crate::secret::SecretString;

/// Methods a route or rule may name.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// Methods that change state: anonymous access to them is worth a warning.
const WRITE_METHODS: [&str; 4] = ["POST", "PUT", "PATCH", "DELETE"];
/// Longest cache lifetime of a lookup answer: ownership changes must apply soon.
const MAX_LOOKUP_CACHE: Duration = Duration::from_secs(300);

/// `[[lookup]]`: a read-only query that finds the owner of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// Name rules refer to.
    pub name: String,
    /// The `[[app_database]]` it runs on.
    pub database: String,
    /// `SELECT owner FROM table WHERE id = ?`: one statement, one `?`.
    pub query: String,
    /// How long an answer is reused.
    pub cache_ttl: Duration,
}

/// `[[app_database]]`: a connection to the protected application's own database,
/// used only for lookups. Give it a read-only account.
#[derive(Clone, Debug)]
pub struct AppDatabase {
    /// Name lookups refer to.
    pub name: String,
    /// `mysql://…` (may hold a password).
    pub url: SecretString,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    case: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    name: Sp<String>,
    host: Sp<String>,
    path: Sp<String>,
    methods: Sp<Vec<String>>,
    upstream: Sp<String>,
    csp: Sp<String>,
    rate_limit: Sp<String>,
    inspect: Option<Spanned<toml::Table>>,
    #[serde(default)]
    allow: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    anyone: Sp<bool>,
    authenticated: Sp<bool>,
    roles: Sp<Vec<String>>,
    auth: Sp<String>,
    methods: Sp<Vec<String>>,
    networks: Sp<Vec<String>>,
    owner: Sp<RawOwner>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOwner {
    param: Sp<String>,
    query: Sp<String>,
    json: Sp<String>,
    lookup: Sp<String>,
    attribute: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLookup {
    name: Sp<String>,
    database: Sp<String>,
    query: Sp<String>,
    cache: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppDatabase {
    name: Sp<String>,
    url: Sp<String>,
}

/// A validated route with the spans of its table and of each of its rules.
type RouteAt = (Route, std::ops::Range<usize>, Vec<std::ops::Range<usize>>);

/// The policy sections, validated.
pub(super) struct PolicySections {
    pub policy: Policy,
    pub lookups: Vec<Lookup>,
    pub app_databases: Vec<AppDatabase>,
    pub inspect_defaults: crate::inspect::InspectPolicy,
}

fn check_name(n: &str) -> Result<(), String> {
    if n.is_empty() || n.len() > 64 {
        return Err("a name is 1 to 64 characters".to_owned());
    }
    if !n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "\"{n}\" may only hold letters, digits, '_', '-' and '.'"
        ));
    }
    Ok(())
}

fn check_methods(list: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for m in list {
        let up = m.to_ascii_uppercase();
        if !METHODS.contains(&up.as_str()) {
            return Err(format!(
                "unknown method \"{m}\"; use one of {}",
                METHODS.join(", ")
            ));
        }
        if !out.contains(&up) {
            out.push(up);
        }
    }
    Ok(out)
}

/// A lookup query must be one plain SELECT with exactly one placeholder: the key is
/// always bound, never spliced, and nothing but reading is possible.
fn check_lookup_query(q: &str) -> Result<(), String> {
    let trimmed = q.trim();
    let starts_select = trimmed
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("select "));
    if !starts_select {
        return Err(
            "a lookup is a single SELECT, e.g. \"SELECT customer_id FROM orders WHERE id = ?\""
                .to_owned(),
        );
    }
    if trimmed.contains(';')
        || trimmed.contains("--")
        || trimmed.contains("/*")
        || trimmed.contains('#')
    {
        return Err("a lookup may not contain ';', comments or '#'".to_owned());
    }
    if trimmed.contains(['\'', '"', '`']) {
        return Err("a lookup may not contain quoted literals; bind the key with ?".to_owned());
    }
    match trimmed.matches('?').count() {
        1 => Ok(()),
        n => Err(format!(
            "a lookup has exactly one ? (the key); this one has {n}"
        )),
    }
}

fn is_json_pointer(p: &str) -> bool {
    p.starts_with('/') && p.len() <= 256
}

impl Validator<'_> {
    fn required<'r>(
        &mut self,
        raw: &'r Sp<String>,
        entry_span: &std::ops::Range<usize>,
        key: &str,
        hint: &str,
    ) -> Option<&'r Spanned<String>> {
        if raw.is_none() {
            self.report(entry_span, key, format!("missing; {hint}"));
        }
        raw.as_ref()
    }

    fn warn(&mut self, span: &std::ops::Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = super::line_column(self.source, span.start);
        self.warnings.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    pub(super) fn policy_sections(
        &mut self,
        raw_policy: &RawPolicy,
        raw_routes: &[Spanned<RawRoute>],
        raw_lookups: &[Spanned<RawLookup>],
        raw_dbs: &[Spanned<RawAppDatabase>],
        upstreams: &[Upstream],
        default_inspect: Option<&Spanned<toml::Table>>,
    ) -> PolicySections {
        // With no routes, this is what reports a lone [inspect]'s mistakes; with
        // routes, each route reports them in its own settings, so it stays quiet.
        let inspect_defaults = if raw_routes.is_empty() {
            self.inspect_policy(default_inspect, None, "inspect")
        } else {
            default_inspect
                .and_then(|t| {
                    crate::inspect::InspectPolicy::deserialize(toml::Value::Table(
                        t.get_ref().clone(),
                    ))
                    .ok()
                })
                .unwrap_or_default()
        };
        let case = self.field(
            &raw_policy.case,
            "policy.case",
            CasePolicy::Sensitive,
            |s| match s.as_str() {
                "sensitive" => Ok(CasePolicy::Sensitive),
                "insensitive" => Ok(CasePolicy::Insensitive),
                other => Err(format!(
                    "\"{other}\" is not a case policy; use \"sensitive\" or \"insensitive\""
                )),
            },
        );
        let app_databases = self.app_databases(raw_dbs);
        let lookups = self.lookups(raw_lookups, &app_databases);
        let mut routes: Vec<RouteAt> = Vec::new();
        let mut names: HashMap<String, ()> = HashMap::new();
        for (i, entry) in raw_routes.iter().enumerate() {
            let prefix = format!("route[{i}]");
            let span = entry.span();
            let r = entry.get_ref();
            let name = match &r.name {
                Some(n) => match check_name(n.get_ref()) {
                    Ok(()) if names.insert(n.get_ref().clone(), ()).is_some() => {
                        self.report(
                            &n.span(),
                            &format!("{prefix}.name"),
                            format!("route \"{}\" is defined twice", n.get_ref()),
                        );
                        n.get_ref().clone()
                    }
                    Ok(()) => n.get_ref().clone(),
                    Err(m) => {
                        self.report(&n.span(), &format!("{prefix}.name"), m);
                        String::new()
                    }
                },
                None => format!("route-{}", i + 1),
            };
            let pattern = self
                .required(
                    &r.path,
                    &span,
                    &format!("{prefix}.path"),
                    "add path = \"/api/…\"",
                )
                .and_then(|p| match Pattern::parse(p.get_ref(), case) {
                    Ok(pat) => Some(pat),
                    Err(e) => {
                        self.report(&p.span(), &format!("{prefix}.path"), e.to_string());
                        None
                    }
                });
            let host = r.host.as_ref().map(|h| {
                h.get_ref()
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase()
            });
            let methods = self.field(&r.methods, &format!("{prefix}.methods"), Vec::new(), |m| {
                check_methods(m)
            });
            let upstream = match &r.upstream {
                Some(u) if upstreams.iter().any(|x| &x.name == u.get_ref()) => u.get_ref().clone(),
                Some(u) => {
                    self.report(
                        &u.span(),
                        &format!("{prefix}.upstream"),
                        format!("no [[upstream]] is named \"{}\"", u.get_ref()),
                    );
                    String::new()
                }
                None => match upstreams {
                    [only] => only.name.clone(),
                    [] => {
                        self.report(
                            &span,
                            &format!("{prefix}.upstream"),
                            "no [[upstream]] is configured for this route to send requests to",
                        );
                        String::new()
                    }
                    _ => {
                        self.report(
                            &span,
                            &format!("{prefix}.upstream"),
                            "several upstreams are configured; name one with upstream = \"…\"",
                        );
                        String::new()
                    }
                },
            };
            let csp = self.field(&r.csp, &format!("{prefix}.csp"), None, |v| {
                if crate::headers::valid_header_value(v) && !v.is_empty() {
                    Ok(Some(v.clone()))
                } else {
                    Err("a Content-Security-Policy is printable ASCII on one line".to_owned())
                }
            });
            let rate_limit =
                self.field(&r.rate_limit, &format!("{prefix}.rate_limit"), None, |s| {
                    super::limits::optional_rate(s)
                });
            let inspect = self.inspect_policy(
                default_inspect,
                r.inspect.as_ref(),
                if r.inspect.is_some() {
                    format!("{prefix}.inspect")
                } else {
                    "inspect".to_owned()
                }
                .as_str(),
            );
            let mut rules = Vec::new();
            let mut rule_spans = Vec::new();
            for (j, raw_rule) in r.allow.iter().enumerate() {
                let key = format!("{prefix}.allow[{j}]");
                if let Some(rule) = self.rule(raw_rule, &key, pattern.as_ref(), &lookups, &methods)
                {
                    rules.push(rule);
                    rule_spans.push(raw_rule.span());
                }
            }
            if r.allow.is_empty() {
                self.warn(
                    &span,
                    &prefix,
                    format!(
                        "route \"{name}\" has no [[route.allow]] rule, so it denies every request"
                    ),
                );
            }
            if let Some(pattern) = pattern {
                routes.push((
                    Route {
                        name,
                        host,
                        pattern,
                        methods,
                        upstream,
                        rules,
                        csp,
                        rate_limit,
                        inspect,
                    },
                    span,
                    rule_spans,
                ));
            }
        }
        self.policy_warnings(&routes, raw_routes.is_empty(), upstreams);
        PolicySections {
            inspect_defaults,
            policy: Policy {
                case,
                routes: routes.into_iter().map(|(r, _, _)| r).collect(),
            },
            lookups,
            app_databases,
        }
    }

    fn policy_warnings(&mut self, routes: &[RouteAt], none: bool, upstreams: &[Upstream]) {
        if none {
            if !upstreams.is_empty() {
                let message = "no [[route]] is configured, so every proxied request is denied; \
                               add routes with [[route.allow]] rules";
                self.warnings.push(Diagnostic {
                    file: self.file.to_owned(),
                    line: 0,
                    column: 0,
                    key: "route".to_owned(),
                    message: message.to_owned(),
                });
            }
            return;
        }
        for (i, (route, span, rule_spans)) in routes.iter().enumerate() {
            for (earlier, _, _) in &routes[..i] {
                let host_covers = earlier.host.is_none() || earlier.host == route.host;
                let methods_cover = earlier.methods.is_empty()
                    || (!route.methods.is_empty()
                        && route.methods.iter().all(|m| earlier.methods.contains(m)));
                if host_covers && methods_cover && route.pattern.is_shadowed_by(&earlier.pattern) {
                    self.warn(
                        span,
                        &format!("route[{i}]"),
                        format!(
                            "route \"{}\" ({}) is shadowed by the earlier route \"{}\" ({}) and never decides",
                            route.name, route.pattern, earlier.name, earlier.pattern
                        ),
                    );
                    break;
                }
            }
            for (j, rule) in route.rules.iter().enumerate() {
                if rule.who != Who::Anyone {
                    continue;
                }
                let effective: Vec<&str> = if !rule.methods.is_empty() {
                    rule.methods.iter().map(String::as_str).collect()
                } else if !route.methods.is_empty() {
                    route.methods.iter().map(String::as_str).collect()
                } else {
                    METHODS.to_vec()
                };
                let writes: Vec<&str> = effective
                    .into_iter()
                    .filter(|m| WRITE_METHODS.contains(m))
                    .collect();
                if !writes.is_empty() {
                    self.warn(
                        rule_spans.get(j).unwrap_or(span),
                        &format!("route[{i}].allow[{j}]"),
                        format!(
                            "route \"{}\" lets anonymous callers {} {}; restrict the rule's methods or require sign-in",
                            route.name,
                            writes.join("/"),
                            route.pattern
                        ),
                    );
                }
            }
        }
        for (i, u) in upstreams.iter().enumerate() {
            if !routes.iter().any(|(r, _, _)| r.upstream == u.name) {
                self.warn(
                    &u.span,
                    &format!("upstream[{i}]"),
                    format!("upstream \"{}\" is not used by any route", u.name),
                );
            }
        }
    }

    fn rule(
        &mut self,
        raw: &Spanned<RawRule>,
        key: &str,
        pattern: Option<&Pattern>,
        lookups: &[Lookup],
        route_methods: &[String],
    ) -> Option<Rule> {
        let span = raw.span();
        let r = raw.get_ref();
        let anyone = r.anyone.as_ref().is_some_and(|b| *b.get_ref());
        let authenticated = r.authenticated.as_ref().is_some_and(|b| *b.get_ref());
        let roles = r.roles.as_ref().map(|v| v.get_ref().clone());
        let who = match (anyone, authenticated, roles) {
            (true, false, None) => Who::Anyone,
            (false, true, None) => Who::Authenticated,
            (false, false, Some(roles)) if !roles.is_empty() => {
                let bad = roles.iter().find(|r| check_name(r).is_err());
                if let Some(bad) = bad {
                    self.report(
                        &span,
                        &format!("{key}.roles"),
                        format!("bad role name \"{bad}\""),
                    );
                    return None;
                }
                Who::Roles(roles)
            }
            _ => {
                self.report(
                    &span,
                    key,
                    "a rule says who it admits with exactly one of anyone = true, \
                     authenticated = true or roles = [\"…\"]",
                );
                return None;
            }
        };
        let auth = self.field(&r.auth, &format!("{key}.auth"), AuthKind::Any, |s| {
            match s.as_str() {
                "any" => Ok(AuthKind::Any),
                "session" => Ok(AuthKind::Session),
                "token" => Ok(AuthKind::Token),
                other => Err(format!(
                    "\"{other}\" is not an authentication kind; use \"any\", \"session\" or \"token\""
                )),
            }
        });
        let methods = self.field(&r.methods, &format!("{key}.methods"), Vec::new(), |m| {
            let ms = check_methods(m)?;
            if let Some(outside) = ms
                .iter()
                .find(|m| !route_methods.is_empty() && !route_methods.contains(m))
            {
                return Err(format!(
                    "{outside} is not among the route's methods, so this would never apply"
                ));
            }
            Ok(ms)
        });
        let networks = self.field(&r.networks, &format!("{key}.networks"), Vec::new(), |n| {
            n.iter()
                .map(|s| s.parse::<Cidr>())
                .collect::<Result<Vec<_>, _>>()
        });
        let owner = match &r.owner {
            None => None,
            Some(o) => Some(self.owner(o, &format!("{key}.owner"), pattern, lookups)?),
        };
        if owner.is_some() && who == Who::Anyone {
            self.report(
                &span,
                key,
                "an ownership rule needs a signed-in caller; use authenticated = true or roles",
            );
            return None;
        }
        Some(Rule {
            who,
            auth,
            methods,
            networks,
            owner,
        })
    }

    fn owner(
        &mut self,
        raw: &Spanned<RawOwner>,
        key: &str,
        pattern: Option<&Pattern>,
        lookups: &[Lookup],
    ) -> Option<Owner> {
        let span = raw.span();
        let o = raw.get_ref();
        let attribute = self.field(
            &o.attribute,
            &format!("{key}.attribute"),
            Attribute::CustomerId,
            |a| match a.as_str() {
                "customer_id" => Ok(Attribute::CustomerId),
                "username" => Ok(Attribute::Username),
                "user_id" => Ok(Attribute::UserId),
                other => Err(format!(
                    "\"{other}\" is not a user attribute; use customer_id, username or user_id"
                )),
            },
        );
        let has_param = |p: &str| pattern.is_none_or(|pat| pat.params().any(|x| x == p));
        let source = match (&o.param, &o.query, &o.json, &o.lookup) {
            (Some(p), None, None, None) => {
                if !has_param(p.get_ref()) {
                    self.report(
                        &p.span(),
                        &format!("{key}.param"),
                        format!("the route's path has no {{{}}}", p.get_ref()),
                    );
                    return None;
                }
                OwnerSource::PathParam(p.get_ref().clone())
            }
            (None, Some(q), None, None) => OwnerSource::Query(q.get_ref().clone()),
            (None, None, Some(j), None) => {
                if !is_json_pointer(j.get_ref()) {
                    self.report(
                        &j.span(),
                        &format!("{key}.json"),
                        "give a JSON pointer such as \"/customer_id\"",
                    );
                    return None;
                }
                OwnerSource::Json(j.get_ref().clone())
            }
            (Some(p), None, None, Some(l)) => {
                if !lookups.iter().any(|x| &x.name == l.get_ref()) {
                    self.report(
                        &l.span(),
                        &format!("{key}.lookup"),
                        format!("no [[lookup]] is named \"{}\"", l.get_ref()),
                    );
                    return None;
                }
                if !has_param(p.get_ref()) {
                    self.report(
                        &p.span(),
                        &format!("{key}.param"),
                        format!("the route's path has no {{{}}}", p.get_ref()),
                    );
                    return None;
                }
                OwnerSource::Lookup {
                    lookup: l.get_ref().clone(),
                    param: p.get_ref().clone(),
                }
            }
            _ => {
                self.report(
                    &span,
                    key,
                    "an owner is one of: param = \"id\"; query = \"name\"; json = \"/pointer\"; \
                     or lookup = \"name\" with param = \"id\"",
                );
                return None;
            }
        };
        Some(Owner { source, attribute })
    }

    fn app_databases(&mut self, raw: &[Spanned<RawAppDatabase>]) -> Vec<AppDatabase> {
        let mut out: Vec<AppDatabase> = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let key = format!("app_database[{i}]");
            let span = entry.span();
            let d = entry.get_ref();
            let name = self.required(&d.name, &span, &format!("{key}.name"), "add name = \"app\"");
            let url = self.required(
                &d.url,
                &span,
                &format!("{key}.url"),
                "add url = \"mysql://reader:…@host/db\"",
            );
            let (Some(name), Some(url)) = (name, url) else {
                continue;
            };
            if let Err(m) = check_name(name.get_ref()) {
                self.report(&name.span(), &format!("{key}.name"), m);
                continue;
            }
            if out.iter().any(|x| &x.name == name.get_ref()) {
                self.report(&name.span(), &format!("{key}.name"), "defined twice");
                continue;
            }
            if !url.get_ref().starts_with("mysql://") && !url.get_ref().starts_with("mariadb://") {
                self.report(
                    &url.span(),
                    &format!("{key}.url"),
                    "lookups run on MySQL or MariaDB: use mysql://USER:PASSWORD@HOST:PORT/DB",
                );
                continue;
            }
            out.push(AppDatabase {
                name: name.get_ref().clone(),
                url: SecretString::new(url.get_ref().clone()),
            });
        }
        out
    }

    fn lookups(&mut self, raw: &[Spanned<RawLookup>], dbs: &[AppDatabase]) -> Vec<Lookup> {
        let mut out: Vec<Lookup> = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let key = format!("lookup[{i}]");
            let span = entry.span();
            let l = entry.get_ref();
            let name = self.required(
                &l.name,
                &span,
                &format!("{key}.name"),
                "add name = \"order_owner\"",
            );
            let query = self.required(
                &l.query,
                &span,
                &format!("{key}.query"),
                "add query = \"SELECT customer_id FROM orders WHERE id = ?\"",
            );
            let cache_ttl =
                self.duration(&l.cache, &format!("{key}.cache"), Duration::from_secs(30));
            if cache_ttl > MAX_LOOKUP_CACHE {
                if let Some(c) = &l.cache {
                    self.report(
                        &c.span(),
                        &format!("{key}.cache"),
                        "at most 5m: ownership changes must take effect soon",
                    );
                }
            }
            let database = match (&l.database, dbs) {
                (Some(d), _) if dbs.iter().any(|x| &x.name == d.get_ref()) => {
                    Some(d.get_ref().clone())
                }
                (Some(d), _) => {
                    self.report(
                        &d.span(),
                        &format!("{key}.database"),
                        format!("no [[app_database]] is named \"{}\"", d.get_ref()),
                    );
                    None
                }
                (None, [only]) => Some(only.name.clone()),
                (None, _) => {
                    self.report(
                        &span,
                        &format!("{key}.database"),
                        "name the [[app_database]] this lookup runs on",
                    );
                    None
                }
            };
            let (Some(name), Some(query), Some(database)) = (name, query, database) else {
                continue;
            };
            if let Err(m) = check_lookup_query(query.get_ref()) {
                self.report(&query.span(), &format!("{key}.query"), m);
                continue;
            }
            if let Err(m) = check_name(name.get_ref()) {
                self.report(&name.span(), &format!("{key}.name"), m);
                continue;
            }
            out.push(Lookup {
                name: name.get_ref().clone(),
                database,
                query: query.get_ref().trim().to_owned(),
                cache_ttl,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::load_str;
    use super::*;

    const BASE: &str = "[[upstream]]\nname = \"app\"\nurl = \"http://127.0.0.1:5080\"\n";

    fn load(extra: &str) -> Result<super::super::Config, super::super::ConfigErrors> {
        load_str(&format!("{BASE}{extra}"), "c.toml")
    }

    #[test]
    fn a_full_policy_loads() {
        let cfg = load(
            "[policy]\ncase = \"sensitive\"\n\
             [[app_database]]\nname = \"shop\"\nurl = \"mysql://reader:pw@127.0.0.1/shop\"\n\
             [[lookup]]\nname = \"order_owner\"\nquery = \"SELECT customer_id FROM orders WHERE id = ?\"\ncache = \"10s\"\n\
             [[route]]\nname = \"customer\"\npath = \"/api/customers/{id}\"\nmethods = [\"get\", \"PUT\"]\n\
             [[route.allow]]\nroles = [\"admin\"]\n\
             [[route.allow]]\nroles = [\"customer\"]\nowner = { param = \"id\" }\n\
             [[route]]\nname = \"order\"\npath = \"/api/orders/{order_id}\"\nmethods = [\"GET\"]\n\
             [[route.allow]]\nroles = [\"customer\"]\nowner = { lookup = \"order_owner\", param = \"order_id\" }\n\
             [[route.allow]]\nroles = [\"ops\"]\nauth = \"token\"\nnetworks = [\"10.0.0.0/8\"]\n",
        )
        .expect("valid");
        assert_eq!(cfg.policy.routes.len(), 2);
        let r = &cfg.policy.routes[0];
        assert_eq!(r.methods, ["GET", "PUT"]);
        assert_eq!(r.upstream, "app");
        assert_eq!(
            r.rules[1].owner,
            Some(Owner {
                source: OwnerSource::PathParam("id".into()),
                attribute: Attribute::CustomerId
            })
        );
        assert_eq!(cfg.lookups[0].database, "shop");
        assert_eq!(cfg.lookups[0].cache_ttl, Duration::from_secs(10));
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
    }

    fn errors(extra: &str) -> String {
        match load(extra) {
            Ok(_) => String::from("no error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors_point_at_the_key() {
        let e = errors("[[route]]\npath = \"/a/{id}\"\nupstream = \"nope\"\n[[route.allow]]\nroles = [\"x\"]\nowner = { param = \"other\" }\n");
        assert!(
            e.contains("c.toml:6:") && e.contains("route[0].upstream") && e.contains("nope"),
            "{e}"
        );
        assert!(e.contains("route[0].allow[0].owner.param"), "{e}");
        let e =
            errors("[[route]]\npath = \"/a\"\n[[route.allow]]\nanyone = true\nroles = [\"x\"]\n");
        assert!(e.contains("route[0].allow[0]: a rule says who"), "{e}");
        let e = errors("[[route]]\npath = \"a/../b\"\n");
        assert!(e.contains("route[0].path"), "{e}");
        let e = errors("[[route]]\npath = \"/a\"\nmethods = [\"BREW\"]\n");
        assert!(e.contains("unknown method \"BREW\""), "{e}");
        let e = errors("[[app_database]]\nname = \"db\"\nurl = \"mysql://r@h/d\"\n[[lookup]]\nname = \"l\"\nquery = \"DELETE FROM orders WHERE id = ?\"\n");
        assert!(
            e.contains("lookup[0].query") && e.contains("single SELECT"),
            "{e}"
        );
        let e = errors("[[app_database]]\nname = \"db\"\nurl = \"mysql://r@h/d\"\n[[lookup]]\nname = \"l\"\nquery = \"SELECT a FROM t WHERE id = ? OR 1=1; DROP TABLE t\"\n");
        assert!(e.contains("';'"), "{e}");
        let e = errors("[[route]]\npath = \"/a\"\n[[route.allow]]\nroles = [\"x\"]\nnetworks = [\"10.0.0.0/40\"]\n");
        assert!(e.contains("route[0].allow[0].networks"), "{e}");
    }

    #[test]
    fn warnings_for_risky_policies() {
        let cfg = load(
            "[[upstream]]\nname = \"spare\"\nurl = \"http://127.0.0.1:6000\"\n\
             [[route]]\nname = \"all\"\npath = \"/api/{*rest}\"\nupstream = \"app\"\n\
             [[route.allow]]\nanyone = true\n\
             [[route]]\nname = \"hidden\"\npath = \"/api/customers/{id}\"\nmethods = [\"GET\"]\nupstream = \"app\"\n\
             [[route.allow]]\nroles = [\"admin\"]\n\
             [[route]]\nname = \"empty\"\npath = \"/other\"\nupstream = \"app\"\n",
        )
        .expect("valid");
        let w: Vec<String> = cfg.warnings.iter().map(ToString::to_string).collect();
        let all = w.join("\n");
        assert!(
            all.contains("anonymous callers POST/PUT/PATCH/DELETE"),
            "{all}"
        );
        assert!(
            all.contains("\"hidden\"") && all.contains("shadowed"),
            "{all}"
        );
        assert!(all.contains("\"empty\" has no [[route.allow]]"), "{all}");
        assert!(all.contains("upstream \"spare\" is not used"), "{all}");
        assert!(w.iter().any(|l| l.starts_with("c.toml:")), "{all}");
    }
}
