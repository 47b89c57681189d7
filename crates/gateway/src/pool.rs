//! Keep-alive HTTP/1.1 connections to one upstream, reused across requests.
//!
//! A gateway talks to one fixed address per upstream, so the pool is a stack of idle
//! connections behind a mutex: no per-request key hashing and no helper task per
//! response (what a general-purpose client pool pays to serve any host). A connection
//! goes back on the stack when its response body has been read to the end; one whose
//! body was abandoned mid-way is dropped, since it cannot carry another request.
//!
//! Reusing a kept-alive connection races with the upstream closing it. When hyper
//! reports that a request was never written (the connection was already closed), the
//! request is sent again on another connection; a request that was written is never
//! replayed, because the upstream may have acted on it.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::handler::Body;

/// Why a request could not be sent or answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PoolError {
    /// No TCP connection could be opened.
    #[error("cannot connect to the upstream {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    /// Opening the TCP connection took longer than the connect timeout.
    #[error("connecting to the upstream {addr} timed out after {after:?}")]
    ConnectTimeout { addr: String, after: Duration },
    /// The HTTP exchange failed (the upstream closed, sent garbage, ...).
    #[error("upstream exchange failed: {0}")]
    Http(#[from] hyper::Error),
}

/// Idle connections to one upstream.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// What to connect to: the host without IPv6 brackets, and the port.
    host: String,
    port: u16,
    /// `host:port` as the configuration spells it, for error messages.
    addr: String,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    /// Oldest at the front; reuse takes the newest (the warmest, and the least likely
    /// to have been closed by the upstream's own idle timeout).
    idle: Mutex<VecDeque<Idle>>,
    sweeper_started: std::sync::Once,
}

#[derive(Debug)]
struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

impl Pool {
    /// A pool for `authority` (port 80 when it names none).
    pub(crate) fn new(
        authority: &Authority,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Self {
        let host = authority.host(); // IPv6 literals keep their brackets here
        let port = authority.port_u16().unwrap_or(80);
        Self {
            inner: Arc::new(Inner {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port,
                addr: format!("{host}:{port}"),
                connect_timeout,
                idle_timeout,
                max_idle,
                idle: Mutex::new(VecDeque::new()),
                sweeper_started: std::sync::Once::new(),
            }),
        }
    }

    /// Sends `req` (origin-form target, `Host` set) and returns the response head; the
    /// body streams from the connection, which rejoins the pool once it is read.
    pub(crate) async fn send(
        &self,
        mut req: Request<Body>,
    ) -> Result<Response<PooledBody>, PoolError> {
        loop {
            let (mut sender, reused) = match self.inner.checkout() {
                Some(sender) => (sender, true),
                None => (self.connect().await?, false),
            };
            if let Err(e) = sender.ready().await {
                if reused {
                    continue; // closed while idle: try the next one
                }
                return Err(e.into());
            }
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    let (parts, body) = resp.into_parts();
                    let body = PooledBody::new(body, sender, &self.inner, parts.status);
                    return Ok(Response::from_parts(parts, body));
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => req = unsent,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<Body>, PoolError> {
        let inner = &self.inner;
        let tcp = match tokio::time::timeout(
            inner.connect_timeout,
            TcpStream::connect((inner.host.as_str(), inner.port)),
        )
        .await
        {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(source)) => {
                return Err(PoolError::Connect {
                    addr: inner.addr.clone(),
                    source,
                })
            }
            Err(_) => {
                return Err(PoolError::ConnectTimeout {
                    addr: inner.addr.clone(),
                    after: inner.connect_timeout,
                })
            }
        };
        // Small request and response heads: waiting for Nagle only adds latency.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on an upstream connection");
        }
        let (sender, conn) = http1::Builder::new().handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.with_upgrades().await {
                tracing::debug!(error = %e, "upstream connection ended with an error");
            }
        });
        Ok(sender)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        // The queue holds no invariant a panicking holder could break.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle connection that is still open and fresh.
    fn checkout(&self) -> Option<SendRequest<Body>> {
        let mut idle = self.lock();
        while let Some(entry) = idle.pop_back() {
            if !entry.sender.is_closed() && entry.since.elapsed() < self.idle_timeout {
                return Some(entry.sender);
            }
        }
        None
    }

    fn put(self: &Arc<Self>, sender: SendRequest<Body>) {
        if sender.is_closed() || self.max_idle == 0 {
            return;
        }
        let now = Instant::now();
        {
            let mut idle = self.lock();
            while idle.len() >= self.max_idle {
                idle.pop_front();
            }
            idle.push_back(Idle { sender, since: now });
        }
        self.sweeper_started.call_once(|| self.start_sweeper());
    }

    /// Closes connections left idle past the idle timeout even when no request comes
    /// to notice them; ends when the pool is dropped.
    fn start_sweeper(self: &Arc<Self>) {
        let pool = Arc::downgrade(self);
        let every = (self.idle_timeout / 2).max(Duration::from_millis(100));
        tokio::spawn(sweep(pool, every));
    }

