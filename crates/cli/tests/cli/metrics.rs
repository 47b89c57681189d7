//! The admin listener: Prometheus metrics that count what happened, and health and
//! readiness probes.

use reqwest::StatusCode;

use crate::util::{free_port, Db, Env};

const PASSWORD: &str = "correct horse battery staple";

/// Adds `admin_listen` on a free port to the environment's config.
pub fn with_admin(env: &Env) -> u16 {
    let port = free_port();
    env.add_server_keys(&format!("admin_listen = \"127.0.0.1:{port}\"\n"));
    port
}

fn value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_logins_blocks_and_denials() {
    let env = Env::new(Db::Sqlite);
    let admin = with_admin(&env);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    crate::util::wait_for_port(admin);
    let c = crate::login::client(&env);
    let r = crate::login::api_login(&c, &server, "bruno", "wrong password here", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let cookie = crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await;
    let get = |p: &str| {
        c.get(format!("{}{p}", server.base()))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .send()
    };
    assert_eq!(get("/api/customers/2").await.expect("r").status(), 200);
    assert_eq!(get("/api/customers/2").await.expect("r").status(), 200);
    assert_eq!(get("/api/customers/3").await.expect("r").status(), 403);
    assert_eq!(
        get("/api/customers/2?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .await
            .expect("r")
            .status(),
        403
    );

    let plain = reqwest::Client::new();
    let m = plain
        .get(format!("http://127.0.0.1:{admin}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(m.status(), StatusCode::OK);
    assert!(m.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.contains("openmetrics")));
    let text = m.text().await.expect("text");
    assert!(
        value(
            &text,
            "centinela_http_requests_total{route=\"customer\",status=\"200\"}"
        ) >= 2.0,
        "{text}"
    );
    assert!(
        value(&text, "centinela_logins_total{result=\"success\"}") >= 1.0,
        "{text}"
    );
    assert!(
        value(&text, "centinela_logins_total{result=\"failure\"}") >= 1.0,
        "{text}"
    );
    assert!(
        value(&text, "centinela_policy_denials_total{route=\"customer\"}") >= 1.0,
        "{text}"
    );
    assert!(
        value(
            &text,
            "centinela_inspection_blocks_total{detector=\"xss\",mode=\"block\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("centinela_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("centinela_active_sessions"), "{text}");
    assert!(text.contains("centinela_audit_events_dropped 0"), "{text}");
    // The metrics carry no secret.
    assert!(!text.contains(&cookie) && !text.contains(PASSWORD));

    for (path, want) in [("/healthz", 200), ("/readyz", 200), ("/nope", 404)] {
        let r = plain
            .get(format!("http://127.0.0.1:{admin}{path}"))
            .send()
            .await
            .expect("probe");
        assert_eq!(r.status().as_u16(), want, "{path}");
    }
}

/// `serve --listen` and `--admin-listen` override the config file's addresses.
#[tokio::test]
async fn listen_flags_override_the_config() {
    let env = Env::new(Db::Sqlite);
    let (https, admin) = (free_port(), free_port());
    let server = env.start_server_with(
        &[
            "--listen",
            &format!("127.0.0.1:{https}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin}"),
        ],
        https,
    );
    crate::util::wait_for_port(admin);
    let health = reqwest::get(format!("http://127.0.0.1:{admin}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let c = crate::login::client(&env);
    let index = c.get(server.base()).send().await.expect("index");
    assert_eq!(index.status(), StatusCode::OK);
    // The config's own HTTPS port is not opened.
    assert!(std::net::TcpStream::connect(("127.0.0.1", env.https_port)).is_err());
}
