//! Suppressions: `.centinela-audit.toml` entries and inline `centinela:ignore` comments.
//!
//! A suppression must say why. One without a reason does not suppress anything and is
//! itself reported (`AUD-001`), so "ignore" can never be a silent blanket; the reason
//! is carried into every output (SARIF `suppressions[].justification`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::finding::{Finding, Location, Owasp, Rule, Severity};
use crate::report::{InlineIgnore, Report, Suppression, SuppressionKind};
use crate::Error;

/// The file looked for in the working directory when `--suppressions` is not given.
pub const DEFAULT_FILE: &str = ".centinela-audit.toml";

pub static NO_REASON: Rule = Rule {
    id: "AUD-001",
    severity: Severity::Low,
    title: "Suppression without a reason",
    explanation: "A suppression that does not say why a finding is acceptable cannot be \
        reviewed later; it is ignored, and the finding it names is still reported.",
    remediation: "Add a reason: `# centinela:ignore RULE-ID why this is acceptable`, or \
        `reason = \"...\"` in the `[[ignore]]` entry of .centinela-audit.toml.",
    owasp: Owasp::A6SecurityMisconfiguration,
};

pub static RULES: &[&Rule] = &[&NO_REASON];

/// The suppression file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub ignore: Vec<Entry>,
}

/// One `[[ignore]]` entry: a rule id, optionally narrowed to a location.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The rule id (`K8S-001`).
    pub id: String,
    /// Only findings whose artifact (path or URL) contains this text.
    #[serde(default)]
    pub path: Option<String>,
    /// Only findings whose object (e.g. `Deployment prod/web`) contains this text.
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A loaded suppression file and where it came from (for messages).
#[derive(Debug, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub config: Config,
}

/// Reads `path`, or `.centinela-audit.toml` in the working directory when `path` is
/// `None` and that file exists.
pub fn load(path: Option<&Path>) -> Result<Loaded, Error> {
    let (path, required) = match path {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_FILE), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded::default())
        }
        Err(source) => return Err(Error::ConfigRead { path, source }),
    };
    let config = parse(&text).map_err(|message| Error::ConfigParse {
        path: path.clone(),
        message,
    })?;
    Ok(Loaded {
        path: Some(path),
        config,
    })
}

/// Parses the text of a suppression file.
pub fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

/// Finds `centinela:ignore` comments in `text` (after `#` or `//`, so the same
/// syntax serves YAML, Python and JavaScript).
pub fn scan_inline(path: &str, text: &str) -> Vec<InlineIgnore> {
    const MARKER: &str = "centinela:ignore";
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (idx, line) in lines.iter().enumerate() {
        let Some(pos) = line.find(MARKER) else {
            continue;
        };
        let before = &line[..pos];
        let comment_start = match (before.rfind('#'), before.rfind("//")) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => continue, // the word in a value, not a comment
        };
        let rest = line[pos + MARKER.len()..].trim();
        let mut words = rest.splitn(2, char::is_whitespace);
        let ids_word = words.next().unwrap_or_default();
        let reason = words.next().unwrap_or_default().trim().to_owned();
        let ids: Vec<String> = ids_word
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        // A comment alone on its line covers the next line that is not a comment.
        let applies_to = if line[..comment_start].trim().is_empty() {
            lines
                .iter()
                .enumerate()
                .skip(idx + 1)
                .find(|(_, l)| {
                    let t = l.trim_start();
                    !t.is_empty() && !t.starts_with('#') && !t.starts_with("//")
                })
                .map_or(line_no, |(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
        } else {
            line_no
        };
        out.push(InlineIgnore {
            path: path.to_owned(),
            line: line_no,
            applies_to,
            column: u32::try_from(comment_start + 1).unwrap_or(u32::MAX),
            ids,
            reason,
        });
    }
    out
}

/// Moves suppressed findings out of `report.findings` and reports suppressions that
/// give no reason.
pub fn apply(report: &mut Report, loaded: &Loaded) {
    let config_name = loaded
        .path
        .as_ref()
        .map_or_else(|| DEFAULT_FILE.to_owned(), |p| p.display().to_string());
    let mut extra = Vec::new();
    for ig in &report.inline_ignores {
        if ig.reason.is_empty() || ig.ids.is_empty() {
            extra.push(Finding::new(
                &NO_REASON,
                Location::file(ig.path.clone(), ig.line, ig.column),
                if ig.ids.is_empty() {
                    "`centinela:ignore` names no rule id and gives no reason".to_owned()
                } else {
                    format!(
                        "`centinela:ignore {}` gives no reason; it is not applied",
                        ig.ids.join(",")
                    )
                },
            ));
        }
    }
    for (i, entry) in loaded.config.ignore.iter().enumerate() {
        if entry.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            extra.push(Finding::new(
                &NO_REASON,
                Location::target(config_name.clone()).with_object(format!(
                    "[[ignore]] #{} id = {}",
                    i + 1,
                    entry.id
                )),
                format!(
                    "suppression of {} gives no reason; it is not applied",
                    entry.id
                ),
            ));
        }
    }

    let findings = std::mem::take(&mut report.findings);
    for finding in findings {
        match suppression_for(&finding, &report.inline_ignores, loaded, &config_name) {
            Some(s) => report.suppressed.push((finding, s)),
            None => report.findings.push(finding),
        }
    }
    report.findings.extend(extra);
}

