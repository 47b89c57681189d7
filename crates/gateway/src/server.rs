//! The HTTPS listener: accept loop, TLS handshake, HTTP/1.1 and HTTP/2 through hyper,
//! the per-connection limits (handshake, header and idle timeouts, header sizes,
//! connection count), baseline security headers on every response, and graceful
//! shutdown that lets in-flight requests finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::error::{BoxError, GatewayError};
use crate::handler::{Body, Handler};
use crate::redirect;
use crate::tls::ReloadableTls;

/// Where the certificate comes from and how often to look for a renewed one.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key of the leaf.
    pub key: PathBuf,
    /// How often to check the files for changes; `None` reloads only on SIGHUP.
    pub watch_interval: Option<Duration>,
    /// Told of every reload and its outcome.
    pub on_reload: Option<crate::tls::ReloadHook>,
}

/// Per-connection resource limits. Defaults suit a gateway facing the internet.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest time from TCP accept to a finished TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Longest time to receive a complete HTTP/1.1 request head. hyper starts this
    /// timer whenever the connection waits for a request, so it also bounds how long an
    /// idle HTTP/1.1 keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/2; for
    /// HTTP/1.1 the header read timeout usually strikes first).
    pub idle_timeout: Duration,
    /// Largest request head in bytes (HTTP/1.1 read buffer, HTTP/2 header list).
    /// HTTP/1.1 cannot go below 8 KiB.
    pub max_header_bytes: usize,
    /// Largest number of request header fields (HTTP/1.1).
    pub max_headers: usize,
    /// Concurrent streams per HTTP/2 connection.
    pub h2_max_concurrent_streams: u32,
    /// Open connections per listener; further connections are closed on accept.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests before cutting connections.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            h2_max_concurrent_streams: 100,
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Listening configuration of the gateway.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address of the HTTPS listener.
    pub listen: SocketAddr,
    /// Address of the plain-HTTP listener that only redirects to HTTPS; `None` for none.
    pub redirect_listen: Option<SocketAddr>,
    /// HTTPS port as clients see it (differs from `listen` behind NAT or port mapping);
    /// used in redirect `Location`s, and omitted there when 443.
    pub public_https_port: u16,
    /// Certificate and key.
    pub tls: TlsFiles,
    /// Limits shared by both listeners.
    pub limits: Limits,
}

/// Listeners bound and certificate loaded, not yet serving. Lets a caller bind port 0
/// and learn the port before requests can arrive.
#[derive(Debug)]
pub struct BoundServer {
    https: TcpListener,
    https_addr: SocketAddr,
    redirect: Option<(TcpListener, SocketAddr)>,
    tls: Arc<ReloadableTls>,
    cfg: ServerConfig,
}

async fn bind_addr(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), GatewayError> {
    let bind_err = |source| GatewayError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
    let local = listener.local_addr().map_err(bind_err)?;
    Ok((listener, local))
}

/// Loads the certificate and binds both listeners.
pub async fn bind(cfg: ServerConfig) -> Result<BoundServer, GatewayError> {
    let tls = ReloadableTls::load(&cfg.tls.cert, &cfg.tls.key)?;
    let (https, https_addr) = bind_addr(cfg.listen).await?;
    let redirect = match cfg.redirect_listen {
        Some(addr) => Some(bind_addr(addr).await?),
        None => None,
    };
    Ok(BoundServer {
        https,
        https_addr,
        redirect,
        tls,
        cfg,
    })
}

impl BoundServer {
    /// Actual address of the HTTPS listener.
    pub fn https_addr(&self) -> SocketAddr {
        self.https_addr
    }

    /// Actual address of the redirect listener, if any.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().map(|(_, a)| *a)
    }

    /// The certificate resolver, for reloading from elsewhere.
    pub fn tls(&self) -> Arc<ReloadableTls> {
        Arc::clone(&self.tls)
    }

    /// Serves until `shutdown` completes, then stops accepting and drains connections
    /// for up to [`Limits::shutdown_grace`]. Reloads the certificate on SIGHUP and, if
    /// configured, when the files change.
    pub async fn run(
        self,
        handler: Arc<dyn Handler>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), GatewayError> {
        let Self {
            https,
            redirect,
            tls,
            cfg,
            ..
        } = self;
        let hook = cfg.tls.on_reload.clone();
        let mut background = vec![tls.spawn_sighup_reloader(hook.clone())?];
        if let Some(every) = cfg.tls.watch_interval {
            background.push(tls.spawn_watcher(every, hook));
        }
        let _abort = AbortOnDrop(background);

        let tls_config = tls.server_config()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let https_fut = serve_on(
            https,
            tls_config,
            cfg.limits.clone(),
            handler,
            stopped(stop_rx.clone()),
        );
        let redirect_fut = async {
            match redirect {
                Some((listener, _)) => {
                    redirect::serve_redirect(
                        listener,
                        cfg.public_https_port,
                        cfg.limits.clone(),
                        stopped(stop_rx.clone()),
                    )
                    .await
                }
                None => Ok(()),
            }
        };
        let both = async { tokio::try_join!(https_fut, redirect_fut).map(|_| ()) };
        tokio::pin!(both, shutdown);
        tokio::select! {
            () = &mut shutdown => {
                let _ = stop_tx.send(true);
                both.await
            }
            r = &mut both => r,
        }
    }
}

struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Binds, serves and drains: [`bind`] followed by [`BoundServer::run`].
pub async fn serve(
    cfg: ServerConfig,
    handler: Arc<dyn Handler>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    bind(cfg).await?.run(handler, shutdown).await
}

/// Serves HTTPS on an already bound listener until `shutdown` completes, then drains.
/// No redirect listener and no certificate reloading of its own: pass a configuration
/// from [`ReloadableTls::server_config`] to get reloading.
pub async fn serve_on(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    limits: Limits,
    handler: Arc<dyn Handler>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let acceptor = TlsAcceptor::from(tls);
    let builder = Arc::new(http_builder(&limits));
    let shared = Arc::new(limits.clone());
    accept_loop(listener, &limits, shutdown, move |tcp, peer, drain| {
        let acceptor = acceptor.clone();
        let builder = Arc::clone(&builder);
        let handler = Arc::clone(&handler);
        let limits = Arc::clone(&shared);
        async move {
            https_connection(tcp, peer, acceptor, builder, handler, limits, drain).await;
        }
    })
    .await
}

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Accepts until `shutdown`, runs `per_conn` for each connection on its own task, then
/// signals the tasks to drain and waits for them up to the grace period.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send,
    per_conn: F,
) -> Result<(), GatewayError>
where
    F: Fn(TcpStream, SocketAddr, watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let local = listener.local_addr().ok();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                        tracing::warn!(%peer, "connection limit reached; closing new connection");
                        continue;
                    };
                    let fut = per_conn(tcp, peer, drain_rx.clone());
                    conns.spawn(async move {
                        fut.await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // Per-connection failures (reset before accept) and descriptor
                    // exhaustion are both survivable; pause so exhaustion cannot spin.
                    tracing::warn!(listener = ?local, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    let _ = drain_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = conns.len(),
            "shutdown grace period over; closing remaining connections"
        );
        conns.shutdown().await;
    }
    Ok(())
}

async fn https_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    handler: Arc<dyn Handler>,
    limits: Arc<Limits>,
    mut drain: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };

    let activity = Arc::new(Activity::new());
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let guard = InFlight::new(Arc::clone(&activity));
            let fut = handler.handle(req, peer);
            async move {
                let resp = fut.await;
                let resp = add_security_headers(resp);
                Ok::<_, Infallible>(resp.map(|body| {
                    crate::handler::boxed(GuardedBody {
                        inner: body,
                        _guard: guard,
                    })
                }))
            }
        })
    };

    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    tokio::pin!(conn);
    let check_every =
        (limits.idle_timeout / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let mut idle_check = tokio::time::interval(check_every);
    let mut closing = false;
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                break;
            }
            _ = drain.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = idle_check.tick(), if !closing => {
                if activity.idle_for() >= limits.idle_timeout {
                    tracing::debug!(%peer, "closing idle connection");
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// Headers every HTTPS response carries unless the handler chose its own value.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Adds [`SECURITY_HEADERS`] that are not already present.
pub fn add_security_headers<B>(mut resp: Response<B>) -> Response<B> {
    let h = resp.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    resp
}

/// Requests in flight on one connection and when the last one started or finished;
/// a connection is idle only when nothing is in flight, so long responses and slow
/// uploads are never cut by the idle timer (they have their own timeouts).
struct Activity {
    base: Instant,
    in_flight: AtomicUsize,
    last_change_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_change_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_change_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_change_ms.load(Ordering::Relaxed));
        self.base.elapsed().saturating_sub(last)
    }
}

/// Marks one request as in flight until dropped (with the response body).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Response body that keeps its request counted as in flight until fully sent.
struct GuardedBody {
    inner: Body,
    _guard: InFlight,
}

impl hyper::body::Body for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
