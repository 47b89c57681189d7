//! Reverse proxy to one plain-HTTP upstream. Bodies stream in both directions (memory
//! per request stays bounded whatever the size), headers that describe the client's
//! connection or claim an identity are dropped and the gateway's own are set, and
//! upstream failures become short generic 502/504 answers (the details go to the log,
//! never to the client). WebSocket upgrades over HTTP/1.1 are tunnelled.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Sleep;

use crate::error::{BoxError, GatewayError};
use crate::handler::{boxed, text_response, Body, BoxFuture, Handler};
use crate::pool::{Pool, PoolError, PooledBody};

/// Prefix of the identity headers that only the gateway may set.
pub const IDENTITY_HEADER_PREFIX: &str = "x-centinela-";

/// Base URL of the upstream: `http://host[:port][/base/path]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    authority: Authority,
    /// `Host` of every forwarded request: the upstream's own name, as a client that
    /// connected to it directly would send.
    host_header: HeaderValue,
    /// Without trailing slash; empty for the root.
    base_path: String,
}

impl Upstream {
    /// Parses and checks an upstream URL.
    pub fn parse(url: &str) -> Result<Self, GatewayError> {
        let err = |reason: &str| GatewayError::Upstream {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| err("not a URL; expected http://host:port or http://host:port/base"))?;
        match uri.scheme() {
            Some(s) if *s == Scheme::HTTP => {}
            Some(s) if *s == Scheme::HTTPS => {
                return Err(err(
                    "https:// upstreams are not supported yet; reach the service over http:// on a private network",
                ))
            }
            _ => return Err(err("expected a URL starting with http://")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| err("no host; expected http://host:port"))?
            .clone();
        if authority.as_str().contains('@') {
            return Err(err("user names and passwords in the URL are not supported"));
        }
        if uri.query().is_some() {
            return Err(err(
                "a query string is not allowed in the upstream base URL",
            ));
        }
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|_| err("the host is not a valid Host header"))?;
        Ok(Self {
            authority,
            host_header,
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// Host and port.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The upstream's request target (origin form, base path prepended) for a client
    /// request target (`/path?query`).
    fn target_for(&self, target: &PathAndQuery) -> Option<Uri> {
        let pq = if self.base_path.is_empty() {
            target.clone() // shares the request's bytes
        } else {
            PathAndQuery::try_from(format!("{}{}", self.base_path, target.as_str())).ok()?
        };
        Some(Uri::from(pq))
    }
}

impl std::str::FromStr for Upstream {
    type Err = GatewayError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where requests go.
    pub upstream: Upstream,
    /// Longest time to open a TCP connection to the upstream (then 504).
    pub connect_timeout: Duration,
    /// Longest time from sending a request until the upstream's response head arrives,
    /// connecting included (then 504).
    pub response_timeout: Duration,
    /// Longest pause between two chunks of a request or response body; a stalled
    /// stream is cut.
    pub body_idle_timeout: Duration,
    /// Longest silence in both directions of an upgraded (WebSocket) connection.
    pub upgrade_idle_timeout: Duration,
    /// How long an unused pooled upstream connection is kept.
    pub pool_idle_timeout: Duration,
    /// Pooled idle connections kept to the upstream.
    pub pool_max_idle: usize,
}

impl ProxyConfig {
    /// Settings for `upstream` with default timeouts.
    pub fn new(upstream: Upstream) -> Self {
        Self {
            upstream,
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(60),
            upgrade_idle_timeout: Duration::from_secs(300),
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle: 64,
        }
    }
}

/// Forwards requests to the upstream. Cheap to clone (shares the connection pool).
#[derive(Clone, Debug)]
pub struct ProxyHandler {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: Pool,
    cfg: ProxyConfig,
}

impl ProxyHandler {
    /// A proxy with its own connection pool.
    pub fn new(cfg: ProxyConfig) -> Self {
        let pool = Pool::new(
            &cfg.upstream.authority,
            cfg.connect_timeout,
            cfg.pool_idle_timeout,
            cfg.pool_max_idle,
        );
        Self {
            inner: Arc::new(Inner { pool, cfg }),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &ProxyConfig {
        &self.inner.cfg
    }

    /// Sends `req` from `peer` to the upstream and returns its response, streamed.
    ///
    /// Client-sent `X-Forwarded-*`, `Forwarded`, `X-Real-IP` and `X-Centinela-*`
    /// headers are dropped and hop-by-hop headers removed; then the gateway sets
    /// `X-Forwarded-For` (peer IP), `X-Forwarded-Proto: https` and `X-Forwarded-Host`,
    /// and finally every header in `extra_headers` (replacing any of the same name).
    /// That last step is how an identity layer passes `X-Centinela-User` and friends.
    pub async fn forward<B>(
        &self,
        mut req: Request<B>,
        peer: SocketAddr,
        extra_headers: HeaderMap,
    ) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let cfg = &self.inner.cfg;
        if req.method() == Method::CONNECT {
            return text_response(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.\n");
        }
        let upgrade = websocket_upgrade(&req);
        let client_upgrade = upgrade.is_some().then(|| hyper::upgrade::on(&mut req));

        let (mut parts, body) = req.into_parts();
        let original_host = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| {
                parts
                    .headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        let target = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        if !target.as_str().starts_with('/') {
            return text_response(StatusCode::BAD_REQUEST, "Bad request target.\n");
        }
        let Some(uri) = cfg.upstream.target_for(&target) else {
            return text_response(StatusCode::BAD_REQUEST, "Bad request target.\n");
        };
        parts.uri = uri;
        parts.version = Version::HTTP_11;

        let h = &mut parts.headers;
        remove_hop_by_hop(h);
        remove_client_claims(h);
        h.insert(header::HOST, cfg.upstream.host_header.clone());
        join_cookies(h);
        if let Some(upgrade) = &upgrade {
            h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            h.insert(header::UPGRADE, upgrade.clone());
        }
        if let Some(v) = ip_header_value(peer.ip()) {
            h.insert(X_FORWARDED_FOR, v);
        }
        h.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
        if let Some(v) = original_host.and_then(|s| HeaderValue::try_from(s).ok()) {
            h.insert(X_FORWARDED_HOST, v);
        }
        // Each name in `extra_headers` replaces whatever the client sent under it.
        h.extend(extra_headers);

        let body = boxed(IdleTimeout::new(
            body,
            cfg.body_idle_timeout,
            "request body",
        ));
        let req = Request::from_parts(parts, body);
        let resp = match tokio::time::timeout(cfg.response_timeout, self.inner.pool.send(req)).await
        {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                return if matches!(e, PoolError::ConnectTimeout { .. }) {
                    tracing::warn!(upstream = %cfg.upstream.authority, error = %e, "upstream connect timed out");
                    gateway_timeout()
                } else {
                    tracing::warn!(upstream = %cfg.upstream.authority, error = %e, "upstream request failed");
                    bad_gateway()
                };
            }
            Err(_) => {
                tracing::warn!(upstream = %cfg.upstream.authority, "upstream response timed out");
                return gateway_timeout();
            }
        };

        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            return match client_upgrade {
                Some(client_upgrade) => self.tunnel(resp, client_upgrade),
                None => {
                    tracing::warn!(upstream = %cfg.upstream.authority, "upstream switched protocols without being asked");
                    bad_gateway()
                }
            };
        }

        let (mut parts, body) = resp.into_parts();
        remove_hop_by_hop(&mut parts.headers);
        Response::from_parts(
            parts,
            boxed(IdleTimeout::new(
                body,
                cfg.body_idle_timeout,
                "response body",
            )),
        )
    }

    /// Answers the client's upgrade with the upstream's 101 and joins the two upgraded
    /// connections once both sides have switched.
    fn tunnel(
        &self,
        mut resp: Response<PooledBody>,
        client_upgrade: hyper::upgrade::OnUpgrade,
    ) -> Response<Body> {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        let idle = self.inner.cfg.upgrade_idle_timeout;
        tokio::spawn(async move {
            match tokio::try_join!(client_upgrade, upstream_upgrade) {
                Ok((client, upstream)) => {
                    copy_until_idle(TokioIo::new(client), TokioIo::new(upstream), idle).await;
                }
                Err(e) => tracing::debug!(error = %e, "upgrade did not complete"),
            }
        });
        let (mut parts, _) = resp.into_parts();
        let upgrade = parts.headers.get(header::UPGRADE).cloned();
        remove_hop_by_hop(&mut parts.headers);
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        if let Some(u) = upgrade {
            parts.headers.insert(header::UPGRADE, u);
        }
        Response::from_parts(parts, crate::handler::empty())
    }
}

impl Handler for ProxyHandler {
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> BoxFuture<Response<Body>> {
        let this = self.clone();
        Box::pin(async move { this.forward(req, peer, HeaderMap::new()).await })
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

fn bad_gateway() -> Response<Body> {
    text_response(StatusCode::BAD_GATEWAY, "Bad gateway.\n")
}

fn gateway_timeout() -> Response<Body> {
    text_response(StatusCode::GATEWAY_TIMEOUT, "Gateway timeout.\n")
}

/// The `Upgrade` value if `req` asks for a WebSocket over HTTP/1.1; other protocols
/// are not tunnelled (their hop-by-hop headers are removed like any other).
fn websocket_upgrade<B>(req: &Request<B>) -> Option<HeaderValue> {
    if req.version() != Version::HTTP_11 {
        return None;
    }
    let has_token = |name: HeaderName, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if has_token(header::CONNECTION, "upgrade") && has_token(header::UPGRADE, "websocket") {
        Some(HeaderValue::from_static("websocket"))
    } else {
        None
    }
}

/// Removes headers that describe one connection rather than the message (RFC 9110
/// section 7.6.1), including any named in `Connection`.
pub fn remove_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    remove_where(h, |k| {
        k == header::CONNECTION
            || k == header::TE
            || k == header::TRAILER
            || k == header::TRANSFER_ENCODING
            || k == header::UPGRADE
            || k.as_str() == "keep-alive"
            || k.as_str().starts_with("proxy-")
            || named.contains(k)
    });
}

/// Removes what a client might send to impersonate the gateway: forwarding
/// information and identity headers.
pub fn remove_client_claims(h: &mut HeaderMap) {
    remove_where(h, |k| {
        k == header::FORWARDED
            || k.as_str() == "x-real-ip"
            || k.as_str().starts_with("x-forwarded-")
            || k.as_str().starts_with(IDENTITY_HEADER_PREFIX)
    });
}

/// Removes every header whose name `doomed` picks, looking at each name once: on
/// nearly every message nothing matches and nothing is hashed or moved.
pub(crate) fn remove_where(h: &mut HeaderMap, doomed: impl Fn(&HeaderName) -> bool) {
    // Header names are stored lower-case, so prefix tests on them are exact.
    let found: Vec<HeaderName> = h.keys().filter(|k| doomed(k)).cloned().collect();
    for name in found {
        h.remove(name);
    }
}

/// HTTP/2 clients may split `Cookie` into several fields; HTTP/1.1 servers expect one
/// (RFC 9113 section 8.2.3).
fn join_cookies(h: &mut HeaderMap) {
    if h.get_all(header::COOKIE).iter().count() < 2 {
        return;
    }
    let joined: Vec<&[u8]> = h
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if let Ok(v) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
        h.insert(header::COOKIE, v);
    }
}

/// A body stalled for longer than its idle timeout.
#[derive(Debug, thiserror::Error)]
#[error("{0} stalled longer than the idle timeout")]
struct BodyStalled(&'static str);

/// Body wrapper that fails when no frame arrives within `timeout`, so a peer that stops
/// sending mid-body cannot hold a request open forever.
///
/// The timer is only armed when the body makes the reader wait: most bodies through a
/// gateway (empty GETs, small JSON already buffered with the headers) are read without a
/// single `Pending`, and then cost neither a timer registration nor a clock read.
struct IdleTimeout<B> {
    inner: Pin<Box<B>>,
    /// Created the first time the body is pending, then reused.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Whether `sleep` counts down the current wait (false after each frame).
    armed: bool,
    timeout: Duration,
    what: &'static str,
}

impl<B> IdleTimeout<B> {
    fn new(inner: B, timeout: Duration, what: &'static str) -> Self {
        Self {
            inner: Box::pin(inner),
            sleep: None,
            armed: false,
            timeout,
            what,
        }
    }
}

impl<B> hyper::body::Body for IdleTimeout<B>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = this.inner.as_mut().poll_frame(cx) {
            this.armed = false;
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = || tokio::time::Instant::now() + this.timeout;
        let sleep = match &mut this.sleep {
            Some(sleep) => {
                if !this.armed {
                    sleep.as_mut().reset(deadline());
                }
                sleep
            }
            None => this
                .sleep
                .insert(Box::pin(tokio::time::sleep_until(deadline()))),
        };
        this.armed = true;
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyStalled(this.what))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Copies both ways until both sides have closed or nothing moved for `idle`.
async fn copy_until_idle<A, B>(a: A, b: B, idle: Duration)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut ar, mut aw) = tokio::io::split(a);
    let (mut br, mut bw) = tokio::io::split(b);
    let mut a_buf = vec![0u8; 16 * 1024];
    let mut b_buf = vec![0u8; 16 * 1024];
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        tokio::select! {
            r = ar.read(&mut a_buf), if a_open => match r {
                Ok(0) | Err(_) => {
                    a_open = false;
                    let _ = bw.shutdown().await;
                }
                Ok(n) => if bw.write_all(&a_buf[..n]).await.is_err() { break },
            },
            r = br.read(&mut b_buf), if b_open => match r {
                Ok(0) | Err(_) => {
                    b_open = false;
                    let _ = aw.shutdown().await;
                }
                Ok(n) => if aw.write_all(&b_buf[..n]).await.is_err() { break },
            },
            () = tokio::time::sleep(idle) => {
                tracing::debug!("closing idle upgraded connection");
                break;
            }
        }
    }
}

/// `ip` as a header value. A dotted quad is written digit by digit: `Display` goes
/// through the formatting machinery and its padding, which cost more per proxied
/// request than anything else in building the upstream request's headers.
fn ip_header_value(ip: IpAddr) -> Option<HeaderValue> {
    let text = match ip {
        IpAddr::V4(v4) => {
            let mut s = String::with_capacity(15);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                if octet >= 100 {
                    s.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    s.push(char::from(b'0' + octet / 10 % 10));
                }
                s.push(char::from(b'0' + octet % 10));
            }
            s
        }
        IpAddr::V6(v6) => v6.to_string(),
    };
    HeaderValue::try_from(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.0.100.9",
            "192.168.1.20",
            "255.255.255.255",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().expect("address");
            assert_eq!(
                ip_header_value(ip).expect("value").to_str().expect("ascii"),
                ip.to_string()
            );
        }
    }

