//! Replays the gotestwaf test sets (and optionally CSIC 2010's legitimate requests)
//! against a running proxy and counts what it blocked, per category.
//!
//! ```text
//! waf_replay CORPUS_DIR BASE_URL [--csic] [--concurrency N] [--json]
//! ```
//!
//! Every `payload × encoder × placeholder` of `gotestwaf/testcases/**.yml` becomes one
//! request, built the way gotestwaf builds it (see `build`): `URL` encoding is Go's
//! `url.QueryEscape`, `Base64Flat` is standard base64; placements are the URL path,
//! a query parameter, a custom `X-` header, the User-Agent, an urlencoded form, a
//! multipart form, a JSON object, an XML body and a SOAP envelope. `RawRequest`,
//! GraphQL and gRPC placements are not sent (no such endpoints behind the proxies).
//! A request counts as blocked when the proxy answers 403 (both Centinela and
//! ModSecurity refuse with 403), 400 or 413 (refused before reaching the upstream); any
//! other answer means it was forwarded. `--csic` also replays the 36,000 requests of
//! `csic2010/normalTrafficTraining.txt` under `/tienda1/`.
//!
//! The proxy's TLS certificate is not verified: the targets are local test servers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine as _;

/// One request to send.
#[derive(Clone, Debug)]
struct Req {
    method: &'static str,
    /// Path and query, starting with `/`.
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// One gotestwaf test case (a YAML file).
#[derive(Debug, Default)]
struct Case {
    file: String,
    payloads: Vec<String>,
    encoders: Vec<String>,
    placeholders: Vec<String>,
    benign: bool,
}

/// Reads the few keys gotestwaf test files use: `payload`, `encoder` and
/// `placeholder` lists of one-line scalars. (Go's YAML accepts `\'` inside double
/// quotes; it is read here as `'`, as the corpus README advises.)
fn parse_case(path: &Path, root: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut case = Case {
        file: path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned(),
        benign: path.to_string_lossy().contains("false-pos"),
        ..Case::default()
    };
    let mut key = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('-') {
            key = line.split(':').next().unwrap_or("").trim().to_owned();
            continue;
        }
        let Some(item) = line.trim_start().strip_prefix("- ") else {
            continue;
        };
        let v = unquote(item);
        match key.as_str() {
            "payload" => case.payloads.push(v),
            "encoder" => case.encoders.push(v),
            "placeholder" => case.placeholders.push(v),
            _ => {}
        }
    }
    case
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        s[1..s.len() - 1].replace("''", "'")
    } else if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        s[1..s.len() - 1]
            .replace("\\'", "'")
            .replace("\\\"", "\"")
            .replace("\\n", "\n")
            .replace("\\\\", "\\")
    } else {
        s.to_owned()
    }
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn encode(enc: &str, p: &str) -> Option<String> {
    match enc {
        "Plain" => Some(p.to_owned()),
        "URL" => Some(query_escape(p)),
        "Base64Flat" => Some(base64::engine::general_purpose::STANDARD.encode(p)),
        _ => None,
    }
}

/// Where the requests go on the proxies: a prefix both route to the upstream.
const BASE: &str = "/api/public/search";

/// Builds the request gotestwaf would send for one placement, or `None` when the
/// placement is not replayed here.
fn build(placeholder: &str, v: &str, n: usize) -> Option<Req> {
    let name = format!("p{n:06x}");
    let get = |target: String, headers: Vec<(String, String)>| Req {
        method: "GET",
        target,
        headers,
        body: Vec::new(),
    };
    let post = |ct: &str, body: Vec<u8>| Req {
        method: "POST",
        target: BASE.to_owned(),
        headers: vec![("content-type".into(), ct.to_owned())],
        body,
    };
    Some(match placeholder {
        "URLPath" => get(format!("{BASE}/{v}"), Vec::new()),
        "URLParam" => get(format!("{BASE}?{name}={v}"), Vec::new()),
        "Header" => get(BASE.to_owned(), vec![(format!("x-{name}"), v.to_owned())]),
        "UserAgent" => get(BASE.to_owned(), vec![("user-agent".into(), v.to_owned())]),
        "HTMLForm" => post(
            "application/x-www-form-urlencoded",
            format!("{name}={v}").into_bytes(),
        ),
        "HTMLMultipartForm" => {
            let boundary = "----gotestwafboundary7MA4YWxkTrZu0gW";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n--{boundary}--\r\n"
            );
            post(
                &format!("multipart/form-data; boundary={boundary}"),
                body.into_bytes(),
            )
        }
        "JSONRequest" | "JSONBody" => {
            let body = serde_json::json!({ "test": true, name: v }).to_string();
            post("application/json", body.into_bytes())
        }
        "XMLBody" => post("text/xml", v.as_bytes().to_vec()),
        "SOAPBody" => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><{name}>{v}</{name}></soap:Body></soap:Envelope>"
            );
            post("text/xml", body.into_bytes())
        }
        _ => return None,
    })
}

