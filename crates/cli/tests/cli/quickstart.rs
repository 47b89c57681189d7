//! The README's quickstart, exactly: no config file, everything under
//! `./centinela-data/`, the demo API behind the gateway on https://localhost:8443.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "a long passphrase of my own";

fn centinela(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_centinela"));
    c.current_dir(dir)
        .env_remove("CENTINELA_MASTER_KEY")
        .env_remove("CENTINELA_DATABASE_URL")
        .env_remove("CENTINELA_CONFIG");
    c
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

#[tokio::test]
async fn quickstart_without_config() {
    assert!(
        std::net::TcpListener::bind("127.0.0.1:8443").is_ok(),
        "port 8443 is taken (a quickstart gateway already running?); stop it and rerun"
    );
    let dir = tempfile::tempdir().expect("tempdir");

    // The first administrator, as the README says (password on stdin).
    let mut add = centinela(dir.path())
        .args(["user", "add", "admin", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(
        &mut add.stdin.take().expect("stdin"),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .expect("write");
    let out = add.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("generated a new master key"), "{note}");
    assert!(note.contains("0600"), "{note}");

    let data = dir.path().join("centinela-data");
    assert_eq!(mode(&data.join("master.key")), 0o600);
    assert_eq!(mode(&data.join("centinela.db")), 0o600);

    let log = dir.path().join("serve.log");
    let file = std::fs::File::create(&log).expect("log");
    let _server = Kill(
        centinela(dir.path())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn serve"),
    );
    let mut up = false;
    for _ in 0..300 {
        if std::net::TcpStream::connect("127.0.0.1:8443").is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let banner = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(up, "the quickstart gateway did not start:\n{banner}");
    assert!(
        banner.contains("SELF-SIGNED DEVELOPMENT CERTIFICATE"),
        "{banner}"
    );
    assert!(
        banner.contains("https://localhost:8443/_centinela/login"),
        "{banner}"
    );
    assert!(!banner.contains("No users yet"), "{banner}");
    assert_eq!(mode(&data.join("dev-key.pem")), 0o600);
    assert_eq!(mode(&data), 0o700);

    let pem = std::fs::read(data.join("dev-cert.pem")).expect("cert");
    let c = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let base = "https://localhost:8443";
    let anon = c
        .get(format!("{base}/api/customers"))
        .send()
        .await
        .expect("request");
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
    let login = c
        .post(format!("{base}/_centinela/api/login"))
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let customers = c
        .get(format!("{base}/api/customers"))
        .send()
        .await
        .expect("request");
    assert_eq!(customers.status(), StatusCode::OK);
    let body: serde_json::Value = customers.json().await.expect("json");
    assert!(body.as_array().is_some_and(|a| !a.is_empty()), "{body}");
}
