//! Forward-auth with a real nginx (`auth_request`): Centinela decides, nginx proxies.
//! The same endpoint serves ingress-nginx `auth-url` and Traefik `forwardAuth`, which
//! send the same questions in `X-Original-*` / `X-Forwarded-*` headers.

use reqwest::StatusCode;

use crate::util::{free_port, Db, Env, Nginx};

const PASSWORD: &str = "correct horse battery staple";

fn start_nginx(env: &Env, port: u16) -> Nginx {
    let http = format!(
        r#"  server {{
    listen 127.0.0.1:{port};
    location = /_centinela_auth {{
      internal;
      proxy_pass https://127.0.0.1:{gw}/_centinela/auth;
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_trusted_certificate {cert};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }}
    location / {{
      auth_request /_centinela_auth;
      auth_request_set $c_user $upstream_http_x_centinela_user;
      auth_request_set $c_roles $upstream_http_x_centinela_roles;
      auth_request_set $c_customer $upstream_http_x_centinela_customer_id;
      auth_request_set $c_login $upstream_http_x_centinela_login;
      proxy_set_header X-Centinela-User $c_user;
      proxy_set_header X-Centinela-Roles $c_roles;
      proxy_set_header X-Centinela-Customer-Id $c_customer;
      error_page 401 = @login;
      proxy_pass http://127.0.0.1:{up};
    }}
    location @login {{
      return 302 $c_login;
    }}
  }}
"#,
        gw = env.https_port,
        up = env.upstream_port,
        cert = env.path().join("dev-cert.pem").display(),
    );
    crate::util::start_nginx(&env.path().join("nginx"), &http, &[port])
}

#[tokio::test]
async fn nginx_auth_request() {
    let env = Env::new(Db::Sqlite);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    let port = free_port();
    let _nginx = start_nginx(&env, port);
    let cookie = {
        let c = crate::login::client(&env);
        crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await
    };
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = format!("http://127.0.0.1:{port}");
    let get = |path: &str, with_cookie: bool| {
        let mut r = c.get(format!("{base}{path}"));
        if with_cookie {
            r = r.header("cookie", format!("__Host-centinela={cookie}"));
        }
        r.header("x-centinela-user", "root").send()
    };

    // Anonymous: nginx sends the browser to Centinela's login page.
    let r = get("/api/customers/2", false).await.expect("req");
    assert_eq!(r.status(), StatusCode::FOUND);
    let login = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(
        login,
        format!(
            "https://localhost:{}/_centinela/login?next=%2Fapi%2Fcustomers%2F2",
            env.https_port
        )
    );
    // Signed in: own record through nginx, with the identity Centinela vouched for
    // (not the one the client tried to send).
    let r = get("/api/customers/2", true).await.expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["id"], 2);
    let r = get("/api/whoami", true).await.expect("req");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["user"], "bruno", "{v}");
    assert_eq!(v["customer_id"], "2", "{v}");
    // Another record, however spelt, is refused by Centinela and never proxied.
    for path in [
        "/api/customers/3",
        "/api/customers/2/../3",
        "/api/customers/%33",
        "/api/customers",
    ] {
        let r = get(path, true).await.expect("req");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // The endpoint answers ingress conventions directly too (Traefik style).
    let gw = crate::login::client(&env);
    let r = gw
        .get(format!("{}/_centinela/auth", server.base()))
        .header("x-forwarded-method", "PATCH")
        .header("x-forwarded-uri", "/api/customers/2?x=1")
        .header("cookie", format!("__Host-centinela={cookie}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-centinela-route"], "customer");
    let r = gw
        .get(format!("{}/_centinela/auth", server.base()))
        .header("x-forwarded-method", "DELETE")
        .header("x-forwarded-uri", "/api/customers/2")
        .header("cookie", format!("__Host-centinela={cookie}"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = gw
        .get(format!("{}/_centinela/auth", server.base()))
        .header("x-original-url", "https://shop.example/api/customers/2")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("x-centinela-login"));
}

/// `X-Forwarded-For` from clients is dropped, unless the peer is a trusted proxy: then
/// the chain is kept and the right-most untrusted address is the client (for rate
/// limits and network rules).
#[tokio::test]
async fn forwarded_for_only_from_trusted_proxies() {
    for (trusted, want) in [(false, "127.0.0.1"), (true, "203.0.113.9, 127.0.0.1")] {
        let env = Env::with_extra(Db::Sqlite, "[rate_limit]\nper_ip = \"2/min\"\n");
        if trusted {
            env.add_server_keys("trusted_proxies = [\"127.0.0.1/32\"]\n");
        }
        env.add_user(
            "bruno",
            PASSWORD,
            &["--role", "customer", "--customer-id", "2"],
        );
        let server = env.start_server();
        let c = crate::login::client(&env);
        let cookie = crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await;
        let who = |xff: &'static str| {
            c.get(format!("{}/api/whoami", server.base()))
                .header("cookie", format!("__Host-centinela={cookie}"))
                .header("x-forwarded-for", xff)
                .header("x-forwarded-proto", "http")
                .header("x-forwarded-host", "shop.example.com")
                .send()
        };
        let r = who("203.0.113.9").await.expect("req");
        assert_eq!(r.status(), StatusCode::OK);
        let v: serde_json::Value = r.json().await.expect("json");
        assert_eq!(v["forwarded_for"], want, "trusted={trusted}");
        // The scheme and host a trusted proxy reports go upstream; from an untrusted
        // client they are the gateway's own.
        let (proto, host) = if trusted {
            ("http".to_owned(), "shop.example.com".to_owned())
        } else {
            ("https".to_owned(), format!("localhost:{}", server.port))
        };
        assert_eq!(v["forwarded_proto"], proto, "trusted={trusted}");
        assert_eq!(v["forwarded_host"], host, "trusted={trusted}");
        // Behind a trusted proxy each client address has its own budget; otherwise
        // the login and the first request already used the peer's two.
        let r = who("198.51.100.1").await.expect("req");
        assert_eq!(
            r.status(),
            if trusted {
                StatusCode::OK
            } else {
                StatusCode::TOO_MANY_REQUESTS
            },
            "trusted={trusted}"
        );
    }
}
