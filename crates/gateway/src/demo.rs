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

/// One seed customer record.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: u32,
    pub name: &'static str,
    pub email: &'static str,
    pub plan: &'static str,
}

/// A customer record as stored and served (editable).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Record {
    pub id: u32,
    pub name: String,
    pub email: String,
    pub plan: String,
}

/// Fields a PUT or PATCH may change; the id never changes.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    name: Option<String>,
    email: Option<String>,
    plan: Option<String>,
}

/// The demo's data: the seed customers, changed by PUT/PATCH/DELETE for as long as the
/// process runs.
#[derive(Debug)]
pub struct DemoState {
    records: std::sync::Mutex<std::collections::BTreeMap<u32, Record>>,
}

impl Default for DemoState {
    fn default() -> Self {
        let records = CUSTOMERS
            .iter()
            .map(|c| {
                (
                    c.id,
                    Record {
                        id: c.id,
                        name: c.name.to_owned(),
                        email: c.email.to_owned(),
                        plan: c.plan.to_owned(),
                    },
                )
            })
            .collect();
        Self {
            records: std::sync::Mutex::new(records),
        }
    }
}

/// Largest PUT/PATCH body the demo reads.
const MAX_DEMO_BODY: usize = 64 * 1024;

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
    let state = std::sync::Arc::new(DemoState::default());
    accept_loop(listener, &limits, shutdown, move |tcp, _peer, mut drain| {
        let builder = std::sync::Arc::clone(&builder);
        let state = std::sync::Arc::clone(&state);
        async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let state = std::sync::Arc::clone(&state);
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
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

/// Serves one request against `state`.
pub async fn handle<B>(state: &DemoState, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = bytes::Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt as _;
    let (parts, body) = req.into_parts();
    let id = parts
        .uri
        .path()
        .strip_prefix("/api/customers/")
        .and_then(|id| id.parse::<u32>().ok());
    let changing = matches!(parts.method, Method::PUT | Method::PATCH);
    if let (Some(id), true) = (id, changing) {
        let bytes = match http_body_util::Limited::new(body, MAX_DEMO_BODY)
            .collect()
            .await
        {
            Ok(c) => c.to_bytes(),
            Err(_) => {
                return json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({"error": "unreadable body"}),
                )
            }
        };
        let change: Change = match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(_) => {
                return json(
                    StatusCode::BAD_REQUEST,
                    &serde_json::json!({"error": "expected JSON with name, email and/or plan"}),
                )
            }
        };
        let Ok(mut records) = state.records.lock() else {
            return json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &serde_json::json!({"error": "internal"}),
            );
        };
        let Some(r) = records.get_mut(&id) else {
            return json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not found"}),
            );
        };
        if let Some(n) = change.name {
            r.name = n;
        }
        if let Some(e) = change.email {
            r.email = e;
        }
        if let Some(p) = change.plan {
            r.plan = p;
        }
        return json(StatusCode::OK, &serde_json::json!(r));
    }
    if let (Some(id), &Method::DELETE) = (id, &parts.method) {
        let removed = state.records.lock().ok().and_then(|mut r| r.remove(&id));
        return match removed {
            Some(_) => json(StatusCode::OK, &serde_json::json!({"deleted": id})),
            None => json(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": "not found"}),
            ),
        };
    }
    if parts.uri.path() == "/api/public/feedback" && parts.method == Method::POST {
        // Takes any body, as a careless form handler would; the gateway's inspection
        // in front of it is what refuses attacks.
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        return match http_body_util::Limited::new(body, MAX_DEMO_BODY)
            .collect()
            .await
        {
            Ok(c) => json(
                StatusCode::CREATED,
                &serde_json::json!({"received": c.to_bytes().len(), "content_type": content_type}),
            ),
            Err(_) => json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"error": "unreadable body"}),
            ),
        };
    }
    if parts.method != Method::GET && parts.method != Method::HEAD {
        let mut r = json(
            StatusCode::METHOD_NOT_ALLOWED,
            &serde_json::json!({"error": "method not allowed"}),
        );
        let allow = if id.is_some() {
            "GET, HEAD, PUT, PATCH, DELETE"
        } else {
            "GET, HEAD"
        };
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        return r;
    }
    let path = parts.uri.path();
    if path == "/api/public/search" || path.starts_with("/api/public/search/") {
        let q = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
            .to_lowercase();
        let hits: Vec<Record> = state
            .records
            .lock()
            .map(|r| {
                r.values()
                    .filter(|c| !q.is_empty() && c.name.to_lowercase().contains(&q))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        return json(
            StatusCode::OK,
            &serde_json::json!({"q": q, "results": hits}),
        );
    }
    match path {
        "/" => {
            let mut r = Response::new(full(INDEX_HTML));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        "/api/customers" => {
            let all: Vec<Record> = state
                .records
                .lock()
                .map(|r| r.values().cloned().collect())
                .unwrap_or_default();
            json(StatusCode::OK, &serde_json::json!(all))
        }
        "/api/whoami" => {
            let get = |name: &str| {
                parts
                    .headers
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
                    "auth": get("x-centinela-auth"),
                    "route": get("x-centinela-route"),
                    "assertion": get("x-centinela-assertion"),
                    "path": path,
                    "forwarded_for": get("x-forwarded-for"),
                    "forwarded_proto": get("x-forwarded-proto"),
                    "forwarded_host": get("x-forwarded-host"),
                    "cookie": get("cookie"),
                    "authorization": get("authorization"),
                }),
            )
        }
        _ => {
            let found =
                id.and_then(|id| state.records.lock().ok().and_then(|r| r.get(&id).cloned()));
            match found {
                Some(c) => json(StatusCode::OK, &serde_json::json!(c)),
                None => json(
                    StatusCode::NOT_FOUND,
                    &serde_json::json!({"error": "not found"}),
                ),
            }
        }
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
    use http_body_util::BodyExt as _;

    async fn get(path: &str, headers: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let mut b = Request::builder().uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = handle(
            &DemoState::default(),
            b.body(http_body_util::Empty::<bytes::Bytes>::new())
                .expect("request"),
        )
        .await;
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

    #[tokio::test]
    async fn updates_and_deletes() {
        let state = DemoState::default();
        let send = |method: &str, path: &str, body: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    body.to_owned(),
                )))
                .expect("request")
        };
        let r = handle(
            &state,
            send("PATCH", "/api/customers/2", r#"{"plan":"free"}"#),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = handle(&state, send("GET", "/api/customers/2", "")).await;
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["plan"], "free");
        let r = handle(&state, send("PUT", "/api/customers/2", r#"{"id":9}"#)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = handle(&state, send("DELETE", "/api/customers/2", "")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = handle(&state, send("GET", "/api/customers/2", "")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = handle(&state, send("POST", "/api/customers", "")).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