    fn drop_expired(&self) {
        let mut idle = self.lock();
        let timeout = self.idle_timeout;
        idle.retain(|e| !e.sender.is_closed() && e.since.elapsed() < timeout);
    }
}

async fn sweep(pool: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate
    loop {
        tick.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        pool.drop_expired();
    }
}

/// A response body that returns its connection to the pool once read to the end.
#[derive(Debug)]
pub(crate) struct PooledBody {
    body: Incoming,
    /// Until the body ends; `None` afterwards, or when the connection cannot be reused.
    sender: Option<(SendRequest<Body>, Arc<Inner>)>,
}

impl PooledBody {
    fn new(
        body: Incoming,
        sender: SendRequest<Body>,
        pool: &Arc<Inner>,
        status: http::StatusCode,
    ) -> Self {
        let mut this = Self {
            body,
            // A 101 hands the connection over to the upgrade.
            sender: (status != http::StatusCode::SWITCHING_PROTOCOLS)
                .then(|| (sender, Arc::clone(pool))),
        };
        if this.body.is_end_stream() {
            this.release();
        }
        this
    }

    fn release(&mut self) {
        if let Some((sender, pool)) = self.sender.take() {
            pool.put(sender);
        }
    }
}

impl HttpBody for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => this.release(),
            Poll::Ready(Some(Err(_))) => this.sender = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::{BodyExt, Empty};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::handler::boxed;

    /// What the test upstream does after answering a request.
    #[derive(Clone, Copy)]
    enum After {
        /// Keeps the connection for the next request.
        KeepAlive,
        /// Answers with `Connection: close` and closes.
        SayClose,
        /// Answers as if keeping the connection, then closes it without a word.
        DropSilently,
    }

    /// A raw HTTP/1.1 upstream answering every request with `hello`; counts the TCP
    /// connections it accepted.
    async fn upstream(after: After) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match tcp.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.clear();
                        let close = matches!(after, After::SayClose);
                        let head = if close { "connection: close\r\n" } else { "" };
                        let reply =
                            format!("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n{head}\r\nhello");
                        if tcp.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                        if !matches!(after, After::KeepAlive) {
                            return;
                        }
                    }
                });
            }
        });
        (port, accepted)
    }

    fn pool(port: u16, idle_timeout: Duration) -> Pool {
        let authority = Authority::try_from(format!("127.0.0.1:{port}")).expect("authority");
        Pool::new(&authority, Duration::from_secs(2), idle_timeout, 8)
    }

    fn idle_count(pool: &Pool) -> usize {
        pool.inner.lock().len()
    }

    fn get() -> Request<Body> {
        Request::builder()
            .uri("/x")
            .header(http::header::HOST, "upstream")
            .body(boxed(Empty::<Bytes>::new()))
            .expect("request")
    }

    async fn fetch(pool: &Pool) -> Bytes {
        let resp = pool.send(get()).await.expect("answered");
        resp.into_body().collect().await.expect("body").to_bytes()
    }

    #[tokio::test]
    async fn keeps_a_connection_alive_across_requests() {
        let (port, accepted) = upstream(After::KeepAlive).await;
        let pool = pool(port, Duration::from_secs(60));
        for _ in 0..5 {
            assert_eq!(&fetch(&pool).await[..], b"hello");
            assert_eq!(idle_count(&pool), 1, "back on the stack once read");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_abandoned_body_does_not_return_its_connection() {
        let (port, accepted) = upstream(After::KeepAlive).await;
        let pool = pool(port, Duration::from_secs(60));
        drop(pool.send(get()).await.expect("answered"));
        assert_eq!(
            idle_count(&pool),
            0,
            "an unread body keeps its connection out"
        );
        assert_eq!(&fetch(&pool).await[..], b"hello");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn connections_the_upstream_closes_are_not_reused() {
        for after in [After::SayClose, After::DropSilently] {
            let (port, accepted) = upstream(after).await;
            let pool = pool(port, Duration::from_secs(60));
            for _ in 0..3 {
                assert_eq!(&fetch(&pool).await[..], b"hello");
                // Let the connection task see the close before the next checkout.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 3);
        }
    }

    #[tokio::test]
    async fn idle_connections_expire() {
        let (port, accepted) = upstream(After::KeepAlive).await;
        let pool = pool(port, Duration::from_millis(100));
        fetch(&pool).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The sweeper has closed it, without waiting for a request to notice.
        assert_eq!(idle_count(&pool), 0);
        fetch(&pool).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_connect_error() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            l.local_addr().expect("addr").port()
        }; // closed again: nothing listens there now
        let err = pool(port, Duration::from_secs(60))
            .send(get())
            .await
            .expect_err("nothing listens");
        assert!(matches!(err, PoolError::Connect { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
}
