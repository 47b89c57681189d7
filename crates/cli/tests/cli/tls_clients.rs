//! TLS as real clients see it: OpenSSL's `s_client` and curl against `centinela
//! serve`. TLS 1.0 and 1.1 are refused, 1.2 and 1.3 work with forward-secret AEAD
//! suites, HSTS is sent, the plain-HTTP listener only redirects, and certificate files
//! are reloaded on SIGHUP without dropping connections.

use std::process::Command;

use crate::util::{free_port, self_signed_cert, wait_for_port, Db, Env};

/// `openssl s_client` with `args`; returns (success, combined output).
fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", "localhost"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && !text.contains("handshake failure") && text.contains("Cipher is"),
        text,
    )
}

#[test]
fn protocol_versions_suites_hsts_and_redirect() {
    let redirect_port = free_port();
    let env = Env::new(Db::Sqlite);
    env.add_server_keys(&format!(
        "http_redirect_listen = \"127.0.0.1:{redirect_port}\"\n"
    ));
    let server = env.start_server();
    wait_for_port(redirect_port);
    let port = server.port;

    for old in ["-tls1", "-tls1_1"] {
        let (ok, out) = s_client(port, &[old, "-cipher", "DEFAULT@SECLEVEL=0"]);
        assert!(!ok, "{old} was accepted:\n{out}");
    }
    let (ok, out) = s_client(port, &["-tls1_2"]);
    assert!(ok, "TLS 1.2 refused:\n{out}");
    assert!(
        out.contains("ECDHE") && (out.contains("GCM") || out.contains("CHACHA20")),
        "{out}"
    );
    // A TLS 1.2 client offering only CBC or RSA key exchange gets nothing.
    let (ok, out) = s_client(
        port,
        &[
            "-tls1_2",
            "-cipher",
            "AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA",
        ],
    );
    assert!(!ok, "a legacy suite was accepted:\n{out}");
    let (ok, out) = s_client(port, &["-tls1_3"]);
    assert!(ok, "TLS 1.3 refused:\n{out}");
    let (ok, out) = s_client(port, &["-alpn", "h2"]);
    assert!(ok && out.contains("ALPN protocol: h2"), "{out}");

    let cert = env.path().join("dev-cert.pem");
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-D",
                "-",
                "--max-time",
                "10",
                "--cacert",
            ])
            .arg(&cert)
            .args(args)
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).to_lowercase()
    };
    let head = curl(&["--tlsv1.3", &format!("https://localhost:{port}/")]);
    assert!(
        head.starts_with("http/2 200") || head.starts_with("http/1.1 200"),
        "{head}"
    );
    assert!(
        head.contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{head}"
    );
    let head = curl(&[&format!(
        "http://localhost:{redirect_port}/api/customers?x=1"
    )]);
    assert!(head.starts_with("http/1.1 308"), "{head}");
    assert!(
        head.contains(&format!(
            "location: https://localhost:{port}/api/customers?x=1"
        )),
        "{head}"
    );
}

fn client_trusting(cert: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(cert).expect("cert");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .tls_built_in_root_certs(false)
        .http1_only()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Replaced certificate files are served after SIGHUP, and a connection opened
/// before the reload keeps working on the old certificate.
#[tokio::test]
async fn certificates_reload_on_sighup_without_dropping_connections() {
    let env = Env::new(Db::Sqlite);
    let (c1, k1) = self_signed_cert(env.path(), "first", "DNS:localhost");
    let (live_cert, live_key) = (env.path().join("tls.crt"), env.path().join("tls.key"));
    std::fs::copy(&c1, &live_cert).expect("copy");
    std::fs::copy(&k1, &live_key).expect("copy");
    let text = std::fs::read_to_string(env.config_path()).expect("config");
    std::fs::write(
        env.config_path(),
        format!(
            "{text}\n[tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            live_cert.display(),
            live_key.display()
        ),
    )
    .expect("config");
    let server = env.start_server();
    let old = client_trusting(&c1);
    let r = old.get(server.base()).send().await.expect("first cert");
    assert_eq!(r.status(), 200);

    let (c2, k2) = self_signed_cert(env.path(), "second", "DNS:localhost");
    std::fs::copy(&c2, &live_cert).expect("copy");
    std::fs::copy(&k2, &live_key).expect("copy");
    let hup = Command::new("kill")
        .args(["-HUP", &server.gateway.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let new = client_trusting(&c2);
    let mut served = false;
    for _ in 0..50 {
        if new
            .get(server.base())
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "the new certificate was not served:\n{}",
        server.log_text()
    );
    // The pooled connection from before the reload is still open: were it dropped,
    // this client (trusting only the first certificate) could not reconnect.
    let r = old
        .get(server.base())
        .send()
        .await
        .expect("old connection kept");
    assert_eq!(r.status(), 200);
    assert!(!server.log_text().contains("panicked"));
    // The reload is a security event.
    let mut events = String::new();
    for _ in 0..50 {
        events = env.ok(&["audit-log", "export", "--kind", "config-reloaded"], "");
        if !events.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events.lines().count(), 1, "{events}");
    assert!(
        events.contains("sighup") && events.contains("\"success\""),
        "{events}"
    );
}
