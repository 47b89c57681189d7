//! `centinela audit https URL`: a live endpoint's TLS (versions, cipher suites,
//! certificate) and what its HTTP response sets (HSTS, CSP, the other security
//! headers, cookie flags, version disclosure, CORS), plus whether plain HTTP
//! redirects to HTTPS.
//!
//! Modern TLS is probed with rustls (one connection per version); TLS 1.0/1.1 and
//! weak suites, which rustls rightly cannot speak, are probed with a hand-built
//! ClientHello whose ServerHello answer is all we read ([`legacy`]).

mod headers;
pub mod legacy;
pub mod rules;
mod tls;

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::finding::{Finding, Location};
use crate::report::Report;

/// Options of one `audit https` run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Extra CA certificates (PEM) to trust besides the public roots.
    pub ca_file: Option<PathBuf>,
    /// The plain-HTTP URL expected to redirect (default `http://HOST/`).
    pub http_url: Option<String>,
    /// Per connection and per read.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ca_file: None,
            http_url: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The parts of a URL the scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_url(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not a URL (expected https://host[:port]/path)"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(format!("unsupported scheme `{scheme}`")),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    if authority.contains('@') {
        return Err("credentials in the URL are not supported".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed `[` in host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port `{p}`"))?,
            None => default_port,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().map_err(|_| format!("bad port `{p}`"))?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("no host in the URL".into());
    }
    Ok(Target {
        scheme,
        host,
        port,
        path,
    })
}

/// A parsed HTTP response head.
#[derive(Debug, Clone, Default)]
pub struct Head {
    pub status: u16,
    /// Lower-cased names, in order, repeated headers kept.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Largest response head read.
const MAX_HEAD: usize = 64 * 1024;

/// Sends a GET and reads the response head (the body is not needed).
async fn get_head<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    path: &str,
    origin: Option<&str>,
    timeout: Duration,
) -> Result<Head, String> {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: centinela-audit\r\nAccept: text/html,*/*\r\nConnection: close\r\n"
    );
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str("\r\n");
    let io = async {
        stream.write_all(req.as_bytes()).await?;
        stream.flush().await?;
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > MAX_HEAD {
                break;
            }
        }
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(timeout, io)
        .await
        .map_err(|_| "timed out reading the response".to_owned())?
        .map_err(|e| format!("cannot read the response: {e}"))?;
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&buf) {
        Ok(httparse::Status::Complete(_)) => Ok(Head {
            status: resp.code.unwrap_or(0),
            headers: resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).trim().to_owned(),
                    )
                })
                .collect(),
        }),
        Ok(httparse::Status::Partial) => Err("incomplete HTTP response head".into()),
        Err(e) => Err(format!("not an HTTP response: {e}")),
    }
}

async fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| format!("connection to {host}:{port} timed out"))?
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))
}

/// The Origin sent to test CORS: a name that can never be a real site.
pub const PROBE_ORIGIN: &str = "https://centinela-audit.invalid";

/// Scans `url`.
pub async fn scan(url: &str, options: &Options) -> Report {
    let mut report = Report::new("https");
    report.scanned = 1;
    let target = match parse_url(url) {
        Ok(t) if t.scheme == "https" => t,
        Ok(_) => {
            report.error(
                url,
                "expected an https:// URL (plain HTTP is checked through --http-url)",
            );
            return report;
        }
        Err(e) => {
            report.error(url, e);
            return report;
        }
    };
    let loc = |object: &str| Location::target(url.to_owned()).with_object(object.to_owned());

    // === TLS ===
    let roots = match tls::roots(options.ca_file.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            report.error(url, e);
            return report;
        }
    };
    let probe = tls::probe(&target, &roots, options.timeout, &mut report, url).await;
    // Old versions and weak suites are probed even when no modern handshake works:
    // a server that speaks only TLS 1.0 is exactly what the report must say.
    legacy::check(&target, options.timeout, &mut report, url).await;

    // === HTTP over TLS ===
    if let Some(mut stream) = probe {
        match get_head(
            &mut stream,
            &host_header(&target),
            &target.path,
            Some(PROBE_ORIGIN),
            options.timeout,
        )
        .await
        {
            Ok(head) => headers::check(&head, &mut report, &loc),
            Err(e) => report.error(url, e),
        }
    }

    // === plain HTTP ===
    let http_url = options
        .http_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/", bracket(&target.host)));
    check_plain_http(&http_url, options.timeout, &mut report).await;
    report.sort();
    report
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn host_header(t: &Target) -> String {
    if t.port == 443 {
        bracket(&t.host)
    } else {
        format!("{}:{}", bracket(&t.host), t.port)
    }
}

async fn check_plain_http(http_url: &str, timeout: Duration, report: &mut Report) {
    let t = match parse_url(http_url) {
        Ok(t) if t.scheme == "http" => t,
        _ => {
            report.error(http_url, "--http-url must be an http:// URL");
            return;
        }
    };
    // Nothing listening on plain HTTP is fine: there is nothing to downgrade to.
    let Ok(mut stream) = connect(&t.host, t.port, timeout).await else {
        return;
    };
    let host = if t.port == 80 {
        bracket(&t.host)
    } else {
        format!("{}:{}", bracket(&t.host), t.port)
    };
    match get_head(&mut stream, &host, &t.path, None, timeout).await {
        Ok(head) => {
            let redirects = matches!(head.status, 301 | 302 | 303 | 307 | 308)
                && head
                    .get("location")
                    .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
            if !redirects {
                report.push(Finding::new(
                    &rules::NO_REDIRECT,
                    Location::target(http_url.to_owned()),
                    format!(
                        "plain HTTP answers {} without redirecting to https://",
                        head.status
                    ),
                ));
            }
        }
        Err(e) => report.error(http_url, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("https://127.0.0.1:8443/login?x=1").expect("url");
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8443, "/login?x=1")
        );
        let t = parse_url("https://example.org").expect("url");
        assert_eq!((t.port, t.path.as_str()), (443, "/"));
        let t = parse_url("https://[::1]:9/").expect("url");
        assert_eq!(t.host, "::1");
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("https://u:p@x/").is_err());
        assert!(parse_url("nothing").is_err());
    }
}
