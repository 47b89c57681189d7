//! `audit deps`: finds lockfiles under the given paths, reads the packages they pin
//! and checks each against the local advisory database ([`crate::advisories`]).
//!
//! Detection only fills a [`Report`]; one finding per package version and advisory,
//! located at the lockfile entry, with the advisory id, aliases, severity and the
//! nearest fixed version in the message, and `name version (ADVISORY-ID)` as the
//! object so a suppression can name one advisory (`object = "RUSTSEC-2023-0001"`).

pub mod lockfile;
pub mod version;

use std::path::{Path, PathBuf};

use crate::advisories::{self, Db, Hit};
use crate::finding::{Finding, Location, Owasp, Rule, Severity};
use crate::report::Report;
use lockfile::{Kind, Package};
use version::Ecosystem;

pub static VULNERABLE: Rule = Rule {
    id: "DEPS-001",
    severity: Severity::High,
    title: "Dependency with a known vulnerability",
    explanation: "The lockfile pins a package version that a published advisory says is \
        vulnerable. The finding's severity is the advisory's (from its CVSS vector or \
        stated level); `high` when the advisory gives none.",
    remediation: "Upgrade the package to the fixed version named in the finding (update \
        the lockfile: `cargo update -p`, `npm install pkg@version`, `poetry update`, ...), \
        or remove the dependency. If the vulnerable code is provably unreachable, \
        suppress the finding with a reason.",
    owasp: Owasp::A9VulnerableComponents,
};

pub static INFORMATIONAL: Rule = Rule {
    id: "DEPS-002",
    severity: Severity::Low,
    title: "Dependency with an informational advisory",
    explanation: "An advisory marks the package as unmaintained, unsound or otherwise \
        worth attention without a specific vulnerability: no fixes will come for the \
        next problem found in it.",
    remediation: "Plan a move to a maintained alternative (the advisory usually names \
        some), or accept the risk with a suppression that says why.",
    owasp: Owasp::A9VulnerableComponents,
};

pub static STALE_DB: Rule = Rule {
    id: "DEPS-003",
    severity: Severity::Info,
    title: "Advisory database is old",
    explanation: "The local advisory data was imported longer ago than the configured \
        maximum age: advisories published since then are not checked.",
    remediation: "Fetch current exports (OSV zip files, a RustSec advisory-db checkout) \
        and run `centinela advisories import PATH` again.",
    owasp: Owasp::A9VulnerableComponents,
};

pub static RULES: &[&Rule] = &[&VULNERABLE, &INFORMATIONAL, &STALE_DB];

/// Options of one scan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Warn (`DEPS-003`) when the oldest import is older than this many days.
    pub max_age_days: u64,
    /// Now, in Unix seconds (given, so tests are deterministic).
    pub now: u64,
}

/// Lockfiles bigger than this are refused per file (bounds memory).
const MAX_LOCKFILE: u64 = 64 * 1024 * 1024;

/// Scans every lockfile found under `paths` against `db`.
pub fn scan(paths: &[PathBuf], db: &Db, options: &Options) -> Report {
    let mut report = Report::new("deps");
    let files = discover(paths, &mut report);
    let index = db.index();
    let have = db.ecosystems();
    let mut missing_eco: Vec<Ecosystem> = Vec::new();
    for (path, kind) in files {
        let shown = path.display().to_string();
        let text = match read_bounded(&path) {
            Ok(t) => t,
            Err(e) => {
                report.error(&shown, e);
                continue;
            }
        };
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let packages = match lockfile::parse(kind, name, &text) {
            Ok(p) => p,
            Err(e) => {
                report.error(&shown, e);
                continue;
            }
        };
        report.scanned += 1;
        let eco = kind.ecosystem();
        if !have.contains(&eco) && !packages.is_empty() {
            if !missing_eco.contains(&eco) {
                missing_eco.push(eco);
            }
            // Nothing was checked: say so, rather than a clean result.
            report.error(
                &shown,
                format!(
                    "the advisory database has no {eco} advisories; import some to check this file"
                ),
            );
            continue;
        }
        for p in &packages {
            let (hits, errors) = index.lookup(p.ecosystem, &p.name, &p.version);
            for e in errors {
                report.error(format!("{shown}:{}", p.line), e);
            }
            for hit in hits {
                report.push(finding(&shown, p, &hit));
            }
        }
    }
    if let Some((oldest, what)) = db.data_date() {
        let age_days = options.now.saturating_sub(oldest) / 86_400;
        if age_days > options.max_age_days {
            report.push(Finding::new(
                &STALE_DB,
                Location::target("advisory database"),
                format!(
                    "the advisory data is {age_days} days old ({what}; the limit is {} days)",
                    options.max_age_days
                ),
            ));
        }
    }
    report
}

