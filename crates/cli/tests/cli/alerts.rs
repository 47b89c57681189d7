//! Alert rules with automatic responses: twenty blocked attacks from one address fire
//! `blocked-requests-per-address` once (stored, notified to the webhook with its
//! runbook, counted in the metrics), the address is refused until the block is lifted,
//! and the alert can be acknowledged; ten failed logins lock the account.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

/// The notifications a test webhook received.
pub type Received = Arc<Mutex<Vec<serde_json::Value>>>;

/// The notifications received so far for `rule`.
pub fn of_rule(received: &Received, rule: &str) -> Vec<serde_json::Value> {
    received
        .lock()
        .map(|r| r.iter().filter(|v| v["rule"] == rule).cloned().collect())
        .unwrap_or_default()
}

/// Waits (up to 10 s) for a first notification for `rule`; returns what arrived.
pub async fn wait_for_rule(received: &Received, rule: &str) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let got = of_rule(received, rule);
        if !got.is_empty() {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}

/// A webhook receiver that records each POST body and answers 200.
pub fn webhook() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            if let Ok(v) = serde_json::from_slice(&body) {
                if let Ok(mut g) = sink.lock() {
                    g.push(v);
                }
            }
            let mut s = reader.into_inner();
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, got)
}

#[tokio::test]
async fn attacks_fire_an_alert_that_blocks_the_address() {
    let (hook, received) = webhook();
    let env = Env::with_extra(
        Db::Sqlite,
        &format!(
            "[alerts]\nwebhook_url = \"http://127.0.0.1:{hook}/hook\"\n\
             runbook_base_url = \"https://runbooks.example/centinela\"\n"
        ),
    );
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    let base = server.base();
    for _ in 0..20 {
        let r = c
            .get(format!("{base}/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
            .send()
            .await
            .expect("attack");
        assert!(matches!(r.status().as_u16(), 403), "{}", r.status());
    }
    // The alert fires once, the webhook gets it, and the address is then refused even
    // for harmless requests.
    let mut blocked = false;
    for _ in 0..100 {
        let r = c.get(format!("{base}/")).send().await.expect("get");
        if r.status() == StatusCode::FORBIDDEN {
            let body: serde_json::Value = r.json().await.expect("json");
            assert_eq!(body["error"], "blocked_address");
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        blocked,
        "the address was never blocked:\n{}",
        server.log_text()
    );
    for _ in 0..50 {
        if !received.lock().expect("lock").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["rule"], "blocked-requests-per-address");
    assert_eq!(got[0]["key"], "127.0.0.1");
    assert_eq!(
        got[0]["runbook"],
        "https://runbooks.example/centinela/docs/runbooks/blocked-requests-per-address.md"
    );

    let list = env.ok(&["alerts", "list", "--json"], "");
    let alert: serde_json::Value =
        serde_json::from_str(list.lines().next().expect("one alert")).expect("json");
    assert_eq!(alert["state"], "firing");
    let id = alert["id"].as_str().expect("id").to_owned();
    env.ok(&["alerts", "ack", &id], "");
    assert!(env
        .ok(&["alerts", "list", "--state", "acknowledged"], "")
        .contains(&id));
    assert!(
        !env.run(&["alerts", "ack", &id], "").status.success(),
        "acknowledged twice"
    );

    // An operator lifts the block; within the refresh interval requests pass again.
    env.ok(&["alerts", "unblock", "127.0.0.1"], "");
    let mut open = false;
    for _ in 0..80 {
        if c.get(format!("{base}/"))
            .send()
            .await
            .expect("get")
            .status()
            == StatusCode::OK
        {
            open = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(open, "the block was not lifted");
}

#[tokio::test]
async fn failed_logins_lock_the_account() {
    let env = Env::with_extra(Db::Mysql, "[login]\nmax_failures = 1000\n");
    env.add_user("bruno", PASSWORD, &["--role", "customer"]);
    let server = env.start_server();
    let c = crate::login::client(&env);
    for _ in 0..10 {
        let r = crate::login::api_login(&c, &server, "bruno", "wrong password here", None).await;
        assert!(matches!(r.status().as_u16(), 401 | 429), "{}", r.status());
    }
    // The rule locks the account (not the throttle: its limit is 1000 here).
    let mut locked = false;
    for _ in 0..50 {
        let r = crate::login::api_login(&c, &server, "bruno", PASSWORD, None).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(locked, "the account was not locked:\n{}", server.log_text());
    assert!(env
        .ok(&["alerts", "list"], "")
        .contains("failed-logins-per-account"));
    env.ok(&["user", "unlock", "bruno"], "");
    let r = crate::login::api_login(&c, &server, "bruno", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// A webhook that refuses every notification: requests are answered as usual while
/// the sender retries with back-off, and the notification that never got through is
/// counted in the metrics.
#[tokio::test]
async fn a_failing_webhook_is_counted_and_slows_nothing() {
    let refusing = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hook = refusing.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in refusing.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                line.clear();
            }
            let _ = reader.into_inner().write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let env = Env::with_extra(
        Db::Sqlite,
        &format!("[alerts]\nwebhook_url = \"http://127.0.0.1:{hook}/hook\"\n"),
    );
    let admin = crate::metrics::with_admin(&env);
    let server = env.start_server();
    crate::util::wait_for_port(admin);
    let c = crate::login::client(&env);
    let base = server.base();
    for _ in 0..20 {
        let r = c
            .get(format!("{base}/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
            .send()
            .await
            .expect("attack");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // While the sender retries, the gateway keeps answering at once (here it refuses
    // the now-blocked address; it does not wait on the webhook).
    let quick = crate::login::client(&env);
    let metric = "centinela_alert_notifications_failed_total{reason=\"undelivered\"}";
    let mut failed = 0.0;
    for _ in 0..150 {
        let m = reqwest::get(format!("http://127.0.0.1:{admin}/metrics"))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        failed = m
            .lines()
            .find(|l| l.starts_with(metric))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if failed >= 1.0 {
            break;
        }
        let r = quick
            .get(format!("{base}/api/whoami"))
            .send()
            .await
            .expect("served");
        assert!(r.status().is_client_error(), "{}", r.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failed, 1.0, "the undelivered notification is counted");
}

/// A record edited behind the gateway's back is found by the periodic chain check
/// and raises the `audit-chain-broken` alert, notified once with its runbook.
#[tokio::test]
async fn an_edited_audit_record_raises_an_alert() {
    let (hook, received) = webhook();
    let env = Env::with_extra(
        Db::Mysql,
        &format!(
            "[alerts]\nwebhook_url = \"http://127.0.0.1:{hook}/hook\"\nchain_check = \"1s\"\n"
        ),
    );
    for name in ["ana", "luis"] {
        env.add_user(name, PASSWORD, &["--role", "agent"]);
    }
    let db = env.db_url.rsplit('/').next().expect("db").to_owned();
    let out = std::process::Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", &db, "-e"])
        .arg("UPDATE audit_events SET target = 'root' WHERE seq = 1")
        .output()
        .expect("mysql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = env.start_server();
    let got = wait_for_rule(&received, "audit-chain-broken").await;
    assert_eq!(got.len(), 1, "{got:?}\n{}", server.log_text());
    assert_eq!(got[0]["severity"], "critical");
    assert!(got[0]["runbook"]
        .as_str()
        .is_some_and(|r| r.ends_with("audit-chain-broken.md")));
    // Later checks find the same break; the open alert is not notified again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(of_rule(&received, "audit-chain-broken").len(), 1);
}

/// An administrator signing in from a network never seen for them raises
/// `admin-login-new-network` once; their first network, a second address in a known
/// network, and other users' new networks do not.
#[tokio::test]
async fn admin_login_from_a_new_network_is_alerted() {
    let (hook, received) = webhook();
    let env = Env::with_extra(
        Db::Sqlite,
        &format!("[alerts]\nwebhook_url = \"http://127.0.0.1:{hook}/hook\"\n"),
    );
    // The test client stands in for a proxy reporting the client's address.
    env.add_server_keys("trusted_proxies = [\"127.0.0.1/32\"]\n");
    env.add_user("root", PASSWORD, &["--role", "admin"]);
    env.add_user(
        "carla",
        PASSWORD,
        &["--role", "customer", "--customer-id", "4"],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    let login = |user: &'static str, from: &'static str| {
        c.post(format!("{}/_centinela/api/login", server.base()))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"username": user, "password": PASSWORD}))
            .send()
    };
    let alerts = || of_rule(&received, "admin-login-new-network");
    for (user, from) in [
        ("root", "198.51.100.7"),
        ("root", "198.51.100.99"),
        ("carla", "192.0.2.1"),
        ("carla", "203.0.113.80"),
    ] {
        assert_eq!(
            login(user, from).await.expect("login").status(),
            StatusCode::OK
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(alerts().is_empty(), "{:?}", alerts());
    assert_eq!(
        login("root", "203.0.113.5").await.expect("login").status(),
        StatusCode::OK
    );
    let got = wait_for_rule(&received, "admin-login-new-network").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["key"], "root");
    assert!(got[0]["runbook"]
        .as_str()
        .is_some_and(|r| r.ends_with("admin-login-new-network.md")));
}
