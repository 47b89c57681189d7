//! Centinela's posture scanners (`centinela audit ...`).
//!
//! Each scanner (Kubernetes manifests and RBAC, lockfiles against an offline
//! advisory database, Python and JavaScript sources, a live MySQL server, a live
//! HTTPS endpoint) turns what it reads into
//! [`Finding`]s of static [`Rule`]s inside a [`Report`]. Detection never formats
//! output: [`render`] turns any report into text, JSON or SARIF, [`suppress`] applies
//! `.centinela-audit.toml` and inline `centinela:ignore` comments, and
//! [`Report::exit_code`] gives the CI verdict. The crate depends on `core` only, never
//! on `store` or `gateway`.
#![forbid(unsafe_code)]

/// Declares one `pub static` [`Rule`] of a scanner: name, stable id, severity, OWASP
/// category, then title, explanation and remediation. Defined before the modules so
/// every scanner's rule table uses the same form.
macro_rules! rule {
    ($name:ident, $id:literal, $sev:ident, $owasp:ident, $title:literal, $expl:literal, $fix:literal) => {
        pub static $name: $crate::finding::Rule = $crate::finding::Rule {
            id: $id,
            severity: $crate::finding::Severity::$sev,
            title: $title,
            explanation: $expl,
            remediation: $fix,
            owasp: $crate::finding::Owasp::$owasp,
        };
    };
}

pub mod advisories;
pub mod all;
pub mod code;
pub mod deps;
mod error;
pub mod finding;
pub mod https;
pub mod k8s;
pub mod mysql;
mod par;
pub mod progress;
pub mod render;
pub mod report;
pub mod suppress;
mod walk;

pub use error::Error;
pub use finding::{Finding, Location, Owasp, Rule, Severity};
pub use report::{exit, Report, ScanError};

/// Every rule of every scanner, for documentation and the uniqueness test.
pub fn all_rules() -> Vec<&'static Rule> {
    let mut all: Vec<&'static Rule> = Vec::new();
    all.extend_from_slice(suppress::RULES);
    all.extend_from_slice(k8s::rules::RULES);
    all.extend_from_slice(mysql::RULES);
    all.extend_from_slice(https::rules::RULES);
    all.extend_from_slice(deps::RULES);
    all.extend_from_slice(code::rules::RULES);
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn rule_ids_are_unique_and_well_formed() {
        let rules = super::all_rules();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        for id in &ids {
            let (prefix, num) = id.split_once('-').expect("PREFIX-NNN");
            assert!(
                prefix
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "{id}"
            );
            assert!(
                num.len() == 3 && num.chars().all(|c| c.is_ascii_digit()),
                "{id}"
            );
        }
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
        for r in rules {
            assert!(
                !r.title.is_empty() && !r.explanation.is_empty() && !r.remediation.is_empty(),
                "{}",
                r.id
            );
        }
    }
}
