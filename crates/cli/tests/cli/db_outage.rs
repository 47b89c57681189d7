//! The database goes away under a running gateway and comes back: requests that need
//! it get a clear 503 (never a hang, a 500 or a crash), and service resumes by itself.

use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use crate::login::{api_login, client, login_cookie};
use crate::util::{Db, Env, Relay};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn mysql_outage_gives_503_and_recovers_without_restart() {
    let relay = Relay::start(3306);
    let mut env = Env::new(Db::Mysql);
    let name = env.mysql_name.clone().expect("database name");
    env.db_url = format!("mysql://root@127.0.0.1:{}/{name}", relay.port);
    env.write_config("");
    let admin = crate::metrics::with_admin(&env);
    env.add_user("erin", PASSWORD, &["--role", "customer"]);
    let mut server = env.start_server();
    let ready = |want: u16| {
        let url = format!("http://127.0.0.1:{admin}/readyz");
        async move {
            let got = reqwest::get(url).await.expect("readyz").status().as_u16();
            assert_eq!(got, want, "readyz");
        }
    };
    ready(200).await;
    let c = client(&env);
    let cookie = login_cookie(&c, &server, "erin", PASSWORD).await;
    let whoami_url = format!("{}/api/whoami", server.base());
    let proxied = |cookie: String| {
        let c = c.clone();
        let url = whoami_url.clone();
        async move {
            c.get(url)
                .header(COOKIE, format!("__Host-centinela={cookie}"))
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(proxied(cookie.clone()).await.status(), StatusCode::OK);

    relay.cut();
    let started = Instant::now();
    let r = proxied(cookie.clone()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(RETRY_AFTER));
    let body: Value = r.json().await.expect("json error");
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the 503 must not wait for a client timeout"
    );
    let r = api_login(&c, &server, "erin", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    ready(503).await;
    assert!(
        server.gateway.try_wait().expect("status").is_none(),
        "the gateway exited during the outage:\n{}",
        server.log_text()
    );

    // Security events during the outage are kept (bounded queue) and written when
    // the database returns; anonymous refusals need no database to decide.
    for _ in 0..3 {
        let r = c
            .get(format!("{}/api/customers", server.base()))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }

    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = proxied(cookie.clone()).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(Instant::now() < deadline, "service did not resume");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ready(200).await;
    // The session survived the outage and new logins work again.
    let r = api_login(&c, &server, "erin", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!server.log_text().contains("panicked"));
    let mut stored = 0;
    for _ in 0..100 {
        stored = env
            .ok(&["audit-log", "export", "--kind", "policy-denied"], "")
            .lines()
            .filter(|l| l.contains("GET /api/customers"))
            .count();
        if stored >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        stored >= 3,
        "events from the outage were lost ({stored} stored)"
    );
    assert!(env.ok(&["audit-log", "verify"], "").contains("intact"));
}
