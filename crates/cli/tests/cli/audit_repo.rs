//! `centinela advisories import`, `audit deps`, `audit code` and `audit all` as a
//! user runs them on a repository: exit codes, formats, the stale-data warning, a
//! missing database, and the OWASP scorecard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit/tests/fixtures")
}

fn centinela(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_centinela"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CENTINELA_ADVISORY_DB")
        .output()
        .expect("run centinela")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A small repository: sources with sinks, a lockfile with a vulnerable pin, a
/// Kubernetes manifest, and YAML that is not a manifest.
fn repo(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    for d in ["app", "deploy", ".github/workflows", "node_modules/lodash"] {
        std::fs::create_dir_all(repo.join(d)).expect("mkdir");
    }
    let f = fixtures();
    std::fs::copy(f.join("code/bad/server.js"), repo.join("app/server.js")).expect("copy");
    std::fs::copy(f.join("code/good/app.py"), repo.join("app/app.py")).expect("copy");
    std::fs::copy(
        f.join("deps/npm-v3/package-lock.json"),
        repo.join("package-lock.json"),
    )
    .expect("copy");
    std::fs::copy(f.join("k8s/good/app.yaml"), repo.join("deploy/app.yaml")).expect("copy");
    std::fs::write(
        repo.join(".github/workflows/ci.yml"),
        "name: CI\non: [push]\n",
    )
    .expect("ci");
    // Installed copies are not the project's code.
    std::fs::write(
        repo.join("node_modules/lodash/index.js"),
        "eval(process.argv[2]);\n",
    )
    .expect("node_modules");
    repo
}

#[test]
fn advisories_import_then_audit_deps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("adv.json");
    let f = fixtures().join("advisories");
    for src in ["osv", "rustsec", "npm", "osv-export.zip"] {
        let out = centinela(
            dir.path(),
            &["advisories", "import", "--db", s(&db), s(&f.join(src))],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    // A corrupt file is named, the rest imported, and the exit code says so.
    let out = centinela(
        dir.path(),
        &["advisories", "import", "--db", s(&db), s(&f.join("broken"))],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("truncated.json"), "{}", text(&out));
    let out = centinela(dir.path(), &["advisories", "status", "--db", s(&db)]);
    assert!(text(&out).contains("rustsec"), "{}", text(&out));

    let lock = fixtures().join("deps/rust/Cargo.lock");
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "deps",
            "--db",
            s(&db),
            "--format",
            "json",
            s(&lock),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["object"].as_str())
        .collect();
    assert!(ids.contains(&"tokio 1.18.0 (GHSA-test-tokio)"), "{ids:?}");
    assert!(
        ids.contains(&"smallvec 1.6.0 (RUSTSEC-2099-0004)"),
        "{ids:?}"
    );
    // A critical finding fails --fail-on critical; a suppression with a reason clears it.
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "deps",
            "--db",
            s(&db),
            "--fail-on",
            "critical",
            s(&lock),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    std::fs::write(
        dir.path().join(".centinela-audit.toml"),
        "[[ignore]]\nid = \"DEPS-001\"\nobject = \"GHSA-test-tokio\"\nreason = \"the affected reader is not used\"\n",
    )
    .expect("suppressions");
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "deps",
            "--db",
            s(&db),
            "--fail-on",
            "critical",
            s(&lock),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 suppressed"), "{}", text(&out));

    // Data older than --max-age-days (the fixtures' records are dated 2026-01-10)
    // is a warning on stderr and a DEPS-003 finding.
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "deps",
            "--db",
            s(&db),
            "--max-age-days",
            "30",
            "--fail-on",
            "none",
            s(&lock),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("DEPS-003"), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("older than 30 days"),
        "{}",
        text(&out)
    );

    // No database: the command fails (2) rather than calling the lockfile clean.
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "deps",
            "--db",
            s(&dir.path().join("none.json")),
            s(&lock),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("advisories import"), "{}", text(&out));
}

#[test]
fn audit_code_reports_sinks_in_sarif_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = fixtures().join("code/bad");
    let good = fixtures().join("code/good");
    let out = centinela(dir.path(), &["audit", "code", "--format", "sarif", s(&bad)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 40, "{}", results.len());
    assert!(results.iter().any(|r| r["ruleId"] == "CODE-001"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 22));
    let out = centinela(dir.path(), &["audit", "code", s(&good)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 suppressed"), "{}", text(&out));
}

#[test]
fn audit_all_runs_every_scanner_and_prints_the_scorecard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repo(dir.path());
    let db = dir.path().join("adv.json");
    let out = centinela(
        dir.path(),
        &[
            "advisories",
            "import",
            "--db",
            s(&db),
            s(&fixtures().join("advisories/npm")),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = centinela(
        dir.path(),
        &["audit", "all", "--db", s(&db), "--format", "json", s(&repo)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["complete"], true, "{v}");
    // server.js, app.py, package-lock.json, deploy/app.yaml; not the workflow, not
    // node_modules.
    assert_eq!(v["scanned"], 4, "{v}");
    let artifacts: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["artifact"].as_str())
        .collect();
    assert!(artifacts.iter().any(|a| a.ends_with("server.js")));
    assert!(artifacts.iter().any(|a| a.ends_with("package-lock.json")));
    assert!(
        !artifacts.iter().any(|a| a.contains("node_modules")),
        "{artifacts:?}"
    );
    let card = v["scorecard"].as_array().expect("scorecard");
    assert_eq!(card.len(), 10);
    let row = |code: &str| card.iter().find(|r| r["category"] == code).expect("row");
    assert!(row("A1:2017")["high"].as_u64().unwrap_or(0) >= 3);
    assert_eq!(row("A1:2017")["covered_by"], serde_json::json!(["code"]));
    assert!(row("A9:2017")["critical"].as_u64().unwrap_or(0) >= 1);
    assert!(row("A9:2017")["covered_by"]
        .as_array()
        .expect("list")
        .iter()
        .any(|s| s == "deps"));
    assert!(row("A6:2017")["covered_by"]
        .as_array()
        .expect("list")
        .iter()
        .any(|s| s == "k8s"));

    let out = centinela(dir.path(), &["audit", "all", "--db", s(&db), s(&repo)]);
    let t = text(&out);
    assert!(t.contains("OWASP Top 10 scorecard"), "{t}");
    assert!(t.contains("A8:2017 Insecure Deserialization"), "{t}");

    // Without advisory data, the other scanners still run; the lockfile is named as
    // not scanned and the run is incomplete (3).
    let out = centinela(
        dir.path(),
        &[
            "audit",
            "all",
            "--db",
            s(&dir.path().join("none.json")),
            s(&repo),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("package-lock.json: lockfile not checked"), "{t}");
    assert!(t.contains("server.js"), "{t}");
}
