//! JSON output: one object with the findings (every rule field inlined, so a consumer
//! needs no rule table), suppressed findings with their reasons, scan errors and a
//! summary. Field names are part of the interface; add fields, never rename them.

use std::io::Write;

use serde_json::{json, Value};

use crate::finding::Finding;
use crate::report::Report;
use crate::Error;

/// The JSON value of one finding.
pub fn finding(f: &Finding) -> Value {
    json!({
        "id": f.rule.id,
        "severity": f.severity,
        "title": f.rule.title,
        "message": f.message,
        "location": f.location,
        "explanation": f.rule.explanation,
        "remediation": f.rule.remediation,
        "owasp": f.rule.owasp,
        "owasp_2021": f.rule.owasp.code_2021(),
    })
}

/// The JSON value of a whole report.
pub fn to_value(report: &Report) -> Value {
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    json!({
        "tool": "centinela",
        "version": env!("CARGO_PKG_VERSION"),
        "scanner": report.scanner,
        "complete": report.is_complete(),
        "scanned": report.scanned,
        "summary": counts,
        "findings": report.findings.iter().map(finding).collect::<Vec<_>>(),
        "suppressed": report.suppressed.iter().map(|(f, s)| {
            let mut v = finding(f);
            v["suppression"] = json!(s);
            v
        }).collect::<Vec<_>>(),
        "errors": report.errors,
    })
}

pub fn render(report: &Report, out: &mut dyn Write) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    writeln!(out)?;
    Ok(())
}
