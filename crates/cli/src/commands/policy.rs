//! `centinela policy explain` and `centinela policy test`: the gateway's access
//! decision, run from the command line on the same configuration, so an operator can
//! see why a request is refused and pin the intended behaviour in CI.
//!
//! A cases file is TOML:
//!
//! ```toml
//! [[case]]
//! name = "a customer cannot read another record"   # optional
//! roles = ["customer"]          # a made-up caller...
//! customer_id = "2"
//! # user = "bruno"              # ...or a user from the store
//! # anonymous = true            # ...or nobody
//! method = "GET"
//! path = "/api/customers/3"
//! expect = "deny"               # "allow" or "deny"
//!
//! [lookup_answers]              # owners for lookup rules, instead of the live database
//! "order_owner/5" = "2"
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use centinela_core::config::Config;
use centinela_core::policy::{self, Decision, Facts, Resolved, Subject};
use centinela_store::lookup::AppLookups;
use serde::Deserialize;

use crate::args::PolicyCommand;
use crate::context;

/// Where lookup answers come from.
enum Answers<'a> {
    /// The configured application databases.
    Live(&'a AppLookups),
    /// A fixed table from a cases file (`name/key` → owner).
    Fixed(&'a HashMap<String, String>),
}

struct Request<'a> {
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    host: Option<&'a str>,
    ip: IpAddr,
    subject: Option<&'a Subject>,
    json: Option<&'a serde_json::Value>,
}

/// Evaluates like the gateway does, fetching owners and using the body on request.
async fn decide(cfg: &Config, r: &Request<'_>, answers: &Answers<'_>) -> anyhow::Result<Decision> {
    let path = match policy::normalize(r.path, cfg.policy.case) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Decision::Deny {
                route: None,
                reason: format!("the path is refused before matching (400): {e}"),
                sign_in_may_help: false,
            })
        }
    };
    let method = r.method.to_ascii_uppercase();
    let host = r.host.map(str::to_ascii_lowercase);
    let mut resolved = Resolved::new();
    let mut with_body = false;
    for _ in 0..8 {
        let facts = Facts {
            method: &method,
            host: host.as_deref(),
            path: &path,
            query: r.query,
            client_ip: r.ip,
            subject: r.subject,
            json_body: if with_body { r.json } else { None },
        };
        match cfg.policy.evaluate(&facts, &resolved) {
            Decision::NeedLookup { lookup, key } => {
                let owner = match answers {
                    Answers::Live(l) => l.owner(&lookup, &key).await.with_context(|| {
                        format!("lookup {lookup}({key}) failed; the gateway would answer 503")
                    })?,
                    Answers::Fixed(t) => t.get(&format!("{lookup}/{key}")).cloned(),
                };
                resolved.insert((lookup, key), owner);
            }
            Decision::NeedBody => {
                if r.json.is_none() {
                    bail!(
                        "a rule reads the JSON body; pass it with --json (or `json` in the case)"
                    );
                }
                with_body = true;
            }
            d => return Ok(d),
        }
    }
    bail!("the policy kept asking for more facts")
}

fn describe(cfg: &Config, d: &Decision) -> String {
    match d {
        Decision::Allow {
            route,
            rule,
            params,
        } => {
            let Some(r) = cfg.policy.routes.get(*route) else {
                return "ALLOW".to_owned();
            };
            let rule_text = r
                .rules
                .get(*rule)
                .map(ToString::to_string)
                .unwrap_or_default();
            let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!(
                "ALLOW by route \"{}\" ({} -> upstream {}), rule {} ({rule_text}){}",
                r.name,
                r.pattern,
                r.upstream,
                rule + 1,
                if params.is_empty() {
                    String::new()
                } else {
                    format!(", params {}", params.join(", "))
                }
            )
        }
        Decision::Deny { reason, .. } => format!("DENY: {reason}"),
        Decision::NeedLookup { .. } | Decision::NeedBody => "DENY: undecided".to_owned(),
    }
}

