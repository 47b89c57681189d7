//! `advisories import` and `audit deps` through the library: the advisory sets
//! written for these tests (OSV JSON and YAML, an OSV zip export, a RustSec tree,
//! legacy npm advisories) against the lockfile fixtures of every supported kind.

use std::collections::BTreeSet;
use std::path::PathBuf;

use centinela_audit::advisories::Db;
use centinela_audit::deps::{self, Options};
use centinela_audit::Severity;

const NOW: u64 = 1_780_000_000;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn db() -> Db {
    let mut db = Db::default();
    for src in ["advisories/osv", "advisories/rustsec", "advisories/npm"] {
        let r = db.import(&fixture(src), NOW).expect("import");
        assert!(r.errors.is_empty(), "{src}: {:?}", r.errors);
    }
    db
}

/// The fixtures' records are dated 2026-01-10: allow that here, so only the
/// staleness test sees DEPS-003.
fn options() -> Options {
    Options {
        max_age_days: 3_650,
        now: NOW,
    }
}

#[test]
fn every_vulnerable_pin_is_reported_with_its_fix_and_scope() {
    let report = deps::scan(&[fixture("deps")], &db(), &options());
    let got: BTreeSet<String> = report
        .findings
        .iter()
        .map(|f| {
            let dir = f.location.artifact.rsplit('/').nth(1).unwrap_or_default();
            let fixed = f
                .message
                .split("; fixed in ")
                .nth(1)
                .and_then(|s| s.split(';').next())
                .unwrap_or("-");
            format!(
                "{dir} {} -> {fixed}",
                f.location.object.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let want: BTreeSet<String> = [
        "rust tokio 1.18.0 (GHSA-test-tokio) -> 1.18.4",
        "rust smallvec 1.6.0 (RUSTSEC-2099-0004) -> 1.6.1",
        "npm-v1 lodash 4.17.4 (NSWG-ECO-9901) -> 4.17.21",
        // Below the first range of `<0.2.1 || >=1.0.0 <1.2.6`: the nearest fix is 0.2.1.
        "npm-v1 minimist 0.0.8 (NSWG-ECO-9903) [dev] -> 0.2.1",
        "npm-v3 lodash 4.17.20 (NSWG-ECO-9901) -> 4.17.21",
        // Transitive, nested under another package's node_modules.
        "npm-v3 minimist 1.2.0 (NSWG-ECO-9903) -> 1.2.6",
        "npm-v3 jest 29.0.0 (NSWG-ECO-9902) [dev] -> 29.0.3",
        "yarn-classic lodash 4.17.4 (NSWG-ECO-9901) -> 4.17.21",
        "yarn-berry lodash 4.17.20 (NSWG-ECO-9901) -> 4.17.21",
        "pnpm-v6 lodash 4.17.20 (NSWG-ECO-9901) -> 4.17.21",
        "pnpm-v6 minimist 1.2.0 (NSWG-ECO-9903) [dev] -> 1.2.6",
        "pnpm-v9 minimist 1.2.0 (NSWG-ECO-9903) [dev] -> 1.2.6",
        "python Django 3.1.0 (PYSEC-test-django) -> 3.1.13",
        "python pytest 6.0.0 (PYSEC-test-pytest) [dev] -> 7.2.0",
        "poetry django 3.1.0 (PYSEC-test-django) -> 3.1.13",
        "poetry pytest 6.0.0 (PYSEC-test-pytest) [dev] -> 7.2.0",
        "pipenv django 3.1.0 (PYSEC-test-django) -> 3.1.13",
        "pipenv pytest 6.0.0 (PYSEC-test-pytest) [dev] -> 7.2.0",
        "uv django 3.1.0 (PYSEC-test-django) -> 3.1.13",
        "uv pytest 6.0.0 (PYSEC-test-pytest) [dev] -> 7.2.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed: {missed:#?}\nextra: {extra:#?}"
    );
    // The three broken lockfiles are named, the rest was scanned.
    assert_eq!(report.errors.len(), 3, "{:?}", report.errors);
    assert!(!report.is_complete());
}

#[test]
fn findings_carry_ids_aliases_severity_and_location() {
    let report = deps::scan(&[fixture("deps/rust/Cargo.lock")], &db(), &options());
    assert!(report.is_complete(), "{:?}", report.errors);
    let tokio = report
        .findings
        .iter()
        .find(|f| f.message.starts_with("tokio"))
        .expect("tokio");
    assert!(
        tokio.message.contains("GHSA-test-tokio (CVE-2099-0001)"),
        "{}",
        tokio.message
    );
    // From the CVSS 3.1 vector (9.8).
    assert_eq!(tokio.severity, Severity::Critical);
    assert_eq!(tokio.location.line, Some(17));
    let smallvec = report
        .findings
        .iter()
        .find(|f| f.message.starts_with("smallvec"))
        .expect("smallvec");
    assert!(
        smallvec.message.contains("CVE-2099-0004, GHSA-test-smvc"),
        "{}",
        smallvec.message
    );
    assert_eq!(smallvec.severity, Severity::High);
}

#[test]
fn the_zip_export_and_a_directory_give_the_same_advisories() {
    let mut from_zip = Db::default();
    let r = from_zip
        .import(&fixture("advisories/osv-export.zip"), NOW)
        .expect("zip");
    assert_eq!((r.kind.as_str(), r.advisories), ("osv", 2));
    let report = deps::scan(&[fixture("deps/rust")], &from_zip, &options());
    assert_eq!(report.findings.len(), 1);
    // Importing the same ids again replaces them instead of doubling the findings.
    from_zip
        .import(&fixture("advisories/osv"), NOW)
        .expect("dir");
    assert_eq!(
        deps::scan(&[fixture("deps/rust")], &from_zip, &options())
            .findings
            .len(),
        1
    );
}

#[test]
fn corrupt_advisory_files_are_named_and_the_rest_imported() {
    let mut db = Db::default();
    let r = db
        .import(&fixture("advisories/broken"), NOW)
        .expect("import");
    assert_eq!(r.advisories, 1);
    let names: Vec<&str> = r.errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(r.errors.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("truncated.json")));
    assert!(names.iter().any(|n| n.ends_with("RUSTSEC-2099-9999.md")));
}

#[test]
fn old_data_is_flagged_and_missing_ecosystems_are_not_a_clean_result() {
    let mut only_npm = Db::default();
    only_npm
        .import(&fixture("advisories/npm"), NOW)
        .expect("import");
    let later = Options {
        max_age_days: 7,
        now: NOW + 8 * 86_400,
    };
    let report = deps::scan(
        &[fixture("deps/npm-v3"), fixture("deps/rust")],
        &only_npm,
        &later,
    );
    assert!(report.findings.iter().any(|f| f.rule.id == "DEPS-003"));
    // Cargo.lock could not be checked against npm-only data: an error, not silence.
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.target.ends_with("Cargo.lock") && e.message.contains("crates.io")),
        "{:?}",
        report.errors
    );
}

#[test]
fn the_database_survives_a_save_and_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub/advisories.json");
    let db = db();
    db.save(&path).expect("save");
    let loaded = Db::load(&path).expect("load");
    assert_eq!(loaded.advisories.len(), db.advisories.len());
    assert_eq!(loaded.sources.len(), 3);
    std::fs::write(
        &path,
        b"{\"format\": 99, \"sources\": [], \"advisories\": []}",
    )
    .expect("write");
    let err = Db::load(&path).expect_err("other format").to_string();
    assert!(err.contains("format 99"), "{err}");
}