/// The comparison groups of issue 4, by test file.
fn group(file: &str) -> &'static str {
    let f = file.rsplit('/').next().unwrap_or(file);
    if f.contains("sql") {
        "SQL injection"
    } else if f.contains("xss") {
        "XSS"
    } else if f.contains("shell") || f.contains("rce") {
        "shell injection"
    } else if f.contains("traversal") || f.contains("lfi") {
        "path traversal"
    } else if f.contains("xml") || f.contains("xxe") || f.contains("soap") {
        "XML"
    } else {
        "other"
    }
}

#[derive(Clone, Copy, Default, Debug)]
struct Count {
    attack_total: usize,
    attack_blocked: usize,
    benign_total: usize,
    benign_passed: usize,
}

/// How a request is judged from the proxy's answer.
fn blocked(status: Option<u16>) -> bool {
    matches!(status, Some(400 | 403 | 413))
}

async fn send(client: &reqwest::Client, base: &str, r: &Req) -> Option<u16> {
    let url = format!("{base}{}", r.target);
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).ok()?;
    let mut b = client.request(method, &url);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if !r.body.is_empty() {
        b = b.body(r.body.clone());
    }
    match b.send().await {
        Ok(resp) => Some(resp.status().as_u16()),
        Err(_) => None,
    }
}

