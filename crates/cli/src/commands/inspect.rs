//! `centinela inspect request`: one raw HTTP request from stdin through the same
//! inspection the gateway runs, the report printed as JSON. For trying a payload, and
//! for checking an exclusion before deploying it.
//!
//! `centinela inspect eval DIR`: a corpus in the gotestwaf format scored in process
//! with a route's settings ([`inspect::corpus`]), per category.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};

use centinela_core::inspect::corpus::{self, Case, Count};
use centinela_core::inspect::{self, InspectPolicy};

use crate::args::InspectCommand;
use crate::context;

/// Largest request read from stdin.
const MAX_INPUT: usize = 16 * 1024 * 1024;

/// The inspection settings of `route`, or the `[inspect]` defaults.
fn route_policy(
    cfg: &crate::args::ConfigArg,
    route: Option<&str>,
) -> anyhow::Result<InspectPolicy> {
    let config = context::load_config(cfg)?;
    Ok(match route {
        Some(name) => config
            .policy
            .routes
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.inspect.clone())
            .with_context(|| format!("no route named {name}"))?,
        None => config.inspect_defaults.clone(),
    })
}

pub fn run(cmd: InspectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Eval {
            cfg,
            dir,
            route,
            format,
            show_misses,
        } => {
            let json = match format.as_str() {
                "json" => true,
                "text" => false,
                other => bail!("unknown format `{other}` (expected text or json)"),
            };
            let policy = route_policy(&cfg, route.as_deref())?;
            eval(&dir, &policy, json, show_misses)
        }
        InspectCommand::Request { cfg, route } => {
            let policy = route_policy(&cfg, route.as_deref())?;
            let mut raw = Vec::new();
            std::io::stdin()
                .take(MAX_INPUT as u64 + 1)
                .read_to_end(&mut raw)
                .context("cannot read the request from stdin")?;
            if raw.len() > MAX_INPUT {
                bail!("the request on stdin is larger than {MAX_INPUT} bytes");
            }
            // Accept bare LF line ends too, as typed in a terminal or a heredoc.
            let raw = if raw.windows(2).any(|w| w == b"\r\n") {
                raw
            } else {
                let mut fixed = Vec::with_capacity(raw.len() + 64);
                for &b in &raw {
                    if b == b'\n' {
                        fixed.push(b'\r');
                    }
                    fixed.push(b);
                }
                fixed
            };
            let mut headers = [httparse::EMPTY_HEADER; 128];
            let mut req = httparse::Request::new(&mut headers);
            let head_len = match req.parse(&raw) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => {
                    bail!("the request head is incomplete: end it with an empty line")
                }
                Err(e) => bail!("not an HTTP/1.1 request: {e}"),
            };
            let method = req.method.unwrap_or("GET");
            let target = req.path.unwrap_or("/");
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (target, None),
            };
            let pairs: Vec<(&str, &str)> = req
                .headers
                .iter()
                .filter_map(|h| Some((h.name, std::str::from_utf8(h.value).ok()?)))
                .collect();
            let body = &raw[head_len..];
            let report = inspect::inspect(
                &inspect::Request {
                    method,
                    path,
                    query,
                    headers: &pairs,
                    body,
                },
                &policy,
            );
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(match report.verdict {
                inspect::Verdict::Pass => ExitCode::SUCCESS,
                inspect::Verdict::Block | inspect::Verdict::DetectOnly => ExitCode::from(1),
            })
        }
    }
}

/// The YAML test cases under `dir` (or under its `testcases/` or
/// `gotestwaf/testcases/`), sorted, with paths relative to that root.
fn corpus_files(dir: &Path) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let root = [dir.join("gotestwaf/testcases"), dir.join("testcases")]
        .into_iter()
        .find(|d| d.is_dir())
        .unwrap_or_else(|| dir.to_path_buf());
    let mut out = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(d) = todo.pop() {
        let entries =
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for e in entries {
            let e = e.with_context(|| format!("cannot read {}", d.display()))?;
            let kind = e.file_type()?;
            let p = e.path();
            // Links are not followed: no loops.
            if kind.is_dir() {
                todo.push(p);
            } else if kind.is_file() && p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("no .yml test cases under {}", root.display());
    }
    Ok((root, out))
}

fn eval(
    dir: &Path,
    policy: &InspectPolicy,
    json: bool,
    show_misses: usize,
) -> anyhow::Result<ExitCode> {
    let (root, files) = corpus_files(dir)?;
    let mut cases = Vec::new();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        cases.push(Case::parse(&rel, &text).map_err(anyhow::Error::msg)?);
    }
    let score = corpus::score(&cases, policy, if json { 0 } else { show_misses });
    if json {
        let row = |name: &str, c: &Count| {
            serde_json::json!({"name": name, "attack_total": c.attack_total,
                "attack_blocked": c.attack_blocked, "benign_total": c.benign_total,
                "benign_passed": c.benign_passed})
        };
        let categories: Vec<_> = score.categories.iter().map(|(n, c)| row(n, c)).collect();
        let mut total = row("total", &score.total);
        if let Some(o) = total.as_object_mut() {
            o.remove("name");
        }
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"categories": categories, "total": total})
            )?
        );
    } else {
        let pct = |a: usize, n: usize| {
            if n == 0 {
                "-".to_owned()
            } else {
                format!("{:.1} %", 100.0 * a as f64 / n as f64)
            }
        };
        println!(
            "{:<18} {:>22} {:>22}",
            "category", "attacks blocked", "benign passed"
        );
        let line = |name: &str, c: &Count| {
            println!(
                "{name:<18} {:>22} {:>22}",
                format!(
                    "{}/{} ({})",
                    c.attack_blocked,
                    c.attack_total,
                    pct(c.attack_blocked, c.attack_total)
                ),
                format!(
                    "{}/{} ({})",
                    c.benign_passed,
                    c.benign_total,
                    pct(c.benign_passed, c.benign_total)
                ),
            );
        };
        for (name, c) in &score.categories {
            line(name, c);
        }
        line("total", &score.total);
        println!(
            "{} test case files; {} combinations not built (RawRequest, GraphQL, gRPC placeholders or unknown encoders)",
            files.len(),
            score.skipped
        );
        for m in &score.misses {
            let what = if m.benign {
                "benign blocked"
            } else {
                "attack passed"
            };
            let body: String = String::from_utf8_lossy(&m.request.body)
                .chars()
                .take(160)
                .collect();
            let target: String = m.request.target.chars().take(160).collect();
            let headers: Vec<String> = m
                .request
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.chars().take(80).collect::<String>()))
                .collect();
            println!(
                "{what}: {} {} {target} {headers:?} {body:?}",
                m.file, m.request.method
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
