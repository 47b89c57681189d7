//! Rate limits per client address, per user and per route: 429 with Retry-After, and
//! the limits are independent of each other.

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
}