fn suppression_for(
    finding: &Finding,
    inline: &[InlineIgnore],
    loaded: &Loaded,
    config_name: &str,
) -> Option<Suppression> {
    let loc = &finding.location;
    if let Some(line) = loc.line {
        let hit = inline.iter().find(|ig| {
            !ig.reason.is_empty()
                && ig.path == loc.artifact
                && ig.applies_to == line
                && ig.ids.iter().any(|id| id == finding.rule.id)
        });
        if let Some(ig) = hit {
            return Some(Suppression {
                kind: SuppressionKind::Inline,
                reason: ig.reason.clone(),
                source: format!("{}:{}", ig.path, ig.line),
            });
        }
    }
    loaded
        .config
        .ignore
        .iter()
        .enumerate()
        .find(|(_, e)| {
            e.id == finding.rule.id
                && e.reason.as_deref().is_some_and(|r| !r.trim().is_empty())
                && e.path.as_deref().is_none_or(|p| loc.artifact.contains(p))
                && e.object
                    .as_deref()
                    .is_none_or(|o| loc.object.as_deref().is_some_and(|obj| obj.contains(o)))
        })
        .map(|(i, e)| Suppression {
            kind: SuppressionKind::Config,
            reason: e.reason.clone().unwrap_or_default(),
            source: format!("{config_name} [[ignore]] #{}", i + 1),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    static R: Rule = Rule {
        id: "TST-001",
        severity: Severity::High,
        title: "t",
        explanation: "e",
        remediation: "r",
        owasp: Owasp::A6SecurityMisconfiguration,
    };

    #[test]
    fn inline_comment_on_own_line_covers_next_code_line() {
        let text = "a: 1\n# centinela:ignore TST-001 accepted: lab only\n\n# other\nb: 2\n";
        let ig = scan_inline("f.yaml", text);
        assert_eq!(ig.len(), 1);
        assert_eq!(ig[0].line, 2);
        assert_eq!(ig[0].applies_to, 5);
        assert_eq!(ig[0].ids, vec!["TST-001"]);
        assert_eq!(ig[0].reason, "accepted: lab only");
    }

    #[test]
    fn trailing_comment_covers_its_line_and_reasonless_is_reported() {
        let text = "x: 1 # centinela:ignore TST-001\ny: 2 // centinela:ignore TST-001 ok because\n";
        let mut report = Report::new("t");
        report.inline_ignores = scan_inline("f", text);
        report.push(Finding::new(&R, Location::file("f", 1, 4), "one"));
        report.push(Finding::new(&R, Location::file("f", 2, 4), "two"));
        apply(&mut report, &Loaded::default());
        assert_eq!(report.suppressed.len(), 1);
        assert_eq!(report.suppressed[0].0.message, "two");
        let ids: Vec<_> = report.findings.iter().map(|f| f.rule.id).collect();
        assert_eq!(ids, vec!["TST-001", "AUD-001"]);
    }

    #[test]
    fn config_entries_match_by_id_path_and_object() {
        let config = parse(
            "[[ignore]]\nid = \"TST-001\"\npath = \"prod\"\nobject = \"web\"\nreason = \"r\"\n\
             [[ignore]]\nid = \"TST-001\"\n",
        )
        .expect("parses");
        let loaded = Loaded { path: None, config };
        let mut report = Report::new("t");
        report.push(Finding::new(
            &R,
            Location::file("prod/a.yaml", 1, 1).with_object("Deployment x/web"),
            "hit",
        ));
        report.push(Finding::new(
            &R,
            Location::file("dev/a.yaml", 1, 1).with_object("Deployment x/web"),
            "miss",
        ));
        apply(&mut report, &loaded);
        assert_eq!(report.suppressed.len(), 1);
        assert_eq!(report.suppressed[0].0.message, "hit");
        assert_eq!(report.findings.len(), 2); // "miss" and AUD-001 for the reasonless entry
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(parse("[[ignore]]\nid = \"X\"\nresaon = \"typo\"\n").is_err());
    }
}
