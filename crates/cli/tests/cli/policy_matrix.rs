//! The authorisation matrix of `examples/customers`: every role (and anonymous) ×
//! route × method × own or other record, and the path spellings a user might try
//! by editing the URL. Requests go through curl with `--path-as-is`, so the gateway
//! receives each spelling exactly as typed (an HTTP library would tidy it first).

use std::process::Command;

use crate::util::{Db, Env, Server};

const PASSWORD: &str = "correct horse battery staple";

/// Who sends a request.
#[derive(Clone, Debug)]
enum Caller {
    Anonymous,
    Cookie(String),
    Bearer(String),
}

struct Reply {
    status: u16,
    body: String,
}

fn curl(
    env: &Env,
    s: &Server,
    who: &Caller,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let mut c = Command::new("curl");
    c.args([
        "-s",
        "--path-as-is",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
        "--max-time",
        "20",
    ])
    .arg("--cacert")
    .arg(env.path().join("dev-cert.pem"));
    match who {
        Caller::Anonymous => {}
        Caller::Cookie(v) => {
            c.arg("-H").arg(format!("Cookie: __Host-centinela={v}"));
        }
        Caller::Bearer(t) => {
            c.arg("-H").arg(format!("Authorization: Bearer {t}"));
        }
    }
    if let Some(b) = body {
        c.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    c.arg(format!("{}{path}", s.base()));
    let out = c
        .output()
        .expect("run curl (install it: apt-get install curl)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    Reply {
        status: code.trim().parse().unwrap_or(0),
        body: body.to_owned(),
    }
}

/// (caller name, caller, method, path, body, expected to be forwarded)
type Case<'a> = (&'a str, &'a Caller, &'a str, &'a str, Option<&'a str>, bool);

async fn login(s: &Server, env: &Env, user: &str) -> String {
    let c = crate::login::client(env);
    crate::login::login_cookie(&c, s, user, PASSWORD).await
}

/// `true` = forwarded (the upstream answered), `false` = refused by the gateway.
fn forwarded(r: &Reply) -> bool {
    !matches!(r.status, 0 | 400 | 401 | 403)
}

