//! `audit k8s` through the library: every rule fires on the bad fixtures, none on the
//! good one, locations point at the offending line, bad files do not stop the scan.

use std::collections::BTreeSet;
use std::path::PathBuf;

use centinela_audit::k8s::{self, Options};
use centinela_audit::{suppress, Severity};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/k8s")
        .join(rel)
}

#[test]
fn every_rule_fires_on_the_bad_manifests() {
    let (report, _) = k8s::scan(&[fixture("bad")], &Options::default(), false);
    assert!(report.is_complete(), "{:?}", report.errors);
    let ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.id).collect();
    let all: BTreeSet<&str> = k8s::rules::RULES.iter().map(|r| r.id).collect();
    let missing: Vec<_> = all.difference(&ids).collect();
    assert!(missing.is_empty(), "rules that never fired: {missing:?}");
}

#[test]
fn the_good_manifest_is_clean() {
    let (report, _) = k8s::scan(&[fixture("good")], &Options::default(), false);
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.rule.id, f.location, f.message))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(report.scanned, 1);
}

#[test]
fn findings_point_at_the_offending_line() {
    let (report, _) = k8s::scan(&[fixture("bad/workloads.yaml")], &Options::default(), false);
    let at = |id: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule.id == id)
            .map(|f| {
                (
                    f.location.line,
                    f.location.column,
                    f.location.object.clone(),
                )
            })
            .unwrap_or_else(|| panic!("{id} not reported"))
    };
    assert_eq!(
        at("K8S-001"),
        (
            Some(25),
            Some(25),
            Some("Deployment shop/web, container app".into())
        )
    );
    assert_eq!(at("K8S-009").0, Some(13));
    let caps: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "K8S-007")
        .collect();
    assert_eq!(caps.len(), 2);
    assert_eq!(caps[0].severity, Severity::Critical); // SYS_ADMIN
    let pss = report
        .findings
        .iter()
        .find(|f| f.rule.id == "K8S-026")
        .expect("pss");
    assert!(pss.message.contains("hostNetwork"), "{}", pss.message);
    // The Pod passes baseline but not restricted.
    let debug = report
        .findings
        .iter()
        .find(|f| {
            f.rule.id == "K8S-027" && f.location.object.as_deref() == Some("Pod default/debug")
        })
        .expect("restricted");
    assert!(
        debug.message.starts_with("level: baseline"),
        "{}",
        debug.message
    );
}

#[test]
fn a_malformed_file_is_an_error_and_the_rest_is_scanned() {
    let (report, _) = k8s::scan(
        &[
            fixture("malformed.yaml"),
            fixture("bad/rbac.yaml"),
            fixture("nope.yaml"),
        ],
        &Options::default(),
        false,
    );
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.target.contains("malformed.yaml:5:")),
        "{:?}",
        report.errors
    );
    assert!(report.findings.iter().any(|f| f.rule.id == "K8S-103"));
    assert_eq!(
        report.exit_code(Some(Severity::Critical)),
        centinela_audit::exit::INCOMPLETE
    );
}

#[test]
fn binary_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("x.yaml");
    std::fs::write(&bin, b"kind: Pod\0\x01\x02").expect("write");
    let (report, _) = k8s::scan(&[bin], &Options::default(), false);
    assert!(
        report.errors[0].message.contains("binary"),
        "{:?}",
        report.errors
    );
}

#[test]
fn who_can_lists_subjects() {
    let options = Options {
        who_can: Some(("get".into(), "secrets".into())),
    };
    let (_, outcome) = k8s::scan(&[fixture("bad/rbac.yaml")], &options, false);
    let who: Vec<String> = outcome
        .who_can
        .expect("answer")
        .iter()
        .map(|w| format!("{} {} @{}", w.subject.kind, w.subject.name, w.scope))
        .collect();
    assert_eq!(
        who,
        vec![
            "Group system:anonymous @shop",
            "Group system:authenticated @shop",
            "ServiceAccount ci @cluster",
            "User alice @shop",
        ]
    );
    let options = Options {
        who_can: Some(("create".into(), "pods/exec".into())),
    };
    let (_, outcome) = k8s::scan(&[fixture("good")], &options, false);
    assert!(outcome.who_can.expect("answer").is_empty());
}

#[test]
fn inline_ignores_apply_and_need_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pod.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  # centinela:ignore K8S-009 the CNI agent needs the host network\n  hostNetwork: true\n  hostPID: true # centinela:ignore K8S-010\n  containers: [{name: c, image: x}]\n",
    )
    .expect("write");
    let (mut report, _) = k8s::scan(&[file], &Options::default(), false);
    suppress::apply(&mut report, &suppress::Loaded::default());
    let ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.id).collect();
    assert!(!ids.contains("K8S-009"));
    assert!(ids.contains("K8S-010"), "no reason: not applied");
    assert!(ids.contains("AUD-001"));
    assert_eq!(report.suppressed.len(), 1);
    assert_eq!(
        report.suppressed[0].1.reason,
        "the CNI agent needs the host network"
    );
}

#[test]
fn every_workload_kind_and_the_newer_checks() {
    let (report, _) = k8s::scan(&[fixture("bad/more.yaml")], &Options::default(), false);
    assert!(report.is_complete(), "{:?}", report.errors);
    let has = |id: &str, object: &str, text: &str| {
        report.findings.iter().any(|f| {
            f.rule.id == id
                && f.location
                    .object
                    .as_deref()
                    .is_some_and(|o| o.starts_with(object))
                && f.message.contains(text)
        })
    };
    assert!(has("K8S-034", "StatefulSet data/db", "port 22"));
    assert!(has("K8S-026", "DaemonSet data/agent", "hostProcess"));
    assert!(has("K8S-001", "Job data/migrate", "privileged"));
    assert!(has("K8S-007", "ReplicaSet data/legacy", "SYS_PTRACE"));
    assert!(has("K8S-017", "ReplicaSet data/legacy", ""));
    // The wildcard covers one label: shop.example.com, not example.com or a deeper name.
    assert!(!has("K8S-033", "Ingress data/shop", "`shop.example.com`"));
    assert!(has("K8S-033", "Ingress data/shop", "`example.com`"));
    assert!(has(
        "K8S-033",
        "Ingress data/shop",
        "`admin.shop.example.com`"
    ));
    assert!(has("K8S-109", "Role data/deployer", "deployments, jobs"));
    // The digest-pinned image of the DaemonSet is not reported as unpinned.
    assert!(!has("K8S-018", "DaemonSet data/agent", ""));
}

#[test]
fn huge_files_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let huge = dir.path().join("huge.yaml");
    // Sparse: the size check must refuse it before any byte is read.
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(k8s::MAX_FILE_BYTES + 1))
        .expect("sparse file");
    let (report, _) = k8s::scan(&[huge, fixture("good")], &Options::default(), false);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0].message.contains("larger than"),
        "{:?}",
        report.errors
    );
    assert_eq!(report.scanned, 1);
}