async fn subject_from_store(cfg: &Config, username: &str, token: bool) -> anyhow::Result<Subject> {
    let store = context::open_store(cfg).await?;
    let user = store
        .user_by_username(username)
        .await?
        .with_context(|| format!("no user named {username}"))?;
    Ok(Subject {
        user_id: user.id,
        username: user.username,
        roles: user.roles,
        customer_id: user.customer_id,
        via_token: token,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesFile {
    #[serde(default)]
    case: Vec<Case>,
    #[serde(default)]
    lookup_answers: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: Option<String>,
    user: Option<String>,
    #[serde(default)]
    anonymous: bool,
    roles: Option<Vec<String>>,
    customer_id: Option<String>,
    #[serde(default)]
    token: bool,
    #[serde(default = "default_method")]
    method: String,
    path: String,
    query: Option<String>,
    host: Option<String>,
    ip: Option<IpAddr>,
    json: Option<serde_json::Value>,
    expect: Expect,
}

fn default_method() -> String {
    "GET".to_owned()
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Allow,
    Deny,
}

pub async fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Explain {
            cfg: arg,
            user,
            token,
            method,
            path,
            query,
            host,
            ip,
            json,
        } => {
            let cfg = context::load_config(&arg)?;
            let subject = match &user {
                Some(u) => Some(subject_from_store(&cfg, u, token).await?),
                None => None,
            };
            let json: Option<serde_json::Value> = match json {
                Some(j) => Some(serde_json::from_str(&j).context("--json is not valid JSON")?),
                None => None,
            };
            let lookups = context::app_lookups(&cfg)?;
            let d = decide(
                &cfg,
                &Request {
                    method: &method,
                    path: &path,
                    query: query.as_deref(),
                    host: host.as_deref(),
                    ip,
                    subject: subject.as_ref(),
                    json: json.as_ref(),
                },
                &Answers::Live(&lookups),
            )
            .await?;
            if let Some(s) = &subject {
                println!(
                    "caller: {} (roles {}, customer_id {}, {})",
                    s.username,
                    s.roles.join(","),
                    s.customer_id.as_deref().unwrap_or("-"),
                    if s.via_token { "API token" } else { "session" }
                );
            } else {
                println!("caller: anonymous");
            }
            println!("{}", describe(&cfg, &d));
            Ok(if d.is_allow() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PolicyCommand::Test { cfg: arg, cases } => {
            let cfg = context::load_config(&arg)?;
            let text = std::fs::read_to_string(&cases)
                .with_context(|| format!("cannot read {}", cases.display()))?;
            let file: CasesFile = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {}", cases.display(), e.message()))?;
            if file.case.is_empty() {
                bail!("{}: no [[case]] entries", cases.display());
            }
            let mut failed = 0usize;
            let mut store_subjects: HashMap<String, Subject> = HashMap::new();
            for (i, c) in file.case.iter().enumerate() {
                let label = c
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("case {}: {} {}", i + 1, c.method, c.path));
                let subject = match (&c.user, &c.roles, c.anonymous) {
                    (None, None, true) => None,
                    (Some(u), None, false) => {
                        if !store_subjects.contains_key(u) {
                            let s = subject_from_store(&cfg, u, c.token).await?;
                            store_subjects.insert(u.clone(), s);
                        }
                        store_subjects.get(u).cloned().map(|mut s| {
                            s.via_token = c.token;
                            s
                        })
                    }
                    (name, Some(roles), false) => Some(Subject {
                        user_id: name.clone().unwrap_or_else(|| "test-user".to_owned()),
                        username: name.clone().unwrap_or_else(|| "test-user".to_owned()),
                        roles: roles.clone(),
                        customer_id: c.customer_id.clone(),
                        via_token: c.token,
                    }),
                    _ => bail!(
                        "{label}: give exactly one caller: anonymous = true, user = \"NAME\" \
                         (from the store), or roles = [...] (made up)"
                    ),
                };
                let d = decide(
                    &cfg,
                    &Request {
                        method: &c.method,
                        path: &c.path,
                        query: c.query.as_deref(),
                        host: c.host.as_deref(),
                        ip: c.ip.unwrap_or(IpAddr::from([127, 0, 0, 1])),
                        subject: subject.as_ref(),
                        json: c.json.as_ref(),
                    },
                    &Answers::Fixed(&file.lookup_answers),
                )
                .await?;
                let got = if d.is_allow() {
                    Expect::Allow
                } else {
                    Expect::Deny
                };
                if got == c.expect {
                    println!("ok    {label}");
                } else {
                    failed += 1;
                    println!(
                        "FAIL  {label}: expected {:?}, got {}",
                        c.expect,
                        describe(&cfg, &d)
                    );
                }
            }
            println!(
                "{} case(s), {} passed, {failed} failed",
                file.case.len(),
                file.case.len() - failed
            );
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
