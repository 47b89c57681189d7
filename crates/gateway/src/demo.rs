//! The bundled demo upstream: a tiny customers API that stands for "the team's
//! service" in the quickstart, examples and tests. Like many internal services it has
//! no authentication of its own and trusts the gateway's `X-Centinela-*` identity
//! headers, which is exactly why the gateway must strip those from clients.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Serialize;
use tokio::net::TcpListener;

use crate::error::GatewayError;
use crate::handler::{full, Body};
use crate::server::{accept_loop, Limits};

/// One customer record.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: u32,
    pub name: &'static str,
    pub email: &'static str,
    pub plan: &'static str,
}

/// The seed data. Ids are small integers on purpose: they make URL tampering
/// (`/api/customers/2` instead of `/1`) easy to try against the ownership rules.
pub const CUSTOMERS: [Customer; 4] = [
    Customer {
        id: 1,
        name: "Ana García",
        email: "ana@example.com",
        plan: "enterprise",
    },
    Customer {
        id: 2,
        name: "Bruno Díaz",
        email: "bruno@example.com",
        plan: "pro",
    },
    Customer {
        id: 3,
        name: "Carmen López",
        email: "carmen@example.com",
        plan: "free",
    },
    Customer {
        id: 4,
        name: "David Martín",
        email: "david@example.com",
        plan: "pro",
    },
];

const INDEX_HTML: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Customers demo</title></head>
<body>
<h1>Customers demo upstream</h1>
<p>This service has no login of its own: it trusts the identity headers set by the
Centinela gateway in front of it.</p>
<ul>
<li><a href=\"/api/customers\">/api/customers</a> &mdash; all customers</li>
<li><a href=\"/api/customers/1\">/api/customers/1</a> &mdash; one customer</li>
<li><a href=\"/api/whoami\">/api/whoami</a> &mdash; the identity the gateway passed on</li>
</ul>
</body>
</html>
";

/// Serves the demo API on `listener` (plain HTTP/1.1) until `shutdown` completes.
pub async fn run_demo_upstream(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), GatewayError> {
    let limits = Limits {
        shutdown_grace: Duration::from_secs(5),
        ..Limits::default()
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = std::sync::Arc::new(builder);
    accept_loop(listener, &limits, shutdown, move |tcp, _peer, mut drain| {
        let builder = std::sync::Arc::clone(&builder);
        async move {
            let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                Ok::<_, Infallible>(route(&req))
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

/// The demo's routing: a pure function of the request head.
pub fn route<B>(req: &Request<B>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = json(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"error": "method not allowed"}),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = req.uri().path();
    match path {
        "/" => {
            let mut r = Response::new(full(INDEX_HTML));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        "/api/customers" => json(StatusCode::OK, &serde_json::json!(CUSTOMERS)),
        "/api/whoami" => {
            let get = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            json(
                StatusCode::OK,
                &serde_json::json!({
                    "user": get("x-centinela-user"),
                    "roles": get("x-centinela-roles"),
                    "customer_id": get("x-centinela-customer-id"),
                    "forwarded_for": get("x-forwarded-for"),
                    "forwarded_proto": get("x-forwarded-proto"),
                    "forwarded_host": get("x-forwarded-host"),
                }),
            )
        }
        _ => match path
            .strip_prefix("/api/customers/")
            .and_then(|id| id.parse::<u32>().ok())
            .and_then(|id| CUSTOMERS.iter().find(|c| c.id == id))
        {
            Some(c) => json(StatusCode::OK, &serde_json::json!(c)),
            None => json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not found"}),
            ),
        },
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(full(value.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn get(path: &str, headers: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let mut b = Request::builder().uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = route(&b.body(()).expect("request"));
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn routes() {
        let (s, v) = get("/api/customers", &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v.as_array().map(Vec::len), Some(CUSTOMERS.len()));
        let (s, v) = get("/api/customers/2", &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["email"], "bruno@example.com");
        assert_eq!(get("/api/customers/99", &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get("/api/customers/x", &[]).await.0, StatusCode::NOT_FOUND);
        let (_, v) = get(
            "/api/whoami",
            &[
                ("x-centinela-user", "ana"),
                ("x-centinela-roles", "customer"),
            ],
        )
        .await;
        assert_eq!(v["user"], "ana");
        assert_eq!(v["roles"], "customer");
        assert!(v["customer_id"].is_null());
    }
}
