//! The plain-HTTP listener. It serves nothing: every request gets a 308 to the same
//! path on HTTPS, so that a typed `http://` address still ends up encrypted, and a
//! request whose host cannot be put in a URL safely gets a 400.

use std::convert::Infallible;
use std::future::Future;
use std::net::Ipv6Addr;
use std::sync::Arc;

use http::{header, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::error::GatewayError;
use crate::handler::{empty, text_response, Body};
use crate::server::{accept_loop, Limits};

/// Serves redirects on `listener` until `shutdown` completes. Only HTTP/1.x, no
/// keep-alive (the client's next request goes to the HTTPS port anyway).
pub async fn serve_redirect(
    listener: TcpListener,
    public_https_port: u16,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(false);
    let builder = Arc::new(builder);
    accept_loop(listener, &limits, shutdown, move |tcp, peer, mut drain| {
        let builder = Arc::clone(&builder);
        async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| async move {
                Ok::<_, Infallible>(redirect_response(&req, public_https_port))
            });
            let conn = builder.serve_connection(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(%peer, error = %e, "redirect connection ended with an error");
                    }
                }
                _ = drain.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        }
    })
    .await
}

/// The 308 (or 400) answering `req`.
pub fn redirect_response<B>(req: &Request<B>, public_https_port: u16) -> Response<Body> {
    match location(req, public_https_port) {
        Some(loc) => match HeaderValue::try_from(loc) {
            Ok(value) => {
                let mut resp = Response::new(empty());
                *resp.status_mut() = StatusCode::PERMANENT_REDIRECT;
                resp.headers_mut().insert(header::LOCATION, value);
                resp
            }
            Err(_) => bad_request(),
        },
        None => bad_request(),
    }
}

fn bad_request() -> Response<Body> {
    text_response(
        StatusCode::BAD_REQUEST,
        "Bad request: missing or invalid Host header.\n",
    )
}

/// `https://host[:port]/path?query` for `req`, or `None` if the host is missing or not
/// a plain hostname or IP literal, or the target is not a path (`OPTIONS *`).
pub fn location<B>(req: &Request<B>, public_https_port: u16) -> Option<String> {
    // An absolute-form target names the host itself and then takes precedence over
    // Host (RFC 9112 section 3.2.2).
    let host = match req.uri().authority() {
        Some(a) => host_of(a.as_str())?,
        None => host_of(req.headers().get(header::HOST)?.to_str().ok()?)?,
    };
    let target = match req.uri().path_and_query() {
        Some(pq) if pq.as_str().starts_with('/') => pq.as_str(),
        Some(_) => return None,
        None => "/",
    };
    Some(if public_https_port == 443 {
        format!("https://{host}{target}")
    } else {
        format!("https://{host}:{public_https_port}{target}")
    })
}

/// The host part of a `Host` value with any port removed, lower-cased; `None` unless it
/// is a DNS name or an IP literal.
fn host_of(value: &str) -> Option<String> {
    let host = if let Some(rest) = value.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        inner.parse::<Ipv6Addr>().ok()?;
        if !valid_port_suffix(after) {
            return None;
        }
        return Some(format!("[{}]", inner.to_ascii_lowercase()));
    } else {
        match value.split_once(':') {
            Some((h, port)) => {
                if !valid_port_suffix(&format!(":{port}")) {
                    return None;
                }
                h
            }
            None => value,
        }
    };
    // One trailing dot (a fully qualified name) is legal and kept.
    let name = host.strip_suffix('.').unwrap_or(host);
    let valid = !name.is_empty() && name.len() <= 253 && name.split('.').all(valid_label);
    valid.then(|| host.to_ascii_lowercase())
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Empty, or `:` followed by a decimal port number.
fn valid_port_suffix(s: &str) -> bool {
    match s.strip_prefix(':') {
        None => s.is_empty(),
        Some(p) => !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(host: Option<&str>, target: &str) -> Request<()> {
        let mut b = Request::builder().uri(target);
        if let Some(h) = host {
            b = b.header(header::HOST, h);
        }
        b.body(()).expect("test request")
    }

    #[test]
    fn builds_location_from_host_and_target() {
        let r = req(Some("Example.COM:8080"), "/a/b?c=d&e");
        assert_eq!(
            location(&r, 8443).as_deref(),
            Some("https://example.com:8443/a/b?c=d&e")
        );
        assert_eq!(
            location(&r, 443).as_deref(),
            Some("https://example.com/a/b?c=d&e")
        );
        let r = req(Some("[::1]:80"), "/");
        assert_eq!(location(&r, 443).as_deref(), Some("https://[::1]/"));
        let r = req(Some("127.0.0.1"), "/x");
        assert_eq!(
            location(&r, 8443).as_deref(),
            Some("https://127.0.0.1:8443/x")
        );
        let r = req(Some("example.com."), "/");
        assert_eq!(location(&r, 443).as_deref(), Some("https://example.com./"));
    }

    #[test]
    fn absolute_form_target_wins_over_host() {
        let r = req(Some("ignored.example"), "http://real.example:80/p?q");
        assert_eq!(
            location(&r, 443).as_deref(),
            Some("https://real.example/p?q")
        );
    }

    #[test]
    fn refuses_garbage_hosts() {
        for bad in [
            "",
            "evil.com/path",
            "user@evil.com",
            "a..b",
            ".a",
            "-a.com",
            "a.com:",
            "a.com:99999",
            "a.com:80:80",
            "[::1",
            "[zz::1]",
            "[::1]x",
            "exa mple.com",
            "évil.com",
            "a.com\\b",
        ] {
            assert_eq!(location(&req(Some(bad), "/"), 443), None, "{bad:?}");
        }
        assert_eq!(location(&req(None, "/"), 443), None);
        assert_eq!(location(&req(Some("a.com"), "*"), 443), None);
    }

    #[test]
    fn response_is_308_or_400() {
        let r = redirect_response(&req(Some("a.com"), "/x"), 443);
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            r.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("https://a.com/x")
        );
        let r = redirect_response(&req(Some("a b"), "/x"), 443);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
