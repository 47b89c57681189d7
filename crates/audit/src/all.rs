//! `audit all PATH…`: one walk over a repository that hands each file to the scanner
//! it belongs to (lockfiles to `deps`, Python and JavaScript/TypeScript sources to
//! `code`, Kubernetes manifests to `k8s`), one merged [`Report`], and an OWASP Top 10
//! [`Scorecard`]: per category, the findings by severity and the scanners that looked
//! for it, so an empty row can be told apart from a category nobody checked.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::advisories::Db;
use crate::finding::{Owasp, Rule, Severity};
use crate::progress::Progress;
use crate::report::Report;
use crate::{code, deps, k8s};

/// What a YAML file must start to look like before it is read as a manifest: the
/// first 64 KiB hold both `apiVersion:` and `kind:`. Other YAML (CI workflows,
/// compose files, Helm values) is not a Kubernetes object and is left alone.
const MANIFEST_SNIFF: usize = 64 * 1024;

/// The scanners `audit all` can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    K8s,
    Deps,
    Code,
}

impl Scanner {
    pub fn name(self) -> &'static str {
        match self {
            Self::K8s => "k8s",
            Self::Deps => "deps",
            Self::Code => "code",
        }
    }

    fn rules(self) -> &'static [&'static Rule] {
        match self {
            Self::K8s => k8s::rules::RULES,
            Self::Deps => deps::RULES,
            Self::Code => code::rules::RULES,
        }
    }
}

/// The advisory database for `deps`, or why there is none (then lockfiles are
/// reported as not scanned rather than passing silently).
#[derive(Debug)]
pub enum Advisories<'a> {
    Loaded(&'a Db, deps::Options),
    Unavailable(String),
}

/// The files of one repository, sorted by the scanner that reads them.
#[derive(Debug, Default)]
struct Files {
    lockfiles: Vec<PathBuf>,
    sources: Vec<PathBuf>,
    manifests: Vec<PathBuf>,
}

fn classify(paths: &[PathBuf], report: &mut Report) -> Files {
    let mut files = Files::default();
    for root in paths {
        if !root.exists() {
            report.error(root.display().to_string(), "no such file or directory");
            continue;
        }
        for path in crate::walk::files(root, report) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if deps::lockfile::Kind::of(name).is_some() {
                files.lockfiles.push(path);
            } else if code::is_source(&path) {
                files.sources.push(path);
            } else if is_yaml(&path) && looks_like_manifest(&path) {
                files.manifests.push(path);
            }
        }
    }
    files
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml"))
}

/// Reads at most [`MANIFEST_SNIFF`] bytes. Helm templates (`{{ ... }}`) are not
/// YAML until rendered; they are skipped here and belong in
/// `helm template … | centinela audit k8s -`.
fn looks_like_manifest(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|f| f.take(MANIFEST_SNIFF as u64).read_to_end(&mut head));
    if read.is_err() {
        // Unreadable: let the k8s scanner say why, as a scan error.
        return true;
    }
    let text = String::from_utf8_lossy(&head);
    let has_key = |key: &str| {
        text.lines()
            .any(|l| l.trim_start_matches("- ").trim_start().starts_with(key))
    };
    has_key("apiVersion:") && has_key("kind:") && !text.contains("{{")
}

/// Runs every scanner that has files to read under `paths` and merges their
/// reports. Returns the scanners that ran, for the scorecard.
pub fn scan(
    paths: &[PathBuf],
    advisories: &Advisories<'_>,
    show_progress: bool,
) -> (Report, Vec<Scanner>) {
    let mut report = Report::new("all");
    let files = classify(paths, &mut report);
    let mut ran = Vec::new();

    if !files.manifests.is_empty() {
        ran.push(Scanner::K8s);
        let mut part = Report::new("k8s");
        let inputs = k8s::collect(&files.manifests, &mut part);
        let progress = Progress::new(inputs.len() as u64, show_progress && inputs.len() > 20);
        k8s::scan_inputs(&inputs, &k8s::Options::default(), &mut part, &progress);
        progress.finish();
        merge(&mut report, part);
    }
    if !files.lockfiles.is_empty() {
        match advisories {
            Advisories::Loaded(db, options) => {
                ran.push(Scanner::Deps);
                merge(&mut report, deps::scan(&files.lockfiles, db, options));
            }
            Advisories::Unavailable(why) => {
                for f in &files.lockfiles {
                    report.error(
                        f.display().to_string(),
                        format!("lockfile not checked: {why}"),
                    );
                }
            }
        }
    }
    if !files.sources.is_empty() {
        ran.push(Scanner::Code);
        merge(&mut report, code::scan(&files.sources));
    }
    report.sort();
    (report, ran)
}

fn merge(into: &mut Report, part: Report) {
    into.findings.extend(part.findings);
    into.suppressed.extend(part.suppressed);
    into.errors.extend(part.errors);
    into.scanned += part.scanned;
    into.inline_ignores.extend(part.inline_ignores);
}

/// One row of the scorecard.
#[derive(Debug, Serialize)]
pub struct Row {
    pub category: Owasp,
    /// Findings per severity, most severe first (after suppressions).
    pub findings: Vec<(Severity, usize)>,
    /// The scanners that ran and have rules in this category. Empty: nothing here
    /// looked for it (the gateway or a live scan, `audit mysql|https`, may).
    pub covered_by: Vec<&'static str>,
}

/// The OWASP Top 10 scorecard of a finished (suppressions applied) report.
#[derive(Debug, Serialize)]
pub struct Scorecard {
    pub rows: Vec<Row>,
}

impl Scorecard {
    pub fn of(report: &Report, ran: &[Scanner]) -> Self {
        let rows = Owasp::ALL
            .iter()
            .map(|&category| Row {
                category,
                findings: Severity::ALL
                    .iter()
                    .map(|&s| {
                        let n = report
                            .findings
                            .iter()
                            .filter(|f| f.rule.owasp == category && f.severity == s)
                            .count();
                        (s, n)
                    })
                    .collect(),
                covered_by: ran
                    .iter()
                    .filter(|s| s.rules().iter().any(|r| r.owasp == category))
                    .map(|s| s.name())
                    .collect(),
            })
            .collect();
        Self { rows }
    }

    /// The scorecard as JSON: `[{"category", "name", "critical", ..., "covered_by"}]`.
    pub fn to_json(&self) -> serde_json::Value {
        self.rows
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                o.insert("category".into(), r.category.code().into());
                o.insert("name".into(), r.category.name().into());
                for (s, n) in &r.findings {
                    o.insert(s.as_str().into(), (*n).into());
                }
                o.insert("covered_by".into(), r.covered_by.clone().into());
                serde_json::Value::Object(o)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_told_from_other_yaml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            p
        };
        assert!(looks_like_manifest(&write(
            "d.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"
        )));
        assert!(looks_like_manifest(&write(
            "l.yaml",
            "items:\n- apiVersion: v1\n  kind: Service\n"
        )));
        assert!(!looks_like_manifest(&write(
            "ci.yml",
            "name: CI\non: [push]\njobs: {}\n"
        )));
        assert!(!looks_like_manifest(&write(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\n"
        )));
    }
}
