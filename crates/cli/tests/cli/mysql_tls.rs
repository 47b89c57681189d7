//! The store on MySQL over TLS: a private MariaDB with a certificate is started for
//! the test, the gateway's store connects with `ssl-mode=VERIFY_IDENTITY` and the
//! server's CA, a wrong CA is refused, and `audit mysql` sees the TLS transport.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{free_port, self_signed_cert};

struct Mariadb {
    child: Child,
    port: u16,
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway MariaDB with TLS in `dir`, root without a password, database `t`.
fn start_mariadb(dir: &Path) -> Mariadb {
    self_signed_cert(dir, "server", "IP:127.0.0.1");
    let data = dir.join("data");
    let install = Command::new("mariadb-install-db")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--user=root", "--auth-root-authentication-method=normal"])
        .output()
        .expect("mariadb-install-db (apt-get install mariadb-server)");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let port = free_port();
    let child = Command::new("/usr/sbin/mariadbd")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", dir.join("sock").display()))
        .arg(format!("--pid-file={}", dir.join("pid").display()))
        .arg(format!("--log-error={}", dir.join("err.log").display()))
        .arg("--user=root")
        .arg(format!("--ssl-cert={}", dir.join("server.pem").display()))
        .arg(format!(
            "--ssl-key={}",
            dir.join("server-key.pem").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadbd");
    let db = Mariadb { child, port };
    let started = Instant::now();
    loop {
        let ok = Command::new("mysql")
            .args([
                "--protocol=tcp",
                "-h127.0.0.1",
                "-uroot",
                "-e",
                "CREATE DATABASE IF NOT EXISTS t",
            ])
            .arg(format!("-P{port}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return db;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the TLS MariaDB did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn centinela(dir: &Path, url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let config = dir.join("centinela.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndata_dir = \"{d}\"\n[database]\nurl = \"{url}\"\n[keys]\nmaster_key_file = \"{d}/master.key\"\n",
            d = dir.display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_centinela"))
        .args(args)
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("centinela");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn the_store_runs_over_verified_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = start_mariadb(dir.path());
    self_signed_cert(dir.path(), "other", "IP:127.0.0.1");
    let ca = dir.path().join("server.pem");
    let url = format!(
        "mysql://root@127.0.0.1:{}/t?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        db.port,
        ca.display()
    );
    let out = centinela(
        dir.path(),
        &url,
        &["user", "add", "tina", "--role", "admin"],
        "correct horse battery staple\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = centinela(dir.path(), &url, &["user", "list"], "");
    assert!(String::from_utf8_lossy(&out.stdout).contains("tina"));
    let tls = Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", "-N", "-e"])
        .arg("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'")
        .arg(format!("-P{}", db.port))
        .output()
        .expect("mysql");
    let accepts: u64 = String::from_utf8_lossy(&tls.stdout)
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(accepts > 0, "the store did not use TLS");

    // A CA that did not sign the server's certificate: refused, with the reason.
    let wrong = url.replace("server.pem", "other.pem");
    let out = centinela(dir.path(), &wrong, &["user", "list"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") || err.contains("certificate"), "{err}");

    // The auditor sees TLS offered (no MYSQL-002).
    let out = Command::new(env!("CARGO_BIN_EXE_centinela"))
        .args([
            "audit",
            "mysql",
            &format!("mysql://root@127.0.0.1:{}", db.port),
            "--format",
            "json",
            "--fail-on",
            "none",
        ])
        .output()
        .expect("audit");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(!ids.contains(&"MYSQL-002"), "{ids:?}");
}
