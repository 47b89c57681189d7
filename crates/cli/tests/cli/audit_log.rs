//! The audit log end to end: security events from the gateway and the CLI land in the
//! hash chain, `audit-log verify` passes and then names the first edited event,
//! `audit-log export` gives ECS JSON lines, and no secret appears in the log table.

use reqwest::StatusCode;
use serde_json::Value;

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

fn export(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit-log", "export"];
    all.extend_from_slice(args);
    env.ok(&all, "")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["event"]["action"].as_str().map(str::to_owned))
        .collect()
}

/// Waits for the gateway's writer to flush (it writes in the background).
async fn wait_for(env: &Env, kind: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let events = export(env, &[]);
        if kinds(&events).iter().filter(|k| *k == kind).count() >= count {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {count} {kind} events were written");
}

async fn audit_log(db: Db) {
    let env = Env::new(db);
    env.add_user("root", PASSWORD, &["--role", "admin"]);
    env.add_user(
        "bruno",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    for _ in 0..2 {
        let r = crate::login::api_login(&c, &server, "bruno", "wrong password here", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // A password typed into the user field is never recorded.
    let r = crate::login::api_login(&c, &server, "correct horse battery staple", "x", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let cookie = crate::login::login_cookie(&c, &server, "bruno", PASSWORD).await;
    let with_cookie = |path: &str| {
        c.get(format!("{}{path}", server.base()))
            .header("cookie", format!("__Host-centinela={cookie}"))
    };
    assert_eq!(
        with_cookie("/api/customers/3")
            .send()
            .await
            .expect("req")
            .status(),
        403
    );
    assert_eq!(
        with_cookie("/api/customers/2?q=1%27%20OR%20%271%27%3D%271")
            .send()
            .await
            .expect("req")
            .status(),
        403
    );
    env.ok(&["user", "disable", "bruno"], "");

    let events = wait_for(&env, "inspection-blocked", 1).await;
    let k = kinds(&events);
    for want in [
        "admin-action",
        "config-loaded",
        "login-failure",
        "login-success",
        "policy-denied",
        "inspection-blocked",
    ] {
        assert!(k.iter().any(|x| x == want), "no {want} in {k:?}");
    }
    let failure = events
        .iter()
        .find(|e| e["event"]["action"] == "login-failure")
        .expect("failure");
    assert_eq!(failure["event"]["outcome"], "failure");
    assert_eq!(failure["event"]["category"][0], "authentication");
    assert_eq!(failure["source"]["ip"], "127.0.0.1");
    assert!(failure["@timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let denied = events
        .iter()
        .find(|e| e["event"]["action"] == "policy-denied")
        .expect("denied");
    assert_eq!(denied["user"]["name"], "bruno");
    assert_eq!(denied["centinela"]["target"], "GET /api/customers/3");
    let blocked = events
        .iter()
        .find(|e| e["event"]["action"] == "inspection-blocked")
        .expect("blocked");
    assert_eq!(blocked["centinela"]["details"]["detectors"][0], "sqli");
    // Sequence numbers are consecutive.
    let seqs: Vec<i64> = events
        .iter()
        .filter_map(|e| e["event"]["sequence"].as_i64())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    // Filters.
    assert!(kinds(&export(&env, &["--kind", "login-failure"]))
        .iter()
        .all(|k| k == "login-failure"));
    assert!(export(&env, &["--since", "2999-01-01"]).is_empty());

    let verify = env.ok(&["audit-log", "verify"], "");
    assert!(verify.contains("audit log intact"), "{verify}");

    // No secret in the events or the log.
    let dump = env.dump_database();
    let log = server.log_text();
    for secret in [PASSWORD, cookie.as_str()] {
        assert!(
            !dump.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "secret in the database"
        );
        assert!(!log.contains(secret), "secret in the log");
        for e in &events {
            assert!(!e.to_string().contains(secret), "secret in an event");
        }
    }
}

#[tokio::test]
async fn audit_log_sqlite() {
    audit_log(Db::Sqlite).await;
}

#[tokio::test]
async fn audit_log_mysql() {
    audit_log(Db::Mysql).await;
}

/// An edited record is named by `audit-log verify`, which exits 1.
#[test]
fn verify_names_the_first_edited_event() {
    let env = Env::new(Db::Mysql);
    for name in ["ana", "luis", "eva"] {
        env.add_user(name, PASSWORD, &["--role", "agent"]);
    }
    let before = env.ok(&["audit-log", "verify"], "");
    assert!(before.contains("3 event(s) verified"), "{before}");
    let db = env.mysql_name.clone().expect("db");
    let out = std::process::Command::new("mysql")
        .args(["--protocol=tcp", "-h127.0.0.1", "-uroot", &db, "-e"])
        .arg("UPDATE audit_events SET target = 'root' WHERE seq = 2")
        .output()
        .expect("mysql");
    assert!(out.status.success());
    let r = env.run(&["audit-log", "verify"], "");
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("breaks at event 2"), "{err}");
    // Pruning refuses to hide a broken chain.
    assert!(!env
        .run(&["audit-log", "prune", "--before", "1d"], "")
        .status
        .success());
}

/// With `[audit_log] retention`, the gateway prunes events past it behind a signed
/// checkpoint, records that it did, and the rest of the chain still verifies.
#[tokio::test]
async fn retention_prunes_old_events_and_keeps_the_chain_verifiable() {
    let env = Env::with_extra(Db::Sqlite, "[audit_log]\nretention = \"30d\"\n");
    // Creates the database and the master key; the log is still empty.
    env.ok(&["audit-log", "verify"], "");
    let master =
        centinela_store::MasterKey::load_file(&env.path().join("master.key")).expect("master key");
    let store =
        centinela_store::Store::open(&centinela_store::DbOptions::new(&env.db_url), &master)
            .await
            .expect("store");
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    let day = 86_400_000;
    let old: Vec<_> = (0..5)
        .map(|i| {
            centinela_core::auditlog::Event::new(
                centinela_core::auditlog::Kind::LoginFailure,
                "failure",
                now - (60 - i) * day,
            )
            .target("ana")
        })
        .collect();
    store.append_audit(&old).await.expect("old events");
    store
        .append_audit(&[centinela_core::auditlog::Event::new(
            centinela_core::auditlog::Kind::LoginFailure,
            "failure",
            now - 2 * day,
        )
        .target("recent")])
        .await
        .expect("recent event");
    drop(store);

    let server = env.start_server();
    let events = wait_for(&env, "audit-pruned", 1).await;
    let pruned = events
        .iter()
        .find(|e| e["event"]["action"] == "audit-pruned")
        .expect("pruned event");
    assert_eq!(pruned["centinela"]["details"]["deleted"], 5, "{pruned}");
    assert_eq!(
        pruned["centinela"]["details"]["checkpoint_seq"], 5,
        "{pruned}"
    );
    assert_eq!(pruned["user"]["name"], "centinela:retention");
    let targets: Vec<&str> = events
        .iter()
        .filter_map(|e| e["centinela"]["target"].as_str())
        .collect();
    assert!(
        !targets.contains(&"ana"),
        "old events are gone: {targets:?}"
    );
    assert!(targets.contains(&"recent"), "recent ones stay: {targets:?}");
    let verify = env.ok(&["audit-log", "verify"], "");
    assert!(verify.contains("audit log intact"), "{verify}");
    drop(server);
}

/// Retention shorter than a week is refused at load, pointing at the key.
#[test]
fn retention_under_a_week_is_refused() {
    let env = Env::with_extra(Db::Sqlite, "[audit_log]\nretention = \"2d\"\n");
    let r = env.run(&["config", "check"], "");
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr).into_owned() + &String::from_utf8_lossy(&r.stdout);
    assert!(err.contains("audit_log.retention"), "{err}");
    assert!(err.contains("shorter than 7 days"), "{err}");
}
