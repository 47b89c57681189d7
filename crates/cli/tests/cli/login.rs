//! Login, sessions, API tokens and TOTP through the running gateway, on SQLite and on
//! MariaDB: what a browser or an API client meets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::util::{Db, Env, Server};

const PASSWORD: &str = "correct horse battery staple";

/// An HTTPS client that trusts the quickstart's development certificate and does not
/// follow redirects (tests look at them).
pub fn client(env: &Env) -> reqwest::Client {
    let pem = std::fs::read(env.path().join("dev-cert.pem")).expect("dev certificate");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-centinela="))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("cookie value")
}

fn cookie_header(name: &str, value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}={value}")).expect("header")
}

pub async fn api_login(
    c: &reqwest::Client,
    s: &Server,
    user: &str,
    pw: &str,
    totp: Option<&str>,
) -> reqwest::Response {
    let mut body = json!({"username": user, "password": pw});
    if let Some(t) = totp {
        body["totp"] = json!(t);
    }
    c.post(format!("{}/_centinela/api/login", s.base()))
        .json(&body)
        .send()
        .await
        .expect("login request")
}

pub async fn login_cookie(c: &reqwest::Client, s: &Server, user: &str, pw: &str) -> String {
    let r = api_login(c, s, user, pw, None).await;
    assert_eq!(r.status(), StatusCode::OK, "login of {user}");
    cookie_value(&session_cookie(r.headers()).expect("session cookie"))
}

