//! End-to-end tests of the transport layer over real sockets on 127.0.0.1: the demo
//! upstream behind the gateway, a development certificate in a temporary directory,
//! and clients built on rustls and hyper that trust exactly that certificate.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use centinela_gateway::handler::{boxed, full};
use centinela_gateway::{
    bind, ensure_dev_certificate, tls, Body, Limits, ProxyConfig, ProxyHandler, ReloadableTls,
    ServerConfig, TlsFiles, Upstream,
};
use http::{header, Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const PUBLIC_PORT: u16 = 8443;

/// A running demo upstream + gateway. Dropping it stops both.
struct Env {
    dir: tempfile::TempDir,
    https: SocketAddr,
    redirect: SocketAddr,
    tls: Arc<ReloadableTls>,
    cert: CertificateDer<'static>,
    stop: Vec<oneshot::Sender<()>>,
    gateway: Option<tokio::task::JoinHandle<Result<(), centinela_gateway::GatewayError>>>,
}

impl Env {
    fn cert_path(&self) -> std::path::PathBuf {
        self.dir.path().join(tls::DEV_CERT_FILE)
    }

    fn key_path(&self) -> std::path::PathBuf {
        self.dir.path().join(tls::DEV_KEY_FILE)
    }

    /// Stops the gateway and waits for it to finish draining.
    async fn shutdown_gateway(&mut self) {
        if let Some(tx) = self.stop.pop() {
            let _ = tx.send(());
        }
        if let Some(task) = self.gateway.take() {
            task.await.unwrap().unwrap();
        }
    }
}

fn stop_signal() -> (
    oneshot::Sender<()>,
    impl std::future::Future<Output = ()> + Send,
) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

async fn start_demo() -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, stop) = stop_signal();
    tokio::spawn(centinela_gateway::demo::run_demo_upstream(listener, stop));
    (addr, tx)
}

/// An address on which nothing listens (bound, then released).
async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap()
}

fn read_cert(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).unwrap()
}

async fn start_with(
    limits: Limits,
    proxy_cfg: impl FnOnce(Upstream) -> ProxyConfig,
    upstream: Option<SocketAddr>,
    watch_interval: Option<Duration>,
) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path, created) = ensure_dev_certificate(dir.path()).unwrap();
    assert!(created);
    let mut stop = Vec::new();
    let upstream = match upstream {
        Some(a) => a,
        None => {
            let (addr, tx) = start_demo().await;
            stop.push(tx);
            addr
        }
    };
    let proxy = ProxyHandler::new(proxy_cfg(
        Upstream::parse(&format!("http://{upstream}")).unwrap(),
    ));
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        redirect_listen: Some("127.0.0.1:0".parse().unwrap()),
        public_https_port: PUBLIC_PORT,
        tls: TlsFiles {
            cert: cert_path.clone(),
            key: key_path,
            watch_interval,
            on_reload: None,
        },
        limits,
    };
    let bound = bind(cfg).await.unwrap();
    let https = bound.https_addr();
    let redirect = bound.redirect_addr().unwrap();
    let tls = bound.tls();
    let (tx, shutdown) = stop_signal();
    stop.push(tx);
    let gateway = tokio::spawn(bound.run(Arc::new(proxy), shutdown));
    Env {
        cert: read_cert(&cert_path),
        dir,
        https,
        redirect,
        tls,
        stop,
        gateway: Some(gateway),
    }
}

async fn start() -> Env {
    start_with(Limits::default(), ProxyConfig::new, None, None).await
}

fn client_config(
    trusted: &[&CertificateDer<'static>],
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in trusted {
        roots.add((*c).clone()).unwrap();
    }
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // A resumed session shows the certificate of the original handshake, which would
    // hide a reload; every connection here does a full handshake.
    cfg.resumption = rustls::client::Resumption::disabled();
    Arc::new(cfg)
}

async fn tls_connect(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

fn served_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

type H1Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn h1(stream: TlsStream<TcpStream>) -> H1Sender {
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn.with_upgrades());
    sender
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Empty<Bytes>> {
    let mut b = Request::get(path).header(header::HOST, "localhost");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Empty::new()).unwrap()
}

async fn send(sender: &mut H1Sender, req: Request<Empty<Bytes>>) -> (http::response::Parts, Bytes) {
    sender.ready().await.unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts, body.collect().await.unwrap().to_bytes())
}

