//! TLS as real clients see it: OpenSSL's `s_client` and curl against `centinela
//! serve`. TLS 1.0 and 1.1 are refused, 1.2 and 1.3 work with forward-secret AEAD
//! suites, HSTS is sent, and the plain-HTTP listener only redirects.

use std::process::Command;

use crate::util::{free_port, wait_for_port, Db, Env};

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