fn finding(path: &str, p: &Package, hit: &Hit<'_>) -> Finding {
    let a = hit.advisory;
    let rule = if a.informational.is_some() {
        &INFORMATIONAL
    } else {
        &VULNERABLE
    };
    let severity = match (&a.informational, advisories::severity_of(a)) {
        (Some(_), _) => Severity::Low,
        (None, Some(s)) => s,
        (None, None) => Severity::High,
    };
    let mut msg = format!("{} {}: {}", p.name, p.version, a.id);
    if !a.aliases.is_empty() {
        msg.push_str(&format!(" ({})", a.aliases.join(", ")));
    }
    if let Some(kind) = &a.informational {
        msg.push_str(&format!(" [{kind}]"));
    }
    if !a.summary.is_empty() {
        msg.push_str(&format!(" {}", a.summary));
    }
    let sev_note = match (advisories::severity_of(a), &a.cvss) {
        (Some(s), Some(v)) => format!("severity {s} ({v})"),
        (Some(s), None) => format!("severity {s}"),
        (None, _) if a.informational.is_some() => "informational".to_string(),
        (None, _) => "severity not given by the advisory".to_string(),
    };
    msg.push_str(&format!("; {sev_note}"));
    match &hit.fixed {
        Some(f) => msg.push_str(&format!("; fixed in {f}")),
        None => msg.push_str("; no fixed version"),
    }
    if let Some(scope) = p.scope.label() {
        msg.push_str(&format!("; {scope} dependency"));
    }
    if let Some(url) = &a.url {
        msg.push_str(&format!("; {url}"));
    }
    let mut object = format!("{} {} ({})", p.name, p.version, a.id);
    if let Some(scope) = p.scope.label() {
        object.push_str(&format!(" [{scope}]"));
    }
    Finding::new(
        rule,
        Location::file(path, p.line, 1).with_object(object),
        msg,
    )
    .with_severity(severity)
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_LOCKFILE {
        return Err(format!(
            "{} bytes: larger than the 64 MiB limit for a lockfile",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text (binary file?)".to_string())
}

/// The lockfiles named or found under `paths`. A file given by name is read whatever
/// its name says only if the name is one of the known kinds.
pub fn discover(paths: &[PathBuf], report: &mut Report) -> Vec<(PathBuf, Kind)> {
    let mut out = Vec::new();
    for root in paths {
        if root.is_file() {
            match root.file_name().and_then(|n| n.to_str()).and_then(Kind::of) {
                Some(k) => out.push((root.clone(), k)),
                None => report.error(root.display().to_string(), "not a known lockfile name (Cargo.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, requirements*.txt, poetry.lock, Pipfile.lock, uv.lock)"),
            }
            continue;
        }
        if !root.exists() {
            report.error(root.display().to_string(), "no such file or directory");
            continue;
        }
        for path in crate::walk::files(root, report) {
            if let Some(k) = path.file_name().and_then(|n| n.to_str()).and_then(Kind::of) {
                out.push((path, k));
            }
        }
    }
    out
}

/// Seconds since the Unix epoch now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
