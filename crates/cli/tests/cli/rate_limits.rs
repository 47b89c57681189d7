//! Rate limits per client address, per user and per route: 429 with Retry-After, the
//! limits are independent of each other, and each refusal is a `rate-limited` event in
//! the audit log naming the limit (and the user, for per-user limits).

use reqwest::StatusCode;

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

async fn statuses(c: &reqwest::Client, url: &str, auth: Option<&str>, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut req = c.get(url);
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .expect("Retry-After on a 429");
            assert!((1..=60).contains(&retry), "{retry}");
        }
        out.push(r.status().as_u16());
    }
    out
}

#[tokio::test]
async fn per_address_limit() {
    let env = Env::with_extra(Db::Sqlite, "[rate_limit]\nper_ip = \"5/min\"\n");
    let server = env.start_server();
    let c = crate::login::client(&env);
    let got = statuses(&c, &format!("{}/", server.base()), None, 7).await;
    assert_eq!(got, [200, 200, 200, 200, 200, 429, 429]);
    // The gateway's own pages count too: a flood is a flood.
    let got = statuses(&c, &format!("{}/_centinela/login", server.base()), None, 1).await;
    assert_eq!(got, [429]);
    let events = rate_limited_events(&env, 3).await;
    assert!(
        events.iter().all(|e| e["source"]["ip"] == "127.0.0.1"
            && e["centinela"]["details"]["limit"] == "per address"
            && e["centinela"]["details"]["rate"] == "5/min"
            && e["event"]["outcome"] == "failure"),
        "{events:?}"
    );
}

/// The `rate-limited` events once at least `n` are written (the gateway's audit writer
/// runs in the background).
async fn rate_limited_events(env: &Env, n: usize) -> Vec<serde_json::Value> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = env
            .ok(&["audit-log", "export", "--kind", "rate-limited"], "")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if got.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), n, "one rate-limited event per 429: {got:?}");
    got
}

#[tokio::test]
async fn per_user_and_per_route_limits() {
    let env = Env::with_extra(
        Db::Sqlite,
        "[rate_limit]\nper_ip = \"off\"\nper_user = \"6/min\"\n\n\
         [[route]]\nname = \"expensive\"\npath = \"/api/report\"\nupstream = \"demo\"\nmethods = [\"GET\"]\n\
         rate_limit = \"2/min\"\n[[route.allow]]\nauthenticated = true\n",
    );
    env.add_user("ana", PASSWORD, &["--role", "agent"]);
    env.add_user("luis", PASSWORD, &["--role", "agent"]);
    let token = |user: &str| {
        env.ok(
            &[
                "token", "create", "--user", user, "--name", "t", "--role", "agent",
            ],
            "",
        )
        .trim()
        .to_owned()
    };
    let (ana, luis) = (token("ana"), token("luis"));
    let server = env.start_server();
    let c = crate::login::client(&env);
    // The route's own limit: 2 per minute per user (the demo answers 404 for the path).
    let report = format!("{}/api/report", server.base());
    assert_eq!(statuses(&c, &report, Some(&ana), 3).await, [404, 404, 429]);
    assert_eq!(statuses(&c, &report, Some(&luis), 2).await, [404, 404]);
    // The per-user limit: ana has used 3 of 6; three more pass, then 429 everywhere.
    let list = format!("{}/api/customers", server.base());
    assert_eq!(
        statuses(&c, &list, Some(&ana), 4).await,
        [200, 200, 200, 429]
    );
    // Anonymous requests and other users are not affected.
    assert_eq!(
        statuses(&c, &format!("{}/", server.base()), None, 3).await,
        [200, 200, 200]
    );
    assert_eq!(statuses(&c, &list, Some(&luis), 1).await, [200]);
    let events = rate_limited_events(&env, 2).await;
    let limits: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["centinela"]["details"]["limit"].as_str().unwrap_or(""),
                e["user"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(limits.contains(&("per user", "ana")), "{limits:?}");
    assert!(
        limits
            .iter()
            .any(|(l, u)| l.contains("route") && *u == "ana"),
        "{limits:?}"
    );
}
