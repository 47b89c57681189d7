//! `[alerts]` and its `[[alerts.rule]]` tables: where notifications go and which
//! rules of [`crate::alerts`] are in force.
//!
//! A `[[alerts.rule]]` whose `name` is a built-in rule changes only the fields it
//! gives (or, with `enabled = false`, switches the rule off); any other name defines a
//! new rule, which then needs at least `event`, `threshold` and `window`.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{AlertsConfig, Sp, Validator};
use crate::alerts::{default_rules, GroupBy, Response, Rule};
use crate::auditlog::Kind;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    enabled: Sp<bool>,
    webhook_url: Sp<String>,
    webhook_format: Sp<String>,
    runbook_base_url: Sp<String>,
    chain_check: Sp<String>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Sp<String>,
    enabled: Sp<bool>,
    event: Sp<String>,
    group_by: Sp<String>,
    threshold: Sp<i64>,
    window: Sp<String>,
    severity: Sp<String>,
    response: Sp<String>,
    response_for: Sp<String>,
    summary: Sp<String>,
    runbook: Sp<String>,
}

const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn check_rule_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a rule name; use 1 to 64 lowercase letters, digits and '-' \
             (it names metrics labels and the runbook file)"
        ))
    }
}

impl Validator<'_> {
    pub(super) fn alerts(&mut self, raw: &RawAlerts) -> AlertsConfig {
        let enabled = self.field(&raw.enabled, "alerts.enabled", true, |b| Ok(*b));
        let webhook_url = self.field(&raw.webhook_url, "alerts.webhook_url", None, |u| {
            if (u.starts_with("https://") || u.starts_with("http://")) && u.len() > 8 {
                Ok(Some(u.clone()))
            } else {
                Err("a webhook is an http:// or https:// URL".to_owned())
            }
        });
        let webhook_slack =
            self.field(
                &raw.webhook_format,
                "alerts.webhook_format",
                false,
                |f| match f.as_str() {
                    "json" => Ok(false),
                    "slack" => Ok(true),
                    _ => Err("use \"json\" or \"slack\"".to_owned()),
                },
            );
        let runbook_base_url = self.field(
            &raw.runbook_base_url,
            "alerts.runbook_base_url",
            String::new(),
            |u| Ok(u.clone()),
        );
        let chain_check_interval = self.duration(
            &raw.chain_check,
            "alerts.chain_check",
            Duration::from_secs(15 * 60),
        );
        AlertsConfig {
            enabled,
            webhook_url,
            webhook_slack,
            runbook_base_url,
            chain_check_interval,
            rules: self.alert_rules(&raw.rule),
        }
    }

    fn alert_rules(&mut self, raw: &[Spanned<RawRule>]) -> Vec<Rule> {
        // (rule, enabled); built-ins first so they keep their order.
        let mut rules: Vec<(Rule, bool)> = default_rules().into_iter().map(|r| (r, true)).collect();
        let builtin = rules.len();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, entry) in raw.iter().enumerate() {
            let prefix = format!("alerts.rule[{i}]");
            let r = entry.get_ref();
            let Some(name) = &r.name else {
                self.report(
                    &entry.span(),
                    &format!("{prefix}.name"),
                    "this rule has no name; add name = \"…\" (a built-in rule's name tunes \
                     that rule, a new name adds a rule)",
                );
                continue;
            };
            if let Err(m) = check_rule_name(name.get_ref()) {
                self.report(&name.span(), &format!("{prefix}.name"), m);
                continue;
            }
            let (line, _) = super::line_column(self.source, name.span().start);
            if let Some(first) = seen.insert(name.get_ref().clone(), line) {
                self.report(
                    &name.span(),
                    &format!("{prefix}.name"),
                    format!(
                        "rule \"{}\" is already configured on line {first}; put all its \
                         settings in one [[alerts.rule]]",
                        name.get_ref()
                    ),
                );
                continue;
            }
            let existing = rules[..builtin]
                .iter()
                .position(|(b, _)| &b.name == name.get_ref());
            let (mut rule, mut on) = match existing {
                Some(idx) => rules[idx].clone(),
                None => {
                    let missing: Vec<&str> = [
                        ("event", r.event.is_none()),
                        ("threshold", r.threshold.is_none()),
                        ("window", r.window.is_none()),
                    ]
                    .into_iter()
                    .filter_map(|(k, m)| m.then_some(k))
                    .collect();
                    if !missing.is_empty() {
                        self.report(
                            &entry.span(),
                            &prefix,
                            format!(
                                "\"{}\" is not a built-in rule, so it needs {} (built-in rules: {})",
                                name.get_ref(),
                                missing.join(", "),
                                rules[..builtin]
                                    .iter()
                                    .map(|(b, _)| b.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                        continue;
                    }
                    let n = name.get_ref().clone();
                    (
                        Rule {
                            runbook: Rule::default_runbook(&n),
                            summary: format!("alert rule {n} fired"),
                            name: n,
                            kind: Kind::PolicyDenied,
                            group_by: GroupBy::All,
                            threshold: 1,
                            window: Duration::from_secs(60),
                            severity: "medium".into(),
                            response: Response::Notify,
                        },
                        true,
                    )
                }
            };
            on = self.field(&r.enabled, &format!("{prefix}.enabled"), on, |b| Ok(*b));
            rule.kind = self.field(&r.event, &format!("{prefix}.event"), rule.kind, |e| {
                Kind::from_name(e).ok_or_else(|| {
                    format!(
                        "\"{e}\" is not an audit event kind; use one of: {}",
                        Kind::ALL
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            });
            rule.group_by = self.field(
                &r.group_by,
                &format!("{prefix}.group_by"),
                rule.group_by,
                |g| {
                    GroupBy::parse(g)
                        .ok_or_else(|| format!("use one of: {}", GroupBy::NAMES.join(", ")))
                },
            );
            rule.threshold = self.field(
                &r.threshold,
                &format!("{prefix}.threshold"),
                rule.threshold,
                |t| {
                    u32::try_from(*t)
                        .ok()
                        .filter(|t| (1..=1_000_000).contains(t))
                        .ok_or_else(|| "give a count from 1 to 1000000".to_owned())
                },
            );
            rule.window = self.duration(&r.window, &format!("{prefix}.window"), rule.window);
            rule.severity = self.field(
                &r.severity,
                &format!("{prefix}.severity"),
                rule.severity,
                |s| {
                    if SEVERITIES.contains(&s.as_str()) {
                        Ok(s.clone())
                    } else {
                        Err(format!("use one of: {}", SEVERITIES.join(", ")))
                    }
                },
            );
            let current_for = match rule.response {
                Response::BlockIp(d) | Response::LockAccount(d) => d,
                _ => Duration::from_secs(15 * 60),
            };
            let lasts = self.duration(
                &r.response_for,
                &format!("{prefix}.response_for"),
                current_for,
            );
            let current = rule.response;
            rule.response = self.field(&r.response, &format!("{prefix}.response"), current, |s| {
                Response::parse(s, lasts)
                    .ok_or_else(|| format!("use one of: {}", Response::NAMES.join(", ")))
            });
            if r.response.is_none() {
                rule.response = match rule.response {
                    Response::BlockIp(_) => Response::BlockIp(lasts),
                    Response::LockAccount(_) => Response::LockAccount(lasts),
                    other => other,
                };
            }
            if let Some(why) = rule.response.conflict_with(rule.group_by) {
                let at = r
                    .response
                    .as_ref()
                    .or(r.group_by.as_ref())
                    .map_or_else(|| entry.span(), Spanned::span);
                self.report(&at, &format!("{prefix}.response"), why);
            }
            rule.summary = self.field(
                &r.summary,
                &format!("{prefix}.summary"),
                rule.summary,
                |s| {
                    if s.trim().is_empty() || s.len() > 300 {
                        Err("give one line of up to 300 characters".to_owned())
                    } else {
                        Ok(s.clone())
                    }
                },
            );
            rule.runbook = self.field(
                &r.runbook,
                &format!("{prefix}.runbook"),
                rule.runbook,
                |s| {
                    if s.trim().is_empty() || s.contains("..") || s.starts_with('/') {
                        Err("give a path relative to alerts.runbook_base_url, e.g. \
                         \"docs/runbooks/my-rule.md\""
                            .to_owned())
                    } else {
                        Ok(s.clone())
                    }
                },
            );
            match existing {
                Some(idx) => rules[idx] = (rule, on),
                None => rules.push((rule, on)),
            }
        }
        rules
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(r, _)| r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{load_str, Config};

    fn load(toml: &str) -> Result<Config, String> {
        load_str(toml, "centinela.toml").map_err(|e| e.to_string())
    }

    #[test]
    fn built_in_rules_apply_when_nothing_is_configured() {
        let c = load("").expect("should load");
        let names: Vec<&str> = c.alerts.rules.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"failed-logins-per-account"));
        assert!(names.contains(&"audit-chain-broken"));
    }

    #[test]
    fn a_built_in_rule_is_tuned_or_switched_off() {
        let c = load(
            "[[alerts.rule]]\nname = \"blocked-requests-per-address\"\nthreshold = 3\n\
             response_for = \"2m\"\n[[alerts.rule]]\nname = \"access-denial-spike\"\nenabled = false\n",
        )
        .expect("should load");
        let r = c
            .alerts
            .rules
            .iter()
            .find(|r| r.name == "blocked-requests-per-address")
            .expect("present");
        assert_eq!(r.threshold, 3);
        assert_eq!(
            r.response,
            crate::alerts::Response::BlockIp(std::time::Duration::from_secs(120))
        );
        assert_eq!(r.window, std::time::Duration::from_secs(60));
        assert!(!c
            .alerts
            .rules
            .iter()
            .any(|r| r.name == "access-denial-spike"));
    }

    #[test]
    fn a_new_rule_is_added() {
        let c = load(
            "[[alerts.rule]]\nname = \"rate-limited-per-address\"\nevent = \"rate-limited\"\n\
             group_by = \"client_ip\"\nthreshold = 50\nwindow = \"1m\"\nseverity = \"low\"\n\
             response = \"block-ip\"\nresponse_for = \"10m\"\nsummary = \"a client keeps hitting the rate limit\"\n",
        )
        .expect("should load");
        let r = c.alerts.rules.last().expect("present");
        assert_eq!(r.name, "rate-limited-per-address");
        assert_eq!(r.kind, crate::auditlog::Kind::RateLimited);
        assert_eq!(r.threshold, 50);
        assert_eq!(r.severity, "low");
        assert_eq!(r.runbook, "docs/runbooks/rate-limited-per-address.md");
    }

    #[test]
    fn bad_rules_are_reported_at_their_key() {
        let e = load(
            "[[alerts.rule]]\nname = \"x\"\nevent = \"nope\"\nthreshold = 1\nwindow = \"1m\"\n",
        )
        .expect_err("should be refused");
        assert!(e.contains("centinela.toml:3"), "{e}");
        assert!(e.contains("alerts.rule[0].event"), "{e}");
        let e = load("[[alerts.rule]]\nname = \"new-one\"\nthreshold = 1\n")
            .expect_err("should be refused");
        assert!(e.contains("needs event, window"), "{e}");
        let e = load(
            "[[alerts.rule]]\nname = \"failed-logins-per-account\"\nresponse = \"block-ip\"\n",
        )
        .expect_err("should be refused");
        assert!(e.contains("block-ip needs group_by"), "{e}");
        let e = load(
            "[[alerts.rule]]\nname = \"denials-per-user\"\n[[alerts.rule]]\nname = \"denials-per-user\"\n",
        )
        .expect_err("should be refused");
        assert!(e.contains("already configured on line 2"), "{e}");
        let e = load("[[alerts.rule]]\nname = \"denials-per-user\"\nthreshold = 0\n")
            .expect_err("should be refused");
        assert!(e.contains("from 1 to 1000000"), "{e}");
        let e = load("[[alerts.rule]]\nname = \"Bad Name\"\n").expect_err("should be refused");
        assert!(e.contains("not a rule name"), "{e}");
    }
}