/// One HTTP/1.1 GET over a new TLS connection that trusts the env's certificate.
async fn https_get(
    env: &Env,
    path: &str,
    headers: &[(&str, &str)],
) -> (http::response::Parts, Bytes) {
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let mut sender = h1(tls_connect(env.https, cfg).await).await;
    send(&mut sender, get(path, headers)).await
}

fn json(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"))
}

#[tokio::test]
async fn proxied_get_returns_demo_json_with_security_headers() {
    let env = start().await;
    let (parts, body) = https_get(&env, "/api/customers/2", &[]).await;
    assert_eq!(parts.status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["id"], 2);
    assert_eq!(v["email"], "bruno@example.com");
    let h = &parts.headers;
    assert_eq!(
        h[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(h[header::CONTENT_TYPE], "application/json");

    let (parts, body) = https_get(&env, "/api/customers", &[]).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(json(&body).as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn forwarding_headers_are_replaced_and_identity_headers_stripped() {
    let env = start().await;
    let (parts, body) = https_get(
        &env,
        "/api/whoami",
        &[
            ("X-Forwarded-For", "203.0.113.66"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Centinela-User", "admin"),
            ("X-Centinela-Roles", "admin"),
            ("x-centinela-customer-id", "1"),
            // Naming our own header in Connection must not make the gateway drop it.
            ("Connection", "keep-alive, X-Forwarded-For"),
        ],
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["forwarded_for"], "127.0.0.1", "{v}");
    assert_eq!(v["forwarded_proto"], "https", "{v}");
    assert_eq!(v["forwarded_host"], "localhost", "{v}");
    assert!(v["user"].is_null(), "{v}");
    assert!(v["roles"].is_null(), "{v}");
    assert!(v["customer_id"].is_null(), "{v}");
}

/// The identity layer's way in: `forward` with extra headers reaches the upstream.
#[tokio::test]
async fn forward_passes_gateway_identity_headers() {
    struct WithIdentity(ProxyHandler);
    impl centinela_gateway::Handler for WithIdentity {
        fn handle(
            &self,
            req: Request<Incoming>,
            peer: SocketAddr,
        ) -> centinela_gateway::BoxFuture<Response<Body>> {
            let proxy = self.0.clone();
            Box::pin(async move {
                if req.uri().path().starts_with("/_centinela/") {
                    return Response::new(full("own page"));
                }
                let mut extra = http::HeaderMap::new();
                extra.insert("x-centinela-user", "ana".parse().unwrap());
                extra.insert("x-centinela-customer-id", "1".parse().unwrap());
                proxy.forward(req, peer, extra).await
            })
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = ensure_dev_certificate(dir.path()).unwrap();
    let (upstream, _stop_demo) = start_demo().await;
    let proxy = ProxyHandler::new(ProxyConfig::new(
        Upstream::parse(&format!("http://{upstream}")).unwrap(),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, shutdown) = stop_signal();
    let server = tokio::spawn(centinela_gateway::serve_on(
        listener,
        centinela_gateway::load_server_config(&cert, &key).unwrap(),
        Limits::default(),
        Arc::new(WithIdentity(proxy)),
        shutdown,
    ));

    let trusted = read_cert(&cert);
    let cfg = client_config(&[&trusted], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let mut sender = h1(tls_connect(addr, cfg).await).await;
    let (parts, body) = send(
        &mut sender,
        get(
            "/api/whoami",
            &[
                ("x-centinela-user", "admin"),
                ("x-centinela-roles", "admin"),
            ],
        ),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["user"], "ana", "{v}");
    assert_eq!(v["customer_id"], "1", "{v}");
    assert!(v["roles"].is_null(), "{v}");
    let (parts, body) = send(&mut sender, get("/_centinela/login", &[])).await;
    assert_eq!(body, "own page");
    assert_eq!(parts.headers[header::X_FRAME_OPTIONS], "DENY");

    drop(sender);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn() {
    let env = start().await;
    let cfg = client_config(
        &[&env.cert],
        &[b"h2", b"http/1.1"],
        rustls::DEFAULT_VERSIONS,
    );
    let stream = tls_connect(env.https, cfg).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    for id in [1, 3] {
        let req = Request::get(format!("https://localhost/api/customers/{id}"))
            .header("x-centinela-user", "admin")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp
            .headers()
            .contains_key(header::STRICT_TRANSPORT_SECURITY));
        let v = json(&resp.into_body().collect().await.unwrap().to_bytes());
        assert_eq!(v["id"], id);
    }
    let req = Request::get("https://localhost/api/whoami")
        .header("x-centinela-user", "admin")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let v = json(&resp.into_body().collect().await.unwrap().to_bytes());
    assert!(v["user"].is_null(), "{v}");
    assert_eq!(v["forwarded_host"], "localhost", "{v}");
}

#[tokio::test]
async fn tls12_with_modern_suite_works() {
    let env = start().await;
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], &[&rustls::version::TLS12]);
    let stream = tls_connect(env.https, cfg).await;
    let conn = stream.get_ref().1;
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    let suite = conn.negotiated_cipher_suite().unwrap().suite();
    assert!(
        format!("{suite:?}").starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{suite:?}"
    );
    let mut sender = h1(stream).await;
    let (parts, _) = send(&mut sender, get("/api/customers", &[])).await;
    assert_eq!(parts.status, StatusCode::OK);
}

/// Reads what the server sends back until it closes (or 5 s pass).
async fn read_reply(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    out
}

/// A TLS 1.1 ClientHello that would otherwise suit the server: ECDHE suites (GCM
/// included, so the suite list is not what fails), signature algorithms and groups it
/// supports. Only the version is too old.
fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02]; // client_version TLS 1.1
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
                  // ECDHE_ECDSA_AES128_GCM, ECDHE_RSA_AES128_GCM, ECDHE_RSA_AES128_CBC, RSA_AES128_CBC
    body.extend_from_slice(&[0x00, 0x08, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x13, 0x00, 0x2f]);
    body.extend_from_slice(&[0x01, 0x00]); // compression: null
    let extensions: &[u8] = &[
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, // sig algs
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, // groups
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec point formats
    ];
    body.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
    body.extend_from_slice(extensions);
    let mut hs = vec![0x01, 0x00];
    hs.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16::try_from(hs.len()).unwrap().to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

#[tokio::test]
async fn tls11_and_plain_http_are_refused_on_the_tls_port() {
    let env = start().await;

    let mut tcp = TcpStream::connect(env.https).await.unwrap();
    tcp.write_all(&tls11_client_hello()).await.unwrap();
    let reply = read_reply(&mut tcp).await;
    // Either silence-and-close or an alert record (0x15) — never a handshake (0x16).
    assert!(reply.is_empty() || reply[0] == 0x15, "{reply:02x?}");
    if reply.len() >= 7 {
        assert_eq!(
            reply[6], 70,
            "expected a protocol_version alert: {reply:02x?}"
        );
    }

    let mut tcp = TcpStream::connect(env.https).await.unwrap();
    tcp.write_all(b"GET /api/customers HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let reply = read_reply(&mut tcp).await;
    assert!(
        !reply.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    assert!(!String::from_utf8_lossy(&reply).contains("bruno"));

    // A client that does not trust the certificate fails the handshake.
    let other = rcgen_cert();
    let cfg = client_config(&[&other], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let tcp = TcpStream::connect(env.https).await.unwrap();
    let res = TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(res.is_err());
}

fn rcgen_cert() -> CertificateDer<'static> {
    let (pem, _) = tls::generate_self_signed(&["localhost"]).unwrap();
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    String::from_utf8_lossy(&read_reply(&mut tcp).await).into_owned()
}

#[tokio::test]
async fn redirect_listener_answers_308_to_https() {
    let env = start().await;
    let reply = raw_http(
        env.redirect,
        b"GET /api/customers?page=2&x=%20y HTTP/1.1\r\nHost: Portal.Example.com:8080\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 308 "), "{reply}");
    assert!(
        reply.contains(
            "\r\nlocation: https://portal.example.com:8443/api/customers?page=2&x=%20y\r\n"
        ),
        "{reply}"
    );
    // Nothing is proxied over plain HTTP.
    assert!(!reply.contains("bruno"), "{reply}");
    assert!(!reply
        .to_ascii_lowercase()
        .contains("strict-transport-security"));

    let reply = raw_http(
        env.redirect,
        b"POST /login HTTP/1.1\r\nHost: [::1]\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 308 "), "{reply}");
    assert!(
        reply.contains("\r\nlocation: https://[::1]:8443/login\r\n"),
        "{reply}"
    );

    for bad in ["evil.com/x", "a b", "user@host", "host:port", ""] {
        let req = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
        let reply = raw_http(env.redirect, req.as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 400 "), "{bad:?}: {reply}");
        assert!(!reply.contains("location:"), "{reply}");
    }
    let reply = raw_http(env.redirect, b"GET / HTTP/1.1\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
}

#[tokio::test]
async fn upstream_down_is_502_and_silent_upstream_is_504() {
    let dead = dead_addr().await;
    let env = start_with(Limits::default(), ProxyConfig::new, Some(dead), None).await;
    let (parts, body) = https_get(&env, "/api/customers", &[]).await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
    assert_eq!(body, "Bad gateway.\n");
    assert!(parts
        .headers
        .contains_key(header::STRICT_TRANSPORT_SECURITY));

    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let env = start_with(
        Limits::default(),
        |u| ProxyConfig {
            response_timeout: Duration::from_millis(500),
            ..ProxyConfig::new(u)
        },
        Some(silent_addr),
        None,
    )
    .await;
    let started = Instant::now();
    let (parts, body) = https_get(&env, "/api/customers", &[]).await;
    assert_eq!(parts.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body, "Gateway timeout.\n");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn slowloris_client_is_cut_by_the_header_timeout() {
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let env = start_with(limits, ProxyConfig::new, None, None).await;
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let stream = tls_connect(env.https, cfg).await;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let started = Instant::now();
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        (started.elapsed(), buf)
    });
    let request = b"GET /api/customers HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut sent = 0;
    for byte in request {
        if reader.is_finished()
            || wr.write_all(&[*byte]).await.is_err()
            || wr.flush().await.is_err()
        {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (closed_after, reply) = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("server kept the slow connection open")
        .unwrap();
    assert!(sent < 6, "sent {sent} bytes before the server closed");
    assert!(closed_after < Duration::from_secs(5), "{closed_after:?}");
    let reply = String::from_utf8_lossy(&reply);
    assert!(!reply.contains("bruno"), "{reply}");
}

#[tokio::test]
async fn oversized_request_head_is_refused() {
    let env = start().await;
    let big = "a".repeat(64 * 1024);
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let mut stream = tls_connect(env.https, cfg).await;
    let req = format!("GET /api/customers HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    let _ = stream.write_all(req.as_bytes()).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
}

fn write_new_cert(env: &Env) -> CertificateDer<'static> {
    let (cert_pem, key_pem) = tls::generate_self_signed(&["localhost"]).unwrap();
    // Written like a renewal tool would: key, then certificate, each replaced whole.
    for (path, contents) in [
        (env.key_path(), key_pem),
        (env.cert_path(), cert_pem.clone()),
    ] {
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, contents).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()
}

#[tokio::test]
async fn reload_swaps_the_certificate_without_dropping_connections() {
    let env = start().await;
    let (new_cert_pem, new_key_pem) = tls::generate_self_signed(&["localhost"]).unwrap();
    let new_cert = CertificateDer::from_pem_slice(new_cert_pem.as_bytes()).unwrap();
    let both = client_config(
        &[&env.cert, &new_cert],
        &[b"http/1.1"],
        rustls::DEFAULT_VERSIONS,
    );

    let before = tls_connect(env.https, Arc::clone(&both)).await;
    assert_eq!(served_cert(&before), env.cert);
    let mut old_conn = h1(before).await;
    let (parts, _) = send(&mut old_conn, get("/api/customers", &[])).await;
    assert_eq!(parts.status, StatusCode::OK);

    // A broken pair is refused and the old certificate stays in service.
    std::fs::write(env.cert_path(), &new_cert_pem).unwrap();
    assert!(env.tls.reload().is_err());
    let still = tls_connect(env.https, Arc::clone(&both)).await;
    assert_eq!(served_cert(&still), env.cert);

    std::fs::write(env.key_path(), &new_key_pem).unwrap();
    env.tls.reload().unwrap();
    let after = tls_connect(env.https, Arc::clone(&both)).await;
    assert_eq!(served_cert(&after), new_cert);
    assert_ne!(new_cert, env.cert);

    // The connection opened before the swap is still served.
    let (parts, body) = send(&mut old_conn, get("/api/customers/1", &[])).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(json(&body)["id"], 1);

    // A client that trusts only the old certificate now fails.
    let old_only = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let tcp = TcpStream::connect(env.https).await.unwrap();
    assert!(TlsConnector::from(old_only)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .is_err());
}

async fn wait_for_cert(
    env: &Env,
    trusted: &[&CertificateDer<'static>],
    want: &CertificateDer<'static>,
) {
    let cfg = client_config(trusted, &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = tls_connect(env.https, Arc::clone(&cfg)).await;
        if &served_cert(&stream) == want {
            return;
        }
        assert!(Instant::now() < deadline, "certificate was not reloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn changed_files_are_picked_up_by_the_watcher() {
    let env = start_with(
        Limits::default(),
        ProxyConfig::new,
        None,
        Some(Duration::from_millis(200)),
    )
    .await;
    let new_cert = write_new_cert(&env);
    wait_for_cert(&env, &[&env.cert, &new_cert], &new_cert).await;
}

#[tokio::test]
async fn sighup_reloads_the_certificate() {
    let env = start().await;
    // Let `run` install its SIGHUP handler before signalling (without one the default
    // action would end the test process).
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    drop(tls_connect(env.https, cfg).await);
    let new_cert = write_new_cert(&env);
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_cert(&env, &[&env.cert, &new_cert], &new_cert).await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    // An upstream that answers after 700 ms.
    let slow = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_addr = slow.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = slow.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|_req: Request<Incoming>| async {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                    Ok::<_, Infallible>(Response::new(full("slow answer")))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    let mut env = start_with(Limits::default(), ProxyConfig::new, Some(slow_addr), None).await;
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let mut sender = h1(tls_connect(env.https, cfg).await).await;
    let in_flight = tokio::spawn(async move { send(&mut sender, get("/slow", &[])).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    env.shutdown_gateway().await;
    let (parts, body) = in_flight.await.unwrap();
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, "slow answer");
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The listener is closed.
    assert!(TcpStream::connect(env.https).await.is_err());
}

#[tokio::test]
async fn websocket_upgrade_is_tunnelled() {
    // An upstream that accepts any WebSocket upgrade and then echoes raw bytes.
    let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = up.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = up.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|mut req: Request<Incoming>| async move {
                    let ok = req
                        .headers()
                        .get(header::UPGRADE)
                        .is_some_and(|v| v == "websocket")
                        && req.headers().get("x-centinela-user").is_none();
                    if !ok {
                        let mut r = Response::new(full("no upgrade"));
                        *r.status_mut() = StatusCode::BAD_REQUEST;
                        return Ok::<_, Infallible>(r);
                    }
                    let on = hyper::upgrade::on(&mut req);
                    tokio::spawn(async move {
                        let mut io = TokioIo::new(on.await.unwrap());
                        let mut buf = [0u8; 64];
                        while let Ok(n) = io.read(&mut buf).await {
                            if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                    let mut r = Response::new(boxed(Empty::<Bytes>::new()));
                    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                    r.headers_mut()
                        .insert(header::UPGRADE, "websocket".parse().unwrap());
                    r.headers_mut()
                        .insert(header::CONNECTION, "Upgrade".parse().unwrap());
                    Ok(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .with_upgrades()
                    .await;
            });
        }
    });
    let env = start_with(Limits::default(), ProxyConfig::new, Some(up_addr), None).await;
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let mut sender = h1(tls_connect(env.https, cfg).await).await;
    let req = get(
        "/ws",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("X-Centinela-User", "admin"),
        ],
    );
    sender.ready().await.unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(resp.headers()[header::UPGRADE], "websocket");
    let mut io = TokioIo::new(hyper::upgrade::on(resp).await.unwrap());
    for msg in [&b"hello"[..], b"through the gateway"] {
        io.write_all(msg).await.unwrap();
        let mut buf = vec![0u8; msg.len()];
        tokio::time::timeout(Duration::from_secs(5), io.read_exact(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(buf, msg);
    }
}

#[tokio::test]
async fn large_bodies_stream_through() {
    // An upstream that streams 8 MiB in 64 KiB chunks and echoes the request size.
    let up = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = up.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = up.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let received = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes().len())
                        .unwrap_or(0);
                    let chunks = chunks(128, 64 * 1024);
                    let mut r = Response::new(boxed(chunks));
                    r.headers_mut()
                        .insert("x-received", received.to_string().parse().unwrap());
                    Ok::<_, Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    let env = start_with(Limits::default(), ProxyConfig::new, Some(up_addr), None).await;
    let cfg = client_config(&[&env.cert], &[b"http/1.1"], rustls::DEFAULT_VERSIONS);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tls_connect(env.https, cfg).await))
            .await
            .unwrap();
    tokio::spawn(conn);
    let upload = chunks(64, 64 * 1024);
    let req = Request::post("/upload")
        .header(header::HOST, "localhost")
        .body(upload)
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["x-received"],
        (4 * 1024 * 1024).to_string().as_str()
    );
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), 8 * 1024 * 1024);
}

/// A body of `n` chunks of `size` bytes, produced lazily (never held in memory whole).
fn chunks(n: usize, size: usize) -> Chunks {
    Chunks { left: n, size }
}

struct Chunks {
    left: usize,
    size: usize,
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        let chunk = Bytes::from(vec![b'x'; self.size]);
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(chunk))))
    }
}

#[tokio::test]
async fn silent_client_is_cut_by_the_handshake_timeout() {
    let limits = Limits {
        tls_handshake_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let env = start_with(limits, ProxyConfig::new, None, None).await;
    let mut tcp = TcpStream::connect(env.https).await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf))
        .await
        .expect("server kept a connection without handshake open")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(buf.is_empty());
}

#[tokio::test]
async fn idle_http2_connection_is_closed_but_busy_one_is_not() {
    // An upstream that answers after 1.5 s, longer than the idle timeout.
    let slow = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_addr = slow.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = slow.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|_req: Request<Incoming>| async {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    Ok::<_, Infallible>(Response::new(full("slow answer")))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    let limits = Limits {
        idle_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let env = start_with(limits, ProxyConfig::new, Some(slow_addr), None).await;
    let cfg = client_config(&[&env.cert], &[b"h2"], rustls::DEFAULT_VERSIONS);

    // Busy: a request in flight for longer than the idle timeout completes.
    let stream = tls_connect(env.https, Arc::clone(&cfg)).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = Request::get("https://localhost/slow")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.into_body().collect().await.unwrap().to_bytes(),
        "slow answer"
    );

    // Idle: afterwards the server closes the connection on its own.
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("idle HTTP/2 connection stayed open")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
}