async fn whoami(c: &reqwest::Client, s: &Server, cookie: &str) -> StatusCode {
    c.get(format!("{}/_centinela/api/session", s.base()))
        .header(COOKIE, cookie_header("__Host-centinela", cookie))
        .send()
        .await
        .expect("session request")
        .status()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

async fn json_login_and_sessions(db: Db) {
    let env = Env::new(db);
    env.add_user(
        "alice",
        PASSWORD,
        &[
            "--role",
            "customer",
            "--customer-id",
            "2",
            "--email",
            "alice.private@example.com",
        ],
    );
    let server = env.start_server();
    let c = client(&env);

    let anon = c
        .get(format!("{}/_centinela/api/session", server.base()))
        .send()
        .await
        .expect("req");
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);

    // Wrong password and unknown user: the same status and the same body.
    let wrong = api_login(&c, &server, "alice", "not the password at all", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(wrong.headers()).is_none());
    let wrong_body: Value = wrong.json().await.expect("json");
    let unknown = api_login(&c, &server, "mallory", "not the password at all", None).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_body: Value = unknown.json().await.expect("json");
    assert_eq!(wrong_body, unknown_body);

    // Success: a __Host- cookie with every protective attribute.
    let ok = api_login(&c, &server, "alice", PASSWORD, None).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let set = session_cookie(ok.headers()).expect("cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["customer_id"], "2");
    let cookie = cookie_value(&set);
    assert_eq!(cookie.len(), 43, "256-bit id, base64url");
    assert_eq!(whoami(&c, &server, &cookie).await, StatusCode::OK);

    // The upstream receives the identity.
    let who: Value = c
        .get(format!("{}/api/whoami", server.base()))
        .header(COOKIE, cookie_header("__Host-centinela", &cookie))
        .send()
        .await
        .expect("proxied")
        .json()
        .await
        .expect("json");
    assert_eq!(who["user"], "alice", "{who}");

    // A second login gets a different id (no fixation); logout ends only that one.
    let second = login_cookie(&c, &server, "alice", PASSWORD).await;
    assert_ne!(second, cookie);
    let out = c
        .post(format!("{}/_centinela/api/logout", server.base()))
        .header(COOKIE, cookie_header("__Host-centinela", &cookie))
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(whoami(&c, &server, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(whoami(&c, &server, &second).await, StatusCode::OK);

    // Log out everywhere.
    let third = login_cookie(&c, &server, "alice", PASSWORD).await;
    let out = c
        .post(format!(
            "{}/_centinela/api/logout-everywhere",
            server.base()
        ))
        .header(COOKIE, cookie_header("__Host-centinela", &third))
        .header(CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(whoami(&c, &server, &second).await, StatusCode::UNAUTHORIZED);

    // Admin revocation from the CLI takes effect on the next request.
    let fourth = login_cookie(&c, &server, "alice", PASSWORD).await;
    env.ok(&["user", "revoke-sessions", "alice"], "");
    assert_eq!(whoami(&c, &server, &fourth).await, StatusCode::UNAUTHORIZED);
    let fifth = login_cookie(&c, &server, "alice", PASSWORD).await;
    env.ok(&["user", "disable", "alice"], "");
    assert_eq!(whoami(&c, &server, &fifth).await, StatusCode::UNAUTHORIZED);
    let refused = api_login(&c, &server, "alice", PASSWORD, None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    env.ok(&["user", "enable", "alice"], "");

    // A password change by the administrator ends the sessions; only the new
    // password signs in.
    let sixth = login_cookie(&c, &server, "alice", PASSWORD).await;
    let new_password = "a brand new passphrase for alice";
    env.ok(&["user", "passwd", "alice"], &format!("{new_password}\n"));
    assert_eq!(whoami(&c, &server, &sixth).await, StatusCode::UNAUTHORIZED);
    let old = api_login(&c, &server, "alice", PASSWORD, None).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = api_login(&c, &server, "alice", new_password, None).await;
    assert_eq!(new.status(), StatusCode::OK);

    at_rest_has_no_secrets(
        &env,
        &server,
        &[
            &cookie,
            &second,
            &fourth,
            &sixth,
            "alice.private",
            PASSWORD,
            new_password,
        ],
    );
}

/// Neither the database nor the server log holds a secret in clear.
fn at_rest_has_no_secrets(env: &Env, server: &Server, secrets: &[&str]) {
    let dump = env.dump_database();
    let log = server.log_text();
    for s in secrets {
        let needle = s.as_bytes();
        assert!(
            !dump.windows(needle.len()).any(|w| w == needle),
            "{s:?} found in the database"
        );
        assert!(!log.contains(s), "{s:?} found in the server log");
    }
}

async fn throttling_and_unlock(db: Db) {
    let env = Env::with_extra(
        db,
        "[login]\nmax_failures = 3\nwindow = \"15m\"\nlockout = \"15m\"\n",
    );
    env.add_user("bob", PASSWORD, &["--role", "agent"]);
    let server = env.start_server();
    let c = client(&env);
    for _ in 0..3 {
        let r = api_login(&c, &server, "bob", "wrong wrong wrong", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password gets 429 with Retry-After.
    let r = api_login(&c, &server, "bob", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!(retry > 0 && retry <= 900, "{retry}");
    // An administrator lifts the lock.
    env.ok(&["user", "unlock", "bob"], "");
    let r = api_login(&c, &server, "bob", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Temporary locks lift by themselves, per account and per client address, and the
/// HTML form answers a lock with 429 and Retry-After as the JSON API does.
async fn locks_expire_by_themselves(db: Db) {
    let env = Env::with_extra(
        db,
        "[login]\nmax_failures = 2\nwindow = \"10m\"\nlockout = \"3s\"\n",
    );
    env.add_user("dora", PASSWORD, &["--role", "agent"]);
    env.add_user("emil", PASSWORD, &["--role", "agent"]);
    let server = env.start_server();
    let c = client(&env);
    for _ in 0..2 {
        let r = api_login(&c, &server, "dora", "wrong wrong wrong", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = api_login(&c, &server, "dora", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The HTML form says the same, with a page rather than JSON.
    let (csrf_cookie, csrf) = login_form(&c, &server.base()).await;
    let form = c
        .post(format!("{}/_centinela/login", server.base()))
        .header(COOKIE, cookie_header("__Host-centinela-csrf", &csrf_cookie))
        .form(&[
            ("username", "dora"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(form.headers().contains_key("retry-after"));
    assert!(form
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html")));
    // Nobody unlocks it: it lifts when the lockout has passed.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = api_login(&c, &server, "dora", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);

    // One address guessing across many accounts is locked as an address at five
    // times the per-account limit (10 here, dora's two failures included), which
    // also stops that address's correct logins.
    for i in 0..8 {
        let r = api_login(
            &c,
            &server,
            &format!("nobody{i}"),
            "wrong wrong wrong",
            None,
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = api_login(&c, &server, "emil", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = api_login(&c, &server, "emil", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// Configured idle and absolute timeouts, through the gateway: a session in use
/// outlives the idle timeout, an unused one does not, and none outlives the absolute
/// timeout.
async fn session_timeouts(db: Db) {
    let env = Env::with_extra(
        db,
        "[session]\nidle_timeout = \"4s\"\nabsolute_timeout = \"8s\"\n",
    );
    env.add_user("hana", PASSWORD, &["--role", "agent"]);
    let server = env.start_server();
    let c = client(&env);
    let used = login_cookie(&c, &server, "hana", PASSWORD).await;
    let idle = login_cookie(&c, &server, "hana", PASSWORD).await;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        assert_eq!(whoami(&c, &server, &used).await, StatusCode::OK, "in use");
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    assert_eq!(
        whoami(&c, &server, &idle).await,
        StatusCode::UNAUTHORIZED,
        "idle"
    );
    while started.elapsed() < Duration::from_secs(9) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        whoami(&c, &server, &used).await,
        StatusCode::UNAUTHORIZED,
        "absolute"
    );
}

/// A token past its expiry is refused by the gateway like a revoked one.
async fn expired_tokens_are_refused(db: Db) {
    let env = Env::new(db);
    env.add_user("svc2", PASSWORD, &["--role", "reporting"]);
    let token = env
        .ok(
            &[
                "token",
                "create",
                "--user",
                "svc2",
                "--name",
                "short",
                "--expires",
                "2s",
            ],
            "",
        )
        .trim()
        .to_owned();
    let server = env.start_server();
    let c = client(&env);
    let session = |c: &reqwest::Client| {
        c.get(format!("{}/_centinela/api/session", server.base()))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(session(&c).await.expect("req").status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        session(&c).await.expect("req").status(),
        StatusCode::UNAUTHORIZED
    );
    let proxied = c
        .get(format!("{}/api/whoami", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("req");
    assert_eq!(proxied.status(), StatusCode::UNAUTHORIZED);
}

async fn tokens_through_gateway(db: Db) {
    let env = Env::new(db);
    env.add_user("svc", PASSWORD, &["--role", "reporting"]);
    let token = env
        .ok(
            &[
                "token",
                "create",
                "--user",
                "svc",
                "--name",
                "ci",
                "--role",
                "reporting",
            ],
            "",
        )
        .trim()
        .to_owned();
    let server = env.start_server();
    let c = client(&env);
    let who = c
        .get(format!("{}/_centinela/api/session", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("req");
    assert_eq!(who.status(), StatusCode::OK);
    let body: Value = who.json().await.expect("json");
    assert_eq!(body["method"], "token");
    assert_eq!(body["roles"], json!(["reporting"]));
    let proxied = c
        .get(format!("{}/api/whoami", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("req");
    assert_eq!(proxied.status(), StatusCode::OK);
    let seen: Value = proxied.json().await.expect("json");
    assert_eq!(seen["auth"], "token");
    assert_eq!(
        seen["authorization"],
        Value::Null,
        "the token reached the upstream"
    );
    // A forged token of the right shape and garbage are both just unauthenticated.
    for bad in [
        "cnt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "garbage' OR 1=1 --",
    ] {
        let r = c
            .get(format!("{}/_centinela/api/session", server.base()))
            .bearer_auth(bad)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let id = env
        .ok(&["token", "list"], "")
        .split('\t')
        .next()
        .expect("id")
        .to_owned();
    // Taking a role from the owner takes it from the token at once.
    env.ok(&["user", "roles", "svc", "--role", "auditor"], "");
    let who: Value = c
        .get(format!("{}/_centinela/api/session", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json");
    assert_eq!(who["roles"], json!([]));
    env.ok(&["token", "revoke", &id], "");
    let r = c
        .get(format!("{}/_centinela/api/session", server.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    at_rest_has_no_secrets(&env, &server, &[&token]);
}

/// Opens the HTML login page: its CSRF cookie and the form's matching field.
async fn login_form(c: &reqwest::Client, base: &str) -> (String, String) {
    let page = c
        .get(format!("{base}/_centinela/login"))
        .send()
        .await
        .expect("page");
    let csrf_cookie = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-centinela-csrf="))
        .map(cookie_value)
        .expect("csrf cookie");
    let csrf = csrf_field(&page.text().await.expect("html"));
    (csrf_cookie, csrf)
}

/// Pulls `name="csrf" value="..."` out of a page.
fn csrf_field(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("csrf field") + marker.len();
    page[start..].split('"').next().expect("value").to_owned()
}

async fn totp_enrolment_and_login(db: Db) {
    let env = Env::new(db);
    env.add_user("carol", PASSWORD, &["--role", "admin"]);
    let server = env.start_server();
    let c = client(&env);
    let base = server.base();

    // HTML login: the form's CSRF token must match its cookie.
    let page = c
        .get(format!("{base}/_centinela/login"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let csrf_cookie = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-centinela-csrf="))
        .map(cookie_value)
        .expect("csrf cookie");
    let html = page.text().await.expect("html");
    let csrf = csrf_field(&html);
    let forged = c
        .post(format!("{base}/_centinela/login"))
        .header(COOKIE, cookie_header("__Host-centinela-csrf", &csrf_cookie))
        .form(&[
            ("username", "carol"),
            ("password", PASSWORD),
            ("csrf", "forged"),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // A browser sends its page's Origin with the form; one from another site is refused.
    let cross_site = c
        .post(format!("{base}/_centinela/login"))
        .header(COOKIE, cookie_header("__Host-centinela-csrf", &csrf_cookie))
        .header("origin", "https://evil.example")
        .form(&[
            ("username", "carol"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    // The same-origin form over HTTP/2, where the host travels in `:authority` and
    // there is no Host header.
    let ok = c
        .post(format!("{base}/_centinela/login"))
        .header(COOKIE, cookie_header("__Host-centinela-csrf", &csrf_cookie))
        .header("origin", base.trim_end_matches('/'))
        .form(&[
            ("username", "carol"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/_centinela/account"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(ok.version(), reqwest::Version::HTTP_2);
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/_centinela/account");
    let sid = cookie_value(&session_cookie(ok.headers()).expect("cookie"));

    // Enrol: the account page's form starts it, the page shows a QR code and the key.
    let account = c
        .get(format!("{base}/_centinela/account"))
        .header(COOKIE, cookie_header("__Host-centinela", &sid))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("html");
    let csrf = csrf_field(&account);
    let enrol = c
        .post(format!("{base}/_centinela/account/totp/start"))
        .header(COOKIE, cookie_header("__Host-centinela", &sid))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("start")
        .text()
        .await
        .expect("html");
    assert!(enrol.contains("<svg"), "QR code shown");
    let marker = "<code id=\"secret\">";
    let start = enrol.find(marker).expect("secret shown") + marker.len();
    let secret_b32 = enrol[start..].split('<').next().expect("secret").to_owned();
    let secret = decode_base32(&secret_b32);
    let step = centinela_core::totp::step_at(now());
    let code = format!("{:06}", centinela_core::totp::code_at(&secret, step));
    let done = c
        .post(format!("{base}/_centinela/account/totp/confirm"))
        .header(COOKIE, cookie_header("__Host-centinela", &sid))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("confirm");
    assert_eq!(done.status(), StatusCode::OK);
    let rotated = cookie_value(&session_cookie(done.headers()).expect("new session id"));
    assert_ne!(rotated, sid, "privilege change rotates the session id");
    assert_eq!(whoami(&c, &server, &sid).await, StatusCode::UNAUTHORIZED);
    let codes_page = done.text().await.expect("html");
    let recovery: Vec<String> = codes_page
        .split("<li>")
        .skip(1)
        .filter_map(|s| s.split("</li>").next())
        .map(str::to_owned)
        .collect();
    assert_eq!(recovery.len(), 10);

    // The JSON login now needs the second factor.
    let r = api_login(&c, &server, "carol", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "mfa_required");
    // The code used at enrolment is refused (replay); the next step's is accepted.
    let r = api_login(&c, &server, "carol", PASSWORD, Some(&code)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let next = format!("{:06}", centinela_core::totp::code_at(&secret, step + 1));
    let r = api_login(&c, &server, "carol", PASSWORD, Some(&next)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // A recovery code works once.
    let r = api_login(&c, &server, "carol", PASSWORD, Some(&recovery[0])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api_login(&c, &server, "carol", PASSWORD, Some(&recovery[0])).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // HTML flow with a pending second factor: password, then the code page.
    let (csrf_cookie, csrf) = login_form(&c, &base).await;
    let r = c
        .post(format!("{base}/_centinela/login"))
        .header(COOKIE, cookie_header("__Host-centinela-csrf", &csrf_cookie))
        .form(&[
            ("username", "carol"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"]
        .to_str()
        .expect("loc")
        .starts_with("/_centinela/login/totp"));
    let pending = cookie_value(&session_cookie(r.headers()).expect("pending cookie"));
    assert_eq!(
        whoami(&c, &server, &pending).await,
        StatusCode::UNAUTHORIZED,
        "a session waiting for its second factor grants nothing"
    );
    let page = c
        .get(format!("{base}/_centinela/login/totp"))
        .header(COOKIE, cookie_header("__Host-centinela", &pending))
        .send()
        .await
        .expect("totp page")
        .text()
        .await
        .expect("html");
    let csrf = csrf_field(&page);
    let r = c
        .post(format!("{base}/_centinela/login/totp"))
        .header(COOKIE, cookie_header("__Host-centinela", &pending))
        .form(&[
            ("csrf", csrf.as_str()),
            ("code", recovery[1].as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("post code");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let full = cookie_value(&session_cookie(r.headers()).expect("cookie"));
    assert_ne!(full, pending);
    assert_eq!(whoami(&c, &server, &full).await, StatusCode::OK);

    // The secret as shown, as raw bytes and as hex; a recovery code as shown and in
    // the forms it may be normalised to before hashing.
    let secret_hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let code_plain = recovery[2].replace('-', "");
    at_rest_has_no_secrets(
        &env,
        &server,
        &[
            &secret_b32,
            &secret_b32.to_lowercase(),
            &secret_hex,
            &recovery[2],
            &code_plain,
            &code_plain.to_lowercase(),
            &full,
        ],
    );
    let dump = env.dump_database();
    assert!(
        !dump.windows(secret.len()).any(|w| w == secret.as_slice()),
        "raw TOTP secret found in the database"
    );

    // A lost phone: the administrator removes the second factor. Sessions end, the
    // password alone signs in again, old recovery codes are gone, and the removal is
    // in the audit log under its own kind.
    env.ok(&["user", "reset-mfa", "carol"], "");
    assert_eq!(whoami(&c, &server, &full).await, StatusCode::UNAUTHORIZED);
    let r = api_login(&c, &server, "carol", PASSWORD, Some(&recovery[3])).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a code is not asked for any more"
    );
    let r = api_login(&c, &server, "carol", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let events = env.ok(&["audit-log", "export", "--kind", "mfa-removed"], "");
    assert_eq!(events.lines().count(), 1, "{events}");
    assert!(events.contains("\"authentication\""), "{events}");
}

fn decode_base32(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for ch in s.bytes().filter(|b| *b != b'=') {
        let v = ALPHABET.iter().position(|a| *a == ch).expect("base32") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

async fn hostile_input(db: Db) {
    let env = Env::new(db);
    env.add_user("dave", PASSWORD, &["--role", "agent"]);
    let server = env.start_server();
    let c = client(&env);
    let base = server.base();
    let url = format!("{base}/_centinela/api/login");
    // Malformed JSON, wrong shapes, unknown fields, oversized bodies, wrong media type.
    for (body, want) in [
        ("{not json", StatusCode::BAD_REQUEST),
        ("[]", StatusCode::BAD_REQUEST),
        (
            "{\"username\": 1, \"password\": 2}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"username\":\"dave\",\"password\":\"x\",\"admin\":true}",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = c
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), want, "{body}");
    }
    let huge = format!(
        "{{\"username\":\"dave\",\"password\":\"{}\"}}",
        "a".repeat(100_000)
    );
    let r = c
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .body(huge)
        .send()
        .await
        .expect("req");
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = c
        .post(&url)
        .form(&[("username", "dave")])
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // SQL metacharacters everywhere are just wrong credentials.
    for name in [
        "dave' OR '1'='1",
        "dave\"; DROP TABLE users; --",
        "\u{0}dave",
        "ダビデ",
    ] {
        let r = api_login(&c, &server, name, "' OR 1=1 --", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name:?}");
    }
    let long = "x".repeat(2000);
    let r = api_login(&c, &server, "dave", &long, None).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Forged, oversized and non-UTF-8 cookies are simply not a session.
    for raw in [
        b"__Host-centinela=forged".to_vec(),
        format!("__Host-centinela={}", "A".repeat(43)).into_bytes(),
        format!("__Host-centinela={}", "A".repeat(6000)).into_bytes(),
        b"__Host-centinela=\xff\xfe\xfd".to_vec(),
        b"__Host-centinela=a; __Host-centinela=b".to_vec(),
    ] {
        let r = c
            .get(format!("{base}/_centinela/api/session"))
            .header(COOKIE, HeaderValue::from_bytes(&raw).expect("header"))
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Bodies that are not UTF-8, to the JSON API and to the HTML form.
    for (ctype, target, body) in [
        (
            "application/json",
            url.clone(),
            b"{\"username\":\"dave\xff\",\"password\":\"x\"}".to_vec(),
        ),
        ("application/json", url.clone(), b"\xfe\xff\x00{".to_vec()),
        (
            "application/x-www-form-urlencoded",
            format!("{base}/_centinela/login"),
            b"username=dave\xff&password=%ff%fe&csrf=x".to_vec(),
        ),
    ] {
        let r = c
            .post(&target)
            .header(CONTENT_TYPE, ctype)
            .body(body)
            .send()
            .await
            .expect("req");
        assert!(r.status().is_client_error(), "{target}: {}", r.status());
    }
    // SQL metacharacters in every field the CLI writes are stored as data.
    let odd = "o'hara\"; DROP TABLE users; --";
    let refused = env.run(
        &["user", "add", "quote'user", "--role", "agent"],
        &format!("{PASSWORD}\n"),
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a username is"));
    let refused = env.run(
        &[
            "user",
            "add",
            "quote.user",
            "--role",
            "agent",
            "--customer-id",
            odd,
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("a customer id is"));
    env.ok(
        &[
            "user",
            "add",
            "quote.user",
            "--role",
            "agent",
            "--email",
            "x'@example.org",
            "--customer-id",
            "c-1",
            "--display-name",
            odd,
        ],
        &format!("{PASSWORD}\n"),
    );
    env.ok(
        &["token", "create", "--user", "quote.user", "--name", odd],
        "",
    );
    assert!(env.ok(&["user", "show", "quote.user"], "").contains(odd));
    assert!(env.ok(&["token", "list"], "").contains(odd));
    env.ok(&["user", "disable", "quote.user"], "");
    // Nothing else was written: the two users, and the server is healthy.
    assert_eq!(env.ok(&["user", "list"], "").lines().count(), 2);
    let r = api_login(&c, &server, "dave", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!server.log_text().contains("panicked"));
}

/// Raising the Argon2 parameters upgrades each stored hash at that user's next
/// successful login, without the user noticing.
async fn rehash_on_parameter_change(db: Db) {
    let env = Env::new(db);
    env.add_user("frank", PASSWORD, &["--role", "customer"]);
    let contains = |needle: &str| {
        let dump = env.dump_database();
        dump.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    assert!(contains("$argon2id$v=19$m=19456,t=2,p=1$"));
    env.write_config("[password]\nargon2_iterations = 3\n");
    let server = env.start_server();
    let c = client(&env);
    // A wrong password changes nothing.
    let r = api_login(&c, &server, "frank", "not the password at all", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!contains("$argon2id$v=19$m=19456,t=3,p=1$"));
    let cookie = login_cookie(&c, &server, "frank", PASSWORD).await;
    assert_eq!(whoami(&c, &server, &cookie).await, StatusCode::OK);
    drop(server);
    assert!(contains("$argon2id$v=19$m=19456,t=3,p=1$"));
    // And the upgraded hash still verifies.
    let server = env.start_server();
    login_cookie(&client(&env), &server, "frank", PASSWORD).await;
}

/// `keys rotate` runs against a live gateway: sessions, logins and second factors keep
/// working during and after it, and personal data reads back under the new key.
async fn key_rotation_while_serving(db: Db) {
    let env = Env::new(db);
    env.add_user(
        "gina",
        PASSWORD,
        &["--role", "customer", "--email", "gina.private@example.com"],
    );
    let server = env.start_server();
    let c = client(&env);
    let before = login_cookie(&c, &server, "gina", PASSWORD).await;
    let out = env.ok(&["keys", "rotate"], "");
    assert!(out.contains("data key 2 is now current"), "{out}");
    assert_eq!(whoami(&c, &server, &before).await, StatusCode::OK);
    let after = login_cookie(&c, &server, "gina", PASSWORD).await;
    assert_eq!(whoami(&c, &server, &after).await, StatusCode::OK);
    let shown = env.ok(&["user", "show", "gina"], "");
    assert!(shown.contains("gina.private@example.com"), "{shown}");
    at_rest_has_no_secrets(&env, &server, &["gina.private", &before, &after]);
}

macro_rules! on_both {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name(crate::util::Db::Sqlite).await })*
        }
        mod mysql {
            $(#[tokio::test] async fn $name() { super::$name(crate::util::Db::Mysql).await })*
        }
    };
}

on_both!(
    json_login_and_sessions,
    throttling_and_unlock,
    locks_expire_by_themselves,
    expired_tokens_are_refused,
    session_timeouts,
    tokens_through_gateway,
    totp_enrolment_and_login,
    hostile_input,
    rehash_on_parameter_change,
    key_rotation_while_serving
);
