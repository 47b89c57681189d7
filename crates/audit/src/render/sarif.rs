//! SARIF 2.1.0 output, the format GitHub code scanning and most CI dashboards read.
//!
//! Each rule appears once in `tool.driver.rules`; results point at it by id and
//! index. File findings carry a `region`; findings on a live target (a database
//! account, a URL) carry the target as the artifact URI and the object as a logical
//! location, because code scanning needs a physical location on every result.
//! Suppressed findings are kept, with `suppressions[].justification`, so the reason
//! travels with the result. Scan errors become tool execution notifications and
//! `executionSuccessful: false`.

use std::io::Write;

use serde_json::{json, Value};

use crate::finding::{Finding, Rule};
use crate::report::{Report, Suppression, SuppressionKind};
use crate::Error;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Percent-encodes what a URI reference may not hold, keeping `/` so relative paths
/// stay paths; absolute file paths become `file://` URIs.
fn artifact_uri(artifact: &str, is_file: bool) -> String {
    if !is_file {
        return artifact.to_owned();
    }
    if artifact == "-" {
        return "stdin".to_owned();
    }
    let path = artifact.replace('\\', "/");
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule_value(rule: &Rule) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id.replace('-', ""),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": rule.explanation },
        "help": {
            "text": rule.remediation,
            "markdown": format!("**{}**\n\n{}\n\n**Fix:** {}\n\nOWASP Top 10: {}",
                rule.title, rule.explanation, rule.remediation, rule.owasp),
        },
        "defaultConfiguration": { "level": rule.severity.sarif_level() },
        "properties": {
            "tags": ["security", rule.owasp.code(), rule.owasp.code_2021()],
            "security-severity": rule.severity.security_score(),
            "precision": "high",
        },
    })
}

fn result_value(f: &Finding, index: usize, suppression: Option<&Suppression>) -> Value {
    let loc = &f.location;
    let mut physical = json!({
        "artifactLocation": { "uri": artifact_uri(&loc.artifact, loc.is_file()) },
    });
    if let Some(line) = loc.line {
        physical["region"] = json!({
            "startLine": line.max(1),
            "startColumn": loc.column.unwrap_or(1).max(1),
        });
    }
    let mut location = json!({ "physicalLocation": physical });
    if let Some(object) = &loc.object {
        location["logicalLocations"] = json!([{ "fullyQualifiedName": object }]);
    }
    let mut result = json!({
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "level": f.severity.sarif_level(),
        "message": { "text": format!("{}: {}", f.rule.title, f.message) },
        "locations": [location],
        "properties": {
            "severity": f.severity,
            "owasp": f.rule.owasp.code(),
            "security-severity": f.severity.security_score(),
        },
    });
    if let Some(s) = suppression {
        result["suppressions"] = json!([{
            "kind": match s.kind {
                SuppressionKind::Inline => "inSource",
                SuppressionKind::Config => "external",
            },
            "status": "accepted",
            "justification": s.reason,
        }]);
    }
    result
}

/// The SARIF log of a report.
pub fn to_value(report: &Report) -> Value {
    let rules = report.rules();
    let index_of = |id: &str| rules.iter().position(|r| r.id == id).unwrap_or(0);
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result_value(f, index_of(f.rule.id), None))
        .collect();
    results.extend(
        report
            .suppressed
            .iter()
            .map(|(f, s)| result_value(f, index_of(f.rule.id), Some(s))),
    );
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", e.target, e.message) },
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "centinela",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/centinela",
                    "rules": rules.iter().map(|r| rule_value(r)).collect::<Vec<_>>(),
                }
            },
            "automationDetails": { "id": format!("centinela/audit/{}/", report.scanner) },
            "invocations": [{
                "executionSuccessful": report.is_complete(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

pub fn render(report: &Report, out: &mut dyn Write) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::artifact_uri;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(artifact_uri("deploy/a b.yaml", true), "deploy/a%20b.yaml");
        assert_eq!(artifact_uri("/abs/x.yaml", true), "file:///abs/x.yaml");
        assert_eq!(artifact_uri("-", true), "stdin");
        assert_eq!(artifact_uri("https://h/", false), "https://h/");
    }
}
