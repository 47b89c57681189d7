//! JSON output: one object with the findings (every rule field inlined, so a consumer
//! needs no rule table), suppressed findings with their reasons, scan errors and a
//! summary. Field names are part of the interface; add fields, never rename them.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::finding::{Finding, Location, Owasp, Severity};
use crate::report::{Report, ScanError, Suppression};
use crate::Error;

/// One finding as written: every rule field inlined. Borrowed from the report, so a
/// scan with hundreds of thousands of findings is written without building a tree.
#[derive(Serialize)]
struct FindingOut<'a> {
    id: &'a str,
    severity: Severity,
    title: &'a str,
    message: &'a str,
    location: &'a Location,
    explanation: &'a str,
    remediation: &'a str,
    owasp: Owasp,
    owasp_2021: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<&'a Suppression>,
}

impl<'a> FindingOut<'a> {
    fn new(f: &'a Finding, suppression: Option<&'a Suppression>) -> Self {
        Self {
            id: f.rule.id,
            severity: f.severity,
            title: f.rule.title,
            message: &f.message,
            location: &f.location,
            explanation: f.rule.explanation,
            remediation: f.rule.remediation,
            owasp: f.rule.owasp,
            owasp_2021: f.rule.owasp.code_2021(),
            suppression,
        }
    }
}

#[derive(Serialize)]
struct ReportOut<'a> {
    tool: &'static str,
    version: &'static str,
    scanner: &'a str,
    complete: bool,
    scanned: usize,
    summary: std::collections::BTreeMap<&'static str, usize>,
    findings: Vec<FindingOut<'a>>,
    suppressed: Vec<FindingOut<'a>>,
    errors: &'a [ScanError],
    /// What a scanner adds (`who_can`, `scorecard`).
    #[serde(flatten)]
    extra: std::collections::BTreeMap<&'a str, Value>,
}

fn out<'a>(report: &'a Report, extra: &[(&'a str, Value)]) -> ReportOut<'a> {
    ReportOut {
        tool: "centinela",
        version: env!("CARGO_PKG_VERSION"),
        scanner: &report.scanner,
        complete: report.is_complete(),
        scanned: report.scanned,
        summary: report
            .counts()
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect(),
        findings: report
            .findings
            .iter()
            .map(|f| FindingOut::new(f, None))
            .collect(),
        suppressed: report
            .suppressed
            .iter()
            .map(|(f, s)| FindingOut::new(f, Some(s)))
            .collect(),
        errors: &report.errors,
        extra: extra.iter().cloned().collect(),
    }
}

/// The JSON value of one finding.
pub fn finding(f: &Finding) -> Value {
    serde_json::to_value(FindingOut::new(f, None)).unwrap_or(Value::Null)
}

/// The JSON value of a whole report (for tests and callers that edit it).
pub fn to_value(report: &Report) -> Value {
    serde_json::to_value(out(report, &[])).unwrap_or(Value::Null)
}

/// Writes the report, with the scanner's extra top-level fields.
pub fn render_with(
    report: &Report,
    extra: &[(&str, Value)],
    w: &mut dyn Write,
) -> Result<(), Error> {
    serde_json::to_writer_pretty(&mut *w, &out(report, extra))?;
    writeln!(w)?;
    Ok(())
}

pub fn render(report: &Report, w: &mut dyn Write) -> Result<(), Error> {
    render_with(report, &[], w)
}
