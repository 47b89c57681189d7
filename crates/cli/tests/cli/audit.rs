//! `centinela audit` as a user runs it: exit codes, formats, stdin, suppressions,
//! who-can, and the HTTPS audit of Centinela's own gateway.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{free_port, wait_for_port, Db, Env, Nginx};

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
fn https_audit_of_the_gateway_is_clean() {
    let env = Env::new(Db::Sqlite);
    let redirect = free_port();
    env.add_server_keys(&format!(
        "http_redirect_listen = \"127.0.0.1:{redirect}\"\n"
    ));
    let _server = env.start_server();
    wait_for_port(redirect);
    // Trusting the quickstart's development certificate, as a deployment trusts its
    // real one: then nothing at all may be reported.
    let url = format!("https://localhost:{}/", env.https_port);
    let ca = env.path().join("dev-cert.pem");
    let out = audit(
        env.path(),
        &[
            "https",
            &url,
            "--format",
            "json",
            "--ca-file",
            ca.to_str().expect("utf-8"),
            "--http-url",
            &format!("http://localhost:{redirect}/"),
        ],
        "",
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(v["complete"], true, "{v:#}");
    let found: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {}", f["id"], f["message"]))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A deliberately misconfigured nginx: TLS 1.0-1.2 with every suite OpenSSL has, a
/// 1024-bit SHA-1 self-signed certificate for another name that expires in five days,
/// version headers, a loose cookie, reflected CORS with credentials, a plain-HTTP
/// port that does not redirect, and a second TLS port that speaks only TLS 1.0.
fn misconfigured_nginx(dir: &Path) -> (Nginx, u16, u16, u16) {
    let (tls, plain, old) = (free_port(), free_port(), free_port());
    let d = dir.display();
    let cert = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:1024", "-sha1", "-days", "5", "-nodes",
        ])
        .args(["-subj", "/CN=wrong.example"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        cert.status.success(),
        "{}",
        String::from_utf8_lossy(&cert.stderr)
    );
    let http = format!(
        r#"  server_tokens on;
  ssl_certificate {d}/cert.pem;
  ssl_certificate_key {d}/key.pem;
  ssl_ciphers 'ALL:@SECLEVEL=0';
  server {{
    listen 127.0.0.1:{tls} ssl;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    location / {{
      add_header X-Powered-By "PHP/7.4.3";
      add_header Set-Cookie "PHPSESSID=abc; Path=/";
      add_header Access-Control-Allow-Origin $http_origin;
      add_header Access-Control-Allow-Credentials true;
      return 200 "ok";
    }}
  }}
  server {{
    listen 127.0.0.1:{old} ssl;
    ssl_protocols TLSv1;
    location / {{ return 200 "old"; }}
  }}
  server {{
    listen 127.0.0.1:{plain};
    location / {{ return 200 "plain"; }}
  }}
"#
    );
    let nginx = crate::util::start_nginx(dir, &http, &[tls, plain, old]);
    (nginx, tls, plain, old)
}

#[test]
fn https_audit_of_a_misconfigured_nginx_reports_each_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_nginx, tls, plain, old) = misconfigured_nginx(dir.path());
    let out = audit(
        dir.path(),
        &[
            "https",
            &format!("https://127.0.0.1:{tls}/"),
            "--format",
            "json",
            "--http-url",
            &format!("http://127.0.0.1:{plain}/"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["complete"], true, "{v:#}");
    let ids: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    for id in [
        "HTTPS-001",
        "HTTPS-002",
        "HTTPS-003",
        "HTTPS-010",
        "HTTPS-011",
        "HTTPS-012",
        "HTTPS-013",
        "HTTPS-014",
        "HTTPS-020",
        "HTTPS-021",
        "HTTPS-023",
        "HTTPS-024",
        "HTTPS-025",
        "HTTPS-026",
        "HTTPS-027",
        "HTTPS-030",
        "HTTPS-031",
        "HTTPS-032",
        "HTTPS-040",
        "HTTPS-050",
    ] {
        assert!(ids.contains(id), "{id} not reported: {ids:?}");
    }

    // A server that speaks only TLS 1.0: no modern handshake (an incomplete scan,
    // since no headers could be read), yet the old version is still reported.
    let out = audit(
        dir.path(),
        &[
            "https",
            &format!("https://127.0.0.1:{old}/"),
            "--format",
            "json",
            "--http-url",
            &format!("http://127.0.0.1:{plain}/"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let old_ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(old_ids.contains(&"HTTPS-001"), "{v:#}");
}
