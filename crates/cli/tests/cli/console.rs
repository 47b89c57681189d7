//! The admin console in a real browser: headless Chromium (Debian's package) driven by
//! playwright-core runs `tests/browser/console.mjs` against `centinela serve`. The
//! script logs in, is refused until it enrols TOTP, signs in again with the code,
//! sends attacks through the gateway and finds the blocks and the alert on the
//! dashboard, acknowledges the alert, searches the audit log, and revokes and disables
//! an account; markup in a display name stays text. This
//! side then checks that the database recorded what the page said it did, and — the
//! run having exercised logins, TOTP, sessions, tokens, attacks and bodies — that no
//! password, session id, token, TOTP secret or request body is in any table or log.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";
const ATTACKER: &str = "203.0.113.77";
const HOSTILE: &str = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    std::env::var("CENTINELA_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// Fails (never skips) with what to install when the browser stack is missing.
fn require_browser_stack() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix {}` (.ci/run does)",
        dir.display()
    );
    assert!(
        Path::new(&chromium()).exists(),
        "Chromium is not installed at {}: `apt-get install chromium` (.ci/run does), or set \
         CENTINELA_TEST_CHROMIUM",
        chromium()
    );
}

#[tokio::test]
async fn console_in_chromium() {
    require_browser_stack();
    // The attacks arrive through a proxy on loopback, as behind a load balancer, so the
    // automatic block hits the attacker's address and not the browser's.
    let env = Env::with_extra(
        Db::Sqlite,
        "[[alerts.rule]]\nname = \"blocked-requests-per-address\"\nthreshold = 4\n\
         runbook = \"ops/runbooks/attack-in-progress.md\"\n",
    );
    env.add_server_keys("trusted_proxies = [\"127.0.0.1/32\"]\n");
    env.add_user("root-admin", PASSWORD, &["--role", "admin"]);
    env.add_user(
        "paula",
        PASSWORD,
        &["--role", "customer", "--customer-id", "2"],
    );
    env.add_user(
        "mallory",
        PASSWORD,
        &["--role", "customer", "--display-name", HOSTILE],
    );
    let server = env.start_server();
    let c = crate::login::client(&env);
    let victim_session = crate::login::login_cookie(&c, &server, "paula", PASSWORD).await;
    let token = env
        .ok(
            &[
                "token", "create", "--user", "paula", "--name", "ci", "--role", "customer",
            ],
            "",
        )
        .trim()
        .to_owned();
    let r = c
        .get(format!("{}/api/customers/2", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("token request");
    assert_eq!(r.status(), StatusCode::OK);
    // A benign body with a unique marker, and an attack body: neither may be stored.
    let body_marker = format!("feedback-body-{:016x}", rand::random::<u64>());
    let attack_marker = format!("{:08x}", rand::random::<u32>());
    for (body, blocked) in [
        (
            serde_json::json!({"message": format!("great shop {body_marker}")}),
            false,
        ),
        (
            serde_json::json!({"message": format!("1' UNION SELECT password FROM users WHERE 'a{attack_marker}'='a")}),
            true,
        ),
    ] {
        let r = c
            .post(format!("{}/api/public/feedback", server.base()))
            .json(&body)
            .send()
            .await
            .expect("feedback");
        assert_eq!(r.status() == StatusCode::FORBIDDEN, blocked, "{body}");
        assert!(blocked || r.status().is_success(), "{}", r.status());
    }

    let r = c
        .get(format!("{}/_centinela/admin", server.base()))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let out = Command::new("node")
        .arg(browser_dir().join("console.mjs"))
        .current_dir(browser_dir())
        .env("CENTINELA_BASE", server.base())
        .env("ADMIN_USER", "root-admin")
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("ATTACKER_IP", ATTACKER)
        .env("VICTIM_USER", "paula")
        .env("HOSTILE_NAME", HOSTILE)
        .env("RUNBOOK", "ops/runbooks/attack-in-progress.md")
        .env("CHROMIUM", chromium())
        .output()
        .expect("node runs (install nodejs)");
    assert!(
        out.status.success(),
        "browser script failed:\n{}\n{}\n--- gateway log ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log_text()
    );

    // What the pages said happened is in the database and the audit log.
    let alerts = env.ok(&["alerts", "list", "--json"], "");
    let alert: serde_json::Value = alerts
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["rule"] == "blocked-requests-per-address")
        .unwrap_or_else(|| panic!("alert stored: {alerts}"));
    assert_eq!(alert["state"], "acknowledged", "{alert}");
    assert_eq!(alert["acknowledged_by"], "root-admin", "{alert}");
    let user = env.ok(&["user", "show", "paula"], "");
    assert!(user.contains("disabled"), "{user}");
    let log = env.ok(&["audit-log", "export"], "");
    let events: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for action in ["alert-ack", "user-revoke-sessions", "user-disable"] {
        assert!(
            events.iter().any(|e| e["event"]["action"] == "admin-action"
                && e["user"]["name"] == "root-admin"
                && e["centinela"]["details"]["action"] == action
                && e["centinela"]["details"]["via"] == "console"),
            "{action} recorded with the admin as actor:\n{log}"
        );
    }
    assert!(log.contains("mfa-enrolled"), "{log}");
    let r = crate::login::api_login(&c, &server, "paula", PASSWORD, None).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "disabled account refused"
    );

    let summary: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("the script's summary line");
    let totp_secret = summary["totp_secret"].as_str().expect("secret").to_owned();
    assert!(totp_secret.len() >= 16, "{summary}");
    let dump = env.dump_database();
    let texts = [
        ("the database", String::from_utf8_lossy(&dump).into_owned()),
        ("the gateway log", server.log_text()),
        ("the audit export", log),
    ];
    for (what, secret) in [
        ("a password", PASSWORD),
        ("a session id", victim_session.as_str()),
        ("an API token", token.as_str()),
        ("the TOTP secret", totp_secret.as_str()),
        ("a request body", body_marker.as_str()),
        ("an attack body", attack_marker.as_str()),
    ] {
        for (place, text) in &texts {
            assert!(!text.contains(secret), "{what} ({secret}) found in {place}");
        }
    }
}
