//! The result of one audit run: findings, suppressed findings (with the reason given),
//! targets that could not be scanned, and the exit code that follows from them.
//!
//! Scanners only fill a `Report`; the renderers in [`crate::render`] only read one.

use serde::Serialize;

use crate::finding::{Finding, Rule, Severity};

/// A file or target that could not be scanned (unreadable, malformed, unreachable).
/// The rest of the scan goes on, but the run is marked incomplete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanError {
    pub target: String,
    pub message: String,
}

/// Why a finding was not counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `inline` (a `centinela:ignore` comment) or `config` (`.centinela-audit.toml`).
    pub kind: SuppressionKind,
    pub reason: String,
    /// Where the suppression itself is written.
    pub source: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    Inline,
    Config,
}

/// An inline `centinela:ignore RULE-ID reason` comment found in a scanned file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineIgnore {
    pub path: String,
    /// The line the comment is on (1-based).
    pub line: u32,
    /// The line it covers: the same line for a trailing comment, the next code line
    /// for a comment on a line of its own.
    pub applies_to: u32,
    pub column: u32,
    pub ids: Vec<String>,
    pub reason: String,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct Report {
    /// Which scanner ran (`k8s`, `mysql`, `https`, ...), for the tool run description.
    pub scanner: String,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<(Finding, Suppression)>,
    pub errors: Vec<ScanError>,
    /// How many files or targets were looked at.
    pub scanned: usize,
    /// Inline ignores collected while reading files; applied by
    /// [`crate::suppress::apply`].
    pub inline_ignores: Vec<InlineIgnore>,
}

/// The exit codes of `centinela audit`: 0 clean, 1 findings at or above `--fail-on`,
/// 2 the command failed, 3 the scan was incomplete (some target could not be
/// scanned). Incomplete wins over findings: a CI gate must not pass a scan that did
/// not look at everything, and "incomplete" is the thing to fix first.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const INCOMPLETE: u8 = 3;
}

impl Report {
    pub fn new(scanner: impl Into<String>) -> Self {
        Self {
            scanner: scanner.into(),
            ..Self::default()
        }
    }

    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub fn error(&mut self, target: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ScanError {
            target: target.into(),
            message: message.into(),
        });
    }

    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }

    /// The exit code for `--fail-on` (`None`: findings never fail the run).
    pub fn exit_code(&self, fail_on: Option<Severity>) -> u8 {
        if !self.is_complete() {
            return exit::INCOMPLETE;
        }
        match fail_on {
            Some(threshold) if self.findings.iter().any(|f| f.severity >= threshold) => {
                exit::FINDINGS
            }
            _ => exit::CLEAN,
        }
    }

    /// Count of findings per severity, most severe first.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect()
    }

    /// Stable order for output: by artifact, line, column, then rule id. Compares by
    /// reference: a scan of thousands of files sorts hundreds of thousands of findings.
    pub fn sort(&mut self) {
        type Key<'f> = (
            &'f str,
            Option<u32>,
            Option<u32>,
            &'f str,
            Option<&'f str>,
            &'f str,
        );
        fn key(f: &Finding) -> Key<'_> {
            (
                f.location.artifact.as_str(),
                f.location.line,
                f.location.column,
                f.rule.id,
                f.location.object.as_deref(),
                f.message.as_str(),
            )
        }
        fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
            key(a).cmp(&key(b))
        }
        self.findings.sort_by(order);
        self.suppressed.sort_by(|(a, _), (b, _)| order(a, b));
        self.findings.dedup();
    }

    /// Every distinct rule that appears in the report (findings and suppressed).
    pub fn rules(&self) -> Vec<&'static Rule> {
        let mut rules: Vec<&'static Rule> = self
            .findings
            .iter()
            .chain(self.suppressed.iter().map(|(f, _)| f))
            .map(|f| f.rule)
            .collect();
        rules.sort_by_key(|r| r.id);
        rules.dedup_by_key(|r| r.id);
        rules
    }
}
