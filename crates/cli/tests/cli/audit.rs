//! `centinela audit` as a user runs it: exit codes, formats, stdin, suppressions,
//! who-can, and the HTTPS audit of Centinela's own gateway.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{Db, Env};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../audit/tests/fixtures/k8s")
}

fn audit(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_centinela"))
        .arg("audit")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn centinela");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn k8s_exit_codes_follow_fail_on_and_completeness() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = fixtures().join("bad");
    let good = fixtures().join("good");
    let out = audit(dir.path(), &["k8s", bad.to_str().expect("utf8")], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!out.stdout.contains(&0x1b), "no colour into a pipe");
    let out = audit(dir.path(), &["k8s", good.to_str().expect("utf8")], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = audit(
        dir.path(),
        &["k8s", "--fail-on", "none", bad.to_str().expect("utf8")],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let missing = dir.path().join("missing.yaml");
    let out = audit(
        dir.path(),
        &[
            "k8s",
            good.to_str().expect("utf8"),
            missing.to_str().expect("utf8"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "incomplete: {}", text(&out));
    let out = audit(dir.path(), &["k8s", "--format", "yaml", "x"], "");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn k8s_reads_stdin_and_writes_json_and_sarif() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = std::fs::read_to_string(fixtures().join("bad/rbac.yaml")).expect("fixture");
    let out = audit(dir.path(), &["k8s", "-", "--format", "json"], &manifest);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let f = v["findings"].as_array().expect("findings");
    assert!(f
        .iter()
        .any(|f| f["id"] == "K8S-103" && f["location"]["artifact"] == "-"));
    let sarif_path = dir.path().join("out.sarif");
    let out = audit(
        dir.path(),
        &[
            "k8s",
            "-",
            "--format",
            "sarif",
            "-o",
            sarif_path.to_str().expect("utf8"),
        ],
        &manifest,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).expect("sarif file")).expect("json");
    assert_eq!(v["version"], "2.1.0");
    assert!(!v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .is_empty());
}

#[test]
fn k8s_who_can_and_suppression_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rbac = fixtures().join("bad/rbac.yaml");
    let out = audit(
        dir.path(),
        &[
            "k8s",
            "--rbac-who-can",
            "get",
            "secrets",
            rbac.to_str().expect("utf8"),
        ],
        "",
    );
    let t = text(&out);
    assert!(t.contains("User alice  in shop"), "{t}");
    assert!(
        t.contains("ServiceAccount ci (namespace tools)  in cluster"),
        "{t}"
    );

    // .centinela-audit.toml in the working directory is read by default.
    std::fs::write(
        dir.path().join(".centinela-audit.toml"),
        "[[ignore]]\nid = \"K8S-103\"\nreason = \"CI deployer, reviewed\"\n\n[[ignore]]\nid = \"K8S-101\"\n",
    )
    .expect("write");
    let out = audit(
        dir.path(),
        &["k8s", rbac.to_str().expect("utf8"), "--format", "json"],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(!ids.contains(&"K8S-103"), "{ids:?}");
    assert!(
        ids.contains(&"K8S-101"),
        "a reasonless entry suppresses nothing"
    );
    assert!(ids.contains(&"AUD-001"), "and is itself reported");
    assert_eq!(
        v["suppressed"][0]["suppression"]["reason"],
        "CI deployer, reviewed"
    );
}

#[test]
fn mysql_refused_credentials_are_an_incomplete_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = audit(
        dir.path(),
        &["mysql", "mysql://cn_nobody:secretpw@127.0.0.1:3306"],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        !text(&out).contains("secretpw"),
        "password must not be printed"
    );
}

#[test]
fn https_audit_of_the_gateway_finds_no_tls_or_header_problem() {
    let env = Env::new(Db::Sqlite);
    let _server = env.start_server();
    let url = format!("https://127.0.0.1:{}/", env.https_port);
    let out = audit(
        env.path(),
        &[
            "https",
            &url,
            "--format",
            "json",
            "--http-url",
            "http://127.0.0.1:1/",
        ],
        "",
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(v["complete"], true, "{v:#}");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    // The quickstart's development certificate is self-signed, so trust findings
    // (HTTPS-012) are expected; TLS versions, suites and headers must be clean.
    for id in [
        "HTTPS-001",
        "HTTPS-002",
        "HTTPS-003",
        "HTTPS-020",
        "HTTPS-023",
        "HTTPS-040",
    ] {
        assert!(
            !ids.contains(&id),
            "{id} reported against the gateway: {v:#}"
        );
    }
}
