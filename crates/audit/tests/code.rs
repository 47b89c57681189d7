//! `audit code` through the library, on fixture trees whose every line that must be
//! reported carries an `expect: RULE-ID` comment. The test compares the set of
//! (file, line, rule) reported with the set marked: a missed sink and a report on
//! safe code both fail it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use centinela_audit::{code, suppress, Severity};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/code")
        .join(rel)
}

/// Every `expect: ID` marker under `dir`, as (file name, line, id).
fn expected(dir: &str) -> BTreeSet<(String, u32, String)> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(fixture(dir)).expect("fixture dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("fixture text");
        for (i, line) in text.lines().enumerate() {
            if let Some((_, ids)) = line.split_once("expect: ") {
                for id in ids.split([',', ' ']).filter(|s| is_rule_id(s)) {
                    out.insert((
                        name.clone(),
                        u32::try_from(i + 1).expect("line"),
                        id.to_owned(),
                    ));
                }
            }
        }
    }
    out
}

fn is_rule_id(s: &str) -> bool {
    s.split_once('-').is_some_and(|(p, n)| {
        !p.is_empty()
            && p.chars().all(|c| c.is_ascii_uppercase())
            && n.len() == 3
            && n.chars().all(|c| c.is_ascii_digit())
    })
}

fn reported(report: &centinela_audit::Report) -> BTreeSet<(String, u32, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let file = f
                .location
                .artifact
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            (file, f.location.line.unwrap_or(0), f.rule.id.to_owned())
        })
        .collect()
}

#[test]
fn every_marked_sink_is_reported_and_nothing_else() {
    let report = code::scan(&[fixture("bad")]);
    assert!(report.is_complete(), "{:?}", report.errors);
    assert_eq!(report.scanned, 4);
    let want = expected("bad");
    let got = reported(&report);
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed: {missed:#?}\nextra: {extra:#?}"
    );
}

#[test]
fn every_code_rule_fires_on_the_bad_tree() {
    let report = code::scan(&[fixture("bad")]);
    let ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.id).collect();
    for rule in code::rules::RULES {
        assert!(ids.contains(rule.id), "{} never fired", rule.id);
    }
}

#[test]
fn constant_strings_and_safe_apis_are_not_reported() {
    let mut report = code::scan(&[fixture("good")]);
    assert!(report.is_complete(), "{:?}", report.errors);
    assert_eq!(report.scanned, 4);
    suppress::apply(&mut report, &suppress::Loaded::default());
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.rule.id, f.location, f.message))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
    // The one deliberate sink is suppressed inline, with its reason kept.
    assert_eq!(report.suppressed.len(), 1);
    assert!(report.suppressed[0].1.reason.contains("allow-list"));
}

#[test]
fn findings_carry_file_line_and_column() {
    let report = code::scan(&[fixture("bad/app.py")]);
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "CODE-001")
        .expect("CODE-001");
    assert!(
        f.location.artifact.ends_with("bad/app.py"),
        "{}",
        f.location.artifact
    );
    assert_eq!(f.location.line, Some(22));
    // The column points at the query argument, not the start of the line.
    assert_eq!(f.location.column, Some(20));
    assert_eq!(f.severity, Severity::High);
}

#[test]
fn bad_files_are_errors_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.py");
    std::fs::write(&broken, "def f(:\n    os.system('x' + y)\n").expect("write");
    let binary = dir.path().join("blob.js");
    std::fs::write(&binary, [0xff_u8, 0xfe, 0x00, 0x81, 0x80]).expect("write");
    let huge = dir.path().join("bundle.js");
    std::fs::write(&huge, "x".repeat(3 * 1024 * 1024)).expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not source").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).expect("symlink");
    let report = code::scan(&[
        dir.path().to_path_buf(),
        fixture("bad/server.js"),
        fixture("missing.py"),
    ]);
    let errors: Vec<String> = report
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.target, e.message))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("broken.py:1:") && e.contains("syntax error")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("blob.js") && e.contains("UTF-8")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("bundle.js") && e.contains("2 MiB")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("missing.py")),
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(!report.is_complete());
    // The file that parsed and the good part of the broken one were still scanned.
    assert!(report
        .findings
        .iter()
        .any(|f| f.location.artifact.ends_with("server.js")));
    assert_eq!(
        report.exit_code(Some(Severity::Low)),
        centinela_audit::exit::INCOMPLETE
    );
}
