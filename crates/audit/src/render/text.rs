//! Human output: findings grouped by file or target, most severe first within each
//! group, then suppressed findings and scan errors, then a summary line. Colour (ANSI
//! through `anstyle`) only when the caller says the output is a terminal.

use std::collections::BTreeMap;
use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::all::Scorecard;
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::Error;

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .fg_color(Some(AnsiColor::Magenta.into()))
            .bold(),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Severity::Info => Style::new().dimmed(),
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> Result<(), Error> {
    let p = Painter { color };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();

    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        groups
            .entry(f.location.artifact.as_str())
            .or_default()
            .push(f);
    }
    for (artifact, mut findings) in groups {
        // Most severe first, then in file order.
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.location.line.cmp(&b.location.line))
                .then(a.rule.id.cmp(b.rule.id))
        });
        writeln!(out, "{}", p.paint(bold, artifact))?;
        for f in findings {
            let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
            let mut place = String::new();
            if let Some(line) = f.location.line {
                place = format!("{line}:{}", f.location.column.unwrap_or(1));
            }
            writeln!(
                out,
                "  {} {} {}  {}",
                p.paint(severity_style(f.severity), &sev),
                p.paint(bold, f.rule.id),
                place,
                f.rule.title,
            )?;
            if let Some(object) = &f.location.object {
                writeln!(out, "      {}", p.paint(dim, object))?;
            }
            writeln!(out, "      {}", f.message)?;
            writeln!(out, "      fix: {}", f.rule.remediation)?;
            writeln!(out, "      {}", p.paint(dim, &f.rule.owasp.to_string()))?;
        }
        writeln!(out)?;
    }

    if !report.suppressed.is_empty() {
        writeln!(out, "{}", p.paint(bold, "Suppressed"))?;
        for (f, s) in &report.suppressed {
            writeln!(
                out,
                "  {} {}  {}  ({}: {})",
                f.rule.id, f.location, f.message, s.source, s.reason
            )?;
        }
        writeln!(out)?;
    }

    if !report.errors.is_empty() {
        writeln!(
            out,
            "{}",
            p.paint(severity_style(Severity::High), "Not scanned")
        )?;
        for e in &report.errors {
            writeln!(out, "  {}: {}", e.target, e.message)?;
        }
        writeln!(out)?;
    }

    let counts: Vec<String> = report
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| p.paint(severity_style(s), &format!("{n} {s}")))
        .collect();
    let total = report.findings.len();
    let mut summary = format!(
        "{total} finding{} in {} scanned",
        if total == 1 { "" } else { "s" },
        report.scanned
    );
    if !counts.is_empty() {
        summary.push_str(&format!(" ({})", counts.join(", ")));
    }
    if !report.suppressed.is_empty() {
        summary.push_str(&format!(", {} suppressed", report.suppressed.len()));
    }
    if !report.errors.is_empty() {
        summary.push_str(&format!(
            ", {} not scanned: the scan is incomplete",
            report.errors.len()
        ));
    }
    writeln!(out, "{summary}")?;
    Ok(())
}

/// The OWASP Top 10 scorecard of `audit all`: one line per category with its
/// findings by severity (critical, high, medium, low, info) and the scanners that
/// looked for it; `not covered` when none did.
pub fn scorecard(card: &Scorecard, color: bool, out: &mut dyn Write) -> Result<(), Error> {
    let p = Painter { color };
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.paint(Style::new().bold(), "OWASP Top 10 scorecard")
    )?;
    writeln!(
        out,
        "  {:<52} {:>4} {:>4} {:>4} {:>4} {:>4}  covered by",
        "category", "crit", "high", "med", "low", "info"
    )?;
    for row in &card.rows {
        let label = format!("{} {}", row.category.code(), row.category.name());
        let cells: Vec<String> = row
            .findings
            .iter()
            .map(|(s, n)| {
                let cell = format!("{n:>4}");
                if *n > 0 {
                    p.paint(severity_style(*s), &cell)
                } else {
                    cell
                }
            })
            .collect();
        let covered = if row.covered_by.is_empty() {
            p.paint(Style::new().dimmed(), "not covered")
        } else {
            row.covered_by.join(", ")
        };
        writeln!(out, "  {label:<52} {}  {covered}", cells.join(" "))?;
    }
    Ok(())
}