    /// A body fed by a channel: pending until the test sends the next chunk.
    struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

    impl hyper::body::Body for ChannelBody {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0.poll_recv(cx).map(|c| c.map(|c| Ok(Frame::data(c))))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn body_idle_timeout_fails_a_stalled_body() {
        use http_body_util::BodyExt;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut body = IdleTimeout::new(ChannelBody(rx), Duration::from_secs(5), "request body");
        tx.send(Bytes::from_static(b"first")).await.expect("open");
        let first = body.frame().await.expect("a frame").expect("not stalled");
        assert_eq!(first.into_data().ok(), Some(Bytes::from_static(b"first")));
        let started = tokio::time::Instant::now();
        // Bounded, so that a timer that never fires fails the test instead of hanging it.
        let err = tokio::time::timeout(Duration::from_secs(60), body.frame())
            .await
            .expect("the idle timeout fired")
            .expect("a frame")
            .expect_err("stalled");
        assert_eq!(
            err.to_string(),
            "request body stalled longer than the idle timeout"
        );
        assert!(started.elapsed() >= Duration::from_secs(5));
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn body_idle_timeout_restarts_after_each_frame() {
        use http_body_util::BodyExt;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let body = IdleTimeout::new(ChannelBody(rx), Duration::from_secs(5), "request body");
        // Eight chunks 4 s apart: 28 s in all, far past the timeout, but no single
        // pause reaches it.
        tokio::spawn(async move {
            for i in 0..8u8 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                if tx.send(Bytes::from(vec![b'a' + i])).await.is_err() {
                    return;
                }
            }
        });
        let all = body.collect().await.expect("never stalled").to_bytes();
        assert_eq!(&all[..], b"abcdefgh");
    }

