//! `audit https` against deliberately misconfigured local servers on 127.0.0.1: a
//! rustls server with a certificate for another name, weak headers, loose cookies and
//! reflected CORS, and a plain-HTTP listener that does not redirect.

use std::collections::BTreeSet;
use std::sync::Arc;

use centinela_audit::https::{self, Options};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const BAD_RESPONSE: &str = "HTTP/1.1 200 OK\r\n\
Server: nginx/1.18.0\r\n\
X-Powered-By: PHP/7.4.3\r\n\
Content-Security-Policy: default-src * 'unsafe-inline' 'unsafe-eval'\r\n\
Set-Cookie: PHPSESSID=abc; Path=/\r\n\
Access-Control-Allow-Origin: https://centinela-audit.invalid\r\n\
Access-Control-Allow-Credentials: true\r\n\
Content-Length: 2\r\nConnection: close\r\n\r\nok";

async fn serve_tls(response: &'static str) -> u16 {
    let cert = rcgen::generate_simple_self_signed(vec!["other.example".to_owned()]).expect("cert");
    let der = cert.cert.der().clone();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .expect("config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        // Bounded: the scan makes a few dozen connections at most.
        for _ in 0..200 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    port
}

async fn serve_plain() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        for _ in 0..10 {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
        }
    });
    port
}

#[tokio::test]
async fn a_misconfigured_endpoint_is_reported() {
    let port = serve_tls(BAD_RESPONSE).await;
    let plain = serve_plain().await;
    let options = Options {
        http_url: Some(format!("http://127.0.0.1:{plain}/")),
        ..Options::default()
    };
    let report = https::scan(&format!("https://127.0.0.1:{port}/"), &options).await;
    assert!(report.is_complete(), "{:?}", report.errors);
    let ids: BTreeSet<&str> = report.findings.iter().map(|f| f.rule.id).collect();
    for id in [
        "HTTPS-011",
        "HTTPS-012",
        "HTTPS-020",
        "HTTPS-022",
        "HTTPS-023",
        "HTTPS-024",
        "HTTPS-025",
        "HTTPS-027",
        "HTTPS-030",
        "HTTPS-031",
        "HTTPS-032",
        "HTTPS-040",
        "HTTPS-050",
    ] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    // rustls serves only TLS 1.2/1.3 with strong suites: no version or suite finding.
    for id in ["HTTPS-001", "HTTPS-002", "HTTPS-003"] {
        assert!(!ids.contains(id), "{id} is a false positive");
    }
    let cookie = report
        .findings
        .iter()
        .find(|f| f.rule.id == "HTTPS-031")
        .expect("httponly");
    assert_eq!(
        cookie.severity,
        centinela_audit::Severity::Medium,
        "a session cookie"
    );
}

#[tokio::test]
async fn unreachable_targets_are_scan_errors() {
    let report = https::scan("https://127.0.0.1:1/", &Options::default()).await;
    assert_eq!(report.errors.len(), 1);
    assert!(report.findings.is_empty());
}
