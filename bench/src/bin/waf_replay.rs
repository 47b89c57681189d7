//! Replays the gotestwaf test sets (and optionally CSIC 2010's legitimate requests)
//! against a running proxy and counts what it blocked, per category.
//!
//! ```text
//! waf_replay CORPUS_DIR BASE_URL [--csic] [--concurrency N] [--json]
//! ```
//!
//! Every `payload × encoder × placeholder` of `gotestwaf/testcases/**.yml` becomes one
//! request, built by `centinela_core::inspect::corpus` exactly as `centinela inspect
//! eval` builds it in process (placements: URL path, query parameter, custom `X-`
//! header, User-Agent, urlencoded form, multipart form, JSON, XML and SOAP bodies;
//! `RawRequest`, GraphQL and gRPC are not sent, there are no such endpoints behind
//! the proxies).
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

use centinela_core::inspect::corpus::{self, Case, CorpusRequest, Count};

/// One request to send: the corpus requests of `inspect eval`, built by the same code.
type Req = CorpusRequest;

/// How a request is judged from the proxy's answer.
fn blocked(status: Option<u16>) -> bool {
    matches!(status, Some(400 | 403 | 413))
}

async fn send(client: &reqwest::Client, base: &str, r: &Req) -> Option<u16> {
    let url = format!("{base}{}", r.target);
    let method = reqwest::Method::from_bytes(r.method.as_bytes()).ok()?;
    let mut b = client.request(method, &url);
    // A host name, as browsers send, unless the case names its own: the numeric
    // `Host: 127.0.0.1:port` the URL would give costs every request 3 points at CRS
    // (rule 920350), which measures the replay rather than the WAF.
    if !r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("host"))
    {
        b = b.header(reqwest::header::HOST, "localhost");
    }
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
        // A browser-like User-Agent unless the case sets its own: CRS at paranoia 2
        // scores a missing one, and with it every request of a bare client reached
        // its threshold (benign ones included), which measures the client rather
        // than the WAF.
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
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

/// CSIC 2010 normal traffic as requests under `/tienda1/`, without the hop-by-hop
/// and framing headers the client sets itself.
fn csic_requests(root: &Path) -> Vec<Req> {
    let Ok(raw) = std::fs::read(root.join("csic2010/normalTrafficTraining.txt")) else {
        return Vec::new();
    };
    let mut reqs = corpus::csic_requests(&String::from_utf8_lossy(&raw));
    for r in &mut reqs {
        r.headers.retain(|(k, _)| {
            !matches!(
                k.as_str(),
                "host" | "content-length" | "connection" | "pragma" | "cache-control"
            )
        });
    }
    reqs
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
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let rel = f
            .strip_prefix(&tc)
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        let case = match Case::parse(&rel, &text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipped {e}");
                continue;
            }
        };
        let (built, not_built) = case.requests();
        skipped += not_built;
        for r in built {
            reqs.push(r);
            meta.push((case.category(), case.benign));
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
        by.entry(g).or_default().add(*benign, b);
        total.add(*benign, b);
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