/// Sends all requests with `conc` in flight; returns each one's status (None when
/// it could not be sent at all, e.g. a header value the client refuses).
async fn send_all(base: &str, reqs: Vec<Req>, conc: usize) -> Vec<Option<u16>> {
    let client = match reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(conc)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("http client: {e}");
            return vec![None; reqs.len()];
        }
    };
    let reqs = Arc::new(reqs);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let out = Arc::new(std::sync::Mutex::new(vec![None; reqs.len()]));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..conc.max(1) {
        let (client, reqs, next, out, base) = (
            client.clone(),
            reqs.clone(),
            next.clone(),
            out.clone(),
            base.to_owned(),
        );
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(r) = reqs.get(i) else { break };
                let st = send(&client, &base, r).await;
                if let Ok(mut o) = out.lock() {
                    o[i] = st;
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let v = out.lock().map(|o| o.clone()).unwrap_or_default();
    v
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

/// CSIC 2010 normal traffic as requests under `/tienda1/`.
fn csic_requests(root: &Path) -> Vec<Req> {
    let Ok(raw) = std::fs::read(root.join("csic2010/normalTrafficTraining.txt")) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
    let mut out = Vec::new();
    let mut it = text.split('\n').peekable();
    loop {
        while it.peek().is_some_and(|l| l.trim().is_empty()) {
            it.next();
        }
        let Some(reqline) = it.next() else { break };
        let mut headers: Vec<(String, String)> = Vec::new();
        for l in it.by_ref() {
            if l.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let has_body = headers.iter().any(|(k, _)| k == "content-length");
        let body = if has_body {
            it.next().unwrap_or("").as_bytes().to_vec()
        } else {
            Vec::new()
        };
        let method = if reqline.starts_with("POST") {
            "POST"
        } else if reqline.starts_with("PUT") {
            "PUT"
        } else {
            "GET"
        };
        let target = reqline.split(' ').nth(1).unwrap_or("/");
        let target = target
            .strip_prefix("http://localhost:8080")
            .unwrap_or(target)
            .to_owned();
        // Hop-by-hop and framing headers are the client's business.
        headers.retain(|(k, _)| {
            !matches!(
                k.as_str(),
                "host" | "content-length" | "connection" | "pragma" | "cache-control"
            )
        });
        out.push(Req {
            method,
            target,
            headers,
            body,
        });
    }
    out
}

fn pct(a: usize, n: usize) -> String {
    if n == 0 {
        "-".into()
    } else {
        format!("{:.1} %", 100.0 * a as f64 / n as f64)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: waf_replay CORPUS_DIR BASE_URL [--csic] [--concurrency N] [--json]");
        return ExitCode::from(2);
    }
    let root = PathBuf::from(&args[1]);
    let base = args[2].trim_end_matches('/').to_owned();
    let csic = args.iter().any(|a| a == "--csic");
    let json = args.iter().any(|a| a == "--json");
    let conc = args
        .iter()
        .position(|a| a == "--concurrency")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(8usize);

    let tc = root.join("gotestwaf/testcases");
    let mut files = Vec::new();
    files_under(&tc, &mut files);
    let mut reqs = Vec::new();
    let mut meta: Vec<(&'static str, bool)> = Vec::new();
    let mut skipped = 0usize;
    for f in &files {
        let case = parse_case(f, &tc);
        for p in &case.payloads {
            for e in &case.encoders {
                for ph in &case.placeholders {
                    let Some(v) = encode(e, p) else {
                        skipped += 1;
                        continue;
                    };
                    match build(ph, &v, reqs.len()) {
                        Some(r) => {
                            reqs.push(r);
                            meta.push((
                                if case.benign {
                                    "benign"
                                } else {
                                    group(&case.file)
                                },
                                case.benign,
                            ));
                        }
                        None => skipped += 1,
                    }
                }
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let statuses = rt.block_on(send_all(&base, reqs, conc));
    let mut by: BTreeMap<&'static str, Count> = BTreeMap::new();
    let mut total = Count::default();
    let mut unsent = 0usize;
    for ((g, benign), st) in meta.iter().zip(&statuses) {
        if st.is_none() {
            unsent += 1;
            continue;
        }
        let b = blocked(*st);
        let c = by.entry(g).or_default();
        for c in [c, &mut total] {
            if *benign {
                c.benign_total += 1;
                c.benign_passed += usize::from(!b);
            } else {
                c.attack_total += 1;
                c.attack_blocked += usize::from(b);
            }
        }
    }
    // Benign requests are one group of their own; report them against every
    // category's row the way the issue's table does (overall benign pass rate).
    let mut csic_count = (0usize, 0usize, 0usize);
    if csic {
        let creqs = csic_requests(&root);
        let st = rt.block_on(send_all(&base, creqs, conc));
        for s in st {
            match s {
                None => csic_count.2 += 1,
                Some(_) if blocked(s) => csic_count.0 += 1,
                Some(_) => csic_count.1 += 1,
            }
        }
    }
    if json {
        let cats: Vec<serde_json::Value> = by
            .iter()
            .map(|(k, c)| {
                serde_json::json!({"name": k, "attack_total": c.attack_total,
                "attack_blocked": c.attack_blocked, "benign_total": c.benign_total,
                "benign_passed": c.benign_passed})
            })
            .collect();
        let v = serde_json::json!({
            "categories": cats,
            "total": {"attack_total": total.attack_total, "attack_blocked": total.attack_blocked,
                      "benign_total": total.benign_total, "benign_passed": total.benign_passed},
            "unsent": unsent, "skipped": skipped,
            "csic": {"blocked": csic_count.0, "passed": csic_count.1, "unsent": csic_count.2},
        });
        println!("{v}");
    } else {
        println!("| category | attacks blocked | benign passed |");
        println!("|---|---|---|");
        for (k, c) in &by {
            let a = format!(
                "{}/{} ({})",
                c.attack_blocked,
                c.attack_total,
                pct(c.attack_blocked, c.attack_total)
            );
            let b = format!(
                "{}/{} ({})",
                c.benign_passed,
                c.benign_total,
                pct(c.benign_passed, c.benign_total)
            );
            println!("| {k} | {a} | {b} |");
        }
        println!(
            "| **total** | {}/{} ({}) | {}/{} ({}) |",
            total.attack_blocked,
            total.attack_total,
            pct(total.attack_blocked, total.attack_total),
            total.benign_passed,
            total.benign_total,
            pct(total.benign_passed, total.benign_total)
        );
        println!("(not sent: {unsent} refused by the client; not replayed: {skipped} RawRequest/GraphQL/gRPC)");
        if csic {
            let n = csic_count.0 + csic_count.1;
            println!(
                "csic2010 normal traffic: {}/{} passed ({}), {} not sent",
                csic_count.1,
                n,
                pct(csic_count.1, n),
                csic_count.2
            );
        }
    }
    ExitCode::SUCCESS
}
