//! The admin listener: `/metrics` (OpenMetrics text for Prometheus), `/healthz` (the
//! process answers) and `/readyz` (ready only when the database answers). Plain HTTP,
//! meant for a loopback or cluster-internal address that only the monitoring system
//! and the orchestrator's probes reach.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use centinela_store::Store;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::error::GatewayError;
use crate::handler::{full, Body};
use crate::metrics::Metrics;
use crate::server::{accept_loop, Limits};

async fn route(req: Request<Incoming>, metrics: Arc<Metrics>, store: Store) -> Response<Body> {
    let text = |status: StatusCode, body: String, ctype: &'static str| {
        let mut r = Response::new(full(body));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "GET only\n".into(),
            "text/plain",
        );
    }
    match req.uri().path() {
        "/metrics" => text(
            StatusCode::OK,
            metrics.render(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
        "/healthz" => text(StatusCode::OK, "ok\n".into(), "text/plain"),
        "/readyz" => {
            if store.ping().await {
                text(StatusCode::OK, "ready\n".into(), "text/plain")
            } else {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not ready: the database does not answer\n".into(),
                    "text/plain",
                )
            }
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into(), "text/plain"),
    }
}

/// Serves the admin endpoints on `listener` until `shutdown` completes.
pub async fn serve_admin(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    store: Store,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let limits = Limits::default();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    accept_loop(listener, &limits, shutdown, move |tcp, _peer, mut drain| {
        let builder = Arc::clone(&builder);
        let metrics = Arc::clone(&metrics);
        let store = store.clone();
        async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let metrics = Arc::clone(&metrics);
                let store = store.clone();
                async move { Ok::<_, Infallible>(route(req, metrics, store).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = drain.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        }
    })
    .await
}
