//! `centinela inspect request`: one raw HTTP request from stdin through the same
//! inspection the gateway runs, the report printed as JSON. For trying a payload, and
//! for checking an exclusion before deploying it.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use centinela_core::inspect::{self, InspectPolicy};

use crate::args::InspectCommand;
use crate::context;

/// Largest request read from stdin.
const MAX_INPUT: usize = 16 * 1024 * 1024;

pub fn run(cmd: InspectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Request { cfg, route } => {
            let config = context::load_config(&cfg)?;
            let policy: InspectPolicy = match &route {
                Some(name) => config
                    .policy
                    .routes
                    .iter()
                    .find(|r| &r.name == name)
                    .map(|r| r.inspect.clone())
                    .with_context(|| format!("no route named {name}"))?,
                // Every route starts from [inspect]; with no routes, the defaults.
                None => config
                    .policy
                    .routes
                    .first()
                    .map(|r| r.inspect.clone())
                    .unwrap_or_default(),
            };
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
