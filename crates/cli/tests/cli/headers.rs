//! Response hardening on every kind of response: proxied, refused by the policy,
//! the gateway's own pages, and upstream errors; version headers removed; upstream
//! cookies completed with Secure, HttpOnly and SameSite.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use reqwest::header::HeaderMap;

use crate::util::{Db, Env};

/// A raw upstream that answers every request with `response` (HTTP/1.1, then close).
fn raw_upstream(response: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = s.write_all(response.as_bytes());
        }
    });
    port
}

fn assert_hardened(h: &HeaderMap, what: &str) {
    for (name, want) in [
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(want),
            "{what}: {name}"
        );
    }
    assert!(
        h.contains_key("permissions-policy"),
        "{what}: permissions-policy"
    );
    assert!(h.contains_key("content-security-policy"), "{what}: CSP");
    for leak in ["server", "x-powered-by"] {
        assert!(!h.contains_key(leak), "{what}: {leak} leaked");
    }
}

#[tokio::test]
async fn every_response_is_hardened() {
    let port = raw_upstream(
        "HTTP/1.1 200 OK\r\nServer: Werkzeug/2.0.1 Python/3.8.5\r\nX-Powered-By: Express\r\n\
         Set-Cookie: sid=abc; Path=/\r\nSet-Cookie: csrftoken=t0k; Path=/\r\n\
         Set-Cookie: pref=1; Path=/; Secure; HttpOnly; SameSite=Strict\r\n\
         Content-Type: text/html\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    let env = Env::with_extra(
        Db::Sqlite,
        &format!(
            "[[upstream]]\nname = \"legacy\"\nurl = \"http://127.0.0.1:{port}\"\n\n\
             [[route]]\nname = \"legacy\"\npath = \"/legacy/{{*rest}}\"\nupstream = \"legacy\"\nmethods = [\"GET\"]\n\
             csp = \"default-src 'none'\"\n[[route.allow]]\nanyone = true\n\
             [[route]]\nname = \"legacy-default-csp\"\npath = \"/legacy2/{{*rest}}\"\nupstream = \"legacy\"\nmethods = [\"GET\"]\n\
             [[route.allow]]\nanyone = true\n"
        ),
    );
    let server = env.start_server();
    let c = crate::login::client(&env);

    // Proxied: security headers set, version headers gone, cookies completed.
    let r = c
        .get(format!("{}/legacy/x", server.base()))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    assert_hardened(r.headers(), "proxied");
    assert_eq!(r.headers()["content-security-policy"], "default-src 'none'");
    let cookies: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(
        cookies,
        [
            "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
            "csrftoken=t0k; Path=/; Secure; SameSite=Lax",
            "pref=1; Path=/; Secure; HttpOnly; SameSite=Strict",
        ]
    );
    // Without a route CSP, the default applies.
    let r = c
        .get(format!("{}/legacy2/x", server.base()))
        .send()
        .await
        .expect("req");
    assert_hardened(r.headers(), "proxied, default CSP");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .is_ok_and(|v| v.contains("frame-ancestors 'none'")));

    // Refused by the policy, refused as ambiguous, and the gateway's own pages.
    for (path, status) in [
        ("/api/customers", 401),
        ("/nowhere", 403),
        ("/api/a%2fb", 400),
        ("/_centinela/login", 200),
        ("/_centinela/nope", 404),
    ] {
        let r = c
            .get(format!("{}{path}", server.base()))
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), status, "{path}");
        assert_hardened(r.headers(), path);
    }
    // The login page keeps its own strict policy.
    let r = c
        .get(format!("{}/_centinela/login", server.base()))
        .send()
        .await
        .expect("req");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .is_ok_and(|v| v.starts_with("default-src 'none'")));
}

#[tokio::test]
async fn upstream_failures_are_hardened_too() {
    // Nothing listens on the demo upstream's port: a 502 from the gateway.
    let env = Env::new(Db::Sqlite);
    let log = std::fs::File::create(env.path().join("server.log")).expect("log");
    let mut gw = env
        .cmd(&["serve"])
        .stdout(log.try_clone().expect("clone"))
        .stderr(log)
        .spawn()
        .expect("spawn");
    crate::util::wait_for_port(env.https_port);
    let c = crate::login::client(&env);
    let r = c
        .get(format!("https://localhost:{}/", env.https_port))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 502);
    assert_hardened(r.headers(), "502");
    let _ = gw.kill();
    let _ = gw.wait();
}