    #[test]
    fn upstream_parsing() {
        let u = Upstream::parse("http://127.0.0.1:8081").expect("valid");
        assert_eq!(
            u.target_for(&PathAndQuery::from_static("/a?b=c"))
                .map(|u| u.to_string())
                .as_deref(),
            Some("/a?b=c")
        );
        let u = Upstream::parse("http://app.internal/base/").expect("valid");
        assert_eq!(
            u.target_for(&PathAndQuery::from_static("/x?y=1"))
                .map(|u| u.to_string())
                .as_deref(),
            Some("/base/x?y=1")
        );
        for bad in [
            "https://x",
            "ftp://x",
            "x:80",
            "http://u:p@x",
            "http://x/?q=1",
            "not a url",
        ] {
            assert!(Upstream::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strips_hop_by_hop_and_named_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        remove_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::ACCEPT));
    }

    #[test]
    fn strips_client_claims() {
        let mut h = HeaderMap::new();
        for name in [
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-port",
            "forwarded",
            "x-real-ip",
            "x-centinela-user",
            "x-centinela-roles",
        ] {
            h.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static("evil"),
            );
        }
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        remove_client_claims(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
    }

    #[test]
    fn joins_split_cookies() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        join_cookies(&mut h);
        assert_eq!(
            h.get_all(header::COOKIE).iter().collect::<Vec<_>>(),
            vec![HeaderValue::from_static("a=1; b=2")]
        );
    }
}