async fn matrix(db: Db) {
    // The matrix asks for other customers' records dozens of times on purpose. With
    // alerts on, the `denials-per-user` rule would (rightly) revoke that customer's
    // session halfway through; that response has its own test in `alerts.rs`.
    let env = Env::with_extra(db, "[alerts]\nenabled = false\n");
    env.add_user("root", PASSWORD, &["--role", "admin"]);
    env.add_user("ines", PASSWORD, &["--role", "agent"]);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let bruno_token = env
        .ok(
            &[
                "token", "create", "--user", "bruno", "--name", "app", "--role", "customer",
            ],
            "",
        )
        .trim()
        .to_owned();
    let server = env.start_server();
    let admin = Caller::Cookie(login(&server, &env, "root").await);
    let agent = Caller::Cookie(login(&server, &env, "ines").await);
    let customer = Caller::Cookie(login(&server, &env, "bruno").await);
    let customer_token = Caller::Bearer(bruno_token);

    let patch = Some(r#"{"plan":"changed"}"#);
    let mut cases: Vec<Case<'_>> = Vec::new();
    let anon = Caller::Anonymous;
    for (name, who, list, read_any, write_own, write_other, delete) in [
        ("anonymous", &anon, false, false, false, false, false),
        ("admin", &admin, true, true, true, true, true),
        ("agent", &agent, true, true, false, false, false),
        ("customer", &customer, false, false, true, false, false),
        (
            "customer token",
            &customer_token,
            false,
            false,
            true,
            false,
            false,
        ),
    ] {
        cases.push((name, who, "GET", "/api/customers", None, list));
        cases.push((name, who, "POST", "/api/customers", patch, false));
        cases.push((name, who, "GET", "/api/customers/3", None, read_any));
        cases.push((name, who, "PATCH", "/api/customers/3", patch, write_other));
        cases.push((name, who, "PUT", "/api/customers/3", patch, write_other));
        cases.push((
            name,
            who,
            "GET",
            "/api/customers/2",
            None,
            read_any || write_own,
        ));
        cases.push((name, who, "PATCH", "/api/customers/2", patch, write_own));
        cases.push((name, who, "GET", "/", None, true));
        cases.push((name, who, "POST", "/", patch, false));
        cases.push((name, who, "GET", "/api/whoami", None, name != "anonymous"));
        cases.push((name, who, "GET", "/api/secret-admin-panel", None, false));
        cases.push((name, who, "DELETE", "/api/customers/4", None, delete));
    }
    // URL editing by the customer who owns record 2: every spelling of record 3 is
    // refused, every spelling of record 2 reaches the upstream as /api/customers/2.
    for other in [
        "/api/customers/3/",
        "/api/customers/%33",
        "/api//customers/3",
        "/API/customers/3",
        "/api/customers/2/../3",
        "/api/customers/2/%2e%2e/3",
        "/api/customers/2%2f..%2f3",
        "/api/customers/2%2F..%2F3",
        "/api/customers/3;x=1",
        "/api/customers/3;id=2",
        "/api/customers/%2533",
        "/api/customers/2%5c..%5c3",
        "/api/customers/3%00",
        "/api/customers/./3",
        "/api/customers/3?id=2",
        "/api/customers/3#2",
        // Dot segments never come from a browser (it resolves them first); the
        // inspector treats them as traversal even when they resolve to one's own record.
        "/api/customers/3/../2",
    ] {
        cases.push(("customer", &customer, "GET", other, None, false));
        cases.push(("customer", &customer, "PATCH", other, patch, false));
    }
    for own in [
        "/api/customers/2/",
        "/api/customers/%32",
        "/api//customers/2",
        "/api/customers/2;x=1",
        "/api/customers/./2",
    ] {
        cases.push(("customer", &customer, "GET", own, None, true));
    }

    let mut failures = Vec::new();
    for (name, who, method, path, body, want) in &cases {
        let r = curl(&env, &server, who, method, path, *body);
        if forwarded(&r) != *want {
            failures.push(format!(
                "{name} {method} {path}: got {} ({}), expected {}",
                r.status,
                r.body.chars().take(120).collect::<String>(),
                if *want { "forwarded" } else { "refused" }
            ));
        }
        if !*want && r.status != 0 {
            // Refusals say nothing about the rule that decided.
            assert!(
                !r.body.contains("rule"),
                "{name} {method} {path}: {}",
                r.body
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // What the upstream saw for an odd spelling of the customer's own record: the
    // canonical path, and the customer's identity.
    let r = curl(
        &env,
        &server,
        &customer,
        "GET",
        "/api//customers/%32/",
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["id"], 2, "{}", r.body);
    let r = curl(&env, &server, &customer, "GET", "/api/whoami/", None);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["path"], "/api/whoami");
    assert_eq!(v["customer_id"], "2");
    assert_eq!(v["route"], "whoami");
    // Identity headers sent by the client never reach the upstream.
    let mut c = Command::new("curl");
    let out = c
        .args(["-s", "--cacert"])
        .arg(env.path().join("dev-cert.pem"))
        .args([
            "-H",
            "X-Centinela-User: root",
            "-H",
            "X-Centinela-Roles: admin",
        ])
        .arg("-H")
        .arg(format!(
            "Cookie: __Host-centinela={}",
            match &customer {
                Caller::Cookie(v) => v.as_str(),
                _ => "",
            }
        ))
        .arg(format!("{}/api/whoami", server.base()))
        .output()
        .expect("curl");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["user"], "bruno");
    assert_eq!(v["roles"], "customer");

    // Record 3 was never changed by anyone but the admin, whose PATCH set "changed";
    // the agent's and customer's attempts never reached the upstream.
    let r = curl(&env, &server, &agent, "GET", "/api/customers/3", None);
    assert!(r.status == 200, "{}", r.body);
    // Denials are logged with their reason for the operator.
    let log = server.log_text();
    assert!(log.contains("Access denied"), "no denial in the log");
    assert!(
        log.contains("owner 3 is not the caller's customer_id 2"),
        "{log}"
    );
}

#[tokio::test]
async fn example_policy_matrix_sqlite() {
    matrix(Db::Sqlite).await;
}

#[tokio::test]
async fn example_policy_matrix_mysql() {
    matrix(Db::Mysql).await;
}
